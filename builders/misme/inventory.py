"""The inventory: one row per source file with its checksum, format, loudness and activity.

Probing (hashing, decoding, loudness measurement) runs in parallel and is cached by
(absolute path, size, mtime) under ``OUT/.cache`` so that re-planning is instant.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file
from builders.common.audio import resampled_length
from builders.common.decode import decode_source
from builders.common.hashing import file_sha256
from builders.common.loudness import (
    LOUDNORM_METER,
    gain_to_target,
    measure_integrated_loudness,
    measure_loudness,
)
from builders.common.seeding import rng_for
from builders.corpora.ravdess import EMOTION_NAMES
from builders.engine import map_units
from builders.misme.spec import SPEECH_CORPORA

ACTIVITY_FRAME_S = 0.02
# bump when the probe's definition changes, to invalidate caches (2: truncated WAVs; 3: the
# decoder's reasons, truncated MP3/FLAC/MP4/WebM/Ogg, the formats decoded by ffmpeg)
PROBE_VERSION = 3
PROBE_COLUMNS = [
    "sha256",
    "size_bytes",
    "frames",
    "duration_s",
    "sample_rate",
    "channels",
    "loudness_lufs",
    "active_start_s",
    "active_end_s",
]


@dataclass(frozen=True)
class ProbeJob:
    """One source file to probe, and how (plain data: it may run in another process)."""

    path: str
    measure_activity: bool
    dual_mono_if_mono: bool
    activity_floor_db: float
    target_lufs: float
    meter: str = LOUDNORM_METER

    @property
    def unit_id(self) -> str:
        return self.path


def activity_region(signal: np.ndarray, sample_rate: int, floor_db: float) -> tuple[float, float]:
    """First and last 20 ms frame whose RMS is within ``floor_db`` dB of the loudest frame.

    ``signal`` is mono float. Returns (start_s, end_s); the whole clip for silence.
    """
    hop = max(1, int(round(ACTIVITY_FRAME_S * sample_rate)))
    n_frames = len(signal) // hop
    if n_frames == 0:
        return 0.0, len(signal) / sample_rate
    frames = signal[: n_frames * hop].astype(np.float64).reshape(n_frames, hop)
    rms_db = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    active = np.flatnonzero(rms_db >= rms_db.max() + floor_db)
    if rms_db.max() <= -190 or len(active) == 0:
        return 0.0, len(signal) / sample_rate
    return round(active[0] * hop / sample_rate, 6), round((active[-1] + 1) * hop / sample_rate, 6)


def probe_file(job: ProbeJob) -> dict:
    """Measure one file. Raises ``ValueError`` with a readable reason when it is unusable."""
    path = Path(job.path)
    signal, sample_rate = decode_source(path)  # DecodeProblem (a ValueError): the true reason
    frames, channels = signal.shape
    if channels > 2:  # the render's rule, applied here so a plan never holds a file render refuses
        raise ValueError(f"unsupported channel count {channels} (mono or stereo sources only)")
    loudness = _loudness(job, path, signal, sample_rate)
    if not np.isfinite(loudness):
        raise ValueError("audio is silent (loudness -inf)")
    start, end = (np.nan, np.nan)
    if job.measure_activity:
        start, end = activity_region(signal.mean(axis=1), sample_rate, job.activity_floor_db)
    return {
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "frames": int(frames),
        "duration_s": round(frames / sample_rate, 6),
        "sample_rate": int(sample_rate),
        "channels": int(channels),
        "loudness_lufs": float(loudness),
        "active_start_s": float(start),
        "active_end_s": float(end),
    }


def _loudness(job: ProbeJob, path: Path, signal: np.ndarray, sample_rate: int) -> float:
    dual_mono = job.dual_mono_if_mono and signal.shape[1] == 1
    if job.meter == LOUDNORM_METER:
        return measure_integrated_loudness(path, dual_mono=dual_mono, target_lufs=job.target_lufs)
    return measure_loudness(path, job.meter, dual_mono=dual_mono, decoded=(signal, sample_rate))


def _probe_or_reason(job: ProbeJob) -> dict | str:
    try:
        return probe_file(job)
    except ValueError as error:
        return str(error)
    except Exception as error:  # noqa: BLE001 - any failure of one file becomes a listed skip
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


class ProbeCache:
    """Probe results keyed by (absolute path, size, mtime_ns, probe settings)."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[str, dict] = {}
        if path and path.is_file():
            try:
                self.entries = json.loads(path.read_text())
            except (json.JSONDecodeError, OSError):
                self.entries = {}

    @staticmethod
    def key(job: ProbeJob) -> str:
        stat = os.stat(job.path)
        settings = [job.measure_activity, job.dual_mono_if_mono, job.activity_floor_db]
        settings += [job.target_lufs] + ([] if job.meter == LOUDNORM_METER else [job.meter])
        return json.dumps([PROBE_VERSION, job.path, stat.st_size, stat.st_mtime_ns, *settings])

    def save(self) -> None:
        if self.path is None:
            return
        with atomic_file(self.path) as tmp:
            tmp.write_text(json.dumps(self.entries, sort_keys=True))


