"""Render phase: every clip is a pure function of its manifest row and its source file.

Each ``clips.parquet`` row becomes an :class:`~builders.excerpts.ExcerptUnit`
(``[start_s, start_s + duration_s)`` of the source, at the recipe's rate, channels and
format) rendered through the engine by :func:`~builders.excerpts.render_excerpts`, which
resumes finished clips (``OUT/audio/clips/<id>.json`` records). Then the checksums are
written back into ``clips.parquet`` (``audio_sha256``, ``render_gain_db``), and the Hugging
Face config ``clips``, the solutions, the digest and the card are written.
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
from builders.common.manifest import read_manifest_table
from builders.engine import check_workers
from builders.errors import UserError
from builders.excerpts import ExcerptUnit, render_excerpts
from builders.hf.spec import DatasetSpec
from builders.instrumental_mer import export
from builders.instrumental_mer.recipe import build_recipe
from builders.instrumental_mer.spec import VIEW, dataset_spec

RESULT_TYPES = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
HINT = "run `misme-build instrumental-mer plan` first"


@dataclass(frozen=True)
class RenderSummary:
    """What :func:`render_dataset` did."""

    out: Path
    clips: int
    rendered: int
    resumed: int
    attenuated: int
    digest: str

    @property
    def text(self) -> str:
        return (
            f"rendered {self.rendered} clip(s), resumed {self.resumed}; clips: {self.clips}; "
            f"peak-normalised: {self.attenuated}\n"
            f"dataset digest: {self.digest}\n"
            f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})"
        )


def excerpt_units(
    clips: list[dict],
    sources: Mapping[str, dict],
    roots: Mapping[str, str],
    out: Path,
    spec: DatasetSpec,
) -> list[ExcerptUnit]:
    """One work unit per clip row (the source's sha256 from ``sources.parquet``)."""
    units = []
    for row in clips:
        source = sources.get(row["source_id"])
        if source is None:
            raise UserError(
                f"clips.parquet names source {row['source_id']} (clip {row['clip_id']}), which is "
                "not in sources.parquet: re-plan"
            )
        clip = export.clip_file(out, spec, row["clip_id"])
        units.append(
            ExcerptUnit(
                row["clip_id"],
                source["corpus"],
                source["path"],
                source["sha256"],
                float(row["start_s"]),
                float(row["duration_s"]),
                dict(roots),
                spec.output,
                str(clip),
                str(clip.with_suffix(".json")),
            )
        )
    return units


def remove_unplanned_clips(folder: Path, clip_ids: set[str]) -> int:
    """Delete clips and records of ``folder`` that the manifest no longer names (a re-plan)."""
    removed = 0
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        if (
            path.is_file()
            and not path.name.startswith(".")
            and path.suffix in (".flac", ".wav", ".json")
        ):
            if path.stem not in clip_ids:
                path.unlink()
                removed += 1
    return removed


def write_back(path: Path, table: pa.Table, results: list[dict]) -> pa.Table:
    """Replace the render-result columns of ``clips.parquet`` with ``results`` (atomically)."""
    by_id = {result["id"]: result for result in results}
    table = table.drop_columns([c for c in RESULT_TYPES if c in table.column_names])
    ids = table.column("clip_id").to_pylist()
    for column, kind in RESULT_TYPES.items():
        table = table.append_column(
            pa.field(column, kind), pa.array([by_id[i][column] for i in ids], kind)
        )
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=9, use_dictionary=False)
    return table


def render_dataset(
    out: Path, *, workers: int = 1, roots: Mapping[str, Path] | None = None, progress: bool = True
) -> RenderSummary:
    """Render every clip of OUT/manifests, then the dataset, solutions, digest and card."""
    out = Path(out)
    check_workers(workers)
    try:
        return _render(out, workers, roots, progress)
    except OSError as error:
        where = error.filename or out
        raise UserError(
            f"cannot write the build under {out}: {where}: {error.strerror or error}"
        ) from error


def _render(
    out: Path, workers: int, roots: Mapping[str, Path] | None, progress: bool
) -> RenderSummary:
    started = time.time()
    manifests = out / "manifests"
    clips_table = read_manifest_table(manifests / "clips.parquet", hint=HINT)
    sources = {
        row["source_id"]: row
        for row in read_manifest_table(manifests / "sources.parquet", hint=HINT).to_pylist()
    }
    spec = dataset_spec(build_recipe(out))
    resolved = resolve_roots(out, roots, {source["corpus"] for source in sources.values()})
    folder = out / "audio" / VIEW
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise UserError(f"output folder is not writable: {folder}")
    remove_stale_temp_files(folder, started)
    clips = clips_table.to_pylist()
    remove_unplanned_clips(folder, {row["clip_id"] for row in clips})
    results = render_excerpts(
        excerpt_units(clips, sources, resolved, out, spec), workers=workers, progress=progress
    )
    clips = write_back(manifests / "clips.parquet", clips_table, results).to_pylist()
    export.export_clips(out, spec, clips)
    export.write_solutions(out, clips)
    digest = export.finalize_build(out, spec)
    return RenderSummary(
        out,
        len(results),
        sum(not r["resumed"] for r in results),
        sum(r["resumed"] for r in results),
        sum(r["render_gain_db"] < 0 for r in results),
        digest,
    )
