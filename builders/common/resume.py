"""Per-unit resume records: the one protocol by which an interrupted build resumes.

A finished unit leaves ``<record>.json`` = ``{"key": ..., "result": ...}``, written
atomically *after* its output files were renamed into place. ``key`` is a hash of every
input the unit's outputs depend on (:func:`unit_key`), so a changed manifest row, source
or setting re-runs the unit; a unit counts as done only when its record's key matches
and all its output files exist.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import soundfile as sf

from builders.common.atomic import atomic_file
from builders.common.audio import clip_sha256


def unit_key(*inputs: Any) -> str:
    """sha256 of the canonical JSON of ``inputs`` (non-JSON values by ``repr``)."""
    return hashlib.sha256(json.dumps(list(inputs), sort_keys=True, default=repr).encode()).hexdigest()


def finished_result(record: Path, key: str, outputs: Iterable[Path],
                    checksums: Mapping[str, str] | None = None) -> dict | None:
    """The saved result when ``record`` holds ``key`` and every output exists, else None.

    ``checksums`` maps output paths to the result field holding their PCM checksum
    (``audio_sha256``...): such an output is decoded and must still match, so a clip damaged
    after it was rendered is rendered again rather than published under its old checksum.
    """
    try:
        saved = json.loads(Path(record).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key:
        return None
    if not all(Path(p).is_file() for p in outputs):
        return None
    result = saved.get("result")
    for path, field in (checksums or {}).items():
        if not isinstance(result, dict) or not _pcm_matches(Path(path), result.get(field)):
            return None
    return result


def _pcm_matches(path: Path, expected: object) -> bool:
    try:
        return clip_sha256(path) == expected
    except (OSError, RuntimeError, sf.LibsndfileError):
        return False


def save_result(record: Path, key: str, result: dict) -> None:
    """Write the record atomically (call it after the unit's outputs are in place)."""
    with atomic_file(Path(record)) as tmp:
        tmp.write_text(json.dumps({"key": key, "result": result}, sort_keys=True))
