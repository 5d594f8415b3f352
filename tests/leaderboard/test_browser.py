"""End to end: `misme-leaderboard serve` on a loopback port, loaded in headless Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from leaderboard.config import load_config
from leaderboard.service import submit
from leaderboard.store import add_team, init_store
from tests.leaderboard.conftest import ser_predictions, write_challenge

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE = "<script>alert(1)</script>"
ARTIFACTS_ENV = "MISME_TEST_ARTIFACTS"  # where the screenshot goes (default: pytest's tmp_path)

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("MISME_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing but MISME_REQUIRE_BROWSER=1")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_healthy(port: int, server: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("server did not become healthy")


@pytest.fixture
def served_challenge(tmp_path: Path):
    _require_chromium()
    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    init_store(config)
    for name, correct in (("Team C", 12), (HOSTILE, 30), ("Team A", 44)):
        outcome = submit(config, ser_predictions(tmp_path / f"{correct}.csv", correct),
                         "misme-ser", add_team(config, name))
        assert outcome.status == "scored"
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "leaderboard.cli", "serve", "--config", str(path), "--port",
         str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port, server)
        yield f"http://127.0.0.1:{port}/", Path(os.environ.get(ARTIFACTS_ENV, tmp_path))
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_ranking_rows_in_a_real_browser(served_challenge: tuple[str, Path]) -> None:
    from playwright.sync_api import sync_playwright

    url, artifacts = served_challenge
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 700})
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(url)
            team_cells = page.locator("[data-testid=stDataFrame] td[aria-colindex='2']")
            try:
                team_cells.nth(2).wait_for(state="attached", timeout=90_000)
            finally:
                page.screenshot(path=str(artifacts / "leaderboard.png"), full_page=True)
            rows = team_cells.all_text_contents()
            ranks = page.locator("[data-testid=stDataFrame] td[aria-colindex='1']").all_text_contents()
            injected = page.evaluate("() => [...document.querySelectorAll('script')]"
                                     ".filter(s => s.textContent.includes('alert(1)')).length")
        finally:
            browser.close()
    assert rows == ["Team A", HOSTILE, "Team C"]
    assert ranks == ["1", "2", "3"]
    assert dialogs == []  # the hostile team name was shown as text, not executed
    assert injected == 0


def test_browser_requirement_skips_or_fails(monkeypatch, tmp_path: Path) -> None:
    import tests.leaderboard.test_browser as module

    monkeypatch.setattr(module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("MISME_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        module._require_chromium()
    monkeypatch.setenv("MISME_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="MISME_REQUIRE_BROWSER=1"):
        module._require_chromium()
