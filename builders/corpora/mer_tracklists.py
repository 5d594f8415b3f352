"""The instrumental-MER thesis's published tracklists and split file (seed 001).

Three CSVs name the 1,610 clips of the thesis's dataset and one JSON file its split:

- ``deam-final-tracklist.csv``: ``songId,clipId,...,secondsSlice,...,arousalAvg,...,
  valenceAvg,...``; ``secondsSlice`` is ``start-end`` in seconds inside the DEAM file,
  labels already in [-1, 1] (means of the 2 Hz ratings in the slice).
- ``soundtracks-final-tracklist.csv`` (CRLF): ``Set,Nro,Filename,...,Valence,Arousal``;
  ``Filename`` ``1_053`` is ``Set1/053``; labels ``(x - 5) / 4`` of the mean ratings.
- ``emopia-final-tracklist.csv``: ``ytId,Q,clipname,ytTitle`` with multi-line quoted
  titles (read with the csv module); quadrant from ``Q``, no valence/arousal.
- ``MER-stratified-splits.json``: ``{"train": [ids], "validation": [...], "test": [...]}``.

Clip ids are the split file's: ``d_<clipId>``, ``s_<Filename>``, ``e_<clipname>`` (the
clipname keeps its ``.mp3``: ``e_Q1_0vLPYiPN7qY_0.mp3``). Quadrants: Q1 V>0,A>0;
Q2 V<=0,A>0; Q3 V<=0,A<=0; Q4 V>0,A<=0 (zero counts as low).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd

from builders.corpora.listing import STRING, checked_root, files_named, relative_posix
from builders.errors import UserError

DEAM_TRACKLIST = "deam-final-tracklist.csv"
SOUNDTRACKS_TRACKLIST = "soundtracks-final-tracklist.csv"
EMOPIA_TRACKLIST = "emopia-final-tracklist.csv"
SPLIT_FILE = "MER-stratified-splits.json"
TRACKLIST_FILES: dict[str, str] = {
    "deam": DEAM_TRACKLIST,
    "soundtracks": SOUNDTRACKS_TRACKLIST,
    "emopia": EMOPIA_TRACKLIST,
}

TRACKLIST_DTYPES: dict[str, object] = {
    "clip_id": STRING,  # the split file's id
    "corpus": STRING,  # deam, soundtracks, emopia
    "source_id": STRING,  # deam-4, soundtracks-set1-053, emopia-Q1_0vLPYiPN7qY_0
    "song_id": STRING,  # what clips share: DEAM song id, Soundtracks set1-053, YouTube id
    "artist": STRING,
    "title": STRING,
    "start_s": "float64",  # DEAM only: the slice inside the source file
    "end_s": "float64",
    "valence": "float64",  # [-1, 1]; NaN for EMOPIA
    "arousal": "float64",
    "quadrant": STRING,  # Q1..Q4
    "spotify_id": STRING,  # Soundtracks only, null when empty
    "line": pd.Int64Dtype(),  # first line of the record in its file
}

_SLICE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*-\s*(\d+(?:\.\d*)?)\s*")
_DEAM_CLIP = re.compile(r"(\d+)_(\d+)")
_SOUNDTRACKS_FILE = re.compile(r"([12])_(\d{3})")
_EMOPIA_CLIP = re.compile(r"Q([1-4])_([A-Za-z0-9_-]{11})_(\d+)\.mp3")
_Row = dict[str, object]


def quadrant(valence: float, arousal: float) -> str:
    """Russell quadrant of a valence/arousal pair in [-1, 1]; zero counts as low.

    >>> quadrant(0.1188, 0.1766), quadrant(0.0, 0.5), quadrant(0.0, 0.0), quadrant(0.3, 0.0)
    ('Q1', 'Q2', 'Q3', 'Q4')
    """
    if arousal > 0:
        return "Q1" if valence > 0 else "Q2"
    return "Q4" if valence > 0 else "Q3"


def read_deam_tracklist(path: Path) -> pd.DataFrame:
    """``deam-final-tracklist.csv`` as :data:`TRACKLIST_DTYPES` rows, sorted by clip id.

    ``start_s``/``end_s`` come from ``secondsSlice``; a ``duration`` column, when
    present, must equal ``end - start``. Any missing or garbled field is a UserError
    naming the file, line and column.
    """
    needed = ("songId", "clipId", "artist", "title", "secondsSlice", "valenceAvg", "arousalAvg")
    return _read_tracklist(Path(path), needed, _deam_row)


def _deam_row(record: Mapping[str, str], where: str) -> _Row:
    song = _required(record, "songId", where)
    clip = _required(record, "clipId", where)
    match = _DEAM_CLIP.fullmatch(clip)
    if not song.isdigit() or not match or int(match.group(1)) != int(song):
        raise UserError(f"{where}: clipId {clip!r} is not <songId>_<n> for songId {song!r}")
    start, end = _slice(record, where)
    valence = _label(record, "valenceAvg", where)
    arousal = _label(record, "arousalAvg", where)
    song = str(int(song))
    return {
        "clip_id": f"d_{clip}",
        "corpus": "deam",
        "source_id": f"deam-{song}",
        "song_id": song,
        "artist": _optional(record, "artist"),
        "title": _optional(record, "title"),
        "start_s": start,
        "end_s": end,
        "valence": valence,
        "arousal": arousal,
        "quadrant": quadrant(valence, arousal),
    }


def _slice(record: Mapping[str, str], where: str) -> tuple[float, float]:
    text = _required(record, "secondsSlice", where)
    match = _SLICE.fullmatch(text)
    if not match or float(match.group(1)) >= float(match.group(2)):
        raise UserError(
            f"{where}: column secondsSlice is {text!r}, expected start-end seconds "
            "with start < end (e.g. 15.0-25.0)"
        )
    start, end = float(match.group(1)), float(match.group(2))
    duration = (record.get("duration") or "").strip()
    if duration and not _close(_number(record, "duration", where), end - start):
        raise UserError(
            f"{where}: column duration is {duration!r} but secondsSlice {text!r} "
            f"lasts {end - start:g} s"
        )
    return start, end


def read_soundtracks_tracklist(path: Path) -> pd.DataFrame:
    """``soundtracks-final-tracklist.csv`` as :data:`TRACKLIST_DTYPES` rows, sorted by clip id.

    ``Filename`` ``<set>_<NNN>`` names ``Set<set>/<NNN>``; ``Set`` and ``Nro``, when
    present, must agree with it. A missing or garbled field is a UserError naming the
    file, line and column.
    """
    needed = ("Filename", "Title", "Artist", "Valence", "Arousal")
    return _read_tracklist(Path(path), needed, _soundtracks_row)


def _soundtracks_row(record: Mapping[str, str], where: str) -> _Row:
    name = _required(record, "Filename", where)
    match = _SOUNDTRACKS_FILE.fullmatch(name)
    if not match:
        raise UserError(f"{where}: column Filename is {name!r}, expected <set>_<NNN> (e.g. 1_053)")
    set_number, number = match.groups()
    for column, expected in (("Set", int(set_number)), ("Nro", int(number))):
        given = (record.get(column) or "").strip()
        if given and (not given.isdigit() or int(given) != expected):
            raise UserError(f"{where}: column {column} is {given!r} but Filename is {name!r}")
    valence = _label(record, "Valence", where)
    arousal = _label(record, "Arousal", where)
    excerpt = f"set{set_number}-{number}"
    return {
        "clip_id": f"s_{name}",
        "corpus": "soundtracks",
        "source_id": f"soundtracks-{excerpt}",
        "song_id": excerpt,
        "artist": _optional(record, "Artist"),
        "title": _optional(record, "Title"),
        "valence": valence,
        "arousal": arousal,
        "quadrant": quadrant(valence, arousal),
        "spotify_id": _optional(record, "SpotifyId"),
    }


def read_emopia_tracklist(path: Path) -> pd.DataFrame:
    """``emopia-final-tracklist.csv`` as :data:`TRACKLIST_DTYPES` rows, sorted by clip id.

    The quadrant is the ``Q`` column (1-4), which must agree with the clipname's prefix;
    ``ytId`` must be the clipname's YouTube id. ``title`` is ``ytTitle`` as given.
    """
    return _read_tracklist(Path(path), ("ytId", "Q", "clipname", "ytTitle"), _emopia_row)


def _emopia_row(record: Mapping[str, str], where: str) -> _Row:
    name = _required(record, "clipname", where)
    match = _EMOPIA_CLIP.fullmatch(name)
    if not match:
        raise UserError(
            f"{where}: column clipname is {name!r}, expected "
            "Q<1-4>_<11-character YouTube id>_<segment>.mp3"
        )
    number = _required(record, "Q", where).removeprefix("Q")
    if number not in ("1", "2", "3", "4"):
        raise UserError(f"{where}: column Q is {record['Q']!r}, expected 1, 2, 3 or 4")
    if number != match.group(1):
        raise UserError(
            f"{where}: column Q is {number} but clipname {name!r} says Q{match.group(1)}"
        )
    video = _required(record, "ytId", where)
    if video != match.group(2):
        raise UserError(
            f"{where}: column ytId is {video!r} but clipname {name!r} has {match.group(2)!r}"
        )
    return {
        "clip_id": f"e_{name}",
        "corpus": "emopia",
        "source_id": f"emopia-{name[: -len('.mp3')]}",
        "song_id": video,
        "title": _optional(record, "ytTitle"),
        "quadrant": f"Q{number}",
    }


def find_thesis_files(folder: Path) -> dict[str, Path]:
    """The tracklists and split file below ``folder`` (any depth, names case-insensitive).

    Keys ``deam``, ``soundtracks``, ``emopia`` and ``splits``, for those found; a name
    found twice is a UserError listing both.
    """
    folder = checked_root(folder, "tracklist")
    wanted = TRACKLIST_FILES | {"splits": SPLIT_FILE}
    found = {}
    for key, name in wanted.items():
        paths = files_named(folder, [name])
        if len(paths) > 1:
            listed = ", ".join(relative_posix(path, folder) for path in paths)
            raise UserError(f"{name} is below {folder} more than once: {listed}")
        if paths:
            found[key] = paths[0]
    return found


def read_thesis_tracklists(
    folder: Path, corpora: Iterable[str] = tuple(TRACKLIST_FILES)
) -> pd.DataFrame:
    """The tracklists of ``corpora`` found below ``folder``, as one frame by clip id."""
    readers = {
        "deam": read_deam_tracklist,
        "soundtracks": read_soundtracks_tracklist,
        "emopia": read_emopia_tracklist,
    }
    found = find_thesis_files(folder)
    frames = []
    for corpus in corpora:
        if corpus not in readers:
            raise UserError(
                f"unknown tracklist corpus {corpus!r} (expected one of {', '.join(readers)})"
            )
        if corpus not in found:
            raise UserError(
                f"no {TRACKLIST_FILES[corpus]} (the thesis's {corpus} tracklist) "
                f"found below {folder}"
            )
        frames.append(readers[corpus](found[corpus]))
    if not frames:
        raise UserError("no tracklist corpus asked for")
    table = pd.concat(frames, ignore_index=True).astype(TRACKLIST_DTYPES)
    _check_unique(table, Path(folder))
    return table.sort_values("clip_id", kind="stable").reset_index(drop=True)


def read_thesis_splits(path: Path) -> pd.DataFrame:
    """``MER-stratified-splits.json`` as ``clip_id``, ``partition`` (strings), by clip id.

    The file maps each partition name to a list of clip ids; an id in two partitions,
    or anything but lists of strings, is a UserError.
    """
    path = Path(path)
    try:
        splits = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: cannot read the split file ({error})") from None
    if not isinstance(splits, dict):
        raise UserError(f"{path}: expected an object of partition -> list of clip ids")
    partition_of: dict[str, str] = {}
    for partition, ids in splits.items():
        if not isinstance(ids, list) or not all(isinstance(clip, str) for clip in ids):
            raise UserError(f"{path}: partition {partition!r} is not a list of clip ids")
        for clip in ids:
            if clip in partition_of:
                raise UserError(
                    f"{path}: clip {clip} is in {partition_of[clip]!r} and {partition!r}"
                )
            partition_of[clip] = partition
    ordered = sorted(partition_of)
    return pd.DataFrame(
        {
            "clip_id": pd.Series(ordered, dtype=STRING),
            "partition": pd.Series([partition_of[clip] for clip in ordered], dtype=STRING),
        }
    )


def compare_with_splits(
    clip_ids: Iterable[str], split_ids: Iterable[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(ids only in the tracklists, ids only in the split file)``, each sorted."""
    tracklist, splits = set(clip_ids), set(split_ids)
    return tuple(sorted(tracklist - splits)), tuple(sorted(splits - tracklist))


