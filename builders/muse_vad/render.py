"""Render: every frame of ``frames.parquet`` as a clip, then the Hugging Face dataset.

Each frame is an :class:`~builders.excerpts.ExcerptUnit`: ``[start_s, start_s + duration_s)``
of its source cut at the source's rate, mixed to the recipe's channels, resampled with soxr
HQ to the recipe's rate, peak-guarded, 16-bit (v1: 16 kHz mono FLAC), written to
``OUT/audio/frames/<frame_id>.flac`` with its resume record ``<frame_id>.json``. Killing a
render and running it again resumes. The checksums go back into ``frames.parquet``
(``audio_sha256``, ``render_gain_db``), then the configs, solution, digest and card are
written (:mod:`builders.muse_vad.export`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_file, remove_stale_temp_files
from builders.common.build_state import resolve_roots
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_table
from builders.engine import Engine, resolve_engine
from builders.errors import UserError
from builders.excerpts import ExcerptUnit, render_excerpts
from builders.muse_vad import export
from builders.muse_vad.recipe import build_recipe
from builders.muse_vad.spec import AUDIO_CORPUS, FRAMES, dataset_spec

RESULTS = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
HINT = "run `misme-build muse-vad plan ... --audio AUDIO_DIR` first"


@dataclass(frozen=True)
class RenderSummary:
    """What :func:`render_dataset` did."""

    out: Path
    frames: int
    rendered: int
    resumed: int
    attenuated: int
    digest: str

    @property
    def text(self) -> str:
        return (
            f"rendered {self.rendered} frame(s), resumed {self.resumed}; frames {self.frames} "
            f"({self.attenuated} scaled down to full scale)\n"
            f"dataset digest: {self.digest}\n"
            f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})"
        )


def frame_units(
    frames: list[dict], sources: Mapping[str, dict], roots: dict[str, str], out: Path, output
) -> list[ExcerptUnit]:
    """One excerpt unit per frame row (its source row from ``sources`` by source id)."""
    folder = Path(out) / "audio" / FRAMES
    units = []
    for row in frames:
        source = sources.get(row["source_id"])
        if source is None:
            raise UserError(
                f"frames.parquet names source {row['source_id']} which is not in sources.parquet"
            )
        units.append(
            ExcerptUnit(
                row["frame_id"],
                AUDIO_CORPUS,
                source["path"],
                source["sha256"],
                float(row["start_s"]),
                float(row["duration_s"]),
                roots,
                output,
                str(folder / f"{row['frame_id']}{output.suffix}"),
                str(folder / f"{row['frame_id']}.json"),
            )
        )
    return units


def drop_unplanned(folder: Path, frame_ids: set[str]) -> list[Path]:
    """Remove the clips and records of frames a re-plan no longer has (e.g. another
    ``frame_s``), so the view holds exactly the planned frames; returns what was removed."""
    stale = [
        p
        for p in sorted(folder.glob("*"))
        if p.suffix in (".flac", ".wav", ".json")
        and not p.name.startswith(".")
        and p.stem not in frame_ids
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_back(path: Path, table: pa.Table, results: list[dict]) -> pa.Table:
    """``frames.parquet`` with the render's columns (replaced if present), written atomically."""
    by_id = {r["id"]: r for r in results}
    table = table.drop_columns([c for c in RESULTS if c in table.column_names])
    ids = table.column("frame_id").to_pylist()
    for column, kind in RESULTS.items():
        table = table.append_column(
            pa.field(column, kind), pa.array([by_id[i][column] for i in ids], kind)
        )
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=9, use_dictionary=False)
    return table


def render_dataset(
    out: Path,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: Mapping[str, Path | str] | None = None,
    progress: bool = True,
    wait: bool = False,
) -> RenderSummary:
    """Render every frame of OUT, then the configs, solution, digest and card.

    The frames are rendered by ``engine`` (default: ``workers`` local processes); ``roots``
    (``{"audio": PATH}``) overrides the audio folder recorded by the plan. One run at a time
    per OUT (``wait`` waits for the other).
    """
    out = Path(out)
    engine = resolve_engine(engine, workers)
    build_recipe(out)  # a missing plan is reported before anything is locked or written
    try:
        with build_lock(out, "render", wait=wait):
            return _render(out, engine, roots, progress)
    except OSError as error:
        where = error.filename or out
        raise UserError(
            f"cannot write the build under {out}: {where}: {error.strerror or error}"
        ) from error


def _render(
    out: Path, engine: Engine, roots: Mapping[str, Path | str] | None, progress: bool
) -> RenderSummary:
    started = time.time()
    manifests = out / "manifests"
    recipe = build_recipe(out)
    frames_table = read_manifest_table(manifests / "frames.parquet", hint=HINT)
    if frames_table.num_rows == 0:
        raise UserError(
            f"{manifests / 'frames.parquet'} has no frames: the plan was made without audio; {HINT}"
        )
    sources = {
        s["source_id"]: s
        for s in read_manifest_table(manifests / "sources.parquet", hint=HINT).to_pylist()
    }
    resolved = resolve_roots(out, roots, [AUDIO_CORPUS], check=engine.backend == "local")
    spec = dataset_spec(recipe)
    folder = out / "audio" / FRAMES
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise UserError(f"output folder is not writable: {folder}")
    remove_stale_temp_files(folder, started)
    drop_unplanned(folder, set(frames_table.column("frame_id").to_pylist()))
    units = frame_units(frames_table.to_pylist(), sources, resolved, out, spec.output)
    results = render_excerpts(units, engine=engine, progress=progress, desc="render frames")
    frames_table = write_back(manifests / "frames.parquet", frames_table, results)
    digest = export.export_dataset(out, spec, frames_table.to_pylist())
    return RenderSummary(
        out,
        len(results),
        sum(not r["resumed"] for r in results),
        sum(r["resumed"] for r in results),
        sum(r["render_gain_db"] < 0 for r in results),
        digest,
    )
