"""DEAM reader: ``<song_id>.mp3|wav`` audio, static and dynamic annotations, metadata.

- Static per-song means: the two files (songs 1-2000 and 2000-2058) differ in width and
  have leading spaces in their header names (and a typo, `` valence_ max_mean``); only
  ``song_id``, ``valence_mean`` and ``arousal_mean`` (1-9) are used.
- Dynamic (2 Hz) means: ``annotations averaged per song/dynamic (per second
  annotations)/valence.csv`` and ``arousal.csv``, one row per song,
  ``song_id,sample_15000ms,sample_15500ms,...`` in [-1, 1]. DEAM already removed the
  first 15 s of ratings; shorter songs are padded with trailing empty cells.
- ``metadata_2013/2014/2015.csv`` give artist and title; their layouts differ and some
  rows carry unquoted commas, which are mended where the row shows where they belong.

Within one annotation file a song listed twice with different values is an error
naming both lines; an exact repeat is kept once and reported as a note.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from builders.corpora.listing import (
    AUDIO_SUFFIXES,
    STRING,
    CorpusListing,
    audio_by_key,
    checked_root,
    files_below,
    files_named,
    listing_frame,
    numeric_column,
    relative_posix,
    require_columns,
    sorted_skips,
    summarise_ids,
)
from builders.errors import UserError

ANNOTATION_FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
DYNAMIC_FILES = ("valence.csv", "arousal.csv")
SAMPLE_STEP_S = 0.5
_SAMPLE_NAME = re.compile(r"sample_(\d+)ms", re.IGNORECASE)
_ID_NAMES = ("song_id", "id")
_TITLE_NAMES = ("title", "song title", "track")
_ARTIST_NAMES = ("artist",)


# --- static annotations -------------------------------------------------------------


@dataclass(frozen=True)
class StaticAnnotations:
    """Static per-song means and the notes on exact repeats that were kept once."""

    table: pd.DataFrame
    duplicates: tuple[tuple[str, str], ...]


def read_deam_static(paths: Sequence[Path]) -> StaticAnnotations:
    """Static per-song means from DEAM annotation CSVs, with duplicate notes.

    ``table`` has columns ``song_id`` (str, no leading zeros), ``valence``, ``arousal``
    (float64, 1-9), one row per song sorted numerically by id. A song present in two
    files keeps the value from the first path given (noted). Inside one file, a song on
    two lines with different valence/arousal is a UserError naming both lines; the same
    values twice are kept once. Notes are ``(file, note)`` pairs in ``duplicates``.
    """
    if not paths:
        raise UserError("no DEAM annotation file given")
    tables, notes = [], []
    for path in paths:
        table, found = _read_annotation_file(Path(path))
        notes.extend(found + _across_files(table, tables, Path(path), [Path(p) for p in paths]))
        tables.append(table)
    table = pd.concat(tables, ignore_index=True).drop_duplicates("song_id", keep="first")
    order = table["song_id"].astype("int64").argsort(kind="stable")
    return StaticAnnotations(table.iloc[order].reset_index(drop=True), tuple(notes))


def _across_files(
    table: pd.DataFrame, earlier: list[pd.DataFrame], path: Path, paths: list[Path]
) -> list[tuple[str, str]]:
    """Notes for songs of ``table`` already read from an earlier file (which wins)."""
    notes = []
    for before, first_path in zip(earlier, paths):
        kept = before.set_index("song_id")
        for song, valence, arousal in table.itertuples(index=False):
            if song in kept.index:
                same = (kept.loc[song, "valence"], kept.loc[song, "arousal"]) == (valence, arousal)
                notes.append(
                    (
                        str(path),
                        f"song {song} is also in {first_path.name}"
                        f"{'' if same else ' with other values'}; kept {first_path.name}'s",
                    )
                )
    return notes


def read_deam_annotations(paths: Sequence[Path]) -> pd.DataFrame:
    """The ``table`` of :func:`read_deam_static` (``song_id``, ``valence``, ``arousal``)."""
    return read_deam_static(paths).table


def _read_annotation_file(path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    try:
        raw = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(f"{path}: cannot read DEAM annotations ({error})") from None
    raw.columns = [str(name).strip() for name in raw.columns]
    require_columns(raw, ("song_id", "valence_mean", "arousal_mean"), path)
    song_id = raw["song_id"].str.strip()
    bad = ~song_id.str.fullmatch(r"\d+").fillna(False)
    if bad.any():
        raise UserError(f"{path}: song_id {raw['song_id'][bad].iloc[0]!r} is not a number")
    raw["song_id"] = song_id.map(lambda text: str(int(text)))
    table = pd.DataFrame(
        {
            "song_id": raw["song_id"].astype(STRING),
            "valence": numeric_column(raw, "valence_mean", path, "song_id"),
            "arousal": numeric_column(raw, "arousal_mean", path, "song_id"),
        }
    )
    return _without_repeats(table, path)


def _without_repeats(table: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Drop exact repeats of a song (noted); UserError on a song with two different values."""
    notes = []
    first_line: dict[str, int] = {}
    keep = []
    for index, (song, valence, arousal) in enumerate(table.itertuples(index=False)):
        line = index + 2  # the header is line 1
        if song not in first_line:
            first_line[song] = line
            keep.append(index)
            continue
        kept = table.iloc[first_line[song] - 2]
        if (kept["valence"], kept["arousal"]) != (valence, arousal):
            raise UserError(
                f"{path}: song {song} is on lines {first_line[song]} and {line} with different "
                f"values (valence_mean {kept['valence']} vs {valence}, arousal_mean "
                f"{kept['arousal']} vs {arousal})"
            )
        notes.append(
            (
                str(path),
                f"song {song} is on lines {first_line[song]} and {line} "
                "with the same values; kept once",
            )
        )
    return table.iloc[keep].reset_index(drop=True), notes


