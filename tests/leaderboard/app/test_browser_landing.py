"""The landing page in headless Chromium: description and rules as Markdown without HTML,
the phase's countdown, a sample submission and the board as downloads (both checked)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from benchmark.cli import main as score_main
from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import load_config
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.app.test_browser import (
    WAIT_MS,
    _browser_page,
    _require_chromium,
    artifacts_folder,
    serving_page,
)
from tests.leaderboard.conftest import ser_predictions, write_challenge

pytestmark = pytest.mark.browser

DESCRIPTION = 'description = "Recognise **emotions** in mixes. <b>raw</b><script>alert(1)</script>"'
RULES = 'rules = "1. One account per team.\\n2. No hand labelling."'
DATA_URL = 'data_url = "https://example.org/misme-data"'


def test_the_landing_page_shows_the_countdown_and_offers_the_downloads(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    _require_chromium()
    path = write_challenge(tmp_path, open_now=True)
    text = path.read_text(encoding="utf-8").replace(
        'description = "A test challenge."', "\n".join([DESCRIPTION, RULES, DATA_URL])
    )
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    init_store(config)
    token = add_team(config, "Team A")
    submit(config, ser_predictions(tmp_path / "a.csv", 40), "misme-ser", token)
    artifacts = artifacts_folder(tmp_path)
    with serving_page(path) as url:
        with sync_playwright() as playwright, _browser_page(playwright) as (page, dialogs):
            page.goto(url)
            main = page.get_by_test_id("stMain")
            countdown = main.get_by_text("Phase dev is open: it closes 2099-01-01 00:00 UTC, in ")
            expect(countdown).to_be_visible(timeout=WAIT_MS)
            expect(main.locator("strong", has_text="emotions")).to_be_visible()
            expect(main.get_by_text("No hand labelling.")).to_be_visible()
            expect(main.get_by_role("link", name="https://example.org/misme-data")).to_be_visible()
            sample_button = main.get_by_role(
                "button", name="Download a sample submission for misme-ser (dev)"
            )
            with page.expect_download(timeout=WAIT_MS) as sample_download:
                sample_button.click()
            sample = tmp_path / "sample.csv"
            sample_download.value.save_as(sample)
            with page.expect_download(timeout=WAIT_MS) as board_download:
                main.get_by_role(
                    "button", name="Download the misme-ser board of phase dev (CSV)"
                ).click()
            board = tmp_path / "board.csv"
            board_download.value.save_as(board)
            raw_html = page.evaluate(
                "() => [...document.querySelectorAll('[data-testid=stMain] b')]"
                ".filter(b => b.textContent === 'raw').length"
            )
            countdown_text = countdown.inner_text()
            page.screenshot(path=str(artifacts / "landing.png"), full_page=True)
    assert dialogs == [] and raw_html == 0  # the description's HTML was not rendered
    assert countdown_text.rstrip(".").split(" in ")[1].split()[1] == "d"  # days left
    solution = tmp_path / "solutions" / "misme-ser.parquet"
    assert (
        score_main(["validate", str(sample), "--solution", str(solution), "--task", "misme-ser"])
        == 0
    )
    rows = list(csv.DictReader(board.open(encoding="utf-8")))
    assert [(r["rank"], r["team"]) for r in rows] == [("1", "Team A")]


def test_the_board_shows_all_thirteen_rows_and_the_significance_column(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from leaderboard.store.sessions import utc_now
    from leaderboard.submissions.submit import refresh_intervals

    _require_chromium()
    path = write_challenge(tmp_path, open_now=True, per_day=20)
    config = load_config(path)
    init_store(config)
    names = [f"Team {k:02d} with a rather long name to see it whole" for k in range(13)]
    for k, name in enumerate(names):
        predictions = ser_predictions(tmp_path / f"p{k}.csv", 20 + 2 * k, seed=k)
        submit(config, predictions, "misme-ser", add_team(config, name), refresh=False)
    refresh_intervals(config, "misme-ser", "dev", utc_now())
    artifacts = artifacts_folder(tmp_path)
    with serving_page(path) as url:
        with sync_playwright() as playwright, _browser_page(playwright) as (page, dialogs):
            page.goto(url)
            page.get_by_test_id("stRadioOption").filter(has_text="Leaderboard").click()
            cells = page.locator("[data-testid=stDataFrame] td[aria-colindex='2']")
            expect(cells).to_have_count(13, timeout=WAIT_MS)
            header = page.locator("[data-testid=stDataFrame] th", has_text="significant vs leader")
            significance_column = int(header.get_attribute("aria-colindex"))
            shown = cells.all_text_contents()
            grid = page.get_by_test_id("stDataFrame").first
            headers = [h.strip() for h in grid.locator("th").all_text_contents()]
            legend = page.get_by_text(re.compile("^Ranked on the public ids")).inner_text()
            page.screenshot(path=str(artifacts / "board-13-rows.png"), full_page=True)
            grid = page.get_by_test_id("stDataFrame").first
            grid.scroll_into_view_if_needed()
            grid.screenshot(path=str(artifacts / "board-13-table.png"))
            page.get_by_test_id("stRadioOption").filter(has_text="Pairwise comparison").click()
            expect(
                page.get_by_role("heading", name="Pairwise Diebold-Mariano p-values")
            ).to_be_visible(timeout=WAIT_MS)
            caption = page.get_by_text("Holm-adjusted p-values (framed, *: significant)")
            expect(caption).to_be_visible(timeout=WAIT_MS)
            heatmap = page.get_by_test_id("stImage").filter(has=caption)
            heatmap.scroll_into_view_if_needed()
            heatmap.screenshot(path=str(artifacts / "pairwise-13.png"))
            index = page.locator("[data-testid=stDataFrame] td[aria-colindex='1']")
            numbered = index.filter(has_text=re.compile(r"^\d+\. "))
            expect(numbered).to_have_count(13, timeout=WAIT_MS)  # every row of the p table
            rows = numbered.all_text_contents()
            pair_cells = page.get_by_test_id("stDataFrame").locator("td").all_text_contents()
    ranked = list(build_board(config, "misme-ser", "dev").table["team"])
    assert shown == ranked and sorted(shown) == sorted(names)  # every row, rank order, in full
    assert [r.strip() for r in rows] == [f"{k}. {n}" for k, n in enumerate(ranked, start=1)]
    assert significance_column == 4  # beside the metric: visible without scrolling sideways
    assert headers[:5] == ["rank", "team", "accuracy (pooled)", "significant vs leader", "p (Holm)"]
    for name in ("'significant vs leader'", "'95% CI'", "'rank CI'", "'top group'"):
        assert name in legend  # the caption speaks of the page's columns...
    assert "sig:" not in legend and "top (*)" not in legend  # ...not the terminal's
    assert "-" in pair_cells and not any(c in ("0", "0.0", "0.00e+00", "None") for c in pair_cells)
    assert dialogs == []
