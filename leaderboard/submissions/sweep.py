"""The sweep: pending submissions whose scoring never finished end as failed, not charged."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.scoring.sandbox import remove_orphan_score_folders
from leaderboard.store.models import Submission, Team
from leaderboard.store.quotas import UNFINISHED
from leaderboard.store.schema import challenge_row
from leaderboard.store.sessions import read_session, utc_now, write_session

SWEEP_GRACE_S = 15.0  # beyond the time limit: interpreter start-up and the store write


ABANDONED = (
    f"{UNFINISHED}: the scoring process ended without reporting back (killed?); "
    "not counted against the quota"
)


def sweep_unfinished(config: ChallengeConfig, now: datetime | None = None) -> int:
    """End every pending submission older than the scoring time limit (plus start-up grace)
    as failed, not charged, so that the same file may be submitted again; remove the score
    folders of dead processes. Returns the number of rows ended."""
    now = now or utc_now()
    cutoff = now - timedelta(seconds=config.time_limit_s + SWEEP_GRACE_S)
    remove_orphan_score_folders()
    with read_session(config) as session:
        stale = _stale_pending(session, config, cutoff)
        if not session.scalars(stale.limit(1)).first():  # the usual case: no write lock taken
            return 0
    with write_session(config) as session:
        ids = list(session.scalars(_stale_pending(session, config, cutoff)))
        session.execute(
            update(Submission)
            .where(Submission.id.in_(ids), Submission.status == "pending")
            .values(status="failed", message=ABANDONED, finished_at=now)
        )
    return len(ids)


def _stale_pending(session, config: ChallengeConfig, cutoff: datetime):
    challenge = challenge_row(session, config)
    return (
        select(Submission.id)
        .join(Team, Team.id == Submission.team_id)
        .where(
            Team.challenge_id == challenge.id,
            Submission.status == "pending",
            Submission.created_at < cutoff,
        )
    )
