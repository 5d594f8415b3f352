"""`show` fitted to 100 columns for every task of the demo board, and `export` of the final
board as CSV, JSON and Markdown; hostile team names stay text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import (
    ALL_TASKS,
    LONG_NAMES,
    task_predictions,
    write_all_tasks_challenge,
)

HEADLINE = {
    "misme-ser": ("uar", "macro_f1", "weighted_f1"),
    "mer-quadrant": ("uar", "macro_f1", "weighted_f1"),
}


@pytest.fixture(scope="module")
def every_task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every")
    path = write_all_tasks_challenge(folder)
    config = load_config(path)
    init_store(config)
    tokens = [add_team(config, name) for name in LONG_NAMES]
    for task in ALL_TASKS:
        for token, quality, seed in zip(tokens, (0.8, 0.75, 0.2), (1, 2, 3), strict=True):
            outcome = submit(config, task_predictions(folder, task, quality, seed), task, token)
            assert outcome.status == "scored", outcome.message
    return path


@pytest.mark.parametrize("task", ALL_TASKS)
def test_show_fits_100_columns_with_intervals_and_room_for_the_names(
    every_task, capsys, task, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # a narrow terminal: the default 100 columns
    assert main(["show", "--config", str(every_task), "--task", task]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100, max(lines, key=len)
    header = lines[1].split()
    primary = "accuracy" if task in HEADLINE else "rmse"
    assert header[:7] == ["rank", "team", primary, "95%", "CI", "rank", "CI"]
    assert header[7:9] == ["top", "sig"]
    assert header[9:] == ["id"]  # the headline metrics give way to the 67-character name
    rows = lines[3:6]
    long_name = next(row for row in rows if "RF A: speech alone" in row)
    assert "RF A: speech alone (a very long baseline" in long_name  # cut only as far as needed
    assert [row.split()[0] for row in rows] == ["1", "2", "3"]
    assert rows[0].split()[-1].isdigit() and "[" in rows[0] and "*" in rows[0]
    assert "top (*): rank interval overlaps the leader's" in " ".join(lines[6:])


def test_show_uses_a_wider_terminal_and_gives_the_names_room(
    every_task, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["show", "--config", str(every_task), "--task", "misme-ser"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert 100 < max(map(len, lines)) <= 160
    table = "\n".join(lines)
    assert all(name in table for name in LONG_NAMES)  # in full, none cut with "…"
    assert "…" not in table


@pytest.mark.parametrize("task", ["misme-ser", "mer-va"])
def test_a_wide_terminal_keeps_the_headline_metrics_too(
    every_task, capsys, monkeypatch, task
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["show", "--config", str(every_task), "--task", task]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = HEADLINE.get(task, ("mae", "ccc", "pearson_r"))
    assert lines[1].split()[9:] == [*expected, "id"]
    assert all(name in "\n".join(lines[3:6]) for name in LONG_NAMES)


def test_show_width_option_wins_over_the_terminal(every_task, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["show", "--config", str(every_task), "--task", "mer-va", "--width", "100"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) <= 100


def test_show_metrics_all_prints_every_column(every_task, capsys) -> None:
    assert (
        main(["show", "--config", str(every_task), "--task", "muse-vad", "--metrics", "all"]) == 0
    )
    header = capsys.readouterr().out.splitlines()[1].split()
    assert {"ccc_n1", "ccc_n1_dominance", "r2_valence", "rmse_arousal"} <= set(header)
    assert "LONG" not in header


def test_show_width_is_checked(every_task, capsys) -> None:
    assert main(["show", "--config", str(every_task), "--task", "mer-va", "--width", "10"]) == 2
    err = capsys.readouterr().err
    assert "--width must be from 40 to 1000" in err and err.count("\n") == 1


def test_export_csv_json_markdown(every_task, tmp_path: Path, capsys) -> None:
    base = ["export", "--config", str(every_task), "--task", "mer-quadrant"]
    assert main([*base, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["ranked_on"], document["final"], document["primary_metric"]) == (
        "public",
        False,
        "accuracy",
    )
    rows = document["rows"]
    assert [r["rank"] for r in rows] == [1, 2, 3] and rows[0]["top_group"] is True
    assert rows[0]["ci_low"] <= rows[0]["accuracy"] <= rows[0]["ci_high"]
    assert set(rows[0]["per_group"]["corpus"]) == {"deam", "emopia", "soundtracks"}
    assert rows[0]["per_fold"][0]["fold"] == 6 and "Q1" in rows[0]["per_class"]
    assert rows[2]["significant"] is True and 0 <= rows[2]["p_holm"] < 0.05

    assert main([*base, "--format", "csv", "--out", str(tmp_path / "board.csv")]) == 0
    table = list(csv.DictReader(io.StringIO((tmp_path / "board.csv").read_text())))
    assert [r["team"] for r in table] == [r["team"] for r in rows]
    assert {"ci_low", "rank_high", "top_group", "fold 6 accuracy", "corpus=deam accuracy"} <= set(
        table[0]
    )

    assert main([*base, "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "not final: public ids" in markdown and "| rank | team | accuracy | CI |" in markdown
    assert r"\<b\>x\</b\> \| $x$ \| =cmd" in markdown and "<b>" not in markdown


def test_csv_cells_that_look_like_formulas_are_defused(tmp_path: Path, capsys) -> None:
    path = write_all_tasks_challenge(tmp_path)
    config = load_config(path)
    init_store(config)
    submit(config, task_predictions(tmp_path, "mer-va", 0.5), "mer-va", add_team(config, "=1+2"))
    assert main(["export", "--config", str(path), "--task", "mer-va", "--format", "csv"]) == 0
    assert list(csv.DictReader(io.StringIO(capsys.readouterr().out)))[0]["team"] == "'=1+2"


def test_export_of_private_ids_during_the_phase_needs_the_organizer_flag(
    every_task, capsys
) -> None:
    base = ["export", "--config", str(every_task), "--task", "misme-ser", "--private"]
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "still open" in err and err.count("\n") == 1
    assert main([*base, "--i-am-organizer", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["ranked_on"] == "private"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--task", "nope"], "unknown task 'nope'"),
        (["--task", "mer-va", "--phase", "final"], "unknown phase 'final'"),
        (["--task", "mer-va", "--out", "/nonexistent-folder/x.csv"], "cannot write"),
    ],
)
def test_export_mistakes_are_one_line_errors(every_task, capsys, argv, message) -> None:
    assert main(["export", "--config", str(every_task), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
