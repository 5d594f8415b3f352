"""DEAM ``metadata_2013/2014/2015.csv``: artist and title of each song.

The layouts of the three releases differ and some rows carry unquoted commas, which are
mended where the row shows where they belong.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

_ID_NAMES = ("song_id", "id")
_TITLE_NAMES = ("title", "song title", "track")
_ARTIST_NAMES = ("artist",)


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
