"""Final selections freeze at the phase's end (issue 28, defect 6): once private scores are
shown, a team cannot select each submission in turn and keep the best private score, and
the final board uses the selections as they stood at the end whoever changed them later."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.cli import main
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Submission
from leaderboard.store.schema import init_store
from leaderboard.store.selections import record_selection
from leaderboard.store.sessions import write_session
from leaderboard.store.teams import add_team
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import AFTER_DEV, IN_DEV, Clock, ser_predictions, write_challenge

END = "2025-02-01T00:00:00+00:00"  # the dev phase's end in the test challenge


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[ChallengeConfig, str, int, int]:
    """Team A's strong file (44 of 48 right) and weak one (20 of 48), the weak one selected
    during the phase."""
    config = load_config(write_challenge(tmp_path))
    init_store(config)
    token = add_team(config, "Team A")
    strong, weak = (
        submit(
            config,
            ser_predictions(tmp_path / f"{n}.csv", n),
            "misme-ser",
            token,
            clock=Clock(IN_DEV + timedelta(minutes=n)),
        ).submission_id
        for n in (44, 20)
    )
    select_submission(config, token, weak, now=IN_DEV + timedelta(hours=1))
    return config, token, strong, weak


def final_submissions(config: ChallengeConfig) -> list[int]:
    board = build_board(config, "misme-ser", "dev", now=AFTER_DEV)
    assert board.subset == "private"
    return [int(s) for s in board.table["submission"]]


def test_selecting_after_the_phase_s_end_is_refused(two_files) -> None:
    config, token, strong, weak = two_files
    assert final_submissions(config) == [weak]
    for chosen, unselect in ((strong, False), (weak, True), (weak, False)):
        with pytest.raises(LeaderboardError) as refused:
            select_submission(config, token, chosen, unselect=unselect, now=AFTER_DEV)
        assert f"phase 'dev' ended at {END}" in str(refused.value)
        assert "final selections froze" in str(refused.value)
    exactly_at_the_end = config.phase("dev").end
    with pytest.raises(LeaderboardError, match="final selections froze"):
        select_submission(config, token, strong, now=exactly_at_the_end)
    assert final_submissions(config) == [weak]


def test_the_command_refuses_it_too(two_files, capsys) -> None:
    config, token, strong, _ = two_files
    argv = ["select", str(strong), "--config", str(config.path), "--token", token]
    assert main(argv) == 2  # the real clock: the test challenge's phases ended in 2025
    captured = capsys.readouterr()
    assert f"phase 'dev' ended at {END}" in captured.out + captured.err


def test_the_final_board_uses_the_selections_as_they_stood_at_the_end(two_files) -> None:
    config, _, strong, weak = two_files
    with write_session(config) as session:  # an organizer changes them behind the command
        session.execute(update(Submission).values(selected=False))
        record_selection(session, session.get(Submission, strong), True, AFTER_DEV, by="sql")
        record_selection(session, session.get(Submission, weak), False, AFTER_DEV, by="sql")
    assert final_submissions(config) == [weak]
    during = build_board(config, "misme-ser", "dev", now=IN_DEV + timedelta(hours=2))
    assert [int(s) for s in during.table["submission"]] == [weak]
