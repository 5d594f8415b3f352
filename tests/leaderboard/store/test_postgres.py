"""The leaderboard store against a real, throwaway PostgreSQL server (docs/spec.md section 8).

A module fixture runs initdb + pg_ctl (Debian's /usr/lib/postgresql/*/bin) in a temporary
folder, listening on 127.0.0.1 only, with trust authentication; every test gets a fresh
database. Skipped when the PostgreSQL binaries or psycopg are missing, except under
MISME_REQUIRE_POSTGRES=1 (CI), where that is a failure.
"""

from __future__ import annotations

import glob
import itertools
import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from leaderboard.boards.ranking import build_board
from leaderboard.boards.significance import pairwise_p_values
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.errors import LeaderboardError
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import engine_for, read_session
from leaderboard.store.teams import add_team, hash_token, list_teams, team_for_token
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import (
    DEV_START,
    IN_DEV,
    Clock,
    mer_predictions,
    ser_predictions,
    write_challenge,
)
from tests.leaderboard.store.test_store import HOSTILE, _reserve_at
from tests.leaderboard.submissions.test_concurrency import (
    _reserve_one,
    submit_three_teams_in_parallel,
)

REQUIRE_ENV = "MISME_REQUIRE_POSTGRES"
_database_names = itertools.count(1)


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} but {REQUIRE_ENV}=1")
    pytest.skip(reason)


