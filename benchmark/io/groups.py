"""A solution's group and breakdown columns (:mod:`benchmark.io.names`) as text.

A Parquet file's text columns are taken from the one read of the file; anything else (a
CSV file, numbers, nulls) is read again with pandas, by id, as it always has been.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from benchmark.errors import BenchmarkError
from benchmark.io.load import pq_magic
from benchmark.io.names import extra_columns
from benchmark.io.raw import Raw

if TYPE_CHECKING:
    import pandas as pd


def text_columns(raw: Raw) -> dict[str, pa.Array] | None:
    """The columns :func:`with_solution_columns` would add, from a Parquet file's ``raw``
    columns when each is text without nulls (its values as they are, dictionary-encoded
    when the file is); None otherwise (a CSV file, numbers, nulls: :func:`with_solution_columns`
    reads them as it always has)."""
    wanted = extra_columns(raw.columns)
    if not raw.parquet or any(raw.columns.count(c) != 1 for c in wanted):
        return None
    index = {c: raw.columns.index(c) for c in wanted}
    if any(
        not pa.types.is_string(raw.arrays[i].type) or raw.arrays[i].null_count
        for i in index.values()
    ):
        return None
    return {c: raw.encoded.get(i, raw.arrays[i]) for c, i in index.items()}


def with_solution_columns(solution: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``solution`` (from :func:`~benchmark.io.frames.read_solution`) plus the file's first
    group column and its breakdown columns (:data:`~benchmark.io.names.GROUP_COLUMNS`,
    :data:`~benchmark.io.names.BREAKDOWN_COLUMNS`) as text, by id."""
    path = Path(path)
    try:
        extra, wanted = _read_extra_columns(path)
    except (OSError, ValueError, pa.ArrowException) as error:
        raise BenchmarkError(f"solution {path}: cannot read its group columns ({error})") from None
    if extra is None:
        return solution
    ids = solution["id"].astype(str)
    extra = extra.assign(id=extra["id"].astype(str))
    if len(extra) == len(ids) and same_strings(extra["id"], ids):
        # the solution's own rows in its order (read_solution's frame): no join needed
        return solution.assign(**{c: extra[c].astype(str).to_numpy() for c in wanted})
    extra = extra.drop_duplicates("id").set_index("id")
    return solution.assign(**{c: extra[c].astype(str).reindex(ids).to_numpy() for c in wanted})


def _read_extra_columns(path: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """The file's ``id`` and extra columns as a frame (None without extra columns)."""
    import pandas as pd

    if pq_magic(path):
        wanted = extra_columns(pq.read_schema(path).names)
        extra = pq.read_table(path, columns=["id", *wanted]).to_pandas() if wanted else None
        return extra, wanted
    wanted = extra_columns(list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns))
    if not wanted:
        return None, wanted
    extra = pd.read_csv(
        path, usecols=["id", *wanted], dtype=str, encoding="utf-8-sig", keep_default_na=False
    )
    return extra, wanted


def same_strings(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns hold the same strings in the same order."""
    try:
        a, b = (pa.array(v, type=pa.string()) for v in (a, b))
        a, b = (x if isinstance(x, pa.ChunkedArray) else pa.chunked_array([x]) for x in (a, b))
        return a.equals(b)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False


def text_values(column: pd.Series) -> pa.Array | np.ndarray:
    """A frame's column as text for scoring: the Arrow string array behind it when it is
    text without missing values, else ``column.astype(str).to_numpy()``."""
    import pandas as pd

    if (
        isinstance(column.dtype, pd.StringDtype)
        and column.dtype.storage == "pyarrow"
        and not column.hasnans
    ):
        array = pa.array(column.array)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return column.astype(str).to_numpy()
