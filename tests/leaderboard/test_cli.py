"""The misme-leaderboard command line: one-line errors and exit code 2 for user mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.cli import main
from tests.leaderboard.conftest import ser_predictions, write_challenge


def _token(capsys) -> str:
    return capsys.readouterr().out.strip().splitlines()[-1]


def test_organizer_flow(tmp_path: Path, capsys) -> None:
    config = str(write_challenge(tmp_path, open_now=True))
    assert main(["init", "--config", config]) == 0
    assert main(["team", "add", "Team A", "--config", config]) == 0
    token_a = _token(capsys)
    assert main(["team", "add", "Team B", "--config", config]) == 0
    token_b = _token(capsys)
    good, weak = ser_predictions(tmp_path / "g.csv", 40), ser_predictions(tmp_path / "w.csv", 20)
    assert (
        main(
            [
                "submit",
                str(weak),
                "--config",
                config,
                "--task",
                "misme-ser",
                "--token",
                token_a,
                "--note",
                "weak",
            ]
        )
        == 0
    )
    assert "accuracy (public ids)" in capsys.readouterr().out
    assert (
        main(["submit", str(good), "--config", config, "--task", "misme-ser", "--token", token_b])
        == 0
    )
    capsys.readouterr()
    assert main(["show", "--config", config, "--task", "misme-ser"]) == 0
    shown = capsys.readouterr().out
    assert "ranked on public ids by accuracy" in shown
    assert shown.index("Team B") < shown.index("Team A")
    assert main(["show", "--config", config, "--task", "misme-ser", "--private"]) == 2
    err = capsys.readouterr().err
    assert "phase dev is still open" in err and "--i-am-organizer" in err and err.count("\n") == 1
    assert (
        main(["show", "--config", config, "--task", "misme-ser", "--private", "--i-am-organizer"])
        == 0
    )
    assert "ranked on private ids" in capsys.readouterr().out


def test_private_scores_of_an_ended_phase_need_no_organizer_flag(tmp_path: Path, capsys) -> None:
    config = str(write_challenge(tmp_path))  # dev and test ended in 2025
    assert main(["init", "--config", config]) == 0
    assert (
        main(["show", "--config", config, "--task", "misme-ser", "--phase", "dev", "--private"])
        == 0
    )
    assert "ranked on" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["submit", "{pred}", "--task", "misme-ser", "--token", "bad"], "unknown team token"),
        (["submit", "{pred}", "--task", "nope", "--token", "bad"], "unknown task 'nope'"),
        (["submit", "{dir}/missing.csv", "--task", "misme-ser", "--token", "x"], "not found"),
        (["team", "add", "Team A"], "already exists"),
        (["show", "--task", "misme-ser", "--phase", "final"], "unknown phase 'final'"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(tmp_path: Path, capsys, argv, message) -> None:
    config = str(write_challenge(tmp_path, open_now=True))
    main(["init", "--config", config])
    main(["team", "add", "Team A", "--config", config])
    capsys.readouterr()
    pred = ser_predictions(tmp_path / "p.csv", 10)
    argv = [a.format(pred=pred, dir=tmp_path) for a in argv] + ["--config", config]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_invalid_file_exit_2_and_report(tmp_path: Path, capsys) -> None:
    config = str(write_challenge(tmp_path, open_now=True))
    main(["init", "--config", config])
    main(["team", "add", "Team A", "--config", config])
    token = _token(capsys)
    bad = tmp_path / "bad.csv"
    bad.write_text("id;emotion\n")
    assert (
        main(["submit", str(bad), "--config", config, "--task", "misme-ser", "--token", token]) == 2
    )
    out, err = capsys.readouterr()
    assert "invalid" in out and "';'-separated" in err
    assert "';'-separated" not in out  # the problems go to stderr, stdout keeps the results


def test_missing_config_and_uninitialised_store(tmp_path: Path, capsys) -> None:
    assert main(["show", "--config", str(tmp_path / "x.toml"), "--task", "misme-ser"]) == 2
    assert "config file not found" in capsys.readouterr().err
    config = str(write_challenge(tmp_path))
    assert main(["show", "--config", config, "--task", "misme-ser"]) == 2
    assert "not initialised" in capsys.readouterr().err


def test_token_starting_with_dash_still_parses(tmp_path: Path, capsys, monkeypatch) -> None:
    """``token_urlsafe`` begins with '-' about once in 64 draws; the issued token must still work as ``--token X``."""
    import leaderboard.store.teams as teams

    monkeypatch.setattr(teams.secrets, "token_urlsafe", lambda n: "-" + "A" * 31)
    config = str(write_challenge(tmp_path, open_now=True))
    assert main(["init", "--config", config]) == 0
    assert main(["team", "add", "Dash", "--config", config]) == 0
    token = _token(capsys)
    assert not token.startswith("-")
    predictions = ser_predictions(tmp_path / "p.csv", 30)
    assert (
        main(
            [
                "submit",
                str(predictions),
                "--config",
                config,
                "--task",
                "misme-ser",
                "--token",
                token,
            ]
        )
        == 0
    )


def test_serve_with_a_bad_or_busy_port_is_a_one_line_error(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    import os
    import socket

    monkeypatch.setattr(os, "execve", lambda *a: pytest.fail("the server must not start"))
    config = str(write_challenge(tmp_path))
    for port in ("0", "70000", "-1"):
        assert main(["serve", "--config", config, "--port", port]) == 2
        err = capsys.readouterr().err
        assert "--port must be from 1 to 65535" in err and err.count("\n") == 1
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = str(busy.getsockname()[1])
        assert main(["serve", "--config", config, "--port", port]) == 2
    err = capsys.readouterr().err
    assert f"cannot serve on 127.0.0.1:{port}" in err and err.count("\n") == 1


def test_init_checks_solution_files_and_phase_folds(tmp_path: Path, capsys) -> None:
    config = write_challenge(tmp_path)
    text = config.read_text()
    config.write_text(text.replace("seed = 3", "seed = 3\nfolds = [9]"))
    assert main(["init", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "phase dev: fold(s) [9] are not in" in err and err.count("\n") == 1
    (tmp_path / "solutions" / "bad.csv").write_text("id,emotion\na,1\n")
    config.write_text(text.replace("solutions/misme-ser.parquet", "solutions/bad.csv"))
    assert main(["init", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "task misme-ser" in err and "fold" in err and err.count("\n") == 1
    assert not (tmp_path / "challenge.db").exists()
