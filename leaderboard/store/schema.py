"""The schema: create the tables, upgrade an older schema in place, check the version,
and find the challenge's row (which needs the schema checked)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Connection,
    Engine,
    delete,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from leaderboard.challenge.config import ChallengeConfig, shown_url
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import (
    SCHEMA_VERSION,
    Base,
    Challenge,
    SchemaInfo,
    SelectionChange,
    Submission,
    SubmissionFile,
)
from leaderboard.store.quotas import NOT_SCORED
from leaderboard.store.selections import UPGRADE
from leaderboard.store.sessions import engine_for, utc_now, write_session


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
    """Add the columns a schema-1 database lacks (nullable: old rows keep NULL), bring an
    older database's rows to schema 3 (:func:`_rows_to_schema_3`) and record the version;
    returns the columns added. Runs on SQLite and PostgreSQL alike (after create_all, which
    makes the new tables)."""
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
        stored = connection.scalar(select(func.max(SchemaInfo.version))) or 1
        if stored < 3:
            _rows_to_schema_3(connection)
        if stored != SCHEMA_VERSION:
            connection.execute(delete(SchemaInfo))
            connection.execute(insert(SchemaInfo).values(version=SCHEMA_VERSION))
    return added


def _rows_to_schema_3(connection: Connection) -> None:
    """Log every current selection as made when its submission was (the time it was really
    made is unknown, so it counts on the final board), and drop the stored bytes of files
    that were never scored (their sha256 and report stay in ``submissions``)."""
    connection.execute(
        insert(SelectionChange).from_select(
            ["submission_id", "selected", "at", "by"],
            select(Submission.id, true(), Submission.created_at, literal(UPGRADE)).where(
                Submission.selected.is_(True)
            ),
        )
    )
    unscored = select(Submission.id).where(Submission.status.in_(NOT_SCORED))
    connection.execute(delete(SubmissionFile).where(SubmissionFile.submission_id.in_(unscored)))


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
