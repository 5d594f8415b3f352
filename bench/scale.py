"""Scale on paper, from measurements: per-clip costs at 1x, 2x and 4x the demo size, projected.

    python bench/scale.py [--workers 2] [--scales 1 2 4]

For each scale a demo corpus is written, planned (K = 2) and rendered with ``--workers``
processes, and one feature set per content (openSMILE eGeMAPS on speech, Essentia on
music) is extracted; each scale runs in its own process so that peak memory is per run.
Printed per scale: render and feature seconds per second of audio, peak resident memory of
the largest worker, bytes of FLAC per second of audio. They must stay flat as the corpus
grows. Then a projection for the full corpora (MiSME v1: 1,440 speech clips, ~1,000 music
clips of ~35 s, 7,200 mixes; instrumental MER: 1,610 clips of ~12 s; MuSe: 6,757 tracks cut
into ~3 frames of 15 s) on one machine with the given workers and on N Ray workers (Ray adds
a few ms per unit, measured by bench/engine.py, and is left out here).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _args import at_least  # noqa: E402

from builders.common.clips import view_refs  # noqa: E402
from builders.misme.spec import SPEECH_CORPORA  # noqa: E402

BASE = {
    "clips_per_actor": 1,
    "n_deam": 12,
    "n_soundtracks": 6,
    "deam_duration_range": (10.0, 20.0),
    "soundtracks_duration_s": 12.0,
}
FULL = {  # seconds of audio per view of the full corpora (what rendering and features touch)
    "MiSME v1": {
        "speech": 1440 * 3.7,
        "music": 1000 * 35.0,
        "mixes": 7200 * 35.0,
        "windows": 7200 * 4.5,
    },
    "instrumental MER": {"music": 1610 * 12.0},
    "MuSe VAD": {"music": 6757 * 3 * 15.0},
}


def one_scale(scale: int, workers: int, base: Path) -> dict:
    """Build, render and extract at ``scale`` x the base size; costs per audio second."""
    from builders.demo.sources import write_demo_sources
    from builders.features.extract import extract_features
    from builders.misme.plan import plan_corpus
    from builders.misme.recipe import DEFAULT_RECIPE
    from builders.misme.render import render_dataset
    from builders.misme.spec import spec_for_build

    src, out = base / "src", base / "out"
    size = {
        **BASE,
        "clips_per_actor": BASE["clips_per_actor"] * scale,
        "n_deam": BASE["n_deam"] * scale,
        "n_soundtracks": BASE["n_soundtracks"] * scale,
    }
    write_demo_sources(src, **size)
    recipe = base / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    plan_corpus(
        ravdess=src / "RAVDESS",
        deam=src / "DEAM",
        soundtracks=src / "Soundtracks",
        out=out,
        recipe_path=recipe,
        workers=workers,
        progress=False,
    )
    started = time.perf_counter()
    render_dataset(out, workers=workers, progress=False)
    render_s = time.perf_counter() - started
    spec = spec_for_build(out)
    started = time.perf_counter()
    extract_features(
        out, spec, "speech-egemaps", ["speech", "mixed-window"], workers=workers, progress=False
    )
    speech_s = time.perf_counter() - started
    started = time.perf_counter()
    extract_features(
        out, spec, "music-essentia", ["music", "mixed"], workers=workers, progress=False
    )
    music_s = time.perf_counter() - started
    seconds = _audio_seconds(out)
    clips = [
        ref
        for view in ("speech", "music", "mixed", "mixed-window")
        for ref in view_refs(out, view, ".flac").values()
    ]
    flac_bytes = sum(ref.size() for ref in clips)
    disk_bytes = sum(p.stat().st_size for p in (out / "data").rglob("*.parquet"))
    return {
        "scale": scale,
        "clips": len(clips),
        "audio_s": seconds,
        "render_per_audio_s": render_s * workers / sum(seconds.values()),
        "speech_features_per_audio_s": speech_s
        * workers
        / (seconds["speech"] + seconds["windows"]),
        "music_features_per_audio_s": music_s * workers / (seconds["music"] + seconds["mixes"]),
        "flac_bytes_per_audio_s": flac_bytes / sum(seconds.values()),
        "disk_bytes_per_audio_s": disk_bytes / sum(seconds.values()),
        "peak_worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "driver_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _audio_seconds(out: Path) -> dict[str, float]:
    sources = pq.read_table(out / "manifests" / "sources.parquet").to_pylist()
    mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    return {
        "speech": sum(s["duration_s"] for s in sources if s["corpus"] in SPEECH_CORPORA),
        "music": sum(s["duration_s"] for s in sources if s["corpus"] not in SPEECH_CORPORA),
        "mixes": sum(m["music_duration_s"] for m in mixes),
        "windows": sum(m["window_s"] for m in mixes),
    }


def project(costs: dict, workers: int) -> list[str]:
    """Wall time, disk and memory of the full corpora from the largest scale's costs."""
    lines = [
        f"{'corpus':<18}{'render':>10}{'features':>10}{'disk':>11}   wall time on N workers "
        f"(render + features)"
    ]
    for name, views in FULL.items():
        audio = sum(views.values())
        render = audio * costs["render_per_audio_s"]
        speech = (views.get("speech", 0) + views.get("windows", 0)) * costs[
            "speech_features_per_audio_s"
        ]
        music = (views.get("music", 0) + views.get("mixes", 0)) * costs[
            "music_features_per_audio_s"
        ]
        disk_gb = (
            audio * costs["disk_bytes_per_audio_s"] / 1e9
        )  # the shards: each clip is stored once
        walls = ", ".join(
            f"{n}: {(render + speech + music) / n / 3600:.1f} h" for n in (workers, 8, 32, 128)
        )
        lines.append(
            f"{name:<18}{render / 3600:>8.1f} h{(speech + music) / 3600:>8.1f} h{disk_gb:>9.1f} GB   "
            f"{walls}"
        )
    lines.append(
        f"memory: the largest worker peaked at {costs['peak_worker_mb']:.0f} MB; it does not grow with "
        "the corpus (see the scales above), so each Ray worker needs about that much"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=at_least(1), default=2)
    parser.add_argument("--scales", type=at_least(1), nargs="+", default=[1, 2, 4])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["MISME_NO_PROGRESS"] = "1"
    if args.one is not None:
        base = Path(tempfile.mkdtemp(prefix="bench-scale-"))
        try:
            print(json.dumps(one_scale(args.one, args.workers, base)))
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return 0
    results = []
    for scale in args.scales:
        run = subprocess.run(
            [sys.executable, __file__, "--one", str(scale), "--workers", str(args.workers)],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            print(
                f"scale {scale} failed (exit {run.returncode}):\n{run.stderr.strip()}",
                file=sys.stderr,
            )
            return 1
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(
        f"{'scale':>5}{'clips':>7}{'render s/s':>12}{'eGeMAPS s/s':>13}{'Essentia s/s':>14}{'FLAC B/s':>10}"
        f"{'worker MB':>11}{'driver MB':>11}   (CPU seconds per second of audio, {args.workers} workers)"
    )
    for r in results:
        print(
            f"{r['scale']:>5}{r['clips']:>7}{r['render_per_audio_s']:>12.4f}{r['speech_features_per_audio_s']:>13.4f}"
            f"{r['music_features_per_audio_s']:>14.4f}{r['flac_bytes_per_audio_s']:>10.0f}{r['peak_worker_mb']:>11.0f}"
            f"{r['driver_mb']:>11.0f}"
        )
    print("\nprojection (CPU time on one core; wall time divided over N workers):")
    print("\n".join(project(results[-1], args.workers)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
