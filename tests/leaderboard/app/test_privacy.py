"""Privacy by role on the page (streamlit.testing.v1.AppTest): an anonymous visitor and
another team's token see none of a team's notes, failed attempts, messages or final
selections; the team's own token sees all of them under "My submissions"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from leaderboard.app.pages import PAGES
from leaderboard.challenge.config import load_config
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import ser_predictions, write_challenge

APP = str(Path(__file__).resolve().parents[3] / "leaderboard" / "app" / "pages.py")
NOTE = "our-secret-trick"
FAILURE = "leakylabel"  # a label of Team A's invalid file: its message names it
TEXT_KINDS = ("title", "subheader", "text", "markdown", "caption", "code", "error", "warning")
TEXT_KINDS += ("info", "success")


@pytest.fixture(scope="module")
def private_matters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("privacy")
    path = write_challenge(folder, open_now=True)
    config = load_config(path)
    init_store(config)
    tokens = {name: add_team(config, name) for name in ("Team A", "Team B")}
    scored = submit(
        config, ser_predictions(folder / "a.csv", 40), "misme-ser", tokens["Team A"], note=NOTE
    )
    select_submission(config, tokens["Team A"], scored.submission_id)
    bad = folder / "bad.csv"
    bad.write_text(f"id,emotion\na01-c00,{FAILURE}\n", encoding="utf-8")
    failed = submit(config, bad, "misme-ser", tokens["Team A"], note=f"{NOTE} again")
    assert failed.status == "invalid" and FAILURE in failed.message
    submit(config, ser_predictions(folder / "b.csv", 30), "misme-ser", tokens["Team B"])
    return path, tokens


def shown(app: AppTest) -> str:
    """Everything the page shows as text: elements, table cells and headers, choices."""
    parts = [str(element.value) for kind in TEXT_KINDS for element in app.get(kind)]
    parts += [frame.value.to_csv() for frame in app.dataframe]
    parts += [str(option) for box in app.selectbox for option in box.options]
    return "\n".join(parts)


def _page(path: Path, monkeypatch, page: str, token: str | None = None) -> AppTest:
    monkeypatch.setenv("MISME_LEADERBOARD_CONFIG", str(path))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.sidebar.radio(key="page").set_value(page)
    app.run()
    if token is not None:
        app.text_input(key="my_token").input(token)
        app.run()
    assert not app.exception, app.exception
    return app


def _leaks(text: str) -> list[str]:
    return [word for word in (NOTE, FAILURE) if word in text]


@pytest.mark.parametrize("page", PAGES)
def test_an_anonymous_visitor_sees_no_private_matter(private_matters, monkeypatch, page) -> None:
    path, _ = private_matters
    app = _page(path, monkeypatch, page)
    texts = [shown(app)]
    if page == "Submission detail":  # every submission the page offers
        for option in app.selectbox(key="detail_submission").options:
            app.selectbox(key="detail_submission").set_value(int(option.split()[0][1:]))
            app.run()
            texts.append(shown(app))
    assert _leaks("\n".join(texts)) == []
    columns = {c for frame in app.dataframe for c in frame.value.columns}
    assert not {"selected", "note", "message"} & columns


def test_another_teams_token_sees_only_its_own(private_matters, monkeypatch) -> None:
    path, tokens = private_matters
    app = _page(path, monkeypatch, "My submissions", tokens["Team B"])
    (mine,) = [frame.value for frame in app.dataframe]
    assert list(mine["status"]) == ["scored"] and not mine["selected"].any()
    assert _leaks(shown(app)) == []


def test_a_team_sees_its_notes_failures_and_selection(private_matters, monkeypatch) -> None:
    path, tokens = private_matters
    app = _page(path, monkeypatch, "My submissions", tokens["Team A"])
    (mine,) = [frame.value for frame in app.dataframe]
    assert list(mine["status"]) == ["invalid", "scored"]
    assert list(mine["selected"]) == [False, True]
    assert list(mine["note"]) == [f"{NOTE} again", NOTE]
    assert re.fullmatch(r"accuracy [01]\.\d{4}", mine["public score"].iloc[1])
    assert mine["public score"].iloc[0] == ""  # an invalid file has no score
    assert len(mine["sha256"].iloc[0]) == 64
    assert any(FAILURE in code.value for code in app.code)  # the invalid file's report


def test_a_wrong_token_is_told_by_the_field(private_matters, monkeypatch) -> None:
    path, _ = private_matters
    app = _page(path, monkeypatch, "My submissions", "team_wrong")
    assert [e.value for e in app.error] == ["unknown team token"]
    assert len(app.dataframe) == 0
