"""Database engines and sessions: one engine per URL per process; short transactions.

On SQLite a write transaction starts with BEGIN IMMEDIATE (one writer at a time, others
wait on the busy timeout); on PostgreSQL the team row is locked with SELECT ... FOR UPDATE.
Either way the quota check and the insert of the new submission are one atomic step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from leaderboard.challenge.config import ChallengeConfig


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
