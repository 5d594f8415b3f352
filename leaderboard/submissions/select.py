"""A team's choice of its final submissions, frozen at its phase's end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Submission
from leaderboard.store.selections import record_selection
from leaderboard.store.sessions import utc_now, write_session
from leaderboard.store.teams import team_for_token


def select_submission(
    config: ChallengeConfig,
    token: str,
    submission_id: int,
    unselect: bool = False,
    now: datetime | None = None,
) -> Submission:
    """Mark one scored submission as one of the team's final choices for its task and phase
    (at most the config's ``final_submissions``; with 1 it replaces the earlier choice), or
    take the mark off with ``unselect``. Refused once the submission's phase has ended: the
    final board uses the selections as they stood then."""
    now = now or utc_now()
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        chosen = session.get(Submission, submission_id)
        if chosen is None or chosen.team_id != team.id:
            raise LeaderboardError(f"submission {submission_id} is not one of your team's")
        _refuse_after_the_end(config, chosen, now)
        if unselect or chosen.selected:
            if unselect and chosen.selected:
                record_selection(session, chosen, False, now)
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
                record_selection(session, other, False, now)
        elif len(others) >= limit:
            raise LeaderboardError(
                f"your team has already selected {limit} submissions for {chosen.task} / "
                f"{chosen.phase} ({', '.join(str(o.id) for o in others)}); take one off first "
                "with `misme-leaderboard select ID --unselect`"
            )
        record_selection(session, chosen, True, now)
        return chosen


def _refuse_after_the_end(config: ChallengeConfig, chosen: Submission, now: datetime) -> None:
    known = {phase.name: phase for phase in config.phases}
    phase = known.get(chosen.phase)
    if phase is None:
        raise LeaderboardError(
            f"submission {chosen.id} belongs to phase {chosen.phase!r}, which is no longer in "
            "the config; its selections cannot change"
        )
    if phase.has_ended(now):
        raise LeaderboardError(
            f"phase {phase.name!r} ended at {phase.end.isoformat()}: final selections froze "
            f"then and can no longer change; the final board of {chosen.task} uses them as "
            "they stood at the phase's end"
        )
