"""Render: every frame of ``frames.parquet`` as a clip, then the Hugging Face dataset.

Each frame is an excerpt (``builders.excerpts``): ``[start_s, start_s + duration_s)`` of its
source cut at the source's rate, mixed to the recipe's channels, resampled with soxr HQ to
the recipe's rate, peak-guarded, 16-bit (v1: 16 kHz mono FLAC), written straight into the
parts of the ``frames`` config (the one render path, ``builders.hf.batches``: each fold's
frames in id order, up to ``builders.excerpts.MAX_EXCERPTS`` per part) under its name
``OUT/audio/frames/<frame_id>.flac``, with its resume record ``<frame_id>.json``. Killing a
render and running it again resumes. The checksums go back into ``frames.parquet``
(``audio_sha256``, ``render_gain_db``), then the ``tracks`` config, solution, digest and card
are written (:mod:`builders.muse_vad.export`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from builders.engine import Engine
from builders.excerpts import ExcerptView, RenderSummary, render_view
from builders.muse_vad import export
from builders.muse_vad.recipe import build_recipe
from builders.muse_vad.spec import FRAMES, dataset_spec

FRAME_VIEW = ExcerptView(
    "frames.parquet",
    "frame_id",
    FRAMES,
    "frame",
    "run `misme-build muse-vad plan ... --audio AUDIO_DIR` first",
    config=FRAMES,
    table=export.frames_table,
    join=export.join_tracks,
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
    """Render every frame of OUT, then the configs, solution, digest and card.

    The frames are rendered by ``engine`` (default: ``workers`` local processes); ``roots``
    (``{"audio": PATH}``) overrides the audio folder recorded by the plan. One run at a time
    per OUT (``wait`` waits for the other).
    """
    out = Path(out)
    # a missing plan is reported before anything is locked or written
    spec = dataset_spec(build_recipe(out))
    return render_view(
        out,
        FRAME_VIEW,
        spec,
        lambda frames: export.export_dataset(out, spec, frames),
        workers=workers,
        engine=engine,
        roots=roots,
        progress=progress,
        wait=wait,
    )
