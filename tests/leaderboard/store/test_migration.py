"""A database made by the previous version (schema 1, tests/leaderboard/data/schema-v1.*.sql):
every command but `init` refuses it with the fix; `init` upgrades it in place, keeping every
row; its old scores show as from an unknown scorer and cannot be rescored (no file)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from sqlalchemy import text

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.cli import main
from leaderboard.store.sessions import engine_for, read_session
from leaderboard.store.teams import add_team, team_for_token
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import ser_predictions, write_challenge

DATA = Path(__file__).resolve().parent / "data"
OLD_TOKEN = "team_old-token-of-schema-1"
WHEN = "2025-01-10 12:00:00.000000"


def make_schema_1_database(config: ChallengeConfig) -> None:
    """The tables as the previous version made them, and one scored submission in them (a
    fresh database: every id is 1)."""
    from leaderboard.store.teams import hash_token

    engine = engine_for(config.database_url)
    lines = (DATA / f"schema-v1.{engine.dialect.name}.sql").read_text(encoding="utf-8").splitlines()
    script = "\n".join(line for line in lines if not line.startswith("--"))
    losses = io.BytesIO()
    np.save(losses, np.zeros(24))
    with engine.begin() as connection:
        for statement in script.split(";"):
            if statement.strip():
                connection.exec_driver_sql(statement)
        rows = [
            (
                "insert into challenges (name, created_at) values (:name, :at)",
                {"name": config.name, "at": WHEN},
            ),
            (
                "insert into teams (challenge_id, name, token_sha256, created_at) values "
                "(1, 'Old team', :token, :at)",
                {"token": hash_token(OLD_TOKEN), "at": WHEN},
            ),
            (
                "insert into submissions (team_id, task, phase, status, message, file_sha256, "
                "file_name, note, selected, created_at, finished_at) values (1, 'misme-ser', "
                "'dev', 'scored', 'scored', :sha, 'old.csv', '', :no, :at, :at)",
                {"sha": "0" * 64, "no": False, "at": WHEN},
            ),
        ]
        for subset in ("public", "private"):
            rows.append(
                (
                    "insert into scores (submission_id, subset, metric, value) values "
                    "(1, :subset, 'accuracy', 1.0)",
                    {"subset": subset},
                )
            )
            rows.append(
                (
                    "insert into subset_results (submission_id, subset, n_ids, ids_sha256, "
                    "losses_npy, details_json) values (1, :subset, 24, :ids, :losses, :details)",
                    {
                        "subset": subset,
                        "ids": "1" * 64,
                        "losses": losses.getvalue(),
                        "details": json.dumps({"per_fold": [{"fold": 6, "accuracy": 1.0}]}),
                    },
                )
            )
        for sql, parameters in rows:
            connection.execute(text(sql), parameters)


def upgrade_and_use(path: Path, config: ChallengeConfig, capsys) -> None:
    """The refusal, the upgrade, and the old row next to a new one."""
    for argv in (["show", "--task", "misme-ser"], ["rescore"], ["team", "list"]):
        assert main([*argv, "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert "made by an older misme-leaderboard (schema 1; this version uses schema 2)" in err
        assert f"`misme-leaderboard init --config {path}`" in err and err.count("\n") == 1
    assert main(["init", "--config", str(path)]) == 0
    capsys.readouterr()
    with engine_for(config.database_url).connect() as connection:
        assert connection.execute(text("select version from schema_info")).all() == [(2,)]
        assert connection.execute(text("select count(*) from scores")).scalar() == 2
    old = build_board(config, "misme-ser", "dev").table
    assert list(old["team"]) == ["Old team"] and old["older_scorer"].all()
    assert old["scorer"].iloc[0].startswith("unknown") and old["ci_low"].isna().all()
    assert main(["rescore", "--config", str(path)]) == 0
    assert "not rescored: no stored file (submitted before schema 2)" in capsys.readouterr().out
    with read_session(config) as session:
        assert team_for_token(session, config, OLD_TOKEN).name == "Old team"
    outcome = submit(
        config,
        ser_predictions(path.parent / "new.csv", 40),
        "misme-ser",
        add_team(config, "New team"),
    )
    assert outcome.status == "scored", outcome.message
    board = build_board(config, "misme-ser", "dev").table
    assert list(board["submission"]) == [1, outcome.submission_id]  # the old 1.0 still leads
    assert board["ci_low"].isna().tolist() == [True, True]  # the leader has no replicates
    assert list(board["older_scorer"]) == [True, False]
    assert main(["init", "--config", str(path)]) == 0  # idempotent


def test_a_schema_1_sqlite_database_is_refused_then_upgraded_by_init(
    tmp_path: Path, capsys
) -> None:
    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    make_schema_1_database(config)
    upgrade_and_use(path, config, capsys)


def test_a_newer_schema_is_refused(tmp_path: Path, capsys) -> None:
    path = write_challenge(tmp_path, open_now=True)
    assert main(["init", "--config", str(path)]) == 0
    with engine_for(load_config(path).database_url).begin() as connection:
        connection.execute(text("update schema_info set version = 3"))
    from leaderboard.store.schema import _SCHEMA_CHECKED

    _SCHEMA_CHECKED.clear()  # a new process would not have checked it yet
    for argv in (["show", "--task", "misme-ser"], ["init"]):
        assert main([*argv, "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert "made by a newer misme-leaderboard (schema 3" in err and err.count("\n") == 1
