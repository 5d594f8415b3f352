"""End to end: `misme-leaderboard serve` on a loopback port, loaded in headless Chromium.

Covers the ranking table and the submit page through the real widgets: token box,
file uploader (`set_input_files` on its `input[type=file]`), form button, the validation
report, quota left, and that what the page says matches what the store holds.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.store.models import Score, Submission, SubsetResult
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import read_session
from leaderboard.store.teams import add_team, team_for_token
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import ser_predictions, write_challenge

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = "<script>alert(1)</script>"
HTML_NAME = "<b>x</b><script>"
HTML_NOTE = f"note {HTML_NAME}"
ARTIFACTS_ENV = "MISME_TEST_ARTIFACTS"  # where the screenshots go (default: pytest's tmp_path)
WAIT_MS = 90_000  # generous: a Streamlit rerun plus a scoring child process on a 2-core CI box
# Elements that a rendered (not escaped) HTML_NAME / HOSTILE would create.
INJECTED_JS = (
    "() => [...document.querySelectorAll('[data-testid=stMain] script')].length"
    " + [...document.querySelectorAll('b')].filter(b => b.textContent === 'x').length"
    " + [...document.querySelectorAll('script')]"
    ".filter(s => s.textContent.includes('alert(1)')).length"
)

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


@dataclass(frozen=True)
class Served:
    url: str
    artifacts: Path
    config: ChallengeConfig  # the same SQLite database the server uses
    folder: Path


@pytest.fixture
def served_challenge(tmp_path: Path) -> Iterator[Served]:
    _require_chromium()
    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    init_store(config)
    for name, correct in (("Team C", 12), (HOSTILE, 30), ("Team A", 44)):
        outcome = submit(
            config,
            ser_predictions(tmp_path / f"{correct}.csv", correct),
            "misme-ser",
            add_team(config, name),
        )
        assert outcome.status == "scored"
    with serving_page(path) as url:
        yield Served(url, artifacts_folder(tmp_path), config, tmp_path)


def artifacts_folder(default: Path) -> Path:
    artifacts = Path(os.environ.get(ARTIFACTS_ENV, default))
    artifacts.mkdir(parents=True, exist_ok=True)
    return artifacts


@contextmanager
def serving_page(config_path: Path) -> Iterator[str]:
    """`misme-leaderboard serve` of ``config_path`` on a free port, until the block ends."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "leaderboard.cli", "serve", "--config", str(config_path)]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(port, server)
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def _browser_page(playwright) -> Iterator[tuple[object, list[str]]]:
    """A fresh Chromium page and the messages of any dialogs it opened (there should be none)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(WAIT_MS)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        yield page, dialogs
    finally:
        browser.close()


def _open_page(page, name: str) -> None:
    from playwright.sync_api import expect

    page.get_by_test_id("stRadioOption").filter(has_text=re.compile(f"^{re.escape(name)}$")).click()
    heading = {
        "Leaderboard": "Leaderboard: ",
        "Submit": "Submit predictions for ",
        "Submission detail": "Submission detail",
        "My submissions": "My submissions",
    }[name]
    expect(page.get_by_role("heading", name=re.compile(f"^{re.escape(heading)}"))).to_be_visible(
        timeout=WAIT_MS
    )


def _team_cells(page):
    return page.locator("[data-testid=stDataFrame] td[aria-colindex='2']")


def test_ranking_rows_in_a_real_browser(served_challenge: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright, _browser_page(playwright) as (page, dialogs):
        page.goto(served_challenge.url)
        _open_page(page, "Leaderboard")  # the page opens on the challenge's landing page
        team_cells = _team_cells(page)
        try:
            team_cells.nth(2).wait_for(state="attached", timeout=WAIT_MS)
            # the landing page's tables leave the page once the board has replaced them
            expect(team_cells).to_have_count(3, timeout=WAIT_MS)
        finally:
            page.screenshot(
                path=str(served_challenge.artifacts / "leaderboard.png"), full_page=True
            )
        rows = team_cells.all_text_contents()
        ranks = page.locator("[data-testid=stDataFrame] td[aria-colindex='1']").all_text_contents()
        injected = page.evaluate(INJECTED_JS)
    assert rows == ["Team A", HOSTILE, "Team C"]
    assert ranks == ["1", "2", "3"]
    assert dialogs == []  # the hostile team name was shown as text, not executed
    assert injected == 0


def _malformed(path: Path) -> Path:
    """Data row 3 has a non-numeric, unknown label; data row 5 has no id."""
    lines = ser_predictions(path, 48, seed=1).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,emotion"
    lines[3] = f"{lines[3].split(',')[0]},happyish"
    lines[5] = f",{lines[5].split(',')[1]}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _stored(config: ChallengeConfig, token: str) -> list[tuple[Submission, int, int]]:
    """The team's submissions, each with its number of score rows and subset results."""
    with read_session(config) as session:
        team = team_for_token(session, config, token)
        submissions = list(
            session.scalars(
                select(Submission).where(Submission.team_id == team.id).order_by(Submission.id)
            )
        )
        return [
            (
                s,
                session.scalar(select(func.count()).where(Score.submission_id == s.id)),
                session.scalar(select(func.count()).where(SubsetResult.submission_id == s.id)),
            )
            for s in submissions
        ]


