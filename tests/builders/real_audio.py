"""Realistic test audio and independent loudness meters for the loudness tests.

Speech takes are spoken by ``espeak-ng`` (a Debian package, installed by ``.ci/run``) and
shaped as RAVDESS takes are: 48 kHz 16-bit mono with 0.6-1 s of room noise before and after.
The references are pyloudnorm and ffmpeg's own ``ebur128`` filter (imageio-ffmpeg's binary).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf
import soxr

from builders.common.ffmpeg import ffmpeg_executable

TAKE_RATE = 48000
SENTENCES = ("Kids are talking by the door.", "Dogs are sitting by the door.")
# (words per minute, amplitude 0-200, pitch 0-99, voice): quick and loud to quiet and slow
DELIVERIES = (
    (175, 100, 50, "en"),
    (230, 140, 70, "en+f3"),
    (120, 40, 35, "en+m3"),
    (85, 15, 45, "en+f2"),
)


def espeak_or_skip() -> str:
    """The espeak-ng binary; without it, skip (fail when ``MISME_REQUIRE_ESPEAK=1``, as in CI)."""
    found = shutil.which("espeak-ng")
    if found is None:
        message = "espeak-ng is not installed (apt-get install espeak-ng)"
        if os.environ.get("MISME_REQUIRE_ESPEAK") == "1":
            pytest.fail(message + " (MISME_REQUIRE_ESPEAK=1)")
        pytest.skip(message)
    return found


def speech_take(text: str, delivery: tuple, seed: int) -> np.ndarray:
    """One take as float64 mono at 48 kHz: espeak-ng's speech between 0.6-1 s of room noise."""
    speed, amplitude, pitch, voice = delivery
    spoken = subprocess.run(
        [espeak_or_skip(), "--stdout", "-s", str(speed), "-a", str(amplitude), "-p", str(pitch)]
        + ["-v", voice, text],
        capture_output=True,
        check=True,
    ).stdout
    voice_audio, rate = sf.read(io.BytesIO(spoken), dtype="float64")
    voice_audio = soxr.resample(voice_audio, rate, TAKE_RATE, quality="HQ")
    rng = np.random.default_rng(seed)
    before, after = (int(rng.uniform(0.6, 1.0) * TAKE_RATE) for _ in range(2))
    take = np.concatenate([np.zeros(before), voice_audio, np.zeros(after)])
    return take + room_noise(rng, len(take), level_db=rng.uniform(-66.0, -54.0))


def room_noise(rng: np.random.Generator, frames: int, level_db: float) -> np.ndarray:
    """Low-frequency-heavy noise (a room's hum and air) with RMS ``level_db`` dBFS."""
    white = rng.standard_normal(frames)
    spectrum = np.fft.rfft(white) / np.sqrt(np.arange(1, frames // 2 + 2))
    noise = np.fft.irfft(spectrum, frames)
    noise += 0.3 * np.sin(2 * np.pi * 50 * np.arange(frames) / TAKE_RATE) * noise.std()
    return noise * 10 ** (level_db / 20) / noise.std()


def write_take(path: Path, take: np.ndarray) -> Path:
    sf.write(path, take, TAKE_RATE, subtype="PCM_16")
    return path


def pyloudnorm_lufs(path: Path, *, dual_mono: bool = False) -> float:
    """pyloudnorm's integrated loudness of the file (a mono file as two channels if asked)."""
    data, rate = sf.read(path, dtype="float64", always_2d=True)
    if dual_mono and data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    return float(pyloudnorm.Meter(rate).integrated_loudness(data))


def ebur128_lufs(path: Path, *, dual_mono: bool = False) -> float:
    """ffmpeg's ``ebur128`` integrated loudness (its last 3-decimal metadata value)."""
    options = "metadata=1" + (":dualmono=true" if dual_mono else "")
    result = subprocess.run(
        [ffmpeg_executable(), "-hide_banner", "-nostats", "-i", str(path), "-af"]
        + [f"ebur128={options},ametadata=mode=print:key=lavfi.r128.I:file=-", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(re.findall(r"lavfi\.r128\.I=(-?[\d.]+|-inf)", result.stdout)[-1])
