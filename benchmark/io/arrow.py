"""Arrow arrays to numpy, without pandas.

pyarrow's own conversions (``to_numpy``, Python scalars such as ``fill_null(0)``) import
pandas on first use when it is installed: a quarter of a second of start-up that reading
and scoring do not need. These go around them on the usual path.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def to_numpy(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``array.to_numpy(zero_copy_only=False)``; a boolean or fixed-width number array
    without nulls is read from its buffers."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    kind = array.type
    numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind)
    if array.null_count or len(array) == 0 or not (numeric or pa.types.is_boolean(kind)):
        return array.to_numpy(zero_copy_only=False)
    data = array.buffers()[1]
    if pa.types.is_boolean(kind):
        bits = np.frombuffer(data, dtype=np.uint8)
        return np.unpackbits(bits, count=array.offset + len(array), bitorder="little")[
            array.offset :
        ].astype(bool)
    dtype = np.dtype(kind.to_pandas_dtype())
    return np.frombuffer(data, dtype=dtype, count=len(array), offset=array.offset * dtype.itemsize)


def filled(array: pa.Array | pa.ChunkedArray, value) -> pa.Array | pa.ChunkedArray:
    """``array.fill_null(value)``, without making a scalar of ``value`` when nothing is null."""
    return array.fill_null(value) if array.null_count else array


def string_buffers(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """(offsets, bytes) of a string array without nulls, or None."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if array.null_count or not (
        pa.types.is_string(array.type) or pa.types.is_large_string(array.type)
    ):
        return None
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(
        offsets_buffer,
        dtype=width,
        count=len(array) + 1,
        offset=array.offset * np.dtype(width).itemsize,
    ).astype(np.int64)
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.zeros(0, dtype=np.uint8)
    )
    return offsets, data


def dictionary_values(array: pa.DictionaryArray) -> pa.Array:
    """``array.dictionary_decode()``, without copying the values when each row has its own
    entry, in order (a column of unique ids, as Arrow reads it)."""
    n = len(array)
    if (
        len(array.dictionary) == n
        and not array.null_count
        and np.array_equal(to_numpy(array.indices), np.arange(n))
    ):
        return array.dictionary
    return array.dictionary_decode()


def decoded(array: pa.Array) -> pa.Array:
    """A dictionary-encoded array's values (any other array as it is)."""
    return array.dictionary_decode() if isinstance(array, pa.DictionaryArray) else array
