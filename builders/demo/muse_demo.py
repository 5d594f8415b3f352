"""The MuSe-style VAD part of the demo: sources -> build (tags mode) -> features -> baselines.

Everything goes below the demo folder: ``muse-sources/`` (recorded caches, lexicon, audio;
reused when present), ``muse-build/`` (the dataset) and ``muse-submissions/`` (the
baselines' prediction files for the benchmark task ``muse-vad``). Re-running reuses the
sources, keeps an unchanged plan, resumes the render and reads the feature cache.
"""

from __future__ import annotations

from pathlib import Path

from builders.demo.muse_sources import MARKER, source_paths, write_muse_demo_sources
from builders.engine import check_workers

TASK = "muse-vad"


def muse_sources_step(
    root: Path, seed: int = 0, size: dict | None = None, workers: int = 1
) -> dict:
    """The demo's MuSe sources below ``root/muse-sources`` (written unless already there)."""
    src = Path(root) / "muse-sources"
    if (src / MARKER).is_file():
        print(f"   reusing {src}")
        return source_paths(src)
    summary = write_muse_demo_sources(src, seed, workers=workers, **(size or {}))
    print(f"   wrote {src}: {summary['tracks']} tracks, {summary['audio_files']} audio files")
    return source_paths(src)


def muse_demo_step(root: Path, workers: int, *, seed: int = 0, size: dict | None = None) -> dict:
    """Build the demo's MuSe-style VAD dataset end to end and score its baselines.

    ``size`` overrides :func:`write_muse_demo_sources`'s corpus size. Returns ``{"build":
    Path, "submissions": Path, "tasks": ["muse-vad"], "files": {"muse-vad": [prediction
    files]}}``.
    """
    from builders.features.extract import extract_features
    from builders.muse_vad.baselines import run_baselines
    from builders.muse_vad.plan import plan_dataset, summarise
    from builders.muse_vad.render import render_dataset
    from builders.muse_vad.spec import spec_for_build

    check_workers(workers)
    root = Path(root).resolve()
    sources = muse_sources_step(root, seed, size, workers)
    build, submissions = root / "muse-build", root / "muse-submissions"
    plan = plan_dataset(
        out=build,
        lastfm_cache=sources["lastfm_cache"],
        lexicon=sources["lexicon"],
        spotify_cache=sources["spotify_cache"],
        audio=sources["audio"],
        workers=workers,
    )
    print(summarise(plan))
    print(render_dataset(build, workers=workers).text)
    for path in extract_features(build, spec_for_build(build), "music-essentia", workers=workers):
        print(f"   {path.relative_to(build)}")
    result = run_baselines(build, submissions=submissions, workers=workers, seed=seed)
    table = result["results"][["model", "primary_metric", "primary"]]
    print(f"   muse-vad baselines ({result['scale']} scale):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return {
        "build": build,
        "submissions": submissions,
        "tasks": [TASK],
        "files": {TASK: list(result["files"])},
    }