# --- reading records ----------------------------------------------------------------


def _read_tracklist(
    path: Path, needed: tuple[str, ...], make_row: Callable[[Mapping[str, str], str], _Row]
) -> pd.DataFrame:
    header, records = _records(path)
    for column in needed:
        if column not in header:
            raise UserError(f"{path}: missing column '{column}' (found: {', '.join(header)})")
    rows = []
    for line, cells in records:
        where = f"{path}: line {line}"
        if len(cells) != len(header):
            raise UserError(f"{where}: {len(cells)} fields, but the header has {len(header)}")
        row = make_row(dict(zip(header, cells)), where)
        rows.append(row | {"line": line})
    table = _typed(rows)
    _check_unique(table, path)
    return table


def _records(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header names and ``(first line, cells)`` of every non-blank record."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the tracklist ({error})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records, line = [], 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path}: line {line}: not a readable CSV record ({error})") from None
    if not records:
        raise UserError(f"{path}: empty file, expected a header line")
    (_, header), *rows = records
    return [name.strip() for name in header], rows


def _typed(rows: list[_Row]) -> pd.DataFrame:
    columns = {}
    for name, dtype in TRACKLIST_DTYPES.items():
        values = [row.get(name) for row in rows]
        if dtype == "float64":
            values = [math.nan if value is None else value for value in values]
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns).sort_values("clip_id", kind="stable").reset_index(drop=True)


def _check_unique(table: pd.DataFrame, where: Path) -> None:
    repeated = table["clip_id"].duplicated(keep=False)
    if repeated.any():
        lines = table.loc[repeated, ["clip_id", "line"]].head(2)
        clip = lines["clip_id"].iloc[0]
        raise UserError(
            f"{where}: clip {clip} is listed twice (lines {', '.join(map(str, lines['line']))})"
        )


def _required(record: Mapping[str, str], column: str, where: str) -> str:
    text = (record.get(column) or "").strip()
    if not text:
        raise UserError(f"{where}: column {column} is empty")
    return text


def _optional(record: Mapping[str, str], column: str) -> str | None:
    text = (record.get(column) or "").strip()
    return text or None


def _number(record: Mapping[str, str], column: str, where: str) -> float:
    text = _required(record, column, where)
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{where}: column {column} is {text!r}, not a number")
    return value


def _label(record: Mapping[str, str], column: str, where: str) -> float:
    value = _number(record, column, where)
    if not -1.0 <= value <= 1.0:
        raise UserError(f"{where}: column {column} is {record[column].strip()}, outside [-1, 1]")
    return value


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)
