"""Engine throughput: render units per second, local vs Ray, 1 and 2 workers. Prints figures.

    python bench/engine.py [--small] [--keep DIR]

Builds and plans the demo corpus (``--small``: the test-size one), then renders every clip
with each engine from scratch (same batches, same bytes: the digest is printed per run),
and measures the Ray overhead per unit with units that do nothing. Ray's render times are
taken with its local cluster already up; the cluster's start-up is printed separately.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builders.common.audio import OutputSpec  # noqa: E402
from builders.common.build_state import resolve_roots  # noqa: E402
from builders.demo.sources import write_demo_sources  # noqa: E402
from builders.engine import Engine, map_units  # noqa: E402
from builders.engine.ray_backend import connected  # noqa: E402
from builders.misme import render  # noqa: E402
from builders.misme.plan import plan_corpus  # noqa: E402
from builders.misme.recipe import DEFAULT_RECIPE, build_recipe  # noqa: E402
from builders.misme.spec import dataset_spec  # noqa: E402

SMALL = {
    "clips_per_actor": 2,
    "n_deam": 8,
    "n_soundtracks": 4,
    "deam_duration_range": (10.0, 20.0),
    "soundtracks_duration_s": 12.0,
}
DEMO = {
    "clips_per_actor": 2,
    "n_deam": 36,
    "n_soundtracks": 24,
    "deam_duration_range": (10.0, 25.0),
    "soundtracks_duration_s": 15.0,
}


def nothing(x: int) -> int:
    return x


def render_once(out: Path, engine: Engine) -> tuple[float, int, str]:
    """(seconds, clips, first mixes' checksums) of rendering every batch from scratch."""
    shutil.rmtree(out / "audio", ignore_errors=True)
    shutil.rmtree(out / "data", ignore_errors=True)
    sources = pq.read_table(out / "manifests" / "sources.parquet").to_pylist()
    mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    roots = resolve_roots(out, None, (s["corpus"] for s in sources))
    batches = render.plan_batches(
        sources,
        mixes,
        roots,
        out / "audio",
        OutputSpec(44100, 2),
        -35.0,
        dataset_spec(build_recipe(out)),
    )
    start = time.perf_counter()
    results = render.run_batches(batches, engine, progress=False)
    seconds = time.perf_counter() - start
    checksum = ",".join(r["audio_sha256"][:8] for r in results["mix"][:3])
    return seconds, sum(len(b.rows) for b in batches), checksum


def ray_overhead(workers: int, n: int = 400) -> tuple[float, float]:
    """(seconds to start a local cluster, seconds per no-op unit) on Ray, cluster already up."""
    start = time.perf_counter()
    with connected(Engine("ray", workers)):
        startup = time.perf_counter() - start
        start = time.perf_counter()
        map_units(nothing, list(range(n)), engine=Engine("ray", workers), progress=False)
        per_unit = (time.perf_counter() - start) / n
    return startup, per_unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the small test-size demo corpus")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    os.environ["MISME_NO_PROGRESS"] = "1"
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-engine-"))
    try:
        src, out = base / "src", base / "out"
        write_demo_sources(src, **(SMALL if args.small else DEMO))
        recipe = base / "recipe.toml"
        k = "2" if args.small else "5"
        recipe.write_text(
            DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", f"mixes_per_speech = {k}")
        )
        plan_corpus(
            ravdess=src / "RAVDESS",
            deam=src / "DEAM",
            soundtracks=src / "Soundtracks",
            out=out,
            recipe_path=recipe,
            workers=2,
            progress=False,
        )
        seen = set()
        for engine in (Engine("local", 1), Engine("local", 2), Engine("ray", 1), Engine("ray", 2)):
            with connected(engine) if engine.backend == "ray" else contextlib.nullcontext():
                seconds, clips, checksum = render_once(out, engine)  # a Ray cluster is up already
            seen.add(checksum)
            print(
                f"{engine.backend:>5} x{engine.workers}: {clips} clips in {seconds:6.1f} s = "
                f"{clips / seconds:5.1f} clips/s (first mixes {checksum})"
            )
        print(f"same clips from every engine: {len(seen) == 1}")
        for workers in (1, 2):
            startup, per_unit = ray_overhead(workers)
            print(
                f"ray x{workers}: local cluster start {startup:.1f} s; overhead {1000 * per_unit:.1f} ms per "
                "no-op unit (a render batch: up to 16 speech clips, or up to 32 mixes with their music clips)"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
