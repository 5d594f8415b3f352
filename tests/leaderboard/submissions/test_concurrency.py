"""Parallel processes writing to one SQLite store: nothing lost, quotas hold."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from leaderboard.challenge.config import load_config
from leaderboard.errors import LeaderboardError
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from tests.leaderboard.conftest import IN_DEV, Clock, ser_predictions, write_challenge


def _reserve_one(args: tuple[str, str, int]) -> str:
    from leaderboard.submissions.submit import _reserve

    config_path, token, index = args
    config = load_config(config_path)
    try:
        _reserve(
            config,
            token,
            "misme-ser",
            config.phase("dev"),
            f"{index:064d}",
            "p.csv",
            "",
            datetime(2025, 1, 5, tzinfo=UTC),
        )
    except LeaderboardError as error:
        return str(error)
    return "ok"


def _submit_one(args: tuple[str, str, str]) -> str:
    from leaderboard.submissions.submit import submit

    config_path, token, predictions = args
    config = load_config(config_path)
    return submit(config, predictions, "misme-ser", token, clock=Clock(IN_DEV)).status


def _count(config, sql: str):
    return sqlite3.connect(config.database_url.removeprefix("sqlite:///")).execute(sql).fetchone()


def test_quota_holds_under_concurrent_submissions(tmp_path: Path) -> None:
    path = write_challenge(tmp_path, per_day=3)
    config = load_config(path)
    init_store(config)
    token = add_team(config, "Team A")
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        answers = pool.map(_reserve_one, [(str(path), token, i) for i in range(8)], chunksize=1)
    assert answers.count("ok") == 3
    assert all("daily quota reached" in a for a in answers if a != "ok")
    assert _count(config, "select count(*) from submissions") == (3,)


def submit_three_teams_in_parallel(path: Path, config, tmp_path: Path) -> list[str]:
    """Three new teams each submit one file at the same time, from three processes."""
    jobs = []
    for index in range(3):
        token = add_team(config, f"Team {index}")
        jobs.append(
            (str(path), token, str(ser_predictions(tmp_path / f"p{index}.csv", 10 * index)))
        )
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        return pool.map(_submit_one, jobs, chunksize=1)


def test_parallel_scored_submissions_lose_nothing(tmp_path: Path) -> None:
    path = write_challenge(tmp_path)
    config = load_config(path)
    init_store(config)
    assert submit_three_teams_in_parallel(path, config, tmp_path) == ["scored"] * 3
    assert _count(config, "select count(*) from submissions where status='scored'") == (3,)
    assert _count(config, "select count(distinct submission_id) from scores") == (3,)
    assert _count(config, "select count(*) from subset_results") == (6,)
