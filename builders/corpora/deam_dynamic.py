"""DEAM dynamic (2 Hz) annotations: each song's valence and arousal over time, in [-1, 1].

``annotations averaged per song/dynamic (per second annotations)/valence.csv`` and
``arousal.csv`` have one row per song, ``song_id,sample_15000ms,sample_15500ms,...``. DEAM
already removed the first 15 s of ratings; shorter songs are padded with trailing empty
cells. Within one file a song listed twice with different values is an error naming both
lines; an exact repeat is kept once and reported as a note.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.corpora.listing import (
    checked_root,
    files_named,
    relative_posix,
)
from builders.errors import UserError

DYNAMIC_FILES = ("valence.csv", "arousal.csv")
SAMPLE_STEP_S = 0.5
_SAMPLE_NAME = re.compile(r"sample_(\d+)ms", re.IGNORECASE)


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
