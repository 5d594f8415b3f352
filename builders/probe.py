"""The plan-time inventory of audio source files: checksum, length, rate and channels of each
file excerpts are cut from (``builders.excerpts``), or the reason a file cannot be used."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from builders.common.hashing import file_sha256
from builders.engine import map_units


def wav_declared_frames(path: str) -> int | None:
    """The frame count a RIFF/WAVE header's ``data`` chunk declares (None if unreadable).

    libsndfile reads a cut-off WAV as a shorter clip without a word; the header still
    says how long it should be.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, block_align = 12, None
    while position + 8 <= len(head):
        chunk, size = (
            head[position : position + 4],
            int.from_bytes(head[position + 4 : position + 8], "little"),
        )
        if chunk == b"fmt " and position + 22 <= len(head):
            block_align = int.from_bytes(head[position + 20 : position + 22], "little")
        if chunk == b"data":
            return size // block_align if block_align else None
        position += 8 + size + (size & 1)
    return None


def probe_source(path: str) -> dict | str:
    """``{sha256, size_bytes, frames, sample_rate, channels, duration_s}`` of a decodable audio
    file, else the reason it cannot be used (undecodable, empty, silent, truncated)."""
    try:
        info = sf.info(path)
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        return f"cannot decode audio ({str(error).strip() or type(error).__name__})"
    if len(data) == 0:
        return "audio file has no samples"
    if data.shape[1] > 2:
        return f"unsupported channel count {data.shape[1]} (mono or stereo sources only)"
    declared = wav_declared_frames(path) if info.format in ("WAV", "WAVEX") else None
    if declared is not None and declared > len(data):
        return (
            f"truncated: the WAV header announces {declared} frames, {len(data)} could be decoded"
        )
    if not np.any(data):
        return "audio is silent"
    return {
        "sha256": file_sha256(path),
        "size_bytes": Path(path).stat().st_size,
        "frames": int(len(data)),
        "sample_rate": int(rate),
        "channels": int(data.shape[1]),
        "duration_s": round(len(data) / rate, 6),
    }


def probe_sources(
    paths: Sequence[str], *, workers: int = 1, progress: bool = True
) -> list[dict | str]:
    """:func:`probe_source` for every path, in order (a dict per usable file, else a reason)."""
    return map_units(
        probe_source,
        list(paths),
        workers=workers,
        desc="probing sources",
        unit="file",
        chunksize=4,
        progress=progress,
    )
