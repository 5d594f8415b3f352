"""DEAM listing: ``<song_id>.mp3`` (or any audio format) with its static annotation and metadata.

The annotation and metadata files are read by :mod:`builders.corpora.deam_static` (per-song
means), :mod:`builders.corpora.deam_dynamic` (2 Hz ratings, for instrumental MER) and
:mod:`builders.corpora.deam_metadata` (artist and title).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from builders.corpora.deam_metadata import read_deam_metadata_report
from builders.corpora.deam_static import ANNOTATION_FILES, read_deam_static
from builders.corpora.listing import (
    MUSIC_CLASSIC_SUFFIXES,
    CorpusListing,
    audio_by_key,
    audio_files_below,
    checked_root,
    files_below,
    files_named,
    listing_frame,
    relative_posix,
    sorted_skips,
    summarise_ids,
)
from builders.errors import UserError


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
    for path in audio_files_below(root, MUSIC_CLASSIC_SUFFIXES):
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
            f"no DEAM audio (<song_id>.mp3 or another audio format, e.g. MEMD_audio/2.mp3) "
            f"with an annotation found below {root}"
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

    Any audio format at any depth (users convert); see
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
