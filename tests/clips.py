"""Rendered clips as the tests look at them: by their ``OUT/audio/<view>/<id><suffix>`` name,
wherever their bytes are (the file, or the shard that published it)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from builders.common import audio
from builders.common.clips import ClipRef, locate, view_refs, write_published_clips


def clip_ref(path: Path) -> ClipRef:
    ref = locate(Path(path))
    assert ref is not None, f"no clip {path}"
    return ref


def clip_bytes(path: Path) -> bytes:
    return clip_ref(path).read_bytes()


def clip_pcm(path: Path) -> tuple[np.ndarray, int]:
    """The clip's int16 PCM and rate."""
    return audio.decode_pcm(clip_bytes(path))


def clip_float(path: Path) -> tuple[np.ndarray, int]:
    """The clip as float32 in [-1, 1) (what ``audio.read_audio`` gives for a file)."""
    pcm, rate = clip_pcm(path)
    return pcm.astype(np.float32) / audio.FULL_SCALE, rate


def clip_ids(out: Path, view: str, suffix: str = ".flac") -> list[str]:
    return list(view_refs(out, view, suffix))


def flip_byte(path: Path, at: float = 0.5) -> None:
    """Damage a clip in place (its file, or its range of the shard), one byte at ``at`` of its length."""
    ref = clip_ref(path)
    where = ref.offset + int(ref.size() * at)
    with open(ref.path, "r+b") as handle:
        handle.seek(where)
        byte = handle.read(1)
        handle.seek(where)
        handle.write(bytes([byte[0] ^ 0xFF]))


def unpublish(out: Path, suffix: str = ".flac") -> None:
    """Put the build back as an interrupted render leaves it: every clip a file, no shards."""
    write_published_clips(out, out, suffix)
    shutil.rmtree(Path(out) / "data", ignore_errors=True)
