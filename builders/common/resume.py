"""Per-unit resume records: the one protocol by which an interrupted build resumes.

A finished unit leaves ``<record>.json`` = ``{"key": ..., "result": ..., "files": ...}``,
written atomically *after* its output files were renamed into place. ``key`` is a hash of
every input the unit's outputs depend on (:func:`unit_key`), so a changed manifest row,
source or setting re-runs the unit; a unit counts as done only when its record's key
matches and all its output files exist, as files or as the ranges of the shards that
published them (``builders.common.clips``). ``files`` holds the sha256 of each output file's
bytes, so that a resume checks an output by hashing it instead of decoding it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import soundfile as sf

from builders.common.atomic import atomic_file
from builders.common.audio import clip_sha256
from builders.common.clips import ClipRef, locate
from builders.common.hashing import file_sha256


def unit_key(*inputs: Any) -> str:
    """sha256 of the canonical JSON of ``inputs`` (non-JSON values by ``repr``)."""
    return hashlib.sha256(
        json.dumps(list(inputs), sort_keys=True, default=repr).encode()
    ).hexdigest()


def finished_result(
    record: Path, key: str, outputs: Iterable[Path], checksums: Mapping[str, str] | None = None
) -> dict | None:
    """The saved result when ``record`` holds ``key`` and every output exists, else None.

    ``checksums`` maps output paths to the result field holding their PCM checksum
    (``audio_sha256``...): such an output must still be what was written, so a clip damaged
    after it was rendered is rendered again rather than published under its old checksum.
    Its bytes are hashed against the record's file digest, or, for a record without one,
    it is decoded and its PCM checksum compared.
    """
    try:
        saved = json.loads(Path(record).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    refs = {str(p): locate(Path(p)) for p in outputs}
    if None in refs.values():
        return None
    result = saved.get("result")
    files = saved.get("files") if isinstance(saved.get("files"), dict) else {}
    for path, field in (checksums or {}).items():
        if not isinstance(result, dict):
            return None
        ref = refs.get(str(path)) or locate(Path(path))
        written = files.get(_file_key(Path(record), Path(path)))
        intact = ref is not None and (
            _bytes_match(ref, written)
            if written is not None
            else _pcm_matches(ref, result.get(field))
        )
        if not intact:
            return None
    return result


def _file_key(record: Path, path: Path) -> str:
    """An output's name in its record: its path relative to the record's folder, so that a
    moved build still resumes and same-named clips of two views stay apart."""
    return os.path.relpath(path, record.parent)


def _bytes_match(ref: ClipRef, expected: object) -> bool:
    try:
        return ref.digest() == expected
    except OSError:
        return False


def _pcm_matches(ref: ClipRef, expected: object) -> bool:
    """For records without file digests (written before they were kept): decode and compare."""
    try:
        return clip_sha256(ref.read_bytes()) == expected
    except (OSError, RuntimeError, sf.LibsndfileError):
        return False


def save_result(
    record: Path,
    key: str,
    result: dict,
    files: Iterable[Path] = (),
    digests: Mapping[Path, str] | None = None,
) -> None:
    """Write the record atomically (call it after the unit's outputs are in place); ``files``:
    the outputs whose bytes a resume checks (see :func:`finished_result`), hashed here, or
    ``digests``: such outputs with the sha256 of their bytes already known (a clip written
    into a shard rather than a file of its own)."""
    hashed = {_file_key(Path(record), Path(path)): file_sha256(path) for path in files}
    hashed.update(
        {_file_key(Path(record), Path(path)): digest for path, digest in (digests or {}).items()}
    )
    with atomic_file(Path(record)) as tmp:
        tmp.write_text(json.dumps({"key": key, "result": result, "files": hashed}, sort_keys=True))