def probe_files(
    jobs: list[ProbeJob], *, workers: int = 1, cache_path: Path | None = None, progress: bool = True
) -> list[dict | str]:
    """Probe every job (cached, in parallel); a dict per usable file or a reason string."""
    cache = ProbeCache(cache_path)
    keys = [ProbeCache.key(job) for job in jobs]
    todo = [i for i, key in enumerate(keys) if key not in cache.entries]

    def remember(position: int, result: dict | str) -> None:
        if isinstance(result, dict):
            cache.entries[keys[todo[position]]] = result

    try:
        results = map_units(
            _probe_or_reason,
            [jobs[i] for i in todo],
            workers=workers,
            desc="probing sources",
            unit="file",
            on_result=remember,
            chunksize=4,
            progress=progress,
        )
    finally:
        cache.save()
    fresh = dict(zip(todo, results, strict=True))
    return [fresh[i] if i in fresh else cache.entries[keys[i]] for i in range(len(jobs))]


def build_inventory(
    listing: pd.DataFrame,
    roots: dict[str, Path],
    *,
    target_lufs: float,
    speech_dual_mono: bool,
    activity_floor_db: float,
    sample_rate: int,
    meter: str = LOUDNORM_METER,
    workers: int = 1,
    cache_path: Path | None = None,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Add probe columns, the gain to target and the length at ``sample_rate`` (column
    ``frames_44k``, named after v1's 44.1 kHz) to the readers' listing.

    Returns the inventory (sorted by source_id) and the (source_id, reason) pairs of
    files left out because they could not be used.
    """
    listing = listing.sort_values("source_id", kind="stable").reset_index(drop=True)
    jobs = [
        ProbeJob(
            path=str((roots[corpus] / rel).resolve()),
            measure_activity=corpus in SPEECH_CORPORA,
            dual_mono_if_mono=speech_dual_mono and corpus in SPEECH_CORPORA,
            activity_floor_db=activity_floor_db,
            target_lufs=target_lufs,
            meter=meter,
        )
        for corpus, rel in zip(listing["corpus"], listing["path"])
    ]
    results = probe_files(jobs, workers=workers, cache_path=cache_path, progress=progress)
    keep, skipped, rows = [], [], []
    for index, result in enumerate(results):
        if isinstance(result, str):
            skipped.append((str(listing.at[index, "source_id"]), result))
        else:
            keep.append(index)
            rows.append(result)
    inventory = listing.iloc[keep].reset_index(drop=True)
    probed = pd.DataFrame(rows, columns=PROBE_COLUMNS)
    inventory = pd.concat([inventory, probed], axis=1)
    inventory["gain_db"] = [gain_to_target(v, target_lufs) for v in inventory["loudness_lufs"]]
    inventory["frames_44k"] = [
        resampled_length(f, sr, sample_rate)
        for f, sr in zip(inventory["frames"], inventory["sample_rate"])
    ]
    return inventory, sorted(skipped)


def synthetic_inventory(
    *, n_actors: int = 24, n_deam: int = 744, n_soundtracks: int = 314, seed: int = 0
) -> pd.DataFrame:
    """A full-size inventory table with plausible values and no audio behind it.

    Defaults give 1,440 RAVDESS clips (60 per actor) and 1,058 music clips, the
    thesis's corpus size, so that planning can be measured and tested without audio.
    """
    rows = []
    for actor in range(1, n_actors + 1):
        for emotion in range(1, 9):
            for intensity in (1,) if emotion == 1 else (1, 2):
                for statement in (1, 2):
                    for repetition in (1, 2):
                        stem = f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}"
                        rng = rng_for(seed, "synthetic-speech", stem)
                        frames = int(rng.integers(130_000, 220_000))
                        rows.append(
                            {
                                "source_id": f"ravdess-{stem}",
                                "corpus": "ravdess",
                                "path": f"Actor_{actor:02d}/{stem}.wav",
                                "actor": f"{actor:02d}",
                                "gender": "male" if actor % 2 else "female",
                                "emotion": emotion,
                                "emotion_name": EMOTION_NAMES[emotion - 1],
                                "intensity": intensity,
                                "statement": statement,
                                "repetition": repetition,
                                "valence": np.nan,
                                "arousal": np.nan,
                                "frames_44k": frames,
                                "duration_s": round(frames / 44100, 6),
                                "gain_db": round(float(rng.normal(0, 4)), 2),
                                "active_start_s": 0.5,
                                "active_end_s": round(frames / 44100 - 0.5, 6),
                            }
                        )
    for corpus, count, low, high in (
        ("deam", n_deam, 45.0, 45.5),
        ("soundtracks", n_soundtracks, 3.0, 30.0),
    ):
        for index in range(1, count + 1):
            source_id = f"deam-{index}" if corpus == "deam" else f"soundtracks-set1-{index:03d}"
            rng = rng_for(seed, "synthetic-music", source_id)
            frames = int(rng.uniform(low, high) * 44100)
            rows.append(
                {
                    "source_id": source_id,
                    "corpus": corpus,
                    "path": f"{source_id}.mp3",
                    "actor": None,
                    "gender": None,
                    "emotion": pd.NA,
                    "emotion_name": None,
                    "intensity": pd.NA,
                    "statement": pd.NA,
                    "repetition": pd.NA,
                    "valence": round(float(rng.uniform(1, 9)), 2),
                    "arousal": round(float(rng.uniform(1, 9)), 2),
                    "frames_44k": frames,
                    "duration_s": round(frames / 44100, 6),
                    "gain_db": round(float(rng.normal(0, 4)), 2),
                    "active_start_s": np.nan,
                    "active_end_s": np.nan,
                }
            )
    frame = pd.DataFrame(rows)
    for column in ("emotion", "intensity", "statement", "repetition"):
        frame[column] = frame[column].astype("Int64")
    return frame.sort_values("source_id").reset_index(drop=True)
