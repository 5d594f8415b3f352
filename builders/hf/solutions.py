"""Benchmark solution files: ``OUT/solutions/<task>.parquet`` with ``id, fold, <targets>``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_file


def write_solution(
    out: Path,
    task: str,
    rows: Sequence[Mapping],
    id_column: str,
    targets: Mapping[str, pa.DataType],
    extra: Mapping[str, pa.DataType] | None = None,
) -> Path:
    """One solution file, rows sorted by id; ``extra`` columns (e.g. a group) follow the targets."""
    rows = sorted(rows, key=lambda r: r[id_column])
    data = {
        "id": pa.array([r[id_column] for r in rows], pa.string()),
        "fold": pa.array([r["fold"] for r in rows], pa.int64()),
    }
    for column, kind in {**targets, **(extra or {})}.items():
        data[column] = pa.array([r[column] for r in rows], kind)
    path = Path(out) / "solutions" / f"{task}.parquet"
    with atomic_file(path) as tmp:
        pq.write_table(pa.table(data), tmp)
    return path
