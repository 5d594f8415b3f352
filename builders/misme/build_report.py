"""Build report: what the render actually produced, measured (OUT/build-report.json).

- ``loudness``: integrated loudness (pyloudnorm, BS.1770) of a seeded sample of rendered
  clips per view (speech and music should be at -23 LUFS; mixes are louder: a plain sum);
- ``attenuated_mixes``: mixes scaled down to avoid clipping (``mix_gain_db < 0``);
- ``overlap``: per mix, the fraction of the music duration covered by active speech,
  measured at render time on the placed speech (energy-based activity: 20 ms blocks
  within ``activity_floor_db`` of the loudest block and above -70 dBFS, see
  ``builders.misme.render.speech_activity``); its distribution overall and per fold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pyloudnorm

from builders.common import audio
from builders.common.atomic import atomic_file
from builders.common.clips import ClipRef, clip_file, locate
from builders.common.seeding import rng_for
from builders.misme.spec import SPEECH_CORPORA

SAMPLE_SIZE = 8
VIEWS = ("speech", "music", "mixed")


def distribution(values: list[float]) -> dict[str, float | int]:
    """count, mean, min, quartiles, max of a list of numbers (empty -> count 0)."""
    if not values:
        return {"count": 0}
    x = np.asarray(values, dtype=np.float64)
    q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {
        "count": int(x.size),
        "mean": round(float(x.mean()), 6),
        "min": round(float(q[0]), 6),
        "p25": round(float(q[1]), 6),
        "median": round(float(q[2]), 6),
        "p75": round(float(q[3]), 6),
        "max": round(float(q[4]), 6),
    }


def clip_loudness(clip: ClipRef) -> float:
    """Integrated loudness (LUFS) of a rendered 16-bit clip (a file or a published range)."""
    pcm, rate = audio.decode_pcm(clip.read_bytes())
    return float(
        pyloudnorm.Meter(rate).integrated_loudness(pcm.astype(np.float64) / audio.FULL_SCALE)
    )


def _find_clip(out: Path, view: str, clip_id: str) -> ClipRef | None:
    for ext in audio.FORMATS:
        if (clip := locate(clip_file(out, view, clip_id, f".{ext}"))) is not None:
            return clip
    return None


def sample_ids(ids: list[str], seed: int, view: str, size: int = SAMPLE_SIZE) -> list[str]:
    """A seeded sample of ids (same ids for the same seed and id list, in any process)."""
    ids = sorted(ids)
    if len(ids) <= size:
        return ids
    picks = rng_for(seed, "build-report-sample", view).choice(len(ids), size=size, replace=False)
    return [ids[i] for i in sorted(picks)]


def build_report(out: Path, seed: int, sample_size: int = SAMPLE_SIZE) -> dict:
    """Measure the rendered build under ``out`` (manifests must carry the render results)."""
    sources = pq.read_table(
        out / "manifests" / "sources.parquet", columns=["source_id", "corpus"]
    ).to_pylist()
    mixes = pq.read_table(
        out / "manifests" / "mixes.parquet", columns=["mix_id", "fold", "mix_gain_db", "overlap"]
    ).to_pylist()
    ids = {
        "speech": [s["source_id"] for s in sources if s["corpus"] in SPEECH_CORPORA],
        "music": [s["source_id"] for s in sources if s["corpus"] not in SPEECH_CORPORA],
        "mixed": [m["mix_id"] for m in mixes],
    }
    loudness = {}
    for view in VIEWS:
        measured = {}
        for clip_id in sample_ids(ids[view], seed, view, sample_size):
            clip = _find_clip(out, view, clip_id)
            if clip is not None:
                measured[clip_id] = round(clip_loudness(clip), 3)
        loudness[view] = {"clips": measured, **distribution(list(measured.values()))}
    folds = sorted({m["fold"] for m in mixes})
    return {
        "seed": seed,
        "n_mixes": len(mixes),
        "attenuated_mixes": sum((m["mix_gain_db"] or 0.0) < 0 for m in mixes),
        "min_mix_gain_db": min((m["mix_gain_db"] for m in mixes), default=0.0),
        "loudness": loudness,
        "overlap": {
            "all": distribution([m["overlap"] for m in mixes]),
            "per_fold": {
                str(f): distribution([m["overlap"] for m in mixes if m["fold"] == f]) for f in folds
            },
        },
        "overlap_method": "energy-based speech activity on the placed speech: 20 ms blocks within the recipe's "
        "activity_floor_db of the loudest block and above -70 dBFS; covered frames / music frames",
    }


def write_build_report(out: Path, seed: int, sample_size: int = SAMPLE_SIZE) -> dict:
    """Measure and write OUT/build-report.json (atomically); return the report."""
    report = build_report(out, seed, sample_size)
    with atomic_file(out / "build-report.json") as tmp:
        tmp.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return report
