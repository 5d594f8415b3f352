"""The toy render: every planned clip cut from its tone, then the Hugging Face dataset.

Each ``clips.parquet`` row is an excerpt (``builders.excerpts``: ``[start_s, start_s +
duration_s)`` of its source at the recipe's rate, channels and format), rendered through the
engine straight into the parts of the config ``clips`` (the one render path,
``builders.hf.batches``; the columns of ``CONFIG_COLUMNS`` beside the audio) and resumed from
``OUT/audio/clips/<id>.json``; then one solution file per task of ``TASKS``, the digest and
the card are written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from builders.engine import Engine
from builders.excerpts import ExcerptView, RenderSummary, render_view
from builders.hf.card import finalize_dataset
from builders.hf.digest import Digests
from builders.hf.solutions import write_solution
from tests.builders.toy_dataset.recipe import NAME
from tests.builders.toy_dataset.spec import VIEW, spec_for_build

CONFIG_COLUMNS: dict[str, pa.DataType] = {
    "fold": pa.int64(),
    "mood": pa.string(),
    "energy": pa.float64(),
    "audio_sha256": pa.string(),
}
TASKS: dict[str, dict[str, pa.DataType]] = {
    f"{NAME}-mood": {"mood": pa.string()},
    f"{NAME}-energy": {"energy": pa.float64()},
}


def clips_table(clips: Sequence[Mapping]) -> pa.Table:
    """The ``clips`` config's columns (all but the audio) of manifest rows with their render
    results, in their order."""
    data = {"id": pa.array([row["clip_id"] for row in clips], pa.string())}
    for column, kind in CONFIG_COLUMNS.items():
        data[column] = pa.array([row[column] for row in clips], kind)
    return pa.table(data)


CLIPS = ExcerptView(
    "clips.parquet",
    "clip_id",
    VIEW,
    "clip",
    f"run `misme-build {NAME} plan` first",
    config="clips",
    table=clips_table,
)


def render_dataset(
    out: Path,
    *,
    engine: Engine | None = None,
    roots: Mapping[str, Path | str] | None = None,
    wait: bool = False,
    workers: int = 1,
    progress: bool = True,
) -> RenderSummary:
    """Render every clip of OUT/manifests, then the dataset, solutions, digest and card."""
    out = Path(out)
    spec = spec_for_build(out)

    def publish(clips: list[dict]) -> Digests:
        for task, targets in TASKS.items():
            write_solution(out, task, clips, "clip_id", targets)
        return finalize_dataset(out, spec)

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
