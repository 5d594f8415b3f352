"""Writing the demo's synthetic audio: 16-bit WAV, and MP3 through the bundled ffmpeg."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from builders.common.ffmpeg import ffmpeg_executable
from builders.demo.music import MUSIC_RATE
from builders.errors import UserError


def write_int16_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """16-bit PCM with deterministic rounding (no dither)."""
    pcm = np.rint(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    sf.write(path, pcm, rate, subtype="PCM_16", format="WAV")


def write_music(path: Path, audio: np.ndarray, music_format: str) -> None:
    """Write a stereo excerpt as MP3 (LAME through the bundled ffmpeg) or 16-bit WAV."""
    data = np.clip(audio, -1.0, 1.0).astype("<f4")
    if music_format == "wav":
        write_int16_wav(path, data, MUSIC_RATE)
        return
    # ffmpeg's LAME at its fastest algorithm setting is ~5x faster than libsndfile's
    # MP3 writer; bitexact flags keep version strings out of the file.
    command = [
        ffmpeg_executable(),
        "-nostdin",
        "-v",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(MUSIC_RATE),
        "-ac",
        "2",
        "-i",
        "-",
        "-c:a",
        "libmp3lame",
        "-q:a",
        "4",
        "-compression_level",
        "9",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-y",
        "-f",
        "mp3",
        str(path),
    ]
    result = subprocess.run(command, input=data.tobytes(), capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(
            f"ffmpeg could not write {path.name}: {message[-1] if message else 'unknown error'}"
        )


def music_format_available() -> str:
    """``mp3`` when the bundled ffmpeg runs here, else ``wav``."""
    try:
        ffmpeg_executable()
    except RuntimeError:
        return "wav"
    return "mp3"
