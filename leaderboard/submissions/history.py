"""Who sees which submissions. A team sees its own (status, message, note, scores,
selection, the file's name and sha256); nobody sees another team's beyond the public board;
the organizer (with the config) sees every row through :func:`all_submissions`.

Private-id scores are shown to their team only once the submission's phase has ended,
as the board shows them to everyone then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Submission, Team
from leaderboard.store.schema import challenge_row
from leaderboard.store.sessions import read_session, utc_now
from leaderboard.store.teams import team_for_token


def not_yours(submission_id: int) -> LeaderboardError:
    """The one refusal for a submission that is missing or another team's (the same words
    either way, so that nobody learns which ids exist)."""
    return LeaderboardError(f"submission {submission_id} is not one of your team's")


def my_submissions(
    config: ChallengeConfig,
    token: str,
    task: str | None = None,
    phase: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The token's team's submissions, newest first (optionally of one task and phase)."""
    now = now or utc_now()
    with read_session(config) as session:
        team = team_for_token(session, config, token)
        query = select(Submission).where(Submission.team_id == team.id)
        if task is not None:
            query = query.where(Submission.task == config.task(task).name)
        if phase is not None:
            query = query.where(Submission.phase == config.phase(phase).name)
        rows = session.scalars(query.order_by(Submission.id.desc())).all()
        return [submission_record(config, row, now) for row in rows]


def my_submission(
    config: ChallengeConfig, token: str, submission_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """One of the token's team's submissions; refused for any other."""
    with read_session(config) as session:
        team = team_for_token(session, config, token)
        row = session.get(Submission, submission_id)
        if row is None or row.team_id != team.id:
            raise not_yours(submission_id)
        return submission_record(config, row, now or utc_now())


def submission_record(config: ChallengeConfig, row: Submission, now: datetime) -> dict[str, Any]:
    """A submission as its team (or the organizer) sees it."""
    known = {phase.name: phase for phase in config.phases}
    ended = row.phase in known and known[row.phase].has_ended(now)
    scores: dict[str, dict[str, float]] = {}
    for score in row.scores:
        if score.subset == "public" or ended:
            scores.setdefault(score.subset, {})[score.metric] = score.value
    return {
        "id": row.id,
        "task": row.task,
        "phase": row.phase,
        "status": row.status,
        "message": row.message,
        "note": row.note,
        "selected": row.selected,
        "file_name": row.file_name,
        "file_sha256": row.file_sha256,
        "submitted": row.created_at.isoformat(),
        "finished": row.finished_at.isoformat() if row.finished_at else None,
        "scores": scores,
    }


def all_submissions(
    config: ChallengeConfig, task: str | None = None, phase: str | None = None
) -> list[dict[str, Any]]:
    """Every team's submissions with everything stored about them (organizers only)."""
    now = utc_now()
    with read_session(config) as session:
        query = _challenge_submissions(session, config)
        if task is not None:
            query = query.where(Submission.task == config.task(task).name)
        if phase is not None:
            query = query.where(Submission.phase == config.phase(phase).name)
        rows = session.execute(query.order_by(Submission.id)).all()
        return [{"team": name, **submission_record(config, row, now)} for row, name in rows]


def _challenge_submissions(session: Session, config: ChallengeConfig):
    challenge = challenge_row(session, config)
    return (
        select(Submission, Team.name)
        .join(Team, Team.id == Submission.team_id)
        .where(Team.challenge_id == challenge.id)
    )
