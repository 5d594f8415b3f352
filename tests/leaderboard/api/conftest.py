"""A real API server (`misme-leaderboard serve-api`, uvicorn) on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.store.models import Submission, Team
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import close_engines, read_session
from leaderboard.store.teams import add_team
from tests.leaderboard.conftest import write_challenge

REPOSITORY = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Api:
    url: str
    config_path: Path
    config: ChallengeConfig
    tokens: dict[str, str]  # "Team A" / "Team B" -> token
    server: subprocess.Popen
    names: dict[str, str] = field(default_factory=dict)  # "Team A" -> the team's stored name

    def headers(self, team: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[team]}"}

    def stored(self) -> list[Submission]:
        """The submissions of this Api's teams, as the store holds them."""
        with read_session(self.config) as session:
            teams = select(Team.id).where(
                Team.name.in_([self.names.get(t, t) for t in self.tokens])
            )
            query = select(Submission).where(Submission.team_id.in_(teams))
            return list(session.scalars(query.order_by(Submission.id)))


def leaderboard_process(*args: str) -> subprocess.Popen:
    """`misme-leaderboard ARGS` as a process of its own (stderr kept for a failure's message)."""
    return subprocess.Popen(
        [sys.executable, "-m", "leaderboard.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )


def start_server(config_path: Path, port: int, rate_limit: int = 1000) -> subprocess.Popen:
    server = leaderboard_process(
        "serve-api",
        "--config",
        str(config_path),
        "--port",
        str(port),
        "--rate-limit",
        str(rate_limit),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited: {server.stderr.read().decode()}")
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v1/challenge", timeout=2)
            return server
        except requests.ConnectionError:
            time.sleep(0.2)
    server.kill()
    raise AssertionError("the API server did not start")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def closed_pilot(path: Path) -> Path:
    """Add a phase "pilot" that ended in 2019, before the open dev phase."""
    text = path.read_text(encoding="utf-8")
    pilot = (
        '[[phases]]\nname = "pilot"\nstart = "2019-01-01T00:00:00Z"\n'
        'end = "2019-12-31T00:00:00Z"\npublic_fraction = 0.5\nseed = 2\n\n'
    )
    path.write_text(text.replace("[[phases]]", pilot + "[[phases]]", 1), encoding="utf-8")
    return path


@contextmanager
def serving(folder: Path, rate_limit: int = 1000, **challenge) -> Iterator[Api]:
    path = closed_pilot(write_challenge(folder, open_now=True, **challenge))
    config = load_config(path)
    init_store(config)
    tokens = {name: add_team(config, name) for name in ("Team A", "Team B")}
    close_engines()
    port = free_port()
    server = start_server(path, port, rate_limit)
    try:
        yield Api(f"http://127.0.0.1:{port}", path, config, tokens, server)
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One server for the module (quota: 3 per day); each test gets teams of its own."""
    with serving(tmp_path_factory.mktemp("api"), per_day=3) as served:
        yield served


@pytest.fixture
def api(shared_server: Api, request: pytest.FixtureRequest) -> Api:
    """The shared server with two fresh teams ("Team A", "Team B" of this test)."""
    names = {short: f"{short} {request.node.name[-40:]}" for short in ("Team A", "Team B")}
    tokens = {short: add_team(shared_server.config, name) for short, name in names.items()}
    close_engines()
    return replace(shared_server, tokens=tokens, names=names)
