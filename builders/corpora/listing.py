"""What the corpus readers share: the listing table, file discovery and CSV checks.

Each reader (one module per corpus) takes the root folder the user gives, locates the
corpus's files below it by name pattern, and returns a :class:`CorpusListing`: one row per usable audio file
with its labels, plus the files it skipped and why. Readers never open audio; hashing,
durations and loudness belong to the inventory.

The ``files`` frame has the columns of :data:`LISTING_DTYPES`, in that order and with
exactly those dtypes on every machine, sorted by ``source_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.common.audio_formats import (
    CLASSIC_SUFFIXES,
    SOURCE_SUFFIXES,
    preference_order,
)
from builders.errors import UserError

STRING = pd.StringDtype(storage="python")

LISTING_DTYPES: dict[str, object] = {
    "source_id": STRING,
    "corpus": STRING,
    "path": STRING,
    "actor": STRING,
    "gender": STRING,
    "emotion": pd.Int64Dtype(),
    "emotion_name": STRING,
    "intensity": pd.Int64Dtype(),
    "statement": pd.Int64Dtype(),
    "repetition": pd.Int64Dtype(),
    "valence": "float64",
    "arousal": "float64",
    "artist": STRING,
    "title": STRING,
}

AUDIO_SUFFIXES = SOURCE_SUFFIXES  # every reader's audio (builders.common.audio_formats)
MUSIC_CLASSIC_SUFFIXES = (".wav", ".mp3")  # what MiSME's DEAM and Soundtracks readers read first


@dataclass(frozen=True)
class CorpusListing:
    """What a reader found below one corpus root."""

    corpus: str
    root: Path
    files: pd.DataFrame
    skipped: tuple[tuple[str, str], ...]


def checked_root(root: Path | str, label: str) -> Path:
    """The absolute form of ``root``; UserError if it is missing or not a folder."""
    path = Path(root).expanduser().absolute()
    if not path.exists():
        raise UserError(f"{label} root does not exist: {path}")
    if not path.is_dir():
        raise UserError(f"{label} root is not a folder: {path}")
    return path


def files_below(root: Path) -> list[Path]:
    """Every regular file below ``root``, sorted by relative posix path.

    Hidden files and folders (``.DS_Store``, macOS ``._*`` resource forks, temporary
    build folders) are not corpus content and are left out.
    """
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def audio_files_below(
    root: Path, classic: Iterable[str] = CLASSIC_SUFFIXES, extra: Iterable[str] = ()
) -> list[Path]:
    """:func:`files_below` with an audio suffix (or one of ``extra``), in the order that makes
    the first file of a clip the one to keep: ``classic`` formats first, by sorted path
    (as before other formats were read), then the others by the formats' rule
    (:func:`builders.common.audio_formats.preference_order`)."""
    wanted = set(AUDIO_SUFFIXES) | set(extra)
    found = [path for path in files_below(root) if path.suffix.lower() in wanted]
    return preference_order(found, root, classic)


def files_named(root: Path, names: Iterable[str]) -> list[Path]:
    """Files below ``root`` whose name matches one of ``names`` (case-insensitive)."""
    wanted = {name.lower() for name in names}
    return [path for path in files_below(root) if path.name.lower() in wanted]


def audio_by_key(
    root: Path, key_of: Callable[[Path], str | None], hint: str
) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Audio files below ``root`` (any of :data:`AUDIO_SUFFIXES`) by the key their path names.

    ``key_of(path)`` gives a file's key (e.g. a DEAM song id) or None when the name is not
    the corpus's. Returns ``{key: relative posix path}`` and the skipped files with the
    reason: a name that is no key (``hint`` says what is expected) or a second file for a
    key (the kept one by :func:`audio_files_below`: ``.mp3``, ``.wav``, ``.flac`` first by
    sorted path, e.g. ``4.mp3`` before a converted ``4.wav``; then ``4.m4a`` etc.).
    """
    found: dict[str, str] = {}
    skipped = []
    for path in audio_files_below(root):
        relative = relative_posix(path, root)
        key = key_of(path)
        if key is None:
            skipped.append((relative, f"not a {hint}"))
        elif key in found:
            skipped.append((relative, f"same {key} as {found[key]}"))
        else:
            found[key] = relative
    return found, sorted_skips(skipped)


def relative_posix(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def listing_frame(rows: list[Mapping[str, object]]) -> pd.DataFrame:
    """Rows (dicts with any subset of the listing columns) as a typed, sorted frame."""
    columns = {
        name: pd.Series([row.get(name) for row in rows], dtype=_input_dtype(dtype))
        for name, dtype in LISTING_DTYPES.items()
    }
    frame = pd.DataFrame(columns).astype(LISTING_DTYPES)
    return frame.sort_values("source_id", kind="stable").reset_index(drop=True)


def _input_dtype(dtype: object) -> object:
    # float columns come in with None for "missing"; object keeps them until astype.
    return "object" if dtype == "float64" else dtype


def sorted_skips(skipped: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(item), str(reason)) for item, reason in skipped))


def require_columns(frame: pd.DataFrame, needed: Iterable[str], path: Path) -> None:
    """UserError naming ``path`` and the first needed column it lacks."""
    for column in needed:
        if column not in frame.columns:
            have = ", ".join(str(c) for c in frame.columns)
            raise UserError(f"{path}: missing column '{column}' (found: {have})")


def numeric_column(frame: pd.DataFrame, column: str, path: Path, id_column: str) -> pd.Series:
    """``frame[column]`` as float64 on the 1-9 scale; UserError naming the bad row."""
    values = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    bad = values.isna() | (values < 1.0) | (values > 9.0)
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise UserError(
            f"{path}: '{column}' of {id_column} {frame[id_column].iloc[first]} is "
            f"{frame[column].iloc[first]!r}, expected a number from 1 to 9"
        )
    return values


def summarise_ids(ids: list[str], what: str, limit: int = 5) -> str:
    """A one-line summary for many ids: count plus the first few."""
    examples = ", ".join(ids[:limit]) + (", ..." if len(ids) > limit else "")
    return f"{len(ids)} {what} (e.g. {examples})"
