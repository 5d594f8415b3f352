"""The pandas adapter: :mod:`benchmark.io.arrays`' results as frames."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from benchmark.io.arrays import SolutionArrays, read_prediction_arrays, read_solution_parts
from benchmark.io.arrow import decoded
from benchmark.io.groups import with_solution_columns
from benchmark.io.load import DEFAULT_MAX_BYTES
from benchmark.tasks import Task

if TYPE_CHECKING:
    import pandas as pd


def read_solution(path: Path, task: Task, *, group_columns: bool = False) -> pd.DataFrame:
    """Read a solution file: columns ``id`` (str), ``fold`` (int64) and the task's targets.

    Classification targets become a categorical with the task's labels (codes or names
    accepted in the file); regression targets float64. A regression solution may name its
    targets' scale in a ``scale`` column (one value, e.g. ``[0,1]`` or ``1-9``: the
    ``muse-vad`` task's scale depends on the lexicon); it is kept as a text column. Other
    extra columns are ignored, unless ``group_columns``: then the frame also has the
    columns :func:`~benchmark.io.groups.with_solution_columns` adds (a Parquet file's text
    columns are taken from the one read of the file). Any problem raises
    :class:`BenchmarkError`.
    """
    arrays, text = read_solution_parts(path, task)
    frame = solution_frame(arrays, task)
    if not group_columns:
        return frame
    if text is None:
        return with_solution_columns(frame, path)
    return frame.assign(**{c: decoded(a).to_pandas().array for c, a in text.items()})


def solution_frame(solution: SolutionArrays, task: Task) -> pd.DataFrame:
    """The frame of :func:`read_solution` (without the text columns)."""
    import pandas as pd

    frame = pd.DataFrame({"id": solution.ids.to_pandas(), "fold": solution.folds})
    for target, values in solution.targets.items():
        frame[target] = _as_column(values, task)
    if solution.scale is not None:
        frame["scale"] = solution.scale
    return frame


def read_predictions(
    path: Path, solution: pd.DataFrame, task: Task, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> pd.DataFrame:
    """Read and strictly validate a prediction file against ``solution``.

    Returns columns ``id`` + targets aligned row for row with ``solution`` (same id
    order), or raises :class:`InvalidSubmission` listing every problem found (capped at
    ``MAX_PROBLEMS``). A missing file raises :class:`BenchmarkError`.
    """
    import pandas as pd

    columns = read_prediction_arrays(
        path, pa.array(solution["id"], type=pa.string()), task, max_bytes=max_bytes
    )
    frame = pd.DataFrame({"id": solution["id"].array})
    for target, values in columns.items():
        frame[target] = _as_column(values, task)
    return frame


def _as_column(values: np.ndarray, task: Task):
    """A frame's column of parsed values: label codes become a categorical of the labels."""
    if task.kind == "classification":
        import pandas as pd

        return pd.Categorical.from_codes(values, categories=list(task.labels))
    return values
