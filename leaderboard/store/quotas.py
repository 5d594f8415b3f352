"""Quotas: what a team used per UTC day and in total, and earlier submissions of a file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leaderboard.challenge.config import Quota
from leaderboard.store.models import Submission


@dataclass(frozen=True)
class QuotaState:
    used_today: int
    used_total: int
    quota: Quota
    invalid_today: int = 0  # invalid, failed or timed-out today (never interrupted ones)

    @property
    def left_today(self) -> int | None:
        return None if self.quota.per_day is None else max(0, self.quota.per_day - self.used_today)

    @property
    def left_total(self) -> int | None:
        return None if self.quota.total is None else max(0, self.quota.total - self.used_total)

    @property
    def invalid_left_today(self) -> int | None:
        limit = self.quota.invalid_per_day
        return None if limit is None else max(0, limit - self.invalid_today)

    def refusal(self) -> str | None:
        if self.invalid_left_today == 0:
            return (
                f"daily quota of invalid submissions reached ({self.quota.invalid_per_day} "
                "invalid, failed or timed-out per UTC day); try again after 00:00 UTC"
            )
        if self.left_today == 0:
            return (
                f"daily quota reached ({self.quota.per_day} per UTC day); try again after 00:00 UTC"
            )
        if self.left_total == 0:
            return f"total quota reached ({self.quota.total} submissions in this phase)"
        return None


def utc_day_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


UNFINISHED = (
    "scoring did not finish"  # message prefix of rows never charged (see leaderboard.submissions)
)


NOT_SCORED = ("invalid", "failed", "timed-out")


def quota_state(
    session: Session, team_id: int, task: str, phase: str, quota: Quota, now: datetime
) -> QuotaState:
    counted = ["pending", "scored"] + ([] if not quota.count_failed else list(NOT_SCORED))
    charged = (
        Submission.team_id == team_id,
        Submission.task == task,
        Submission.phase == phase,
        ~Submission.message.startswith(UNFINISHED),
    )
    base = select(func.count(Submission.id)).where(*charged)
    day_start = utc_day_start(now)
    today = base.where(
        Submission.created_at >= day_start, Submission.created_at < day_start + timedelta(days=1)
    )
    return QuotaState(
        used_today=session.scalar(today.where(Submission.status.in_(counted))) or 0,
        used_total=session.scalar(base.where(Submission.status.in_(counted))) or 0,
        quota=quota,
        invalid_today=session.scalar(today.where(Submission.status.in_(NOT_SCORED))) or 0,
    )


def previous_with_same_file(
    session: Session, team_id: int, task: str, phase: str, file_sha256: str
) -> Submission | None:
    """An earlier submission of the same file that will give the same answer again."""
    return session.scalar(
        select(Submission)
        .where(
            Submission.team_id == team_id,
            Submission.task == task,
            Submission.phase == phase,
            Submission.file_sha256 == file_sha256,
            Submission.status.in_(["pending", "scored", "invalid"]),
        )
        .order_by(Submission.id)
    )
