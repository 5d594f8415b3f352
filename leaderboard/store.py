"""The leaderboard store: engine set-up, teams and tokens, quota-checked submission rows.

Writes run in short transactions. On SQLite a write transaction starts with
BEGIN IMMEDIATE (one writer at a time, others wait on the busy timeout); on
PostgreSQL the team row is locked with SELECT ... FOR UPDATE. Either way the
quota check and the insert of the new submission are one atomic step.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import Engine, create_engine, delete, event, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from leaderboard.config import ChallengeConfig, Quota, shown_url
from leaderboard.errors import LeaderboardError
from leaderboard.models import SCHEMA_VERSION, Base, Challenge, SchemaInfo, Submission, Team

MAX_TEAM_NAME = 100
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def utc_now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=16)
def engine_for(url: str) -> Engine:
    """One engine per database URL per process."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        _use_explicit_sqlite_transactions(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _ENGINES.append(engine)
    return engine


_ENGINES: list[Engine] = []


def close_engines() -> None:
    """Close every pooled connection: the console scripts end without interpreter
    finalisation, which would otherwise be what closes them (and checkpoints SQLite's WAL)."""
    for engine in _ENGINES:
        engine.dispose()


def _use_explicit_sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        dbapi_connection.execute("PRAGMA foreign_keys=ON")
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


@contextmanager
def read_session(config: ChallengeConfig) -> Iterator[Session]:
    with Session(engine_for(config.database_url), expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(config: ChallengeConfig) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement (SQLite) and commits."""
    engine = engine_for(config.database_url).execution_options(sqlite_begin="IMMEDIATE")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def init_store(config: ChallengeConfig, now: datetime | None = None) -> Challenge:
    """Create the tables (idempotent), upgrade an older schema in place, add the challenge row."""
    engine = engine_for(config.database_url)
    try:
        version = stored_schema_version(engine)
        if version is not None and version > SCHEMA_VERSION:
            raise LeaderboardError(_newer_schema(config, version))
        Base.metadata.create_all(engine)
        upgrade_schema(engine)
    except OperationalError as error:
        raise LeaderboardError(
            f"cannot open database {shown_url(config.database_url)}: {error.orig}"
        ) from None
    _SCHEMA_CHECKED.add(config.database_url)
    with write_session(config) as session:
        existing = session.scalar(select(Challenge).where(Challenge.name == config.name))
        if existing is not None:
            return existing
        challenge = Challenge(name=config.name, created_at=now or utc_now())
        session.add(challenge)
        return challenge


# Columns schema 2 added to tables of schema 1 (its new tables are made by create_all).
ADDED_COLUMNS = {
    "scores": ("scorer_version", "scorer_hash", "solution_sha256"),
    "subset_results": ("replicates_npy", "bootstrap_json"),
}
_SCHEMA_CHECKED: set[str] = set()


def stored_schema_version(engine: Engine) -> int | None:
    """The database's schema version: None when it has no challenge tables yet, 1 for a
    database made before the schema_info table existed."""
    tables = set(inspect(engine).get_table_names())
    if "challenges" not in tables:
        return None
    if "schema_info" not in tables:
        return 1
    with engine.connect() as connection:
        return connection.scalar(select(func.max(SchemaInfo.version))) or 1


def upgrade_schema(engine: Engine) -> list[str]:
    """Add the columns a schema-1 database lacks (nullable: old rows keep NULL) and record
    the version; returns the columns added. Runs on SQLite and PostgreSQL alike."""
    added = []
    existing = {
        table: {c["name"] for c in inspect(engine).get_columns(table)} for table in ADDED_COLUMNS
    }
    with engine.begin() as connection:
        for table, columns in ADDED_COLUMNS.items():
            for name in columns:
                if name in existing[table]:
                    continue
                kind = (
                    Base.metadata.tables[table].columns[name].type.compile(dialect=engine.dialect)
                )
                connection.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {kind}"))
                added.append(f"{table}.{name}")
        if connection.scalar(select(func.max(SchemaInfo.version))) != SCHEMA_VERSION:
            connection.execute(delete(SchemaInfo))
            connection.execute(insert(SchemaInfo).values(version=SCHEMA_VERSION))
    return added


def check_schema(config: ChallengeConfig) -> None:
    """LeaderboardError unless the database has this version's schema (checked once per
    process and database): an older one must be upgraded by `init`, a newer one needs a
    newer toolkit."""
    if config.database_url in _SCHEMA_CHECKED:
        return
    version = stored_schema_version(engine_for(config.database_url))
    if version is None:
        return  # not initialised: challenge_row says so
    if version < SCHEMA_VERSION:
        raise LeaderboardError(
            f"database {shown_url(config.database_url)} was made by an older misme-leaderboard "
            f"(schema {version}; this version uses schema {SCHEMA_VERSION}): run "
            f"`misme-leaderboard init --config {config.path}` once to upgrade it in place "
            "(it adds tables and columns and keeps every row)"
        )
    if version > SCHEMA_VERSION:
        raise LeaderboardError(_newer_schema(config, version))
    _SCHEMA_CHECKED.add(config.database_url)


def _newer_schema(config: ChallengeConfig, version: int) -> str:
    return (
        f"database {shown_url(config.database_url)} was made by a newer misme-leaderboard "
        f"(schema {version}; this version knows schema {SCHEMA_VERSION} at most): "
        "upgrade the toolkit"
    )


def _is_missing_table(error: OperationalError | ProgrammingError) -> bool:
    """SQLite's "no such table" or PostgreSQL's undefined_table (SQLSTATE 42P01)."""
    return getattr(error.orig, "sqlstate", None) == "42P01" or "no such table" in str(error.orig)


def challenge_row(session: Session, config: ChallengeConfig) -> Challenge:
    try:
        check_schema(config)
        challenge = session.scalar(select(Challenge).where(Challenge.name == config.name))
    except (OperationalError, ProgrammingError) as error:
        if not _is_missing_table(error):  # e.g. an unreachable server: not "not initialised"
            reason = (
                str(error.orig).strip().splitlines()[0]
                if str(error.orig).strip()
                else type(error.orig).__name__
            )
            raise LeaderboardError(
                f"cannot use database {shown_url(config.database_url)}: {reason}"
            ) from None
        challenge = None
    if challenge is None:
        raise LeaderboardError(
            f"challenge {config.name!r} is not initialised in {shown_url(config.database_url)}; "
            "run `misme-leaderboard init --config ...` first"
        )
    return challenge


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_team_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise LeaderboardError("team name must not be empty")
    if len(name) > MAX_TEAM_NAME:
        raise LeaderboardError(f"team name is longer than {MAX_TEAM_NAME} characters")
    if _CONTROL_CHARACTERS.search(name):
        raise LeaderboardError("team name must not contain control characters")
    return name


MAX_NOTE = 1000
_NOTE_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # newlines and tabs are fine


def check_note(note: str) -> str:
    """A submission note as stored: text, at most MAX_NOTE characters, no control characters.

    (PostgreSQL refuses NUL in text columns; refusing early keeps both backends alike.)
    """
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise LeaderboardError(f"note is longer than {MAX_NOTE} characters")
    if _NOTE_FORBIDDEN.search(note):
        raise LeaderboardError(
            "note must not contain control characters (newlines and tabs are fine)"
        )
    return note


def safe_file_name(name: str) -> str:
    """The uploaded file's name as stored: control characters replaced, at most 255 characters."""
    return _CONTROL_CHARACTERS.sub("?", name)[:255]