# --- dynamic annotations ------------------------------------------------------------


@dataclass(frozen=True)
class DynamicSong:
    """One song's 2 Hz ratings in [-1, 1].

    ``times_s[i]`` is the time (seconds inside the audio file) of sample i; DEAM's first
    sample is at 15 s. The three arrays are float64, read-only and of equal length.
    """

    song_id: str
    times_s: np.ndarray
    valence: np.ndarray
    arousal: np.ndarray


@dataclass(frozen=True)
class DynamicAnnotations:
    """The songs rated in both files, sorted numerically by id, and what was left out.

    ``skipped``: ``(song_id, reason)`` for songs that cannot be used (in one file only,
    no sample, different lengths). ``duplicates``: ``(file, note)`` for exact repeats.
    """

    songs: tuple[DynamicSong, ...]
    skipped: tuple[tuple[str, str], ...]
    duplicates: tuple[tuple[str, str], ...]

    def song(self, song_id: str) -> DynamicSong:
        """The song with this id; KeyError when it is not there."""
        for song in self.songs:
            if song.song_id == song_id:
                return song
        raise KeyError(song_id)


@dataclass(frozen=True)
class _DynamicFile:
    path: Path
    times_s: np.ndarray
    series: dict[str, np.ndarray]
    duplicates: list[tuple[str, str]]


def find_deam_dynamic(root: Path) -> tuple[Path, Path]:
    """``(valence.csv, arousal.csv)`` of the one folder below ``root`` that has both."""
    root = checked_root(root, "DEAM")
    folders: dict[Path, set[str]] = {}
    for path in files_named(root, DYNAMIC_FILES):
        folders.setdefault(path.parent, set()).add(path.name.lower())
    pairs = sorted(folder for folder, names in folders.items() if len(names) == 2)
    if not pairs:
        raise UserError(
            f"no DEAM dynamic annotations (a folder with valence.csv and arousal.csv, e.g. "
            f"'annotations averaged per song/dynamic (per second annotations)') found below {root}"
        )
    if len(pairs) > 1:
        found = ", ".join(relative_posix(folder, root) for folder in pairs)
        raise UserError(f"several DEAM dynamic annotation folders below {root}: {found}")
    by_name = {path.name.lower(): path for path in pairs[0].iterdir()}
    return by_name["valence.csv"], by_name["arousal.csv"]


