"""SQLAlchemy 2 ORM models of the leaderboard store."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

STATUSES = ("pending", "scored", "invalid", "failed", "timed-out")
SUBSETS = ("public", "private")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware values")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class Challenge(Base):
    __tablename__ = "challenges"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    teams: Mapped[list[Team]] = relationship(back_populates="challenge")


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("challenge_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    name: Mapped[str] = mapped_column(String(100))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    challenge: Mapped[Challenge] = relationship(back_populates="teams")
    submissions: Mapped[list[Submission]] = relationship(back_populates="team")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        Index("ix_submissions_board", "task", "phase", "status"),
        Index("ix_submissions_team", "team_id", "task", "phase", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    task: Mapped[str] = mapped_column(String(100))
    phase: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))  # one of STATUSES
    message: Mapped[str] = mapped_column(Text, default="")
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    selected: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    team: Mapped[Team] = relationship(back_populates="submissions")
    scores: Mapped[list[Score]] = relationship(back_populates="submission")


class Score(Base):
    """One metric of one submission on one subset (public / private ids)."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("submission_id", "subset", "metric"),
        Index("ix_scores_metric", "metric", "subset", "submission_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    subset: Mapped[str] = mapped_column(String(8))
    metric: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    submission: Mapped[Submission] = relationship(back_populates="scores")


class SubsetResult(Base):
    """Per submission and subset: the per-id losses (float64 .npy blob, ids in sorted order,
    digest of that id list) and the JSON details the submission page draws (per fold metrics,
    confusion matrix or predicted-vs-true pairs)."""

    __tablename__ = "subset_results"
    __table_args__ = (UniqueConstraint("submission_id", "subset"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    subset: Mapped[str] = mapped_column(String(8))
    n_ids: Mapped[int] = mapped_column(Integer)
    ids_sha256: Mapped[str] = mapped_column(String(64))
    losses_npy: Mapped[bytes] = mapped_column(LargeBinary)
    details_json: Mapped[str] = mapped_column(Text)