TOKEN_PREFIX = "team_"


def new_token() -> str:
    """A fresh team token: 192 random bits, URL-safe, prefixed so it never starts with '-'.

    A bare ``token_urlsafe`` starts with '-' about one time in 64, and then
    ``--token <value>`` is read by argparse as an option, not a value.
    """
    return TOKEN_PREFIX + secrets.token_urlsafe(24)


def add_team(config: ChallengeConfig, name: str, now: datetime | None = None) -> str:
    """Create a team; returns its token (shown once, only its hash is stored)."""
    name = check_team_name(name)
    token = new_token()
    try:
        with write_session(config) as session:
            challenge = challenge_row(session, config)
            session.add(
                Team(
                    challenge_id=challenge.id,
                    name=name,
                    token_sha256=hash_token(token),
                    created_at=now or utc_now(),
                )
            )
    except IntegrityError:
        raise LeaderboardError(f"a team named {name!r} already exists") from None
    return token


def team_for_token(session: Session, config: ChallengeConfig, token: str) -> Team:
    challenge = challenge_row(session, config)
    team = session.scalar(
        select(Team).where(
            Team.token_sha256 == hash_token(token.strip()), Team.challenge_id == challenge.id
        )
    )
    if team is None:
        raise LeaderboardError("unknown team token")
    return team


def list_teams(config: ChallengeConfig) -> list[Team]:
    with read_session(config) as session:
        challenge = challenge_row(session, config)
        return list(
            session.scalars(select(Team).where(Team.challenge_id == challenge.id).order_by(Team.id))
        )


@dataclass(frozen=True)
class QuotaState:
    used_today: int
    used_total: int
    quota: Quota

    @property
    def left_today(self) -> int | None:
        return None if self.quota.per_day is None else max(0, self.quota.per_day - self.used_today)

    @property
    def left_total(self) -> int | None:
        return None if self.quota.total is None else max(0, self.quota.total - self.used_total)

    def refusal(self) -> str | None:
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


UNFINISHED = "scoring did not finish"  # message prefix of rows never charged (see service)


def quota_state(
    session: Session, team_id: int, task: str, phase: str, quota: Quota, now: datetime
) -> QuotaState:
    counted = ["pending", "scored"] + (
        [] if not quota.count_failed else ["invalid", "failed", "timed-out"]
    )
    base = select(func.count(Submission.id)).where(
        Submission.team_id == team_id,
        Submission.task == task,
        Submission.phase == phase,
        Submission.status.in_(counted),
        ~Submission.message.startswith(UNFINISHED),
    )
    day_start = utc_day_start(now)
    today = base.where(
        Submission.created_at >= day_start, Submission.created_at < day_start + timedelta(days=1)
    )
    return QuotaState(
        used_today=session.scalar(today) or 0, used_total=session.scalar(base) or 0, quota=quota
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
