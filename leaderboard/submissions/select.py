"""A team's choice of its final submissions."""

from __future__ import annotations

from sqlalchemy import select

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Submission
from leaderboard.store.sessions import write_session
from leaderboard.store.teams import team_for_token


def select_submission(
    config: ChallengeConfig, token: str, submission_id: int, unselect: bool = False
) -> Submission:
    """Mark one scored submission as one of the team's final choices for its task and phase
    (at most the config's ``final_submissions``; with 1 it replaces the earlier choice), or
    take the mark off with ``unselect``."""
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        chosen = session.get(Submission, submission_id)
        if chosen is None or chosen.team_id != team.id:
            raise LeaderboardError(f"submission {submission_id} is not one of your team's")
        if unselect or chosen.selected:
            chosen.selected = chosen.selected and not unselect
            return chosen
        if chosen.status != "scored":
            raise LeaderboardError(
                f"submission {submission_id} is {chosen.status}; "
                "only scored submissions can be selected"
            )
        others = list(
            session.scalars(
                select(Submission)
                .where(
                    Submission.team_id == team.id,
                    Submission.task == chosen.task,
                    Submission.phase == chosen.phase,
                    Submission.selected.is_(True),
                )
                .order_by(Submission.id)
            )
        )
        limit = config.final_submissions
        if limit == 1:
            for other in others:
                other.selected = False
        elif len(others) >= limit:
            raise LeaderboardError(
                f"your team has already selected {limit} submissions for {chosen.task} / "
                f"{chosen.phase} ({', '.join(str(o.id) for o in others)}); take one off first "
                "with `misme-leaderboard select ID --unselect`"
            )
        chosen.selected = True
        return chosen
