"""Feature extraction cost: seconds per clip for each set, cache speed-up, projected demo cost.

Run: ``.venv/bin/python bench/features.py``. Prints measurements; asserts nothing.
The projection uses the demo's sizes as measured on a default `make demo` build (96 speech
clips, 480 SER windows of 4.5 s and 480 BSS windows; 60 music clips and 480 mixes + 480
BSS music of ~19 s mean duration) and the number of workers given as the first argument
(default 2). The machine's load matters: run it on an idle machine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builders.features import extract as features  # noqa: E402
from builders.misme.recipe import MismeRecipe  # noqa: E402
from builders.misme.spec import dataset_spec  # noqa: E402

RATE = 44100


def tone(seconds: float, f0: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    beats = (np.mod(t, 0.5) < 0.04) * rng.standard_normal(t.size)
    x = 0.15 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)) + 0.2 * beats + 0.01 * rng.standard_normal(t.size)
    return np.stack([x, x], axis=1).astype(np.float32)


def per_clip(set_name: str, clips: list[Path]) -> float:
    features.extract_clip(set_name, clips[0])  # warm-up: builds the extractor
    start = time.perf_counter()
    for clip in clips:
        features.extract_clip(set_name, clip)
    return (time.perf_counter() - start) / len(clips)


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    os.environ.setdefault("MISME_NO_PROGRESS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "OUT"
        for i in range(4):
            for view, seconds in (("speech", 4.5), ("music", 20.0)):
                path = out / "audio" / view / f"clip-{i}.flac"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, tone(seconds, 110.0 * (i + 1), i), RATE, subtype="PCM_16")
        speech = sorted((out / "audio" / "speech").glob("*.flac"))
        music = sorted((out / "audio" / "music").glob("*.flac"))
        is10 = per_clip("speech-is10", speech)
        egemaps = per_clip("speech-egemaps", speech)
        essentia_20s = per_clip("music-essentia", music)
        per_second = essentia_20s / 20.0
        print(f"speech-is10     {is10 * 1000:7.1f} ms per 4.5 s clip")
        print(f"speech-egemaps  {egemaps * 1000:7.1f} ms per 4.5 s clip")
        print(f"music-essentia  {essentia_20s * 1000:7.1f} ms per 20 s clip ({per_second * 1000:.1f} ms per audio second)")

        start = time.perf_counter()
        features.extract_features(out, dataset_spec(MismeRecipe()), "speech-egemaps", ["speech"])
        first = time.perf_counter() - start
        start = time.perf_counter()
        features.extract_features(out, dataset_spec(MismeRecipe()), "speech-egemaps", ["speech"])
        cached = time.perf_counter() - start
        print(f"cache: first run {first:.2f} s, re-run {cached:.3f} s (speed-up x{first / max(cached, 1e-9):.0f})")

    speech_clips = 96 + 480 + 480
    music_seconds = 19.0 * (60 + 480 + 480)
    print(f"projected demo, {workers} workers: speech-is10 {speech_clips * is10 / workers:.0f} s "
          f"({speech_clips} clips), music-essentia {music_seconds * per_second / workers:.0f} s "
          f"({music_seconds / 3600:.1f} h of audio)")


if __name__ == "__main__":
    main()
