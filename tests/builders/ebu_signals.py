"""EBU Tech 3341 (2016) minimum-requirement test signals 1-5, generated from the specification:
1 kHz sines, in phase on both channels of a stereo signal, at 48 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

EBU_RATE = 48000
# case: ((level dBFS, seconds), ...), expected integrated loudness (LUFS), tolerance +-0.1 LU
EBU_CASES = {
    1: (((-23.0, 20.0),), -23.0),
    2: (((-33.0, 20.0),), -33.0),
    3: (((-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)), -23.0),
    4: (((-72.0, 10.0), (-36.0, 10.0), (-23.0, 20.0), (-36.0, 10.0), (-72.0, 10.0)), -23.0),
    5: (((-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)), -23.0),
}


def ebu_signal(case: int) -> np.ndarray:
    """The stereo float64 signal of test case ``case`` (phase continuous across its parts)."""
    parts, _ = EBU_CASES[case]
    levels = np.concatenate(
        [np.full(int(round(seconds * EBU_RATE)), 10 ** (db / 20)) for db, seconds in parts]
    )
    tone = levels * np.sin(2 * np.pi * 1000 * np.arange(len(levels)) / EBU_RATE)
    return np.stack([tone, tone], axis=1)


def write_ebu_signal(folder: Path, case: int) -> Path:
    """Case ``case`` as a 24-bit stereo WAV in ``folder``."""
    path = Path(folder) / f"ebu-3341-case{case}.wav"
    sf.write(path, ebu_signal(case), EBU_RATE, subtype="PCM_24")
    return path
