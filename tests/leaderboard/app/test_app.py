"""The Streamlit app through streamlit.testing.v1.AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leaderboard.challenge.config import load_config
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import EMOTIONS, mer_predictions, ser_predictions, write_challenge

APP = str(Path(__file__).resolve().parents[3] / "leaderboard" / "app" / "pages.py")
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def live_challenge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app")
    path = write_challenge(folder, open_now=True)
    config = load_config(path)
    init_store(config)
    tokens = {name: add_team(config, name) for name in ("Team A", HOSTILE, "Team C")}
    submit(config, ser_predictions(folder / "a.csv", 44), "misme-ser", tokens["Team A"])
    submit(
        config,
        ser_predictions(folder / "h.csv", 30),
        "misme-ser",
        tokens[HOSTILE],
        note=f"note {HOSTILE}",
    )
    submit(config, ser_predictions(folder / "c.csv", 12), "misme-ser", tokens["Team C"])
    submit(config, mer_predictions(folder / "m.csv", 0.4), "misme-mer", tokens["Team A"])
    return path, tokens, folder


def _app(path, monkeypatch, page: str = "Leaderboard", task: str = "misme-ser") -> AppTest:
    monkeypatch.setenv("MISME_LEADERBOARD_CONFIG", str(path))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.sidebar.radio(key="page").set_value(page)
    app.sidebar.selectbox(key="task").set_value(task)
    app.run()
    assert not app.exception, app.exception
    return app


def test_leaderboard_page_ranks_teams(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch)
    board = app.dataframe[0].value
    assert list(board["team"]) == ["Team A", HOSTILE, "Team C"]
    assert list(board["rank"]) == [1, 2, 3]
    assert board["accuracy"].is_monotonic_decreasing
    assert "Private scores are hidden" in app.caption[0].value
    assert not any("private" in column for column in board.columns)


def test_detail_page_shows_confusion_matrix_and_text_notes(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch, "Submission detail")
    app.selectbox(key="detail_submission").set_value(2)
    app.run()
    texts = [t.value for t in app.text]
    assert f"Team: {HOSTILE}" in texts
    assert not any(t.startswith("Note:") for t in texts)  # a note is its team's own
    assert any("Confusion matrix" in m.value for m in app.markdown)
    assert any("per fold" in m.value for m in app.markdown)
    assert any("fold mean" in m.value and "pooled" in m.value for m in app.markdown)
    assert len(app.get("image")) >= 3  # per-fold bars, confusion matrix, per-group bars
    assert texts[texts.index(f"Team: {HOSTILE}") + 1].startswith("Scorer: misme-toolkit ")
    per_fold, per_class, genders = (frame.value for frame in app.dataframe)
    assert list(per_class.index) == list(EMOTIONS) and "recall" in per_class.columns
    assert list(genders.index) == ["gender = female", "gender = male"]
    assert genders["n"].sum() == 24 and list(per_fold.index) == [6]  # the public ids, fold 6


def test_detail_page_scatter_for_mer(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch, "Submission detail", task="misme-mer")
    assert any("valence: predicted vs true" in m.value for m in app.markdown)
    assert any("arousal: predicted vs true" in m.value for m in app.markdown)


def test_pairwise_page(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch, "Pairwise comparison")
    matrix = app.dataframe[0].value
    assert list(matrix.index) == ["1. Team A", f"2. {HOSTILE}", "3. Team C"]  # full names
    assert list(matrix.columns) == ["1", "2", "3"]
    assert float(matrix.loc["1. Team A", "3"].removeprefix("< ")) < 0.05  # p as text
    assert [matrix.iloc[i, i] for i in range(3)] == ["-", "-", "-"]  # blank, not p = 1
    assert "Holm-adjusted over all pairs" in app.caption[0].value
    assert len(app.get("image")) == 1  # the heatmap


def test_the_board_table_shows_every_row_and_the_significance_first(
    live_challenge, monkeypatch
) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch)
    table = app.dataframe[0]
    columns = list(table.value.columns)
    assert columns[:11] == [
        "rank", "team", "accuracy", "significant", "p_holm", "top_group",
        "ci_low", "ci_high", "rank_low", "rank_high", "p_value",
    ]  # fmt: skip
    board = table.value
    assert list(board["team"]) == ["Team A", HOSTILE, "Team C"]  # every row
    assert board["p_holm"].iloc[0] == ""  # the leader is not tested against itself
    for p in board["p_holm"].iloc[1:]:  # 3 decimals or scientific, never a bare 0
        assert p == "< 1e-16" or "e-" in p or (len(p.split(".")[1]) == 3 and float(p) > 0)
    config = table.proto.columns  # the column configuration sent to the page, as JSON
    assert '"label": "accuracy (pooled)"' in config and '"label": "p (Holm)"' in config
    assert config.count('"format": "%.4f"') >= 5  # accuracy, its CI, the other metrics
    caption = app.caption[0].value
    assert "pooled" in caption and "'significant vs leader'" in caption
    assert " sig:" not in caption and "top (*)" not in caption  # not the terminal's names


def test_leaderboard_page_shows_intervals_and_the_top_group(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch)
    board = app.dataframe[0].value
    assert board["ci_low"].notna().all() and (board["ci_low"] <= board["accuracy"]).all()
    assert board["top_group"].iloc[0]  # the leader is in its own top group
    assert len(app.get("image")) == 1  # the interval chart above the table
    top = [t.value for t in app.text if t.value.startswith("Top group")]
    expected = ", ".join(board.loc[board["top_group"], "team"])
    assert top == [f"Top group (rank interval overlaps the leader's): {expected}"]


def test_submit_page_reports_validation_and_refusals(live_challenge, monkeypatch) -> None:
    path, tokens, _ = live_challenge
    app = _app(path, monkeypatch, "Submit")
    app.text_input[0].input(tokens["Team C"])
    app.run()
    assert any("quota left in phase dev: today 4" in t.value for t in app.text)
    app.text_input[0].input("wrong-token")
    app.run()
    # by the token field, not a page-wide banner; the form stays
    assert [e.value for e in app.error] == ["unknown team token"]
    assert not any("Something is not right" in e.value for e in app.error)
    assert [b.label for b in app.button] == ["Submit"]
    assert any("columns id, emotion" in t.value for t in app.text)
    assert app.code[0].value == "id,emotion\n<an id of the test data>,neutral"


def test_info_page(live_challenge, monkeypatch) -> None:
    path, _, _ = live_challenge
    app = _app(path, monkeypatch, "Challenge info")
    assert any(m.value == "A test challenge." for m in app.markdown)
    phases = app.dataframe[0].value
    assert list(phases["phase"]) == ["dev", "test"]
    assert list(phases["status"]) == ["open", "upcoming"]
    assert app.info[0].value.startswith("Phase dev is open: it closes 2099-01-01 00:00 UTC, in ")


def test_missing_config_is_a_clear_message(monkeypatch) -> None:
    monkeypatch.delenv("MISME_LEADERBOARD_CONFIG", raising=False)
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert not app.exception
    assert "no challenge config" in app.text[0].value


def test_page_start_sweeps_a_submission_whose_scorer_was_killed(tmp_path, monkeypatch) -> None:
    """A row left pending an hour ago (its submit was killed) ends failed when the page runs."""
    import sqlite3

    from leaderboard.submissions.sweep import ABANDONED
    from tests.leaderboard.conftest import stale_pending_row

    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    init_store(config)
    stale_pending_row(config, add_team(config, "Team A"))
    _app(path, monkeypatch)
    with sqlite3.connect(config.database_url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("select status, message from submissions").fetchall() == [
            ("failed", ABANDONED)
        ]
