"""The instrumental-MER part of the demo: both modes on the synthetic corpora, features, baselines.

``instrumental_demo_step(root, workers)`` writes (or reuses) the demo sources under
``root/instrumental-sources``, compiles the dataset (mode b: DEAM screened with the recorded
Spotify cache and the review list) into ``root/instrumental-build``, builds the thesis way
(mode a: the demo's tracklists) into ``root/instrumental-build-tracklists``, extracts the
``music-essentia`` features of the compiled build and writes the random-forest and dummy
baselines to ``root/instrumental-submissions``.
"""

from __future__ import annotations

import time
from pathlib import Path

from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_tables import read_review_list
from builders.demo.instrumental_sources import MARKER, source_paths, write_instrumental_demo_sources
from builders.engine import check_workers
from builders.features.extract import extract_features
from builders.instrumental_mer.baselines import run_baselines
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import Screening, plan_dataset, summarise
from builders.instrumental_mer.render import render_dataset
from builders.instrumental_mer.spec import spec_for_build

TASKS = ["mer-quadrant", "mer-va"]
DEMO_TREES = 100  # the demo's forests (the command's default is 300): a few seconds on 2 cores


def demo_sources(root: Path, workers: int, seed: int = 0, size: dict | None = None) -> Path:
    """``root/instrumental-sources``, written unless an earlier run left it complete.

    ``size`` overrides the corpus size (``write_instrumental_demo_sources`` arguments).
    """
    src = Path(root) / "instrumental-sources"
    if (src / MARKER).is_file():
        print(f"   reusing {src}")
    else:
        summary = write_instrumental_demo_sources(src, seed, workers=workers, **(size or {}))
        print(
            f"   wrote {src}: {summary['deam_songs']} DEAM songs, "
            f"{summary['soundtracks_excerpts']} "
            f"Soundtracks excerpts, {summary['emopia_clips']} EMOPIA clips"
        )
    return src


def build_both_modes(src: Path, root: Path, workers: int) -> tuple[Path, Path]:
    """Plan and render mode (b) and mode (a); returns (compiled build, tracklist build)."""
    paths = source_paths(src)
    roots = SourceRoots(paths["deam"], paths["soundtracks"], paths["emopia"])
    compiled, tracklists = (
        Path(root) / "instrumental-build",
        Path(root) / "instrumental-build-tracklists",
    )
    screening = Screening(SpotifyReader(paths["spotify_cache"]), read_review_list(paths["screen"]))
    for out, options in (
        (compiled, {"screening": screening}),
        (tracklists, {"tracklists": paths["tracklists"]}),
    ):
        plan = plan_dataset(roots=roots, out=out, workers=workers, **options)
        print("   " + summarise(plan).replace("\n", "\n   "))
        print("   " + render_dataset(out, workers=workers).text.replace("\n", "\n   "))
    return compiled, tracklists


def instrumental_demo_step(
    root: Path, workers: int, *, seed: int = 0, size: dict | None = None
) -> dict:
    """Sources, both builds, features and baselines under ``root``.

    Returns ``{"build", "submissions", "tasks", "files"}``: the compiled build, the
    baselines' folder, the benchmark tasks and, per task, its prediction files. ``seed``
    and ``size`` are the demo sources' (default: seed 0, the default size).
    """
    check_workers(workers)
    root = Path(root)
    started = time.perf_counter()
    src = demo_sources(root, workers, seed, size)
    build, _ = build_both_modes(src, root, workers)
    for path in extract_features(build, spec_for_build(build), "music-essentia", workers=workers):
        print(f"   {path.relative_to(build)}")
    submissions = root / "instrumental-submissions"
    result = run_baselines(build, submissions=submissions, workers=workers, trees=DEMO_TREES)
    print(
        "   "
        + result["results"][["task", "model", "primary_metric", "primary"]]
        .to_string(index=False, float_format=lambda v: f"{v:.4f}")
        .replace("\n", "\n   ")
    )
    print(f"   instrumental MER done in {time.perf_counter() - started:.1f} s")
    return {
        "build": build,
        "submissions": submissions,
        "tasks": list(TASKS),
        "files": {task: list(result["files"].get(task, [])) for task in TASKS},
    }
