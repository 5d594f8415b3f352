"""MuSe "musical sentiment" CSV reader (Akiki & Burghardt 2020; import mode of seed 002).

Columns ``[lastfm_url,]track,artist,seeds,number_of_emotion_tags,valence_tags,
arousal_tags,dominance_tags,mbid,spotify_id,genre`` (``lastfm_url`` is missing from
some copies). ``seeds`` is a Python list literal (``['aggressive', 'fun']``), parsed as
a literal, never evaluated. The VAD labels are taken as given, on Warriner's 1-9 scale:
the file has no tag weights to recompute them from. Names may start with punctuation
(``'Till I Collapse``: the quote character is ``"``, not ``'``); an empty ``mbid``,
``spotify_id`` or ``genre`` is null.
"""

from __future__ import annotations

import ast
import csv
import io
import math
from pathlib import Path

import pandas as pd

from builders.corpora.listing import STRING
from builders.errors import UserError

MUSE_COLUMNS = (
    "track",
    "artist",
    "seeds",
    "number_of_emotion_tags",
    "valence_tags",
    "arousal_tags",
    "dominance_tags",
    "mbid",
    "spotify_id",
    "genre",
)
MUSE_SCALE = "1-9"
MUSE_DTYPES: dict[str, object] = {
    "lastfm_url": STRING,  # null when the file has no such column or cell
    "track": STRING,
    "artist": STRING,
    "seeds": "object",  # tuple of str
    "number_of_emotion_tags": pd.Int64Dtype(),
    "valence_tags": "float64",  # 1-9, as given
    "arousal_tags": "float64",
    "dominance_tags": "float64",
    "mbid": STRING,
    "spotify_id": STRING,
    "genre": STRING,
    "line": pd.Int64Dtype(),  # first line of the record in the file
}
_LABELS = ("valence_tags", "arousal_tags", "dominance_tags")
_OPTIONAL_TEXT = ("lastfm_url", "mbid", "spotify_id", "genre")
_MAX_SEEDS_CHARS = 10_000


def parse_seeds(text: str) -> tuple[str, ...]:
    """The seed moods of a ``seeds`` cell, a Python list of strings, as a tuple.

    Parsed with :func:`ast.literal_eval` (a literal, never code); ValueError for
    anything but a list of strings.

    >>> parse_seeds("['aggressive', 'fun']")
    ('aggressive', 'fun')
    """
    stripped = text.strip()
    if (
        not (stripped.startswith("[") and stripped.endswith("]"))
        or len(stripped) > _MAX_SEEDS_CHARS
    ):
        raise ValueError(f"{_short(text)} is not a list of seed moods like ['aggressive', 'fun']")
    try:
        value = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, list) or not all(isinstance(seed, str) for seed in value):
        raise ValueError(f"{_short(text)} is not a list of seed moods like ['aggressive', 'fun']")
    return tuple(value)


def read_muse_csv(path: Path) -> pd.DataFrame:
    """A MuSe CSV as :data:`MUSE_DTYPES` rows, sorted by artist, track, then line.

    A missing column, a record with more or fewer fields than the header, an empty
    track or artist, a ``seeds`` cell that is not a list of strings, a tag count that
    is not a whole number >= 0, or a label that is not a number from 1 to 9 is a
    UserError naming the file, line and column.
    """
    path = Path(path)
    header, records = _records(path)
    for column in MUSE_COLUMNS:
        if column not in header:
            raise UserError(f"{path}: missing column '{column}' (found: {', '.join(header)})")
    rows = []
    for line, cells in records:
        where = f"{path}: line {line}"
        if len(cells) != len(header):
            raise UserError(f"{where}: {len(cells)} fields, but the header has {len(header)}")
        rows.append(_row(dict(zip(header, cells)), where) | {"line": line})
    frame = pd.DataFrame(
        {
            name: pd.Series([row.get(name) for row in rows], dtype=dtype)
            for name, dtype in MUSE_DTYPES.items()
        }
    )
    return frame.sort_values(["artist", "track", "line"], kind="stable").reset_index(drop=True)


def _records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the MuSe CSV ({error})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader, [])]
    records, line = [], reader.line_num + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path}: line {line}: not a readable CSV record ({error})") from None
    return header, records


def _row(record: dict[str, str], where: str) -> dict[str, object]:
    row: dict[str, object] = {
        name: (record.get(name) or "").strip() or None for name in _OPTIONAL_TEXT
    }
    for column in ("track", "artist"):
        text = record[column].strip()
        if not text:
            raise UserError(f"{where}: column {column} is empty")
        row[column] = text
    try:
        row["seeds"] = parse_seeds(record["seeds"])
    except ValueError as error:
        raise UserError(f"{where}: column seeds: {error}") from None
    row["number_of_emotion_tags"] = _count(record["number_of_emotion_tags"], where)
    for column in _LABELS:
        row[column] = _label(record[column], column, where)
    return row


def _count(text: str, where: str) -> int:
    if not text.strip().isdigit():
        raise UserError(
            f"{where}: column number_of_emotion_tags is {_short(text)}, "
            "expected a whole number >= 0"
        )
    return int(text)


def _label(text: str, column: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 1.0 <= value <= 9.0:  # also refuses nan
        raise UserError(
            f"{where}: column {column} is {_short(text)}, expected a number "
            f"from 1 to 9 (Warriner's scale)"
        )
    return value


def _short(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
