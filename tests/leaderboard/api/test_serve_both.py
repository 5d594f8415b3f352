"""`misme-leaderboard serve --api-port P`: one command serves the page and the API, and the
API ends with the page."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
import requests

from leaderboard.challenge.config import load_config
from leaderboard.store.schema import init_store
from tests.leaderboard.api.conftest import free_port, leaderboard_process
from tests.leaderboard.conftest import write_challenge


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait(condition, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.slow
def test_serve_with_api_port_serves_both_and_the_api_ends_with_the_page(tmp_path: Path) -> None:
    path = write_challenge(tmp_path, open_now=True)
    init_store(load_config(path))
    page_port, api_port = free_port(), free_port()
    server = leaderboard_process(
        "serve", "--config", str(path), "--port", str(page_port), "--api-port", str(api_port)
    )
    api = f"http://127.0.0.1:{api_port}/api/v1/challenge"
    try:
        assert _wait(lambda: _answers(f"http://127.0.0.1:{page_port}/_stcore/health"))
        assert _wait(lambda: _answers(api))
        assert requests.get(api, timeout=10).json()["name"] == "Tiny MiSME challenge"
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert _wait(lambda: not _answers(api), seconds=30)  # the API went with the page
