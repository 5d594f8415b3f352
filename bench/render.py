"""Render throughput against its floor, and peak memory. Prints figures; asserts nothing.

    python bench/render.py [--small] [--workers N] [--keep DIR]

Builds the demo corpus (builders.demo.sources) and plans it (builders.misme.plan), then times:
- clips: rendering every clip (speech, music, mixed, mixed-window) with
  ``builders.misme.batches.render_batch``, which writes them straight into their staged
  parts of the shards (the one render path, ``builders.hf.batches``);
- export: the rest of ``render_dataset`` (``render.export_rendered``: manifest write-back,
  publishing the parts, solutions, build report, digest, card), on the render's results;
- resume: ``render_dataset`` re-run on the finished build (it hashes every clip's shard range
  against its resume record, renders nothing, hard-links the unchanged parts, then exports
  again), printed apart: no part of a render;
- floor: decoding every source file once + encoding every output clip once (FLAC) into a
  file, the least any renderer must do. Targets: clips / floor <= 1.3 and the whole render,
  (clips + export) / floor, <= 1.3. Also printed: the in-memory floor (encoding into a
  buffer, nothing written), which leaves out the file writes a renderer cannot skip.
Also printed: the CPU seconds of the whole render and of the floor, and their ratio, which
leave out the waits for the disk (on a shared machine whose writes stall for seconds at
random, the wall-clock ratios swing by 0.5; the CPU ratio does not).
Peak memory is the maximum resident set size of this process and of its worker processes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builders.common import audio as audio_io  # noqa: E402
from builders.common.audio import OutputSpec  # noqa: E402
from builders.common.build_state import resolve_roots  # noqa: E402
from builders.common.clips import view_refs  # noqa: E402
from builders.demo.sources import write_demo_sources  # noqa: E402
from builders.engine import Engine  # noqa: E402
from builders.misme import render  # noqa: E402
from builders.misme.plan import plan_corpus  # noqa: E402
from builders.misme.recipe import DEFAULT_RECIPE, build_recipe  # noqa: E402
from builders.misme.spec import dataset_spec  # noqa: E402

OUTPUT = OutputSpec(44100, 2)

SMALL = {
    "clips_per_actor": 2,
    "n_deam": 8,
    "n_soundtracks": 4,
    "deam_duration_range": (10.0, 20.0),
    "soundtracks_duration_s": 12.0,
}


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children so far."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def floor_seconds(
    out: Path, roots: dict[str, str], scratch: Path
) -> tuple[float, float, float, int, int]:
    """(floor with files, its CPU seconds, floor in memory, inputs, outputs): decode each
    source once, encode each rendered clip once into a file in ``scratch`` / into a buffer
    (clips read untimed)."""
    sources = pq.read_table(out / "manifests" / "sources.parquet").to_pylist()
    decode, to_file, in_memory, n_out, cpu = 0.0, 0.0, 0.0, 0, 0.0
    for row in sources:
        path = Path(roots[row["corpus"]]) / row["path"]
        start, cpu_start = time.perf_counter(), cpu_seconds()
        sf.read(str(path), dtype="float32", always_2d=True)
        decode += time.perf_counter() - start
        cpu += cpu_seconds() - cpu_start
    scratch.mkdir(parents=True, exist_ok=True)
    clips = [
        ref
        for view in ("speech", "music", "mixed", "mixed-window")
        for ref in view_refs(out, view, ".flac").values()
    ]
    for clip in clips:  # from the shards that hold them (a finished build keeps no clip files)
        pcm, _ = audio_io.decode_pcm(clip.read_bytes())
        start, cpu_start = time.perf_counter(), cpu_seconds()
        sf.write(
            str(scratch / f"{n_out}.flac"), pcm, OUTPUT.sample_rate, format="FLAC", subtype="PCM_16"
        )
        to_file += time.perf_counter() - start
        cpu += cpu_seconds() - cpu_start
        start = time.perf_counter()
        audio_io.encode(pcm, OUTPUT)
        in_memory += time.perf_counter() - start
        n_out += 1
    shutil.rmtree(scratch, ignore_errors=True)
    return decode + to_file, cpu, decode + in_memory, len(sources), n_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the small test-size demo corpus")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    os.environ["MISME_NO_PROGRESS"] = "1"
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        src, out = base / "src", base / "out"
        write_demo_sources(src, **(SMALL if args.small else {}))
        recipe = None
        if args.small:  # 2 music clips per fold: K = 2
            recipe = base / "recipe.toml"
            recipe.write_text(
                DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
            )
        start = time.perf_counter()
        plan_corpus(
            ravdess=src / "RAVDESS",
            deam=src / "DEAM",
            soundtracks=src / "Soundtracks",
            out=out,
            recipe_path=recipe,
            workers=args.workers,
            progress=False,
        )
        print(f"plan: {time.perf_counter() - start:.1f} s")

        sources = pq.read_table(out / "manifests" / "sources.parquet").to_pylist()
        mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
        roots = resolve_roots(out, None, (s["corpus"] for s in sources))
        shutil.rmtree(out / "audio", ignore_errors=True)
        shutil.rmtree(out / "data", ignore_errors=True)
        batches = render.plan_batches(
            sources, mixes, roots, out / "audio", OUTPUT, -35.0, dataset_spec(build_recipe(out))
        )
        start, cpu_start = time.perf_counter(), cpu_seconds()
        results = render.run_batches(batches, Engine(workers=args.workers), progress=False)
        clips = time.perf_counter() - start
        start = time.perf_counter()
        digests = render.export_rendered(out, results)
        export = time.perf_counter() - start
        render_cpu = cpu_seconds() - cpu_start
        start = time.perf_counter()
        summary = render.render_dataset(out, workers=args.workers, progress=False)
        resume = time.perf_counter() - start
        floor, floor_cpu, floor_in_memory, n_in, n_out = floor_seconds(out, roots, base / "floor")

        audio_s = sum(m["music_frames"] for m in mixes) / 44100
        print(
            f"corpus: {n_in} sources, {len(mixes)} mixes ({audio_s / 60:.1f} min of mixed audio), "
            f"{n_out} output clips, workers {args.workers}"
        )
        print(
            f"render clips: {clips:.2f} s; export (write-back, shards, solutions, report, digest, card): "
            f"{export:.2f} s; total {clips + export:.2f} s"
        )
        print(
            f"resume re-run (checks every clip, renders none, exports again): {resume:.2f} s "
            f"({summary.resumed} units resumed, {summary.rendered} rendered)"
        )
        print(
            f"floor (decode inputs once + encode outputs once into files, 1 process): {floor:.2f} s"
        )
        ratio = clips * args.workers / floor
        print(
            f"ratio clips x workers / floor = {ratio:.2f} (target <= 1.3: {'ok' if ratio <= 1.3 else 'MISSED'})"
        )
        print(
            f"floor in memory (outputs encoded into a buffer, no files written): {floor_in_memory:.2f} s; "
            f"ratio {clips * args.workers / floor_in_memory:.2f}"
        )
        total = (clips + export) * args.workers / floor
        print(
            f"ratio total x workers / floor = {total:.2f} (target <= 1.3: {'ok' if total <= 1.3 else 'MISSED'})"
        )
        print(
            f"CPU seconds (user + system, waits for the disk left out): whole render {render_cpu:.2f}, "
            f"floor {floor_cpu:.2f}; ratio {render_cpu / floor_cpu:.2f}"
        )
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory: this process {own:.0f} MB, largest worker/child {children:.0f} MB")
        print(
            f"dataset digest: {digests.dataset}; audio digest: {digests.audio}"
            + (
                ""
                if summary.digests == digests
                else f" (MISMATCH: the resume gave {summary.digests})"
            )
        )
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