def _public_scores(config: ChallengeConfig, submission_id: int) -> dict[str, float]:
    with read_session(config) as session:
        return {
            score.metric: score.value
            for score in session.scalars(
                select(Score).where(Score.submission_id == submission_id, Score.subset == "public")
            )
        }


def test_submit_page_uploads_in_a_real_browser(served_challenge: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    served, config = served_challenge, served_challenge.config
    token = add_team(config, HTML_NAME)  # the server reads the same database live
    # 34 right: public scores below 1 (so the numbers on the page mean something), rank 2
    valid = ser_predictions(served.folder / "upload-valid.csv", 34)
    malformed = _malformed(served.folder / "upload-malformed.csv")
    screenshot = served.artifacts / "submit.png"
    quota_line = f"Team {HTML_NAME}: quota left in phase dev: today {{}}, total {{}}"
    with sync_playwright() as playwright, _browser_page(playwright) as (page, dialogs):
        page.goto(served.url)
        _open_page(page, "Submit")
        main = page.get_by_test_id("stMain")
        token_box = page.get_by_label("Team token", exact=True)
        uploader = page.locator("[data-testid=stFileUploader] input[type=file]")
        submit_button = page.get_by_role("button", name="Submit", exact=True)

        # A wrong token: refused by the token field; the form stays, with the config's limit.
        token_box.fill("team_this-is-not-a-token")
        token_box.press("Enter")
        expect(main.get_by_text("unknown team token", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(main.get_by_text("Something is not right.")).to_have_count(0)
        expect(uploader).to_have_count(1, timeout=WAIT_MS)
        expect(main.get_by_test_id("stFileUploader")).to_contain_text("1MB per file")
        expect(main.get_by_text("id,emotion")).to_be_visible()  # the expected columns

        # The right token: the team (name shown as text) and its quota.
        token_box.fill(token)
        token_box.press("Enter")
        expect(main.get_by_text(quota_line.format(5, 50), exact=True)).to_be_visible(
            timeout=WAIT_MS
        )

        # A valid file through the real uploader: scored, metrics and quota on the page.
        uploader.set_input_files(str(valid))
        expect(main.get_by_test_id("stFileUploader")).to_contain_text(
            "upload-valid.csv", timeout=WAIT_MS
        )
        page.get_by_label("Note (optional)").fill(HTML_NOTE)
        submit_button.click()
        scored_line = main.get_by_text(re.compile(r"^Submission \d+ scored\.$"))
        expect(scored_line).to_be_visible(timeout=WAIT_MS)
        expect(main.get_by_text("Quota left: today 4, total 49", exact=True)).to_be_visible(
            timeout=WAIT_MS
        )
        expect(main.get_by_text(quota_line.format(4, 49), exact=True)).to_be_visible(
            timeout=WAIT_MS
        )
        metrics = main.get_by_test_id("stDataFrame")
        metrics.locator("td").first.wait_for(state="attached", timeout=WAIT_MS)
        shown_headers = [h.strip() for h in metrics.locator("th").all_text_contents()]
        shown_values = metrics.locator("td").all_text_contents()
        scored_text = scored_line.inner_text()
        good_id = int(re.findall(r"\d+", scored_text)[0])
        page.screenshot(path=str(screenshot), full_page=True)
        injected_submit = page.evaluate(INJECTED_JS)

        # A malformed file: the validation report names rows and columns; nothing is scored.
        uploader.set_input_files(str(malformed))
        expect(main.get_by_test_id("stFileUploader")).to_contain_text(
            "upload-malformed.csv", timeout=WAIT_MS
        )
        submit_button.click()
        invalid_line = main.get_by_text(re.compile(r"^Submission \d+: invalid$"))
        expect(invalid_line).to_be_visible(timeout=WAIT_MS)
        report = main.get_by_test_id("stCode").last  # the first: the expected format
        expect(report).to_contain_text("nothing was scored", timeout=WAIT_MS)
        expect(report).to_contain_text("row 3, column 'emotion': unknown label 'happyish'")
        expect(report).to_contain_text("row 5, column 'id': missing id")
        expect(main.get_by_text(quota_line.format(4, 49), exact=True)).to_be_visible(
            timeout=WAIT_MS
        )  # an invalid file does not use up the quota (count_failed = false)
        invalid_text = invalid_line.inner_text()

        # The leaderboard now ranks the new team, its HTML name shown as text.
        _open_page(page, "Leaderboard")
        expect(_team_cells(page)).to_have_text(
            ["Team A", HTML_NAME, HOSTILE, "Team C"], timeout=WAIT_MS
        )
        board_rows = _team_cells(page).all_text_contents()
        injected_board = page.evaluate(INJECTED_JS)
        page.screenshot(path=str(served.artifacts / "leaderboard-after-submit.png"), full_page=True)

        # The detail page names the team, as text, and not its note (the team's own).
        _open_page(page, "Submission detail")
        main.get_by_role("combobox", name="Submission").click()
        page.get_by_role("option", name=f"#{good_id} (rank 2)", exact=True).click()
        expect(main.get_by_text(f"Team: {HTML_NAME}", exact=True)).to_be_visible(timeout=WAIT_MS)
        expect(main.get_by_text(HTML_NOTE)).to_have_count(0)
        injected_detail = page.evaluate(INJECTED_JS)

        # The team's own note under "My submissions" (the token typed on Submit is kept).
        _open_page(page, "My submissions")
        notes = main.locator("[data-testid=stDataFrame] td").filter(has_text=HTML_NOTE)
        try:
            expect(notes).to_have_count(2, timeout=WAIT_MS)  # the form kept it for the second
        finally:
            page.screenshot(path=str(served.artifacts / "my-submissions.png"), full_page=True)
        injected_detail += page.evaluate(INJECTED_JS)

    assert screenshot.stat().st_size > 0
    assert dialogs == []
    assert (injected_submit, injected_board, injected_detail) == (0, 0, 0)

    # The store holds what the page reported: one scored submission, one invalid, no scores.
    stored = _stored(config, token)
    assert len(stored) == 2
    (good, good_scores, good_results), (bad, bad_scores, bad_results) = stored
    assert (good.id, good.status, good.file_name, good.note) == (
        good_id,
        "scored",
        "upload-valid.csv",
        HTML_NOTE,
    )
    assert scored_text == f"Submission {good.id} scored."
    public = _public_scores(config, good.id)
    assert (good_scores, good_results) == (2 * len(public), 2)  # public and private ids
    assert (bad.status, bad.file_name, bad_scores, bad_results) == (
        "invalid",
        "upload-malformed.csv",
        0,
        0,
    )
    assert invalid_text == f"Submission {bad.id}: invalid"
    assert "row 5, column 'id': missing id" in bad.message

    # The metrics table on the page shows the stored public scores (rounded to 4 places).
    assert public["accuracy"] < 1  # so that the comparison below is not trivially 1 == 1
    assert sorted(shown_headers) == sorted(public)
    shown = dict(zip(shown_headers, shown_values, strict=True))
    for metric, value in public.items():
        assert float(shown[metric]) == pytest.approx(value, abs=1e-4), metric

    board = build_board(config, "misme-ser", "dev")
    assert board_rows == list(board.table["team"])  # the page ranks as the store does


def test_browser_requirement_skips_or_fails(monkeypatch, tmp_path: Path) -> None:
    import tests.leaderboard.app.test_browser as module

    monkeypatch.setattr(module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("MISME_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        module._require_chromium()
    monkeypatch.setenv("MISME_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="MISME_REQUIRE_BROWSER=1"):
        module._require_chromium()


def _loaded_images(page) -> list[int]:
    """Natural widths of the page's images (0 for one that did not load)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('[data-testid=stMain] "
        "[data-testid=stImage] img')].map(i => i.complete ? i.naturalWidth : 0)"
    )


def test_interval_chart_top_group_and_heatmap_in_a_real_browser(served_challenge: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    board = build_board(served_challenge.config, "misme-ser", "dev")
    top = ", ".join(board.table.loc[board.table["top_group"], "team"])
    assert top  # the leader at least
    with sync_playwright() as playwright, _browser_page(playwright) as (page, dialogs):
        page.goto(served_challenge.url)
        _open_page(page, "Leaderboard")
        main = page.get_by_test_id("stMain")
        images = main.locator("[data-testid=stImage] img")
        expect(images).to_have_count(1, timeout=WAIT_MS)
        expect(
            main.get_by_text(f"Top group (rank interval overlaps the leader's): {top}", exact=True)
        ).to_be_visible(timeout=WAIT_MS)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stImage] img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            timeout=WAIT_MS,
        )
        chart_widths = _loaded_images(page)
        page.screenshot(
            path=str(served_challenge.artifacts / "leaderboard-intervals.png"), full_page=True
        )
        page.get_by_test_id("stRadioOption").filter(
            has_text=re.compile("^Pairwise comparison$")
        ).click()
        expect(page.get_by_role("heading", name="Pairwise Diebold-Mariano p-values")).to_be_visible(
            timeout=WAIT_MS
        )
        expect(main.get_by_text("Holm-adjusted p-values (framed, *: significant)")).to_be_visible(
            timeout=WAIT_MS
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stImage] img')]"
            ".every(i => i.complete && i.naturalWidth > 0)",
            timeout=WAIT_MS,
        )
        heatmap_widths = _loaded_images(page)
        page.screenshot(
            path=str(served_challenge.artifacts / "pairwise-heatmap.png"), full_page=True
        )
        injected = page.evaluate(INJECTED_JS)
    assert len(chart_widths) == 1 and chart_widths[0] > 300
    assert len(heatmap_widths) == 1 and heatmap_widths[0] > 200
    assert dialogs == [] and injected == 0
