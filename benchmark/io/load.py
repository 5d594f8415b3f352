"""Reading a solution or prediction file's bytes into Arrow columns, within a size cap.

A file is refused before it is parsed when it is too big, empty, or something other than
CSV or Parquet (an archive, a pickle, UTF-16 text). The happy path is vectorised: the
pyarrow CSV reader reads every cell as text; only when it refuses a file does the slow pass
of :mod:`benchmark.io.diagnose` locate every problem.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from benchmark.errors import BenchmarkError, Problem
from benchmark.io.arrow import dictionary_values, filled, to_numpy
from benchmark.io.diagnose import check_utf8, line_row, load_csv_slowly
from benchmark.io.names import extra_columns
from benchmark.io.raw import Fatal, Raw

DEFAULT_MAX_BYTES = 200_000_000
SOLUTION_MAX_BYTES = 4_000_000_000


def load(path: Path, max_bytes: int, n_ids: int | None = None) -> tuple[Raw, list[Problem]]:
    """The file's columns and the problems of its records (the slow pass), or :class:`Fatal`
    when it cannot be read at all; a missing or unreadable file is a :class:`BenchmarkError`.
    ``n_ids``: the solution's size, to refuse a Parquet file of far more rows unread."""
    path = Path(path)
    try:
        if not path.is_file():
            raise BenchmarkError(
                f"{path}: "
                + (
                    "is a directory, not a file"
                    if path.is_dir()
                    else "not a regular file"
                    if path.exists()
                    else "no such file"
                )
            )
        with path.open("rb") as handle:
            data = read_capped(handle, path.stat().st_size, max(max_bytes, 0) + 1)
    except OSError as error:
        raise BenchmarkError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        size = max(path.stat().st_size, len(data))
        raise Fatal(f"file is {size:,} bytes, over the size cap of {max_bytes:,} bytes")
    if not data:
        raise Fatal("file is empty")
    if data.startswith(b"PAR1"):
        return _load_parquet(data, max_bytes, n_ids), []
    _refuse_binary(data, path)
    return _load_csv(data)


def read_capped(handle: BinaryIO, size_hint: int, limit: int) -> bytes:
    """At most ``limit`` bytes, whatever stat() said (a file can grow while it is read).

    The first read asks for the file's size + 1 only: ``read(limit)`` would allocate the
    whole cap up front (4 GB for a solution file, over a scoring worker's memory limit).
    """
    parts = [handle.read(min(size_hint + 1, limit))]
    total = len(parts[0])
    while parts[-1] and total < limit:
        parts.append(handle.read(min(1 << 24, limit - total)))
        total += len(parts[-1])
    parts = [part for part in parts if part]
    return parts[0] if len(parts) == 1 else b"".join(parts)  # one part: no copy


def pq_magic(path: Path) -> bool:
    """Whether the file starts with Parquet's magic bytes."""
    with Path(path).open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _refuse_binary(data: bytes, path: Path) -> None:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        raise Fatal("this is a ZIP archive; extract it and submit the CSV or Parquet file inside")
    if data.startswith(b"\x1f\x8b"):
        raise Fatal("this is a gzip-compressed file; decompress it and submit the CSV")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise Fatal(
            "this is a Python pickle; pickles are never loaded (they can run code): "
            "submit CSV or Parquet"
        )
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise Fatal(
                f"the file is {name}-encoded (it starts with a {name} byte-order mark); "
                "save it as UTF-8"
            )
    if path.suffix.lower() in (".parquet", ".pq"):
        raise Fatal("the file is named like Parquet but is not a Parquet file (no PAR1 magic)")
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = (
            "; the file looks UTF-16-encoded: save it as UTF-8"
            if data[1:2] == b"\x00" or data[:1] == b"\x00"
            else ""
        )
        raise Fatal(
            f"binary content (NUL byte at offset {nul}); expected a UTF-8 CSV or a "
            f"Parquet file{hint}",
            line_row(data, nul) or None,
        )


