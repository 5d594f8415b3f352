"""SQLAlchemy 2 ORM models of the leaderboard store (schema version :data:`SCHEMA_VERSION`).

Version 2 (issue 14) added the scorer and solution hashes of every score, the bootstrap
replicates of each subset result, the submitted files (for rescoring), the rescore audit,
the stored rank intervals of each board and the schema_info table. Version 3 (issue 28)
added the log of selection changes (the final board uses the selections as they stood at the
phase's end) and keeps the files of scored submissions only. ``init`` upgrades an older
database in place (leaderboard.store.schema.upgrade_schema).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
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

SCHEMA_VERSION = 3
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
    # who computed it: the toolkit's version, sha256 of the scoring code + task definition,
    # and sha256 of the solution file (NULL for scores stored before schema 2)
    scorer_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    scorer_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    solution_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
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
    # the primary metric on each bootstrap resample (float64 .npy) and how it was drawn
    # (JSON: metric, n_resamples, seed, grouped_by, n_groups, low, high); NULL before schema 2
    replicates_npy: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    bootstrap_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class SubmissionFile(Base):
    """The file of a scored submission, kept so that `rescore` can score it again (an
    invalid, failed or timed-out file keeps only its sha256 and report, in ``submissions``)."""

    __tablename__ = "submission_files"
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class SelectionChange(Base):
    """One change of a submission's final selection, and when it was made: the board uses
    the selections as these rows had them at the phase's end (``submissions.selected`` is
    only the current state, for display)."""

    __tablename__ = "selection_changes"
    __table_args__ = (Index("ix_selection_changes_submission", "submission_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    selected: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    by: Mapped[str] = mapped_column(String(40))  # "team", or "schema-3 upgrade"


class RescoreAudit(Base):
    """One score looked at by one `rescore` run: old and new value and scorer, who, when."""

    __tablename__ = "rescore_audit"
    __table_args__ = (Index("ix_rescore_audit_submission", "submission_id", "run_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(32))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    subset: Mapped[str] = mapped_column(String(8))
    metric: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(
        String(16)
    )  # unchanged, new-scorer, changed, added, failed
    old_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    new_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    old_scorer: Mapped[str | None] = mapped_column(String(110), nullable=True)
    new_scorer: Mapped[str | None] = mapped_column(String(110), nullable=True)
    old_solution_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_solution_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    who: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class BoardInterval(Base):
    """The stored bootstrap intervals of one board row, valid while ``board_key`` (metric,
    subset, ranked submissions and their replicates) matches the board."""

    __tablename__ = "board_intervals"
    __table_args__ = (UniqueConstraint("challenge_id", "task", "phase", "subset", "submission_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id"))
    task: Mapped[str] = mapped_column(String(100))
    phase: Mapped[str] = mapped_column(String(100))
    subset: Mapped[str] = mapped_column(String(8))
    board_key: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    low: Mapped[float | None] = mapped_column(Float, nullable=True)
    high: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_low: Mapped[int | None] = mapped_column(Integer, nullable=True)
    rank_high: Mapped[int | None] = mapped_column(Integer, nullable=True)
    top_group: Mapped[bool] = mapped_column(Boolean, default=False)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SchemaInfo(Base):
    """One row: the schema version of this database."""

    __tablename__ = "schema_info"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
