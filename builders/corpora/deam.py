"""DEAM reader: ``<song_id>.mp3|wav`` audio plus the static per-song annotations.

The two annotation files (songs 1-2000 and 2000-2058) differ in width and have
leading spaces in their header names (and a typo, `` valence_ max_mean``); only
``song_id``, ``valence_mean`` and ``arousal_mean`` are used. ``metadata_*.csv`` files,
when present, give artist and title.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from builders.corpora.listing import (
    AUDIO_SUFFIXES,
    STRING,
    CorpusListing,
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
_ID_NAMES = ("song_id", "id")
_TITLE_NAMES = ("title", "song title", "track")
_ARTIST_NAMES = ("artist",)


def read_deam_annotations(paths: Sequence[Path]) -> pd.DataFrame:
    """Static per-song means from DEAM annotation CSVs.

    Returns columns ``song_id`` (str, no leading zeros), ``valence``, ``arousal``
    (float64, 1-9), one row per song sorted numerically by id. A song present in two
    files keeps the value from the first path given.
    """
    if not paths:
        raise UserError("no DEAM annotation file given")
    tables = [_read_annotation_file(Path(path)) for path in paths]
    table = pd.concat(tables, ignore_index=True).drop_duplicates("song_id", keep="first")
    order = table["song_id"].astype("int64").argsort(kind="stable")
    return table.iloc[order].reset_index(drop=True)


def _read_annotation_file(path: Path) -> pd.DataFrame:
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
    return pd.DataFrame({
        "song_id": raw["song_id"].astype(STRING),
        "valence": numeric_column(raw, "valence_mean", path, "song_id"),
        "arousal": numeric_column(raw, "arousal_mean", path, "song_id"),
    })


def read_deam_metadata(paths: Sequence[Path]) -> dict[str, tuple[str | None, str | None]]:
    """``song_id -> (artist, title)`` from DEAM ``metadata_*.csv``-like files.

    The files differ between releases (comma or tab separated, ``id``/``song_id``,
    ``title``/``Song title``/``Track``); files without recognisable id, artist or
    title columns are ignored. Extra unquoted fields (genre tags) are tolerated.
    """
    found: dict[str, tuple[str | None, str | None]] = {}
    for path in paths:
        for song_id, pair in _metadata_rows(Path(path)).items():
            found.setdefault(song_id, pair)
    return found


def _metadata_rows(path: Path) -> dict[str, tuple[str | None, str | None]]:
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if not lines:
        return {}
    delimiter = "\t" if "\t" in lines[0] else ","
    rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    header = [name.strip().lower() for name in rows[0]]
    columns = [_first_index(header, names) for names in (_ID_NAMES, _ARTIST_NAMES, _TITLE_NAMES)]
    if None in columns:
        return {}
    id_at, artist_at, title_at = columns
    result = {}
    for row in rows[1:]:
        cells = [cell.strip() for cell in row]
        if len(cells) <= max(columns) or not cells[id_at].isdigit():
            continue
        result[str(int(cells[id_at]))] = (cells[artist_at] or None, cells[title_at] or None)
    return result


def _first_index(header: list[str], names: tuple[str, ...]) -> int | None:
    return next((header.index(name) for name in names if name in header), None)


def read_deam(root: Path) -> CorpusListing:
    """List the annotated DEAM songs with audio below ``root``."""
    root = checked_root(root, "DEAM")
    annotation_paths = files_named(root, ANNOTATION_FILES)
    if not annotation_paths:
        raise UserError(f"no DEAM static annotation file ({' or '.join(ANNOTATION_FILES)}) found below {root}")
    annotations = read_deam_annotations(annotation_paths)
    labels = annotations.set_index("song_id")
    metadata = read_deam_metadata([p for p in files_below(root) if _is_metadata(p)])
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
        rows.append(_row(song_id, relative, labels.loc[song_id], metadata.get(song_id)))
    if not rows:
        raise UserError(
            f"no DEAM audio (<song_id>.mp3 or .wav, e.g. MEMD_audio/2.mp3) with an annotation found below {root}"
        )
    without_audio = [song for song in annotations["song_id"] if song not in seen]
    if without_audio:
        skipped.append(("annotations", summarise_ids(without_audio, "annotated songs have no audio file")))
    return CorpusListing("deam", root, listing_frame(rows), sorted_skips(skipped))


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
