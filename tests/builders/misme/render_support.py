"""Hand-made tiny sources + manifests (per docs/architecture.md) for the render tests.

Six folds, one RAVDESS-style speech clip (48 kHz mono WAV) and two music clips per fold
(44.1 kHz stereo WAV, 22.05 kHz mono WAV, one MP3, one sparse click track whose
normalisation exceeds full scale). Gains are measured with pyloudnorm (speech as
dual-mono) so the loudness cross-check is meaningful. Speech offsets are multiples of
10 ms so pydub (millisecond positions) can place the speech at the same frames.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyloudnorm
import soundfile as sf
import soxr

W = 198450
EMOTIONS = ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]


def speech_signal(
    rng: np.random.Generator, seconds: float, f0: float, rate: int = 48000
) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    voiced = sum(
        np.sin(2 * np.pi * f0 * h * t * (1 + 0.05 * np.sin(2 * np.pi * 3 * t))) / h
        for h in range(1, 6)
    )
    envelope = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 0.5
    active = (t > 0.5) & (t < seconds - 0.5)
    return (0.3 * voiced * envelope * active + 0.001 * rng.standard_normal(t.size)).astype(
        np.float32
    )


def music_signal(
    rng: np.random.Generator, seconds: float, rate: int, channels: int, clicks: bool = False
) -> np.ndarray:
    n = int(seconds * rate)
    if clicks:
        x = np.zeros((n, channels), dtype=np.float32)
        x[:: rate * 2] = 0.9
        return x
    t = np.arange(n) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    x = 0.1 * chord * (1 + 0.3 * np.sin(2 * np.pi * 0.5 * t)) + 0.01 * rng.standard_normal(n)
    return np.stack([x * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def measure(path: Path) -> tuple[float, int, int, int]:
    """(lufs dual-mono for mono, frames, rate, channels) with pyloudnorm on the file as decoded."""
    x, rate = sf.read(str(path), dtype="float64", always_2d=True)
    stereo = np.repeat(x, 2, axis=1) if x.shape[1] == 1 else x
    return float(pyloudnorm.Meter(rate).integrated_loudness(stereo)), len(x), rate, x.shape[1]


def frames_44k(path: Path) -> int:
    x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return len(x) if rate == 44100 else len(soxr.resample(x, rate, 44100, quality="HQ"))


def write_sources(root: Path, seed: int = 0) -> list[dict]:
    """Write the corpora under ``root`` and return their source rows (without folds)."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(6):
        actor, emotion = k + 1, k % 8 + 1
        name = f"03-01-{emotion:02d}-01-01-01-{actor:02d}"
        path = root / "ravdess" / f"Actor_{actor:02d}" / f"{name}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, speech_signal(rng, 2.5 + 0.3 * k, 120 + 20 * k), 48000, subtype="PCM_16")
        rows.append(
            {
                "source_id": f"ravdess-{name}",
                "corpus": "ravdess",
                "path": path.relative_to(root / "ravdess").as_posix(),
                "actor": f"{actor:02d}",
                "gender": "male" if actor % 2 else "female",
                "emotion": emotion,
                "emotion_name": EMOTIONS[emotion - 1],
                "intensity": 1,
                "statement": 1,
                "repetition": 1,
                "valence": float("nan"),
                "arousal": float("nan"),
                "quadrant": None,
                "active_start_s": 0.5,
                "active_end_s": 2.0 + 0.3 * k,
                "fold": k + 1,
            }
        )
    for k in range(12):
        seconds = 9.5 + (k % 3) * 2.0
        if k % 4 == 3:
            corpus, rel, rate, ch = "soundtracks", f"Set1/{k:03d}.wav", 22050, 1
        else:
            corpus, rel, rate, ch = (
                "deam",
                f"MEMD_audio/{k + 2}.{'mp3' if k == 4 else 'wav'}",
                44100,
                2,
            )
        path = root / corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        x = music_signal(rng, seconds, rate, ch, clicks=(k == 1))
        if path.suffix == ".mp3":
            sf.write(path, x, rate, format="MP3")
        else:
            sf.write(path, x, rate, subtype="PCM_16")
        sid = f"deam-{k + 2}" if corpus == "deam" else f"soundtracks-set1-{k:03d}"
        valence, arousal = 1.0 + (k * 0.7) % 8, 9.0 - (k * 0.9) % 8
        rows.append(
            {
                "source_id": sid,
                "corpus": corpus,
                "path": rel,
                "actor": None,
                "gender": None,
                "emotion": None,
                "emotion_name": None,
                "intensity": None,
                "statement": None,
                "repetition": None,
                "valence": valence,
                "arousal": arousal,
                "quadrant": "Q1",
                "active_start_s": float("nan"),
                "active_end_s": float("nan"),
                "fold": k // 2 + 1,
            }
        )
    for row in rows:
        path = root / row["corpus"] / row["path"]
        lufs, frames, rate, ch = measure(path)
        row.update(
            sha256=sha256(path),
            size_bytes=path.stat().st_size,
            frames=frames,
            duration_s=frames / rate,
            sample_rate=rate,
            channels=ch,
            loudness_lufs=lufs,
            gain_db=-23.0 - lufs,
            frames_44k=frames_44k(path),
        )
    return sorted(rows, key=lambda r: r["source_id"])


