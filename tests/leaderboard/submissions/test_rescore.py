"""`rescore` against a changed metric: the worker is pointed at a modified copy of the
benchmark package (the real metric is never edited), and the audit keeps old and new."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.store.models import RescoreAudit, Score
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import read_session
from leaderboard.store.teams import add_team
from leaderboard.submissions.rescore import rescore
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import mer_predictions, write_challenge

ROOT = Path(__file__).resolve().parents[3]
RMSE_LINE = '"rmse": float(np.sqrt(sse / n)),'


@pytest.fixture
def mer_board(tmp_path: Path):
    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    init_store(config)
    for name, noise in (("Team A", 0.3), ("Team B", 0.6)):
        outcome = submit(
            config,
            mer_predictions(tmp_path / f"{name}.csv", noise, seed=len(name)),
            "misme-mer",
            add_team(config, name),
        )
        assert outcome.status == "scored", outcome.message
    return path, config


def _scores(config) -> dict[tuple, tuple]:
    with read_session(config) as session:
        return {
            (s.submission_id, s.subset, s.metric): (s.value, s.scorer_hash)
            for s in session.scalars(select(Score))
        }


def _audit(config) -> list[RescoreAudit]:
    with read_session(config) as session:
        return list(session.scalars(select(RescoreAudit).order_by(RescoreAudit.id)))


def _modified_scorer(folder: Path) -> Path:
    """A copy of the benchmark package whose pooled RMSE is 1.5 times the true one."""
    copy = folder / "modified-scorer"
    shutil.copytree(
        ROOT / "benchmark", copy / "benchmark", ignore=shutil.ignore_patterns("__pycache__")
    )
    metrics = copy / "benchmark" / "metrics.py"
    text = metrics.read_text(encoding="utf-8")
    assert text.count(RMSE_LINE) == 1
    metrics.write_text(
        text.replace(RMSE_LINE, '"rmse": float(np.sqrt(sse / n)) * 1.5,'), encoding="utf-8"
    )
    return copy


def test_an_unchanged_scorer_changes_nothing_and_says_so(mer_board, capsys) -> None:
    path, config = mer_board
    before = _scores(config)
    assert main(["rescore", "--config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("submission 1 (Team A, misme-mer / dev): unchanged (misme-toolkit ")
    assert out[1].startswith("submission 2 (Team B, misme-mer / dev): unchanged")
    assert out[2].startswith("2 submission(s): 2 unchanged, 0 rescored, 0 not rescored")
    assert _scores(config) == before
    audit = _audit(config)
    assert len(audit) == len(before) and {row.outcome for row in audit} == {"unchanged"}
    assert all(row.old_value == row.new_value and row.old_scorer == row.new_scorer for row in audit)
    assert all(row.who and row.at for row in audit)


def test_a_changed_metric_is_recorded_with_old_and_new_values_and_hashes(
    mer_board, tmp_path: Path, monkeypatch, capsys
) -> None:
    path, config = mer_board
    before = _scores(config)
    monkeypatch.chdir(
        _modified_scorer(tmp_path)
    )  # `python -m leaderboard.scoring.worker` imports it first
    assert main(["rescore", "--config", str(path), "--task", "misme-mer"]) == 0
    out = capsys.readouterr().out
    assert "submission 1 (Team A, misme-mer / dev): changed: private rmse" in out
    assert "2 submission(s): 0 unchanged, 2 rescored" in out
    after = _scores(config)
    changed = [row for row in _audit(config) if row.outcome == "changed"]
    assert {(row.submission_id, row.subset, row.metric) for row in changed} == {
        (sid, subset, metric)
        for sid in (1, 2)
        for subset in ("public", "private")
        for metric in ("rmse", "rmse_valence", "rmse_arousal")
    }
    for row in changed:
        key = (row.submission_id, row.subset, row.metric)
        assert row.old_value == before[key][0] and row.new_value == after[key][0]
        assert row.new_value == pytest.approx(1.5 * row.old_value, rel=1e-12)
        assert row.old_scorer != row.new_scorer and row.new_scorer.endswith(after[key][1])
    others = [row for row in _audit(config) if row.outcome != "changed"]
    assert {row.outcome for row in others} == {"new-scorer"}  # same value, other scorer
    assert all(after[(r.submission_id, r.subset, r.metric)][0] == r.old_value for r in others)
    board = build_board(config, "misme-mer", "dev").table
    assert board["older_scorer"].all()  # the page's scorer is the real one, not the copy

    monkeypatch.chdir(tmp_path)  # the real scorer again: back to the original values
    assert rescore(config)[0].outcome == "rescored"
    assert {k: v[0] for k, v in _scores(config).items()} == {k: v[0] for k, v in before.items()}
    assert [r.outcome for r in rescore(config)] == ["unchanged", "unchanged"]
    assert not build_board(config, "misme-mer", "dev").table["older_scorer"].any()


def test_dry_run_writes_nothing(mer_board, tmp_path: Path, monkeypatch, capsys) -> None:
    path, config = mer_board
    before = _scores(config)
    monkeypatch.chdir(_modified_scorer(tmp_path))
    assert main(["rescore", "--config", str(path), "--dry-run"]) == 0
    assert "(dry run: nothing written)" in capsys.readouterr().out
    assert _scores(config) == before and _audit(config) == []


def test_rescore_of_an_unknown_task_is_a_one_line_error(mer_board, capsys) -> None:
    path, _ = mer_board
    assert main(["rescore", "--config", str(path), "--task", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'nope'" in err and err.count("\n") == 1
