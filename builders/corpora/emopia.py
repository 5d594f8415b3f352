"""EMOPIA reader: clip audio named by clip, ``label.csv``, and matching across versions.

A clip is named ``Q<quadrant>_<YouTube id>_<segment>`` (``Q1_0vLPYiPN7qY_0.mp3``). YouTube
ids are 11 characters that may include ``_`` and ``-``, so names are parsed by position,
never by splitting on ``_``. ``label.csv`` is ``ID,4Q,annotator``. Audio is found by stem
in any audio format (``.mp3``, ``.m4a``, ``.webm``...) at any depth below the root (users convert).

Releases disagree: 19 clips that the instrumental-MER thesis tracklist has as Q4 appear
in EMOPIA 1.0's ``label.csv`` only under a Q3 name. :func:`match_clips` finds a clip by
its exact name first, then by (YouTube id, segment) when exactly one candidate has them,
and says for every clip how it was found or why not.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.common.audio_formats import SOURCE_SUFFIXES
from builders.corpora.listing import (
    STRING,
    audio_files_below,
    checked_root,
    files_named,
    relative_posix,
    sorted_skips,
)
from builders.errors import UserError

EMOPIA_SUFFIXES = SOURCE_SUFFIXES
LABEL_FILE = "label.csv"
_CLIP = re.compile(r"Q([1-4])_([A-Za-z0-9_-]{11})_(\d+)")
_NAME_HINT = "expected Q<1-4>_<11-character YouTube id>_<segment>, e.g. Q1_0vLPYiPN7qY_0.mp3"

LABEL_DTYPES: dict[str, object] = {
    "clip_name": STRING,
    "quadrant": STRING,
    "youtube_id": STRING,
    "segment": pd.Int64Dtype(),
    "annotator": STRING,
}
AUDIO_DTYPES: dict[str, object] = {
    "clip_name": STRING,
    "path": STRING,
    "quadrant": STRING,
    "youtube_id": STRING,
    "segment": pd.Int64Dtype(),
}
MATCH_DTYPES: dict[str, object] = {
    "wanted": STRING,
    "matched": STRING,
    "method": STRING,
    "note": STRING,
}


@dataclass(frozen=True)
class EmopiaClip:
    """The parts of a clip name: ``name`` is the stem, ``quadrant`` ``"Q1"``..``"Q4"``."""

    name: str
    quadrant: str
    youtube_id: str
    segment: int


@dataclass(frozen=True)
class EmopiaAudio:
    """Clip audio found below a root (columns of :data:`AUDIO_DTYPES`, sorted by clip_name)."""

    root: Path
    files: pd.DataFrame
    skipped: tuple[tuple[str, str], ...]


def clip_stem(name: str) -> str:
    """``name`` without a trailing audio suffix (``.mp3``, ``.m4a``..., any case)."""
    stem, dot, suffix = name.rpartition(".")
    return stem if dot and f".{suffix.lower()}" in EMOPIA_SUFFIXES else name


def parse_clip_name(name: str) -> EmopiaClip:
    """The quadrant, YouTube id and segment of a clip name (with or without suffix).

    >>> parse_clip_name("Q4_ii1Jw1-7Ka4_0.mp3").youtube_id
    'ii1Jw1-7Ka4'

    Raises ValueError saying what is expected.
    """
    stem = clip_stem(name.strip())
    match = _CLIP.fullmatch(stem)
    if not match:
        raise ValueError(f"{name!r} is not an EMOPIA clip name ({_NAME_HINT})")
    quadrant, youtube_id, segment = match.groups()
    return EmopiaClip(stem, f"Q{quadrant}", youtube_id, int(segment))


def read_emopia_labels(path: Path) -> pd.DataFrame:
    """EMOPIA's ``label.csv`` (``ID,4Q,annotator``) as a typed frame sorted by clip name.

    Columns of :data:`LABEL_DTYPES`: ``clip_name`` (the ID), ``quadrant`` (``"Q1"``..``"Q4"``
    from ``4Q``), ``youtube_id``, ``segment``, ``annotator`` (null when empty). An ID
    that is not a clip name, a ``4Q`` outside 1-4 or disagreeing with the ID's prefix,
    or an ID listed twice is a UserError naming the file and line.
    """
    path = Path(path)
    records = _label_records(path)
    rows, lines = [], {}
    for line, record in records:
        clip = _label_clip(record, path, line)
        if clip.name in lines:
            raise UserError(
                f"{path}: line {line}: clip {clip.name} is already on line {lines[clip.name]}"
            )
        lines[clip.name] = line
        annotator = (record.get("annotator") or "").strip() or None
        rows.append(
            {
                "clip_name": clip.name,
                "quadrant": clip.quadrant,
                "youtube_id": clip.youtube_id,
                "segment": clip.segment,
                "annotator": annotator,
            }
        )
    return _typed(rows, LABEL_DTYPES, "clip_name")


def _label_records(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read EMOPIA labels ({error})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    for needed in ("ID", "4Q"):
        if needed not in header:
            raise UserError(f"{path}: missing column '{needed}' (found: {', '.join(header)})")
    reader.fieldnames = header
    try:
        return [(reader.line_num, record) for record in reader]
    except csv.Error as error:
        raise UserError(
            f"{path}: line {reader.line_num}: not a readable CSV record ({error})"
        ) from None


def _label_clip(record: dict[str, str], path: Path, line: int) -> EmopiaClip:
    try:
        clip = parse_clip_name(record["ID"] or "")
    except ValueError as error:
        raise UserError(f"{path}: line {line}: column ID: {error}") from None
    quadrant = (record["4Q"] or "").strip()
    if quadrant not in ("1", "2", "3", "4"):
        raise UserError(f"{path}: line {line}: column 4Q is {quadrant!r}, expected 1, 2, 3 or 4")
    if f"Q{quadrant}" != clip.quadrant:
        raise UserError(
            f"{path}: line {line}: 4Q is {quadrant} but the ID {clip.name} says {clip.quadrant}"
        )
    return clip


def find_emopia_labels(root: Path) -> Path:
    """The one ``label.csv`` below ``root``; UserError when there is none or several."""
    root = checked_root(root, "EMOPIA")
    found = files_named(root, [LABEL_FILE])
    if len(found) != 1:
        listed = ", ".join(relative_posix(path, root) for path in found) or "none"
        raise UserError(f"expected one EMOPIA {LABEL_FILE} below {root}, found {listed}")
    return found[0]


def find_emopia_audio(root: Path) -> EmopiaAudio:
    """Every clip audio file below ``root`` (hidden files ignored), one per clip.

    Files with an audio suffix whose stem is not a clip name, and second files for a
    clip already found (e.g. ``.mp3`` and a converted ``.wav``; kept by
    :func:`~builders.corpora.listing.audio_files_below`: ``.mp3``, ``.wav``, ``.flac`` first
    by sorted path, then the other formats), are listed in ``skipped`` with the reason.
    """
    root = checked_root(root, "EMOPIA")
    rows, skipped, seen = [], [], {}
    for path in audio_files_below(root):
        relative = relative_posix(path, root)
        try:
            clip = parse_clip_name(path.name)
        except ValueError as error:
            skipped.append((relative, str(error)))
            continue
        if clip.name in seen:
            skipped.append((relative, f"same clip as {seen[clip.name]}"))
            continue
        seen[clip.name] = relative
        rows.append(
            {
                "clip_name": clip.name,
                "path": relative,
                "quadrant": clip.quadrant,
                "youtube_id": clip.youtube_id,
                "segment": clip.segment,
            }
        )
    if not rows:
        raise UserError(
            f"no EMOPIA clip audio ({_NAME_HINT}, or another audio format) found below {root}"
        )
    return EmopiaAudio(root, _typed(rows, AUDIO_DTYPES, "clip_name"), sorted_skips(skipped))


def match_clips(wanted: Iterable[str], available: Iterable[str]) -> pd.DataFrame:
    """Find each wanted clip among the available names (file stems or label IDs).

    Exact name first (audio suffixes ignored); else the one available clip with the
    same YouTube id and segment, whatever its quadrant. Returns one row per distinct
    wanted name (:data:`MATCH_DTYPES`, sorted by ``wanted``): ``matched`` (the
    available name, null when none), ``method`` (``"exact"``, ``"video+segment"`` or
    null) and ``note`` (the relabelling, or why nothing matched; null for exact).
    """
    names = sorted(set(available))
    by_stem = {clip_stem(name): name for name in reversed(names)}
    by_key: dict[tuple[str, int], list[str]] = {}
    for name in names:
        try:
            clip = parse_clip_name(name)
        except ValueError:
            continue
        by_key.setdefault((clip.youtube_id, clip.segment), []).append(name)
    rows = [_match(name, by_stem, by_key) for name in sorted(set(wanted))]
    return _typed(rows, MATCH_DTYPES, "wanted")


def _match(name: str, by_stem: dict[str, str], by_key: dict[tuple[str, int], list[str]]) -> dict:
    row = {"wanted": name, "matched": None, "method": None, "note": None}
    stem = clip_stem(name)
    if stem in by_stem:
        return row | {"matched": by_stem[stem], "method": "exact"}
    try:
        clip = parse_clip_name(name)
    except ValueError as error:
        return row | {"note": str(error)}
    candidates = by_key.get((clip.youtube_id, clip.segment), [])
    if not candidates:
        return row | {"note": f"no clip of video {clip.youtube_id} segment {clip.segment}"}
    if len(candidates) > 1:
        return row | {
            "note": f"ambiguous: {', '.join(candidates)} have video "
            f"{clip.youtube_id} segment {clip.segment}"
        }
    found = parse_clip_name(candidates[0])
    note = (
        f"relabelled: wanted as {clip.quadrant}, found as {found.quadrant} ({candidates[0]})"
        if found.quadrant != clip.quadrant
        else f"found as {candidates[0]}"
    )
    return row | {"matched": candidates[0], "method": "video+segment", "note": note}


def _typed(rows: list[dict], dtypes: dict[str, object], key: str) -> pd.DataFrame:
    columns = {
        name: pd.Series([row[name] for row in rows], dtype=dtype) for name, dtype in dtypes.items()
    }
    frame = pd.DataFrame(columns)
    return frame.sort_values(key, kind="stable").reset_index(drop=True)