SOURCE_TYPES = {
    "source_id": pa.string(),
    "corpus": pa.string(),
    "path": pa.string(),
    "sha256": pa.string(),
    "size_bytes": pa.int64(),
    "frames": pa.int64(),
    "duration_s": pa.float64(),
    "sample_rate": pa.int64(),
    "channels": pa.int64(),
    "actor": pa.string(),
    "gender": pa.string(),
    "emotion": pa.int64(),
    "emotion_name": pa.string(),
    "intensity": pa.int64(),
    "statement": pa.int64(),
    "repetition": pa.int64(),
    "valence": pa.float64(),
    "arousal": pa.float64(),
    "quadrant": pa.string(),
    "loudness_lufs": pa.float64(),
    "gain_db": pa.float64(),
    "active_start_s": pa.float64(),
    "active_end_s": pa.float64(),
    "frames_44k": pa.int64(),
    "fold": pa.int64(),
}


def plan_mixes(sources: list[dict]) -> list[dict]:
    """Each speech clip with the two music clips of its fold (K = 2)."""
    music = [s for s in sources if s["corpus"] != "ravdess"]
    mixes = []
    for sp in (s for s in sources if s["corpus"] == "ravdess"):
        for pair, mu in enumerate(
            sorted((m for m in music if m["fold"] == sp["fold"]), key=lambda m: m["source_id"])
        ):
            frames = mu["frames_44k"]
            placements = frames // W
            crop = 441 * 20 if pair else 0
            length = min(sp["frames_44k"] - crop, W)
            offset = 441 * (((W - length) // 2) // 441)
            window_index = pair % placements
            mixes.append(
                {
                    "mix_id": f"{sp['source_id']}__{mu['source_id']}",
                    "fold": sp["fold"],
                    "speech_id": sp["source_id"],
                    "music_id": mu["source_id"],
                    "pair_index": pair,
                    "music_frames": frames,
                    "music_duration_s": frames / 44100,
                    "n_placements": placements,
                    "window_frames": W,
                    "window_index": window_index,
                    "window_start_s": window_index * 4.5,
                    "window_start_frame": window_index * W,
                    "speech_crop_start_frame": crop,
                    "speech_frames": length,
                    "speech_crop_start_s": crop / 44100,
                    "speech_offset_s": offset / 44100,
                    "speech_offset_frame": offset,
                    "speech_gain_db": sp["gain_db"],
                    "music_gain_db": mu["gain_db"],
                    "emotion": sp["emotion"],
                    "emotion_name": sp["emotion_name"],
                    "intensity": 1,
                    "statement": 1,
                    "actor": sp["actor"],
                    "gender": sp["gender"],
                    "valence": mu["valence"],
                    "arousal": mu["arousal"],
                    "valence_norm": (mu["valence"] - 5) / 4,
                    "arousal_norm": (mu["arousal"] - 5) / 4,
                }
            )
    return sorted(mixes, key=lambda m: m["mix_id"])


def write_manifests(
    out: Path, sources: list[dict], mixes: list[dict], roots: dict[str, Path]
) -> None:
    manifests = out / "manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(sources, pa.schema(SOURCE_TYPES)), manifests / "sources.parquet"
    )
    pq.write_table(pa.Table.from_pylist(mixes), manifests / "mixes.parquet")
    (manifests / "audit.json").write_text(
        json.dumps({"folds": {"1": {"actors": ["01"]}}, "skipped": []})
    )
    (manifests / "recipe.toml").write_text(
        'name = "misme"\nseed = 7\n[mixing]\nwindow_s = 4.5\nactivity_floor_db = -35.0\n'
    )
    (out / "build-state.json").write_text(
        json.dumps({"roots": {k: str(v) for k, v in roots.items()}})
    )


def make_build(base: Path) -> tuple[Path, dict[str, Path]]:
    """Sources under base/src, planned OUT under base/out; returns (out, roots)."""
    src = base / "src"
    sources = write_sources(src)
    roots = {c: src / c for c in ("ravdess", "deam", "soundtracks")}
    out = base / "out"
    write_manifests(out, sources, plan_mixes(sources), roots)
    return out, roots
