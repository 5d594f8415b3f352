"""MiSME's render entry: every output clip is a pure function of its manifest row and the sources.

``render_dataset`` drives a whole build folder through the one render path
(``builders.hf.batches``): the batches of ``builders.misme.batches`` (signal maths:
``builders.misme.mixing``) write the clips straight into staged parts of the ``speech``,
``music`` and ``mixed`` configs; ``export_rendered`` then writes the checksums back into the
manifests, publishes the parts, and writes the solutions, build report, digest and card.

Resuming (``builders.common.resume``): a finished unit (one source, or one mix with its SER
window) leaves ``OUT/audio/<view>/<id>.json`` with its results, a key of its inputs and the
sha256 of its clips' bytes, written after its part was renamed into place; a re-run skips
units whose record matches and whose clips are intact where they lie (a staged or published
part). A part that already holds exactly its batch's intact clips is kept (staged) or
hard-linked (published) rather than written again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from builders.common.build_state import resolve_roots
from builders.common.manifest import read_manifest_table
from builders.engine import Engine, resolve_engine
from builders.errors import UserError
from builders.hf import batches as render_path
from builders.hf.digest import Digests
from builders.hf.parts import publish_parts
from builders.misme import build_report, export
from builders.misme.batches import (
    DEFAULT_SPEECH_CACHE_MB,
    MIX_RESULTS,
    SOURCE_RESULTS,
    RenderBatch,
    SpeechCacheFactory,
    part_layout,
    plan_batches,
    render_batch,
)
from builders.misme.mixing import activity_block, measured_overlap, mix_stems, speech_activity
from builders.misme.recipe import build_recipe
from builders.misme.spec import dataset_spec

__all__ = [  # also the names other modules and the benchmarks take from here
    "DEFAULT_SPEECH_CACHE_MB",
    "MIX_RESULTS",
    "SOURCE_RESULTS",
    "RenderSummary",
    "activity_block",
    "check_speech_cache_mb",
    "export_rendered",
    "measured_overlap",
    "mix_stems",
    "part_layout",
    "plan_batches",
    "render_dataset",
    "run_batches",
    "speech_activity",
]
SOURCE_TYPES = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
MIX_TYPES = {
    "mix_gain_db": pa.float64(),
    "overlap": pa.float64(),
    "audio_sha256": pa.string(),
    "audio_window_sha256": pa.string(),
}


@dataclass(frozen=True)
class RenderSummary:
    """What ``render_dataset`` did."""

    out: Path
    counts: dict[str, int]
    rendered: int
    resumed: int
    attenuated: int
    digests: Digests

    @property
    def digest(self) -> str:
        """The dataset digest."""
        return self.digests.dataset

    @property
    def text(self) -> str:
        """A few lines for the command line."""
        counts = ", ".join(f"{view} {n}" for view, n in self.counts.items())
        return (
            f"rendered {self.rendered} unit(s), resumed {self.resumed}; clips: {counts}\n"
            f"attenuated mixes: {self.attenuated}\n"
            f"{self.digests.text}"
            f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})"
        )


def run_batches(
    batches: list[RenderBatch],
    engine: Engine,
    progress: bool,
    speech_cache_mb: float = DEFAULT_SPEECH_CACHE_MB,
) -> dict[str, list[dict]]:
    """Run batches through the engine; results per kind, sorted by id."""
    results: dict[str, list[dict]] = {"speech": [], "music": [], "mix": []}
    done = render_path.run_batches(
        render_batch,
        batches,
        engine,
        progress=progress,
        state=SpeechCacheFactory(speech_cache_mb),
    )
    for result in done:
        results[result.pop("kind")].append(result)
    for kind in results:
        results[kind].sort(key=lambda r: r["id"])
    return results


def export_rendered(out: Path, results: Mapping[str, list[dict]]) -> Digests:
    """Everything after the clips: write ``results`` (:func:`run_batches`') back into the
    manifests, then the shards, solutions, build report, digests and card; returns the digests."""
    out, manifests = Path(out), Path(out) / "manifests"
    recipe = build_recipe(out)
    spec = dataset_spec(recipe)
    sources_table = render_path.write_back(
        manifests / "sources.parquet",
        read_manifest_table(manifests / "sources.parquet"),
        "source_id",
        sorted(results["speech"] + results["music"], key=lambda r: r["id"]),
        SOURCE_TYPES,
    )
    mixes_table = render_path.write_back(
        manifests / "mixes.parquet",
        read_manifest_table(manifests / "mixes.parquet"),
        "mix_id",
        results["mix"],
        MIX_TYPES,
    )
    sources, mixes = sources_table.to_pylist(), mixes_table.to_pylist()
    for config, names in part_layout(sources, mixes).items():
        table = export.config_table(config, export.config_rows(config, sources, mixes))
        publish_parts(out, spec, config, table, names)
    export.write_solutions(out, sources, mixes)
    build_report.write_build_report(out, seed=recipe.seed)
    return export.finalize_build(out, spec)


def check_speech_cache_mb(megabytes: object) -> float:
    """The decoded-speech cache size in MB (>= 0), else a UserError."""
    try:
        value = float(megabytes)
    except (TypeError, ValueError):
        value = math.nan
    if not 0 <= value < math.inf:
        raise UserError(
            f"--speech-cache-mb (or MISME_SPEECH_CACHE_MB) must be a number of megabytes >= 0, "
            f"got {megabytes!r}"
        )
    return value


def render_dataset(
    out: Path,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: dict[str, Path] | None = None,
    progress: bool = True,
    speech_cache_mb: float = DEFAULT_SPEECH_CACHE_MB,
    wait: bool = False,
) -> RenderSummary:
    """Render every view of OUT from OUT/manifests, then shards, solutions, report, digest, card.

    The rate, channels and format come from the build's recipe (``manifests/recipe.toml``);
    the clips are rendered by ``engine`` (default: ``workers`` local processes).
    """
    out = Path(out)
    engine = resolve_engine(engine, workers)
    speech_cache_mb = check_speech_cache_mb(speech_cache_mb)
    read_manifest_table(
        out / "manifests" / "sources.parquet", hint="run `misme-build misme plan` first"
    )
    with render_path.render_lock(out, wait):
        return _render_dataset(out, engine, roots, progress, speech_cache_mb)


def _render_dataset(
    out: Path, engine: Engine, roots: dict[str, Path] | None, progress: bool, speech_cache_mb: float
) -> RenderSummary:
    started = time.time()
    manifests = out / "manifests"
    hint = "run `misme-build misme plan` first"
    sources = read_manifest_table(manifests / "sources.parquet", hint=hint).to_pylist()
    mixes = read_manifest_table(manifests / "mixes.parquet", hint=hint).to_pylist()
    resolved = resolve_roots(
        out, roots, (s["corpus"] for s in sources), check=engine.backend == "local"
    )
    recipe = build_recipe(out)
    spec = dataset_spec(recipe)
    audio_dir = render_path.prepare_audio_dir(out, started)
    batches = plan_batches(
        sources, mixes, resolved, audio_dir, spec.output, recipe.mixing.activity_floor_db, spec
    )
    results = run_batches(batches, engine, progress, speech_cache_mb)
    digests = export_rendered(out, results)
    all_results = results["speech"] + results["music"] + results["mix"]
    return RenderSummary(
        out=out,
        counts={
            "speech": len(results["speech"]),
            "music": len(results["music"]),
            "mixed": len(results["mix"]),
            "mixed-window": len(results["mix"]),
        },
        rendered=sum(not r["resumed"] for r in all_results),
        resumed=sum(r["resumed"] for r in all_results),
        attenuated=sum(r["mix_gain_db"] < 0 for r in results["mix"]),
        digests=digests,
    )