def read_deam_dynamic(valence_path: Path, arousal_path: Path) -> DynamicAnnotations:
    """The 2 Hz valence and arousal ratings of every song in both files.

    Trailing empty cells are padding. An empty cell between values, a cell that is not
    a number, a value outside [-1, 1], a row with more cells than the header, a header
    that is not ``song_id,sample_<ms>ms,...`` at 2 Hz, or a song on two lines with
    different values is a UserError naming the file, line, song and column.
    """
    valence = _read_dynamic_file(Path(valence_path))
    arousal = _read_dynamic_file(Path(arousal_path))
    songs, skipped = [], []
    for song_id in sorted(set(valence.series) | set(arousal.series), key=int):
        reason = _dynamic_skip_reason(song_id, valence, arousal)
        if reason:
            skipped.append((song_id, reason))
            continue
        v, a = valence.series[song_id], arousal.series[song_id]
        songs.append(DynamicSong(song_id, _frozen(valence.times_s[: len(v)]), v, a))
    return DynamicAnnotations(
        tuple(songs), tuple(skipped), tuple(valence.duplicates + arousal.duplicates)
    )


def _dynamic_skip_reason(song_id: str, valence: _DynamicFile, arousal: _DynamicFile) -> str | None:
    for this, other in ((valence, arousal), (arousal, valence)):
        if song_id not in other.series:
            return f"in {this.path.name} but not in {other.path.name} ({other.path})"
    v, a = valence.series[song_id], arousal.series[song_id]
    if len(v) == 0:
        return "no rating sample in either file"
    if len(v) != len(a):
        return f"{len(v)} samples in {valence.path.name} but {len(a)} in {arousal.path.name}"
    if not np.array_equal(valence.times_s[: len(v)], arousal.times_s[: len(a)]):
        return "the two files' sample times differ"
    return None


def _read_dynamic_file(path: Path) -> _DynamicFile:
    rows = _csv_rows(path, "DEAM dynamic annotations")
    if not rows:
        raise UserError(f"{path}: empty file, expected a header song_id,sample_15000ms,...")
    names = [cell.strip() for cell in rows[0][1]]
    times = _sample_times(names, path)
    series: dict[str, np.ndarray] = {}
    lines: dict[str, int] = {}
    duplicates = []
    for line, cells in rows[1:]:
        if not any(cell.strip() for cell in cells):
            continue
        song_id = _dynamic_song_id(cells[0], path, line)
        values = _sample_values(cells, names, path, line, song_id)
        if song_id in series:
            duplicates.append(
                _repeat_note(
                    path, song_id, (lines[song_id], line), (series[song_id], values), names
                )
            )
            continue
        series[song_id], lines[song_id] = values, line
    return _DynamicFile(path, times, series, duplicates)


def _csv_rows(path: Path, what: str) -> list[tuple[int, list[str]]]:
    """``(first line number, cells)`` of every CSV record of ``path`` (UTF-8, BOM ok)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read {what} ({error})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path}: line {line}: not a readable CSV record ({error})") from None
    return rows


def _sample_times(names: list[str], path: Path) -> np.ndarray:
    """Seconds of the header's ``sample_<ms>ms`` columns; UserError unless 2 Hz."""
    if not names or names[0].lower() != "song_id":
        raise UserError(
            f"{path}: line 1: first column is {names[0] if names else ''!r}, expected 'song_id'"
        )
    while len(names) > 1 and names[-1] == "":
        names = names[:-1]
    times = []
    for name in names[1:]:
        match = _SAMPLE_NAME.fullmatch(name)
        if not match:
            raise UserError(f"{path}: line 1: column {name!r} is not sample_<milliseconds>ms")
        times.append(int(match.group(1)) / 1000.0)
        if len(times) > 1 and not math.isclose(times[-1] - times[-2], SAMPLE_STEP_S):
            raise UserError(
                f"{path}: line 1: column {name!r} follows sample_"
                f"{round(times[-2] * 1000)}ms; expected one sample every 500 ms (2 Hz)"
            )
    if not times:
        raise UserError(f"{path}: line 1: no sample_<ms>ms column")
    return _frozen(np.asarray(times, dtype="float64"))


