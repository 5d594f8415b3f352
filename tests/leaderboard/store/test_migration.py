"""Databases made by earlier versions: every command but `init` refuses them; `init` upgrades
them in place. Schema 1 (tests/leaderboard/data/schema-v1.*.sql): every row is kept, its old
scores show as from an unknown scorer and cannot be rescored (no file). Schema 2: its
selections are logged as made when their submissions were (they count on the final board),
the stored bytes of files never scored are dropped, every score stays as it was."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.cli import main
from leaderboard.errors import LeaderboardError
from leaderboard.store.schema import _SCHEMA_CHECKED, init_store
from leaderboard.store.sessions import engine_for, read_session
from leaderboard.store.teams import add_team, team_for_token
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import (
    AFTER_DEV,
    IN_DEV,
    Clock,
    ser_predictions,
    write_challenge,
)

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
        assert "made by an older misme-leaderboard (schema 1; this version uses schema 3)" in err
        assert f"`misme-leaderboard init --config {path}`" in err and err.count("\n") == 1
    assert main(["init", "--config", str(path)]) == 0
    capsys.readouterr()
    with engine_for(config.database_url).connect() as connection:
        assert connection.execute(text("select version from schema_info")).all() == [(3,)]
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
        connection.execute(text("update schema_info set version = 4"))
    from leaderboard.store.schema import _SCHEMA_CHECKED

    _SCHEMA_CHECKED.clear()  # a new process would not have checked it yet
    for argv in (["show", "--task", "misme-ser"], ["init"]):
        assert main([*argv, "--config", str(path)]) == 2
        err = capsys.readouterr().err
        assert "made by a newer misme-leaderboard (schema 4" in err and err.count("\n") == 1


def make_schema_2_database(config: ChallengeConfig, folder: Path) -> tuple[str, dict[str, int]]:
    """A database as schema 2 left it (its tables are today's but for ``selection_changes``):
    Team A's strong file (44 of 48 right), its weak one (20 of 48) selected by the flag alone,
    and an invalid file whose bytes were stored as well. Returns the token and the ids."""
    init_store(config)
    token = add_team(config, "Team A")
    bad = folder / "bad.csv"
    bad.write_text("id,emotion\na01-c00,furious\n")
    files = {
        "strong": ser_predictions(folder / "strong.csv", 44),
        "weak": ser_predictions(folder / "weak.csv", 20),
        "invalid": bad,
    }
    ids = {
        name: submit(config, path, "misme-ser", token, clock=Clock(IN_DEV)).submission_id
        for name, path in files.items()
    }
    with engine_for(config.database_url).begin() as connection:
        connection.execute(text("drop table selection_changes"))
        connection.execute(text("update schema_info set version = 2"))
        connection.execute(text(f"update submissions set selected = true where id = {ids['weak']}"))
        connection.execute(
            text("insert into submission_files values (:id, :size, :content)"),
            {"id": ids["invalid"], "size": bad.stat().st_size, "content": bad.read_bytes()},
        )
    _SCHEMA_CHECKED.clear()  # a new process would not have checked it yet
    return token, ids


def _table(config: ChallengeConfig, sql: str) -> list[tuple]:
    with engine_for(config.database_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def upgrade_schema_2(path: Path, config: ChallengeConfig, capsys) -> None:
    """The refusal, the upgrade, the selection counting on the final board, the dropped
    bytes, the unchanged scores, and a selection after the phase's end refused."""
    token, ids = make_schema_2_database(config, path.parent)
    scores = "select submission_id, subset, metric, value from scores order by 1, 2, 3"
    before = _table(config, scores)
    assert main(["show", "--task", "misme-ser", "--config", str(path)]) == 2
    assert "(schema 2; this version uses schema 3)" in capsys.readouterr().err
    for _ in range(2):  # idempotent
        assert main(["init", "--config", str(path)]) == 0
        assert _table(config, "select version from schema_info") == [(3,)]
        assert _table(config, "select submission_id, selected, by from selection_changes") == [
            (ids["weak"], True, "schema-3 upgrade")
        ]
    assert _table(config, "select submission_id from submission_files order by 1") == [
        (ids["strong"],),
        (ids["weak"],),
    ]
    assert _table(config, scores) == before
    final = build_board(config, "misme-ser", "dev", now=AFTER_DEV)
    assert final.subset == "private" and list(final.table["submission"]) == [ids["weak"]]
    with pytest.raises(LeaderboardError, match="final selections froze"):
        select_submission(config, token, ids["strong"], now=AFTER_DEV)


def test_a_schema_2_sqlite_database_is_refused_then_upgraded_by_init(
    tmp_path: Path, capsys
) -> None:
    path = write_challenge(tmp_path)
    upgrade_schema_2(path, load_config(path), capsys)
