"""User-supplied tables of the Spotify screening: instrumentalness values and the review list.

- :func:`read_instrumentalness_table`: CSV ``spotify_id,instrumentalness`` or
  ``song_id,instrumentalness`` (Spotify closed audio-features to new apps, so the values
  may come from elsewhere);
- :func:`read_review_list`: the manual review list, CSV ``song_id[,keep,note]``, which
  overrides the Spotify screening (:mod:`builders.corpora.spotify_screening`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from builders.errors import UserError

_KEEP_WORDS = {"", "1", "true", "yes", "y", "keep"}
_DROP_WORDS = {"0", "false", "no", "n", "drop"}


def _csv_rows(path: Path, what: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, stripped fields)`` of each non-blank CSV record of a UTF-8 file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            for fields in reader:
                stripped = [field.strip() for field in fields]
                if any(stripped):
                    yield reader.line_num, stripped
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path} is not UTF-8 text") from None
    except (OSError, csv.Error) as error:
        raise UserError(f"cannot read the {what} {path}: {error}") from None


@dataclass(frozen=True)
class InstrumentalnessTable:
    """User-supplied instrumentalness values, keyed by ``spotify_id`` or by ``song_id``."""

    key: str
    values: Mapping[str, float]
    path: str


def read_instrumentalness_table(path: Path | str) -> InstrumentalnessTable:
    """Read a CSV ``spotify_id,instrumentalness`` or ``song_id,instrumentalness`` (with header).

    Values must be numbers in [0, 1]; an id given twice with different values, a missing
    value or an unknown header is a UserError naming the line.
    """
    path = Path(path)
    what = "instrumentalness table"
    rows = _csv_rows(path, what)
    first = next(rows, None)
    if first is None or [f.lower() for f in first[1]] not in (
        ["spotify_id", "instrumentalness"],
        ["song_id", "instrumentalness"],
    ):
        raise UserError(
            f"{path}: the {what} needs the header spotify_id,instrumentalness "
            "or song_id,instrumentalness"
        )
    values: dict[str, float] = {}
    for line, fields in rows:
        identifier, value = _table_row(path, line, fields)
        if values.setdefault(identifier, value) != value:
            raise UserError(f"{path}, line {line}: {identifier} is given two different values")
    return InstrumentalnessTable(first[1][0].lower(), values, str(path))


def instrumentalness_value(raw: object) -> float:
    """An instrumentalness as a float in [0, 1]: a number, or a number written as text.

    The one check of every reader (the user's table, the Spotify cache, a live answer):
    ``ValueError`` saying what is wrong for a boolean, anything else that is not a number,
    NaN, or a value outside [0, 1].
    """
    value = math.nan
    if isinstance(raw, str):
        try:
            value = float(raw.strip())
        except ValueError:
            pass
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"instrumentalness {raw!r} is not in [0, 1]")
    return value


def _table_row(path: Path, line: int, fields: list[str]) -> tuple[str, float]:
    if len(fields) != 2 or not fields[0]:
        raise UserError(f"{path}, line {line}: expected an id and an instrumentalness")
    try:
        return fields[0], instrumentalness_value(fields[1])
    except ValueError as error:
        raise UserError(f"{path}, line {line}: {error}") from None


@dataclass(frozen=True)
class ReviewEntry:
    """One song of the manual review list: keep it or not, and why."""

    song_id: str
    keep: bool
    note: str
    line: int


def read_review_list(path: Path | str) -> dict[str, ReviewEntry]:
    """Read the manual review list, a CSV ``song_id[,keep,note]``.

    The header row (first cell ``song_id``) is optional. ``keep`` may be empty or
    1/true/yes/y/keep (kept: listing a song means keeping it) or 0/false/no/n/drop; a note
    with commas must be quoted. A song listed twice with different verdicts is a UserError.
    """
    path = Path(path)
    entries: dict[str, ReviewEntry] = {}
    for line, fields in _csv_rows(path, "review list"):
        if line == 1 and fields[0].lower() == "song_id":
            continue
        entry = _review_entry(path, line, fields)
        earlier = entries.setdefault(entry.song_id, entry)
        if earlier.keep != entry.keep:
            raise UserError(
                f"{path}: lines {earlier.line} and {line} give song {entry.song_id} "
                "different verdicts"
            )
    return entries


def _review_entry(path: Path, line: int, fields: list[str]) -> ReviewEntry:
    if len(fields) > 3 or not fields[0]:
        raise UserError(
            f"{path}, line {line}: expected song_id[,keep,note] (quote notes with commas)"
        )
    fields = fields + [""] * (3 - len(fields))
    word = fields[1].lower()
    if word not in _KEEP_WORDS | _DROP_WORDS:
        raise UserError(f"{path}, line {line}: keep must be 1/0, true/false, yes/no or keep/drop")
    return ReviewEntry(fields[0], word in _KEEP_WORDS, fields[2], line)