def _dynamic_song_id(cell: str, path: Path, line: int) -> str:
    text = cell.strip()
    if not text.isdigit():
        raise UserError(f"{path}: line {line}: song_id {cell!r} is not a number")
    return str(int(text))


def _sample_values(
    cells: list[str], names: list[str], path: Path, line: int, song_id: str
) -> np.ndarray:
    """The ratings of one row: leading cells up to the last non-empty one, all in [-1, 1]."""
    where = f"{path}: line {line} (song {song_id})"
    if len(cells) > len(names):
        raise UserError(f"{where}: {len(cells)} cells, but the header has {len(names)} columns")
    texts = [cell.strip() for cell in cells[1:]]
    while texts and texts[-1] == "":
        texts.pop()
    values = np.empty(len(texts), dtype="float64")
    for index, text in enumerate(texts):
        column = names[index + 1]
        if column == "":
            raise UserError(
                f"{where}: value {text!r} in column {index + 2}, which has no "
                "sample_<ms>ms name in the header"
            )
        if text == "":
            raise UserError(f"{where}: empty cell in column {column} between rated samples")
        value = _number(text)
        if value is None:
            raise UserError(f"{where}: column {column} is {text!r}, not a number")
        if not -1.0 <= value <= 1.0:
            raise UserError(f"{where}: column {column} is {text}, outside [-1, 1]")
        values[index] = value
    return _frozen(values)