def _postgres_bin() -> Path | None:
    """The newest Debian-style PostgreSQL bin folder that has initdb and pg_ctl."""
    found = [
        Path(p).parent
        for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if (Path(p).parent / "pg_ctl").exists()
    ]
    return max(
        found, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, default=None
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Server:
    """A throwaway cluster: initdb, pg_ctl start / stop, all inside one temporary folder."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="misme-pg-"))
        self.data, self.sockets, self.log = self.root / "data", self.root / "s", self.root / "log"
        self.sockets.mkdir()
        self.port = _free_port()
        self.urls: list[str] = []  # databases handed out, to dispose of their engines
        self.as_postgres: list[str] = []

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*self.as_postgres, *args], capture_output=True, text=True, timeout=60, check=False
        )

    def start(self) -> None:
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        made = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        if made.returncode != 0:
            raise RuntimeError(f"initdb failed: {made.stdout}{made.stderr}")
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        if started.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{log}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            stopped = self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
            )
            if stopped.returncode != 0:
                self._run(
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                )
        shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[_Server]:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]>=3.1,<4')")
    bin_dir = _postgres_bin()
    if bin_dir is None:
        _unavailable(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root without runuser to start PostgreSQL as postgres")
    server = _Server(bin_dir)
    try:
        server.start()
        yield server
    finally:
        for url in server.urls:  # close our pooled connections before the server goes away
            engine_for(url).dispose()
        server.stop()


@pytest.fixture
def pg_url(postgres_server: _Server) -> str:
    """A fresh, empty database on the module's server."""
    url = postgres_server.create_database(f"misme_{next(_database_names)}")
    postgres_server.urls.append(url)
    return url


def _config(folder: Path, url: str | None, **options) -> tuple[Path, ChallengeConfig]:
    """A challenge folder whose TOML names `url` (so spawned processes use it too)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_challenge(folder, **options)
    if url is not None:
        path.write_text(f'database = "{url}"\n' + path.read_text(), encoding="utf-8")
    return path, load_config(path)


def _rows(config: ChallengeConfig, sql: str) -> list[tuple]:
    with engine_for(config.database_url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_unavailable_skips_unless_required(monkeypatch) -> None:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server"):
        _unavailable("no server")
    monkeypatch.setenv(REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=f"{REQUIRE_ENV}=1"):
        _unavailable("no server")


def test_url_is_postgresql(pg_url: str, tmp_path: Path) -> None:
    _, config = _config(tmp_path, pg_url)
    assert config.database_url == pg_url
    assert engine_for(pg_url).dialect.name == "postgresql"
    assert engine_for(pg_url).dialect.driver == "psycopg"


def test_init_teams_and_hashed_tokens(pg_url: str, tmp_path: Path) -> None:
    _, config = _config(tmp_path, pg_url)
    with pytest.raises(LeaderboardError, match="not initialised"):
        add_team(config, "Team A")
    init_store(config, now=DEV_START)
    init_store(config)  # idempotent
    assert _rows(config, "select count(*) from challenges") == [(1,)]
    token = add_team(config, "Team A")
    add_team(config, HOSTILE)
    with pytest.raises(LeaderboardError, match="already exists"):
        add_team(config, " Team A ")
    assert [t.name for t in list_teams(config)] == ["Team A", HOSTILE]
    stored = _rows(config, "select token_sha256 from teams order by id")
    assert stored[0] == (hash_token(token),)
    assert all(token not in row[0] for row in stored)
    with read_session(config) as session:
        assert team_for_token(session, config, token).name == "Team A"
        with pytest.raises(LeaderboardError, match="unknown team token"):
            team_for_token(session, config, token + "x")


def test_valid_and_invalid_submissions(pg_url: str, tmp_path: Path) -> None:
    _, config = _config(tmp_path, pg_url)
    init_store(config, now=DEV_START)
    token = add_team(config, "Team A")
    outcome = submit(
        config,
        ser_predictions(tmp_path / "p.csv", 30),
        "misme-ser",
        token,
        note="rf baseline",
        clock=Clock(IN_DEV),
    )
    assert outcome.status == "scored", outcome.message
    assert 0 < outcome.public_metrics["accuracy"] <= 1
    assert outcome.quota.left_today == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\na01-c00,furious\n")
    invalid = submit(config, bad, "misme-ser", token, clock=Clock(IN_DEV))
    assert invalid.status == "invalid"
    assert "unknown label 'furious'" in invalid.message
    assert invalid.quota.left_today == 4  # failures do not count by default
    with pytest.raises(LeaderboardError, match="already submitted as submission 1"):
        submit(config, tmp_path / "p.csv", "misme-ser", token, clock=Clock(IN_DEV))
    with pytest.raises(LeaderboardError, match="unknown team token"):
        submit(config, bad, "misme-ser", "nope", clock=Clock(IN_DEV))
    assert _rows(config, "select id, status, note, created_at from submissions order by id") == [
        (1, "scored", "rf baseline", IN_DEV.replace(tzinfo=None)),
        (2, "invalid", "", IN_DEV.replace(tzinfo=None)),
    ]
    assert _rows(config, "select subset, n_ids from subset_results order by subset") == [
        ("private", 24),
        ("public", 24),
    ]
    assert _rows(config, "select count(*) from scores where submission_id = 2") == [(0,)]


def _ranking_scenario(folder: Path, url: str | None) -> ChallengeConfig:
    """Three teams, a tie (earliest wins), a selected weaker file, an invalid file, a MER file."""
    _, config = _config(folder, url)
    init_store(config, now=DEV_START)
    tokens = [add_team(config, name) for name in ("Team A", HOSTILE, "Team C")]
    clock = Clock(IN_DEV)
    plan = [
        (0, "a1.csv", 40, "misme-ser"),
        (1, "b1.csv", 40, "misme-ser"),
        (2, "c1.csv", 40, "misme-ser"),
        (0, "a2.csv", 20, "misme-ser"),
        (1, "m1.csv", None, "misme-mer"),
    ]
    for minute, (team, name, correct, task) in enumerate(plan):
        clock.now = IN_DEV.replace(minute=minute, microsecond=123456)
        if task == "misme-mer":
            predictions = mer_predictions(folder / name, 0.5)
        else:
            predictions = ser_predictions(folder / name, correct, seed=minute)
        outcome = submit(config, predictions, task, tokens[team], clock=clock)
        assert outcome.status == "scored", outcome.message
    bad = folder / "bad.csv"
    bad.write_text("id,emotion\na01-c00,furious\n")
    assert submit(config, bad, "misme-ser", tokens[2], clock=clock).status == "invalid"
    from leaderboard.submissions.select import select_submission

    select_submission(config, tokens[0], 4, now=clock.now)  # Team A picks its weaker file
    return config


def test_ranking_equals_the_sqlite_ranking(pg_url: str, tmp_path: Path) -> None:
    on_sqlite = _ranking_scenario(tmp_path / "sqlite", None)
    on_postgres = _ranking_scenario(tmp_path / "postgres", pg_url)
    assert on_sqlite.database_url.startswith("sqlite:///")
    for task, reveal in [("misme-ser", False), ("misme-ser", True), ("misme-mer", False)]:
        expected = build_board(on_sqlite, task, "dev", reveal_private=reveal, now=IN_DEV)
        got = build_board(on_postgres, task, "dev", reveal_private=reveal, now=IN_DEV)
        assert (got.subset, got.primary_metric) == (expected.subset, expected.primary_metric)
        pd.testing.assert_frame_equal(got.table, expected.table)
        assert got.losses.keys() == expected.losses.keys()
        for key, losses in expected.losses.items():
            assert (got.losses[key] == losses).all()
        pd.testing.assert_frame_equal(pairwise_p_values(got), pairwise_p_values(expected))
    ser = build_board(on_postgres, "misme-ser", "dev", now=IN_DEV).table
    assert list(ser["team"]) == [HOSTILE, "Team C", "Team A"]  # tie to the earliest; A chose 20
    assert ser["submitted"].iloc[0] == IN_DEV.replace(minute=1, microsecond=123456)


def test_quotas(pg_url: str, tmp_path: Path) -> None:
    _, config = _config(tmp_path, pg_url, per_day=2, total=3)
    init_store(config, now=DEV_START)
    token = add_team(config, "Team A")
    day = datetime(2025, 1, 5, tzinfo=UTC)
    first = _reserve_at(config, token, day, "1" * 64)
    _reserve_at(config, token, day, "2" * 64)
    with pytest.raises(LeaderboardError, match="daily quota reached"):
        _reserve_at(config, token, day, "3" * 64)
    with engine_for(pg_url).begin() as connection:  # a failed submission gives its quota back
        connection.execute(text(f"update submissions set status = 'failed' where id = {first}"))
    _reserve_at(config, token, day, "3" * 64)
    _reserve_at(config, token, day.replace(day=6), "4" * 64)
    with pytest.raises(LeaderboardError, match="total quota reached"):
        _reserve_at(config, token, day.replace(day=7), "5" * 64)
    assert _rows(config, "select count(*) from submissions") == [(4,)]


def test_quota_through_the_service(pg_url: str, tmp_path: Path) -> None:
    _, config = _config(tmp_path, pg_url, per_day=1)
    init_store(config, now=DEV_START)
    token = add_team(config, "Team A")
    outcome = submit(
        config, ser_predictions(tmp_path / "a.csv", 30), "misme-ser", token, clock=Clock(IN_DEV)
    )
    assert (outcome.status, outcome.quota.left_today) == ("scored", 0)
    with pytest.raises(LeaderboardError, match="daily quota reached"):
        submit(
            config, ser_predictions(tmp_path / "b.csv", 20), "misme-ser", token, clock=Clock(IN_DEV)
        )
    assert _rows(config, "select count(*) from submissions") == [(1,)]


def _slow_reserve_one(args: tuple[str, str, int]) -> str:
    """test_concurrency's worker, with a pause between the quota count and the insert: without
    the row lock on the team, the processes would all count the same rows and overshoot."""
    import leaderboard.submissions.submit as submit_module

    counted = submit_module.quota_state

    def count_then_wait(*arguments, **options):
        state = counted(*arguments, **options)
        time.sleep(0.2)
        return state

    submit_module.quota_state = count_then_wait
    return _reserve_one(args)


def test_concurrent_reservations_never_exceed_the_quota(pg_url: str, tmp_path: Path) -> None:
    path, config = _config(tmp_path, pg_url, per_day=3)
    init_store(config, now=DEV_START)
    token = add_team(config, "Team A")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        answers = pool.map(
            _slow_reserve_one, [(str(path), token, i) for i in range(10)], chunksize=1
        )
    assert answers.count("ok") == 3, answers
    assert all("daily quota reached" in a for a in answers if a != "ok")
    assert _rows(config, "select count(*) from submissions") == [(3,)]


def test_concurrent_scored_submissions_lose_nothing(pg_url: str, tmp_path: Path) -> None:
    path, config = _config(tmp_path, pg_url)
    init_store(config, now=DEV_START)
    assert submit_three_teams_in_parallel(path, config, tmp_path) == ["scored"] * 3
    assert _rows(config, "select count(*) from submissions where status = 'scored'") == [(3,)]
    assert _rows(config, "select count(distinct submission_id) from scores") == [(3,)]
    assert _rows(config, "select count(*) from subset_results") == [(6,)]


def test_a_schema_1_database_is_upgraded_by_init(pg_url: str, tmp_path: Path, capsys) -> None:
    from tests.leaderboard.store.test_migration import make_schema_1_database, upgrade_and_use

    path, config = _config(tmp_path, pg_url, open_now=True)
    make_schema_1_database(config)
    upgrade_and_use(path, config, capsys)


def test_a_schema_2_database_is_upgraded_by_init(pg_url: str, tmp_path: Path, capsys) -> None:
    from tests.leaderboard.store.test_migration import upgrade_schema_2

    path, config = _config(tmp_path, pg_url)
    upgrade_schema_2(path, config, capsys)


def test_rescore_and_stored_intervals(pg_url: str, tmp_path: Path, capsys) -> None:
    from leaderboard.cli import main
    from leaderboard.submissions.rescore import rescore

    path, config = _config(tmp_path, pg_url, open_now=True)
    init_store(config)
    for name, correct in (("Team A", 40), ("Team B", 12)):
        submit(
            config,
            ser_predictions(tmp_path / f"{name}.csv", correct),
            "misme-ser",
            add_team(config, name),
        )
    table = build_board(config, "misme-ser", "dev").table
    assert table["top_group"].iloc[0] and table["ci_low"].notna().all()
    assert _rows(config, "select count(*) from board_intervals where subset = 'public'") == [(2,)]
    assert [r.outcome for r in rescore(config)] == ["unchanged", "unchanged"]
    assert _rows(config, "select distinct outcome from rescore_audit") == [("unchanged",)]
    assert main(["export", "--config", str(path), "--task", "misme-ser", "--format", "json"]) == 0
    assert '"top_group": true' in capsys.readouterr().out
