"""The array model: a solution and a prediction file read into Arrow and numpy arrays.

This is the one reading API; :mod:`benchmark.io.frames` turns its results into pandas
frames. pandas is imported here only when a rare case needs it (a CSV solution's group
columns, a text column of numbers the Arrow cast refuses, duplicate ids to report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmark.errors import BenchmarkError, InvalidSubmission, Problem
from benchmark.io.cells import check_header, parse_ids, parse_numbers, parse_target, row_value, show
from benchmark.io.groups import text_columns, text_values, with_solution_columns
from benchmark.io.join import Keys, align, duplicated, has_duplicates, id_keys
from benchmark.io.load import DEFAULT_MAX_BYTES, SOLUTION_MAX_BYTES, load
from benchmark.io.names import extra_columns
from benchmark.io.raw import Fatal, Problems, Raw
from benchmark.tasks import Task


@dataclass
class SolutionArrays:
    """A solution as arrays: what :func:`~benchmark.io.frames.read_solution`'s frame holds,
    without pandas.

    ``targets``: label codes 0..K-1 (int64) or float64 values per target; ``text``: the
    group and breakdown columns as text, each an Arrow string array (dictionary-encoded as
    the Parquet file had it, see :func:`~benchmark.io.arrow.decoded`), or, for values that
    are not plain text, the object array ``column.astype(str).to_numpy()`` of the frame.
    ``keys``: the hash keys of the ids, made for the duplicate check, kept for the join of
    the predictions' ids (:func:`read_prediction_arrays`).
    """

    ids: pa.Array
    folds: np.ndarray
    targets: dict[str, np.ndarray]
    scale: str | None = None
    text: dict[str, pa.Array | np.ndarray] = field(default_factory=dict)
    keys: Keys | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.folds)


def read_solution_arrays(path: Path, task: Task, *, group_columns: bool = False) -> SolutionArrays:
    """Read a solution file: ids, whole-number folds and the task's targets, strictly checked
    (any problem raises :class:`BenchmarkError`); with ``group_columns``, also its group and
    breakdown columns as text (pandas is imported only for a CSV file's or non-text ones)."""
    arrays, text = read_solution_parts(path, task)
    if group_columns:
        if text is None:
            import pandas as pd

            frame = with_solution_columns(pd.DataFrame({"id": arrays.ids.to_pandas()}), path)
            text = {c: text_values(frame[c]) for c in extra_columns(list(frame.columns))}
        arrays.text = text
    return arrays


def read_solution_parts(
    path: Path, task: Task
) -> tuple[SolutionArrays, dict[str, pa.Array] | None]:
    """The solution's arrays (without ``text``) and, from the same read of a Parquet file,
    its group and breakdown columns when each is text without nulls (else None)."""
    try:
        raw, early = load(Path(path), SOLUTION_MAX_BYTES)
    except Fatal as fatal:
        raise BenchmarkError(f"solution {path}: {fatal.problem}") from None
    return _solution_arrays(raw, early, path, task), text_columns(raw)


def _solution_arrays(raw: Raw, early: list[Problem], path: Path, task: Task) -> SolutionArrays:
    problems = Problems()
    for problem in early:
        problems.add(problem.row, problem.column, problem.message)
    required = ("id", "fold", *task.targets)
    found = check_header(raw, required, problems, allow_extra=True)
    if problems or len(raw) == 0:
        if len(raw) == 0:
            problems.add(None, None, "no data rows")
        _raise_solution(path, problems)
    ids = parse_ids(raw.arrays[found["id"]], raw, problems)
    folds = parse_numbers(raw.arrays[found["fold"]], "fold", raw, problems)
    if np.isfinite(folds).all() and ((folds != np.round(folds)) | (np.abs(folds) >= 2**31)).any():
        problems.add(None, "fold", "folds must be whole numbers (of at most 10 digits)")
    columns = {t: parse_target(raw.arrays[found[t]], t, task, raw, problems) for t in task.targets}
    keys = _unique_id_keys(ids, raw, problems)
    if problems:
        _raise_solution(path, problems)
    scale = _parse_scale(raw, task, problems)
    if problems:
        _raise_solution(path, problems)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return SolutionArrays(ids, folds.astype(np.int64), columns, scale, keys=keys)


def _unique_id_keys(ids: pa.Array | None, raw: Raw, problems: Problems) -> Keys | None:
    """The hash keys of ``ids``; each duplicate id reported."""
    keys = id_keys(ids) if ids is not None else None
    if ids is not None and has_duplicates(ids, keys):
        dup = duplicated(ids.to_numpy(zero_copy_only=False))
        problems.add_rows(
            raw.rows[np.flatnonzero(dup)] - 1,
            "id",
            lambda i: f"duplicate id {show(row_value(ids, raw, i))}",
        )
    return keys


def read_id_list(path: Path) -> SolutionArrays:
    """An ids file (CSV or Parquet with an ``id`` column, others ignored; `export-challenge`
    writes one per task): the ids a prediction file must cover, checked as a solution's are.
    Returns them as a :class:`SolutionArrays` without targets, for :func:`read_prediction_arrays`."""
    try:
        raw, early = load(Path(path), SOLUTION_MAX_BYTES)
    except Fatal as fatal:
        raise BenchmarkError(f"ids file {path}: {fatal.problem}") from None
    problems = Problems()
    for problem in early:
        problems.add(problem.row, problem.column, problem.message)
    found = check_header(raw, ("id",), problems, allow_extra=True)
    if not problems and len(raw) == 0:
        problems.add(None, None, "no data rows")
    ids = parse_ids(raw.arrays[found["id"]], raw, problems) if not problems else None
    keys = _unique_id_keys(ids, raw, problems)
    if problems:
        raise BenchmarkError(
            "ids file " + str(InvalidSubmission(str(path), problems.items, problems.total))
        )
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return SolutionArrays(ids, np.zeros(len(ids), dtype=np.int64), {}, None, keys=keys)


def _parse_scale(raw: Raw, task: Task, problems: Problems) -> str | None:
    """The one value of a regression solution's ``scale`` column (None without one)."""
    if task.kind != "regression" or raw.columns.count("scale") != 1:
        return None
    values = pc.unique(pc.cast(raw.arrays[raw.columns.index("scale")], pa.string())).to_pylist()
    if len(values) != 1 or not values[0] or not values[0].strip():
        problems.add(None, "scale", f"must hold one scale for every row, found {values[:3]}")
        return None
    return values[0]


def _raise_solution(path: Path, problems: Problems) -> None:
    raise BenchmarkError(
        "solution " + str(InvalidSubmission(str(path), problems.items, problems.total))
    )


def read_prediction_arrays(
    path: Path,
    solution: SolutionArrays | pa.Array,
    task: Task,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, np.ndarray]:
    """Read and strictly validate a prediction file against ``solution`` (or its ids as a
    string array): each target's values (label codes or float64) in the order of the
    solution's ids, or :class:`InvalidSubmission` listing every problem found (capped at
    :data:`~benchmark.io.raw.MAX_PROBLEMS`). A missing file raises :class:`BenchmarkError`."""
    solution_ids, solution_keys = (
        (solution.ids, solution.keys) if isinstance(solution, SolutionArrays) else (solution, None)
    )
    source = str(path)
    problems = Problems()
    try:
        raw, early = load(Path(path), max_bytes, n_ids=len(solution_ids))
    except Fatal as fatal:
        raise InvalidSubmission(source, [fatal.problem]) from None
    for problem in early:
        problems.add(problem.row, problem.column, problem.message)
    found = check_header(raw, task.columns, problems)
    if len(raw) == 0 and not early:
        problems.add(None, None, "the file has a header but no data rows")
        raise InvalidSubmission(source, problems.items, problems.total)
    ids = parse_ids(raw.arrays[found["id"]], raw, problems) if "id" in found else None
    columns = {
        t: parse_target(raw.arrays[found[t]], t, task, raw, problems)
        for t in task.targets
        if t in found
    }
    position = align(ids, raw, solution_ids, solution_keys, problems) if ids is not None else None
    if problems or position is None:
        raise InvalidSubmission(source, problems.items, problems.total)
    aligned = {}
    for target, values in columns.items():
        aligned[target] = np.empty_like(values)
        aligned[target][position] = values
    return aligned
