"""Teams and their tokens, and the text a team writes (team names, notes, file names)."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Team
from leaderboard.store.schema import challenge_row
from leaderboard.store.sessions import read_session, utc_now, write_session

MAX_TEAM_NAME = 100
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


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


# Cyrillic and Greek letters (after case folding) that look like a Latin letter: a small
# table of the common homoglyphs, enough for names such as "Team А" with a Cyrillic A.
_HOMOGLYPHS = str.maketrans(
    "авеёіїјкмнорстухѕһԁԛԝүӏ" + "αβεζηικμνορτυχ",  # Cyrillic, then Greek
    "abeeiijkmhopctyxshdqwyl" + "abezhikmvoptux",
)


def name_key(name: str) -> str:
    """What a team name looks like: NFKC, case folded, Cyrillic and Greek homoglyphs as the
    Latin letters they resemble, invisible characters removed and white space collapsed.
    Two names with the same key are the same name to a reader of the board."""
    folded = unicodedata.normalize("NFKC", name).casefold().translate(_HOMOGLYPHS)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(visible.split())


def _refuse_lookalike(session: Session, challenge_id: int, name: str) -> None:
    key = name_key(name)
    for existing in session.scalars(select(Team.name).where(Team.challenge_id == challenge_id)):
        if existing == name:
            raise LeaderboardError(f"a team named {name!r} already exists")
        if name_key(existing) == key:
            raise LeaderboardError(f"team name {name!r} looks like the existing team {existing!r}")


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
UNKNOWN_TOKEN = "unknown team token"


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
            _refuse_lookalike(session, challenge.id, name)
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
        raise LeaderboardError(UNKNOWN_TOKEN)
    return team


def list_teams(config: ChallengeConfig) -> list[Team]:
    with read_session(config) as session:
        challenge = challenge_row(session, config)
        return list(
            session.scalars(select(Team).where(Team.challenge_id == challenge.id).order_by(Team.id))
        )
