"""Strict reading of solution and prediction files (CSV or Parquet).

CSV rules: UTF-8 (a BOM is tolerated), comma-separated, one header line, RFC 4180
quoting. Every cell is read as text first: ids stay strings ("007" stays "007"),
numbers must parse completely, labels must belong to the task's label set. Blank
lines are ignored; "row N" in messages counts records after the header (row 1 is the
first data record, line 2 of a plain CSV file).

The package, by concern:

- :mod:`~benchmark.io.load`: a file's bytes into Arrow columns, within the size caps
  (the fast, vectorised path);
- :mod:`~benchmark.io.diagnose`: the slow pure-Python re-parse of a CSV file the fast
  reader refuses, which finds every bad record;
- :mod:`~benchmark.io.cells`: the header and each cell (ids, numbers, labels) checked;
- :mod:`~benchmark.io.join`: prediction ids to solution ids;
- :mod:`~benchmark.io.arrays`: the public array model (:class:`SolutionArrays`,
  :func:`read_solution_arrays`, :func:`read_prediction_arrays`), without pandas;
- :mod:`~benchmark.io.frames`: the thin pandas adapter on top (:func:`read_solution`,
  :func:`read_predictions`);
- :mod:`~benchmark.io.groups`, :mod:`~benchmark.io.names`: a solution's group and
  breakdown columns; :mod:`~benchmark.io.arrow`, :mod:`~benchmark.io.raw`: shared pieces.
"""

from benchmark.io.arrays import (
    SolutionArrays,
    read_id_list,
    read_prediction_arrays,
    read_solution_arrays,
)
from benchmark.io.arrow import decoded, to_numpy
from benchmark.io.cells import MAX_ABS_VALUE
from benchmark.io.frames import read_predictions, read_solution, solution_frame
from benchmark.io.groups import text_values, with_solution_columns
from benchmark.io.load import DEFAULT_MAX_BYTES, SOLUTION_MAX_BYTES, pq_magic
from benchmark.io.names import BREAKDOWN_COLUMNS, GROUP_COLUMNS, group_column
from benchmark.io.raw import MAX_PROBLEMS

__all__ = [
    "BREAKDOWN_COLUMNS",
    "DEFAULT_MAX_BYTES",
    "GROUP_COLUMNS",
    "MAX_ABS_VALUE",
    "MAX_PROBLEMS",
    "SOLUTION_MAX_BYTES",
    "SolutionArrays",
    "decoded",
    "group_column",
    "pq_magic",
    "read_id_list",
    "read_prediction_arrays",
    "read_predictions",
    "read_solution",
    "read_solution_arrays",
    "solution_frame",
    "text_values",
    "to_numpy",
    "with_solution_columns",
]