def _load_parquet(data: bytes, max_bytes: int, n_ids: int | None) -> Raw:
    """Read a Parquet file held in ``data``, refusing "bombs" before decoding them.

    A small Parquet file can expand enormously (run-length encoded rows, compressed long
    strings, one dictionary entry repeated on every row): a file with far more rows than the
    solution's ``n_ids`` is refused unread (a few extra rows are reported row by row later),
    the uncompressed size and the dictionary-decoded size are checked against ``max_bytes``.
    """
    try:
        table = _read_parquet_table(data, max_bytes, n_ids)
    except Fatal:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure is the file's fault
        raise Fatal(f"not a readable Parquet file ({type(error).__name__}: {error})") from None
    arrays, decoded_bytes, encoded = [], 0, {}
    text = set(extra_columns(table.schema.names))
    for index, column in enumerate(table.columns):
        array = column.combine_chunks()
        if pa.types.is_dictionary(array.type) and table.schema.names[index] in text:
            encoded[index] = array  # the distinct values of a group column, found already
        if pa.types.is_dictionary(array.type):
            decoded_bytes += _decoded_size(array)
            if decoded_bytes > max_bytes:
                raise Fatal(
                    f"the Parquet data is over {max_bytes:,} bytes once decoded, "
                    f"over the size cap of {max_bytes:,} bytes"
                )
            array = dictionary_values(array)
        if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
            array = array.cast(pa.string())
        arrays.append(array)
    return Raw(
        list(table.schema.names),
        arrays,
        np.arange(1, table.num_rows + 1),
        parquet=True,
        encoded=encoded,
    )


def _read_parquet_table(data: bytes, max_bytes: int, n_ids: int | None) -> pa.Table:
    """The table, its text columns dictionary-encoded, after the row and size checks."""
    probe = pq.ParquetFile(pa.BufferReader(data))
    meta, schema = probe.metadata, probe.schema
    if n_ids is not None and meta.num_rows > 2 * n_ids + 1000:
        raise Fatal(f"the file has {meta.num_rows:,} rows but the solution has {n_ids:,} ids")
    unpacked = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    )
    if unpacked > max_bytes:
        raise Fatal(
            f"the Parquet data is {unpacked:,} bytes uncompressed, over the size "
            f"cap of {max_bytes:,} bytes"
        )
    strings = [
        i
        for i in range(len(schema))
        if schema.column(i).physical_type == "BYTE_ARRAY" and "." not in schema.column(i).path
    ]
    return pq.ParquetFile(pa.BufferReader(data), read_dictionary=strings).read()


def _decoded_size(array: pa.DictionaryArray) -> int:
    """Bytes of a dictionary column's values once decoded (0 unless they are text or bytes)."""
    values = array.dictionary
    if not (
        pa.types.is_string(values.type)
        or pa.types.is_large_string(values.type)
        or pa.types.is_binary(values.type)
        or pa.types.is_large_binary(values.type)
    ):
        return 0
    lengths = to_numpy(filled(pc.binary_length(values), 0))
    indices = to_numpy(filled(array.indices, 0))
    return int(lengths[indices].sum()) if len(lengths) else 0


def _load_csv(data: bytes) -> tuple[Raw, list[Problem]]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data or data.isspace():  # (not data.strip(): that copies the whole file)
        raise Fatal("file is empty (no header line)")
    end = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data))
    first_line = check_utf8(data[:end])
    try:
        header = next(csv.reader([first_line], strict=True), [])
    except csv.Error as error:
        raise Fatal(f"CSV syntax error in the header line: {error}") from None
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),  # in place: no Python file object between Arrow and the bytes
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # the fast reader also rejects bad UTF-8
        return load_csv_slowly(data)
    return Raw(header, list(table.columns), np.arange(1, table.num_rows + 1)), []
