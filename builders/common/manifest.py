"""Parquet manifests with explicit schemas, so the same table gives the same bytes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from builders.errors import UserError


def _arrow_type(series: pd.Series) -> pa.DataType:
    kind = series.dtype
    if pd.api.types.is_bool_dtype(kind):
        return pa.bool_()
    if pd.api.types.is_integer_dtype(kind):
        return pa.int64()
    if pd.api.types.is_float_dtype(kind):
        return pa.float64()
    return pa.string()


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """A pandas frame as an Arrow table with one canonical type per column, no pandas metadata."""
    arrays, fields = [], []
    for name in frame.columns:
        series = frame[name]
        arrow_type = _arrow_type(series)
        if arrow_type == pa.string():
            values = [None if pd.isna(v) else str(v) for v in series.tolist()]
        elif arrow_type in (pa.int64(), pa.bool_()):
            values = [None if pd.isna(v) else v for v in series.tolist()]
        else:
            values = series.astype("float64").to_numpy(na_value=float("nan"))
        arrays.append(pa.array(values, type=arrow_type))
        fields.append(pa.field(str(name), arrow_type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_manifest(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` as Parquet deterministically (fixed types, compression, no statistics drift)."""
    pq.write_table(
        to_arrow(frame), path, compression="zstd", compression_level=9, use_dictionary=False
    )


def read_manifest_table(path: Path, *, hint: str = "run the plan step first") -> pa.Table:
    """A manifest as an Arrow table; UserError when it is missing or unreadable."""
    if not Path(path).is_file():
        raise UserError(f"manifest not found: {path} ({hint})")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UserError(f"cannot read manifest {path}: {error}") from error


def read_manifest_frame(path: Path, *, hint: str = "run the plan step first") -> pd.DataFrame:
    """A manifest as a pandas frame with nullable integer, string and boolean dtypes."""
    return read_manifest_table(path, hint=hint).to_pandas(
        types_mapper={
            pa.int64(): pd.Int64Dtype(),
            pa.string(): pd.StringDtype(),
            pa.large_string(): pd.StringDtype(),
            pa.bool_(): pd.BooleanDtype(),
        }.get
    )
