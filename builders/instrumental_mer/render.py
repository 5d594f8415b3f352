"""Render phase: every clip is a pure function of its manifest row and its source file.

Each ``clips.parquet`` row is an excerpt (``builders.excerpts``: ``[start_s, start_s +
duration_s)`` of the source, at the recipe's rate, channels and format), rendered through
the engine straight into the parts of the Hugging Face config ``clips`` (the one render
path, ``builders.hf.batches``: each fold's clips in id order, up to
``builders.excerpts.MAX_EXCERPTS`` per part) and resumed from ``OUT/audio/clips/<id>.json``;
then the checksums go back into ``clips.parquet`` (``audio_sha256``, ``render_gain_db``),
the config is published and the solutions, the digest and the card are written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from builders.engine import Engine
from builders.excerpts import ExcerptView, RenderSummary, render_view
from builders.hf.digest import Digests
from builders.instrumental_mer import export
from builders.instrumental_mer.recipe import build_recipe
from builders.instrumental_mer.spec import VIEW, dataset_spec

CLIPS = ExcerptView(
    "clips.parquet",
    "clip_id",
    VIEW,
    "clip",
    "run `misme-build instrumental-mer plan` first",
    config="clips",
    table=export.clips_table,
)


def render_dataset(
    out: Path,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: Mapping[str, Path | str] | None = None,
    progress: bool = True,
    wait: bool = False,
) -> RenderSummary:
    """Render every clip of OUT/manifests into the dataset, then solutions, digest and card."""
    out = Path(out)
    spec = dataset_spec(build_recipe(out))

    def publish(clips: list[dict]) -> Digests:
        export.write_solutions(out, clips, spec)
        return export.finalize_build(out, spec)

    return render_view(
        out,
        CLIPS,
        spec,
        publish,
        workers=workers,
        engine=engine,
        roots=roots,
        progress=progress,
        wait=wait,
    )