def _number(text: str) -> float | None:
    """``text`` as a finite float, or None (``nan`` and ``inf`` are not ratings)."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _repeat_note(
    path: Path,
    song_id: str,
    lines: tuple[int, int],
    values: tuple[np.ndarray, np.ndarray],
    names: list[str],
) -> tuple[str, str]:
    first, second = values
    if np.array_equal(first, second):
        return str(
            path
        ), f"song {song_id} is on lines {lines[0]} and {lines[1]} with the same values; kept once"
    differ = next((i for i in range(min(len(first), len(second))) if first[i] != second[i]), None)
    if differ is None:
        detail = f"{len(first)} vs {len(second)} samples"
    else:
        detail = f"{names[differ + 1]} {first[differ]} vs {second[differ]}"
    raise UserError(
        f"{path}: song {song_id} is on lines {lines[0]} and {lines[1]} with "
        f"different values ({detail})"
    )


def _frozen(values: np.ndarray) -> np.ndarray:
    values = np.array(values, dtype="float64")
    values.flags.writeable = False
    return values


# --- metadata -----------------------------------------------------------------------


@dataclass(frozen=True)
class DeamMetadata:
    """Artist and title per song from ``metadata_*.csv``, and what needed attention.

    ``entries``: ``song_id -> (artist, title)`` (None for an empty field), in numeric id
    order. ``recovered``: ``(file:line, what was mended)`` for rows read despite unquoted
    commas. ``unreadable``: ``(file[:line], reason)`` for rows or files that gave nothing.
    """

    entries: Mapping[str, tuple[str | None, str | None]]
    recovered: tuple[tuple[str, str], ...]
    unreadable: tuple[tuple[str, str], ...]


def read_deam_metadata_report(paths: Sequence[Path]) -> DeamMetadata:
    """Artist and title from DEAM ``metadata_*.csv``-like files, with a report.

    The releases differ: 2013 ``song_id,file_name,Artist,Song title,...``, 2014
    ``Id,Artist,Album,Track,Genre,...`` (trailing tag fields), 2015
    ``id,Filename,title,artist,album,genre,`` (a trailing empty field; genre tags as
    extra unquoted fields; comma or tab separated). Unquoted commas inside a name:
    fields are separated by a bare comma, so a field that starts with a space after an
    unquoted comma (``Go,No, Really,n/a``) continues the one before it and is joined
    back. A song in several files keeps the first path's entry.
    """
    entries: dict[str, tuple[str | None, str | None]] = {}
    recovered, unreadable = [], []
    for path in paths:
        found, mended, problems = _metadata_file(Path(path))
        for song_id, pair in found.items():
            entries.setdefault(song_id, pair)
        recovered.extend(mended)
        unreadable.extend(problems)
    ordered = {song: entries[song] for song in sorted(entries, key=int)}
    return DeamMetadata(MappingProxyType(ordered), tuple(recovered), tuple(unreadable))


def read_deam_metadata(paths: Sequence[Path]) -> dict[str, tuple[str | None, str | None]]:
    """``song_id -> (artist, title)``: the ``entries`` of :func:`read_deam_metadata_report`."""
    return dict(read_deam_metadata_report(paths).entries)


def _metadata_file(path: Path) -> tuple[dict, list[tuple[str, str]], list[tuple[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
    except OSError as error:
        return {}, [], [(str(path), f"cannot read ({error})")]
    lines = text.splitlines()
    if not lines:
        return {}, [], [(str(path), "empty file")]
    delimiter = _metadata_delimiter(lines[0])
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [_clean(name).lower() for name in rows[0]]
    columns = [_first_index(header, names) for names in (_ID_NAMES, _ARTIST_NAMES, _TITLE_NAMES)]
    if None in columns:
        return {}, [], [(str(path), f"no id, artist and title columns in its header {rows[0]!r}")]
    mend = not any(name[:1].isspace() for name in rows[0][1:])
    found, recovered, unreadable = {}, [], []
    for line, row in enumerate(rows[1:], start=2):
        where = f"{path}:{line}"
        cells, joined = _joined(row, len(header) - 1) if mend else (row, [])
        cells = [_clean(cell) for cell in cells]
        if not any(cells):
            continue
        problem = _metadata_problem(cells, columns)
        if problem:
            unreadable.append((where, problem))
            continue
        id_at, artist_at, title_at = columns
        song_id = str(int(cells[id_at]))
        if song_id in found:
            unreadable.append((where, f"song {song_id} again (kept its first line)"))
            continue
        found[song_id] = (cells[artist_at] or None, cells[title_at] or None)
        if joined:
            recovered.append(
                (
                    where,
                    f"song {song_id}: joined {' and '.join(joined)} split by an "
                    f"unquoted comma (artist {found[song_id][0]!r}, title "
                    f"{found[song_id][1]!r})",
                )
            )
    return found, recovered, unreadable


def _metadata_delimiter(first_line: str) -> str:
    """Tab when the header has more tab- than comma-separated names, else comma."""
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def _joined(row: list[str], last_named: int) -> tuple[list[str], list[str]]:
    """Join fields that start with a space to the field before (up to the header's width)."""
    cells, joined = list(row), []
    index = 1
    while index < len(cells) and index <= last_named:
        if cells[index][:1] == " " and cells[index].strip() and cells[index - 1].strip():
            joined.append(f"{cells[index - 1].strip()!r} + {cells[index].strip()!r}")
            cells[index - 1] = f"{cells[index - 1]},{cells[index]}"
            del cells[index]
            continue
        index += 1
    return cells, joined


def _metadata_problem(cells: list[str], columns: list[int]) -> str | None:
    id_at = columns[0]
    if len(cells) <= max(columns):
        return f"only {len(cells)} fields, no artist or title"
    if not cells[id_at].isdigit():
        return f"song id {cells[id_at]!r} is not a number"
    return None


def _clean(cell: str) -> str:
    """The field with surrounding whitespace removed and inner runs (tab padding) as one space."""
    return " ".join(cell.split())


def _first_index(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


# --- listing (the MiSME builder) ----------------------------------------------------


def read_deam(root: Path) -> CorpusListing:
    """List the annotated DEAM songs with audio below ``root``.

    Skipped: unusable audio files, annotated songs without audio, exact repeats inside
    an annotation file, and metadata rows that could not be read.
    """
    root = checked_root(root, "DEAM")
    annotation_paths = files_named(root, ANNOTATION_FILES)
    if not annotation_paths:
        raise UserError(
            f"no DEAM static annotation file ({' or '.join(ANNOTATION_FILES)}) found below {root}"
        )
    static = read_deam_static(annotation_paths)
    annotations = static.table
    labels = annotations.set_index("song_id")
    metadata = read_deam_metadata_report([p for p in files_below(root) if _is_metadata(p)])
    rows, skipped, seen = [], [], {}
    for path in files_below(root):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        relative = relative_posix(path, root)
        song_id = str(int(path.stem)) if path.stem.isdigit() else None
        reason = _reason_to_skip(song_id, labels.index, seen)
        if reason:
            skipped.append((relative, reason))
            continue
        seen[song_id] = relative
        rows.append(_row(song_id, relative, labels.loc[song_id], metadata.entries.get(song_id)))
    if not rows:
        raise UserError(
            f"no DEAM audio (<song_id>.mp3 or .wav, e.g. MEMD_audio/2.mp3) with an annotation found below {root}"
        )
    without_audio = [song for song in annotations["song_id"] if song not in seen]
    if without_audio:
        skipped.append(
            ("annotations", summarise_ids(without_audio, "annotated songs have no audio file"))
        )
    skipped.extend(_relative_notes(static.duplicates + metadata.unreadable, root))
    return CorpusListing("deam", root, listing_frame(rows), sorted_skips(skipped))


def find_deam_audio(root: Path) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """DEAM song audio below ``root`` by song id (``MEMD_audio/4.mp3`` -> ``"4"``).

    Any of ``.mp3``, ``.wav``, ``.flac`` at any depth (users convert); see
    :func:`~builders.corpora.listing.audio_by_key` for what is skipped.
    """
    root = checked_root(root, "DEAM")
    return audio_by_key(root, _deam_song_of, "DEAM song file name (<song_id>.mp3, .wav or .flac)")


def _deam_song_of(path: Path) -> str | None:
    return str(int(path.stem)) if path.stem.isdigit() else None


def _relative_notes(notes: tuple[tuple[str, str], ...], root: Path) -> list[tuple[str, str]]:
    prefix = f"{root.as_posix()}/"
    return [(where.removeprefix(prefix), note) for where, note in notes]


def _is_metadata(path: Path) -> bool:
    name = path.name.lower()
    return name.startswith("metadata") and name.endswith(".csv")


def _reason_to_skip(song_id: str | None, annotated: pd.Index, seen: dict[str, str]) -> str | None:
    if song_id is None:
        return "not a DEAM song file name (expected <song_id>.mp3 or .wav)"
    if song_id in seen:
        return f"duplicate of {seen[song_id]}"
    if song_id not in annotated:
        return f"no static annotation for song {song_id}"
    return None


def _row(song_id: str, relative: str, labels: pd.Series, meta: tuple | None) -> dict[str, object]:
    artist, title = meta if meta else (None, None)
    return {
        "source_id": f"deam-{song_id}",
        "corpus": "deam",
        "path": relative,
        "valence": float(labels["valence"]),
        "arousal": float(labels["arousal"]),
        "artist": artist,
        "title": title,
    }
