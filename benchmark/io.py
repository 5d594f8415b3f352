"""Strict reading of solution and prediction files (CSV or Parquet).

CSV rules: UTF-8 (a BOM is tolerated), comma-separated, one header line, RFC 4180
quoting. Every cell is read as text first: ids stay strings ("007" stays "007"),
numbers must parse completely, labels must belong to the task's label set. Blank
lines are ignored; "row N" in messages counts records after the header (row 1 is the
first data record, line 2 of a plain CSV file).

The happy path is vectorised (pyarrow CSV reader + Arrow compute); only when the fast
reader refuses a file does a slower pure-Python pass locate every problem. pandas is
imported only where a frame is made (:func:`read_solution`, :func:`read_predictions`) or a
rare case needs it: :func:`read_solution_arrays` and :func:`read_prediction_arrays` give
the same data as arrays without it (a quarter of a second of start-up).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from benchmark.errors import BenchmarkError, InvalidSubmission, Problem
from benchmark.tasks import Task

if TYPE_CHECKING:
    import pandas as pd

MAX_PROBLEMS = 50
# Extra solution columns: the first group column found is the unit that the bootstrap
# resamples and the leaderboard's public/private split keeps whole (ids of one speaker,
# artist or track are not independent); each breakdown column gets scores per value.
GROUP_COLUMNS = ("actor", "speaker", "group", "artist")
BREAKDOWN_COLUMNS = ("gender", "corpus")
DEFAULT_MAX_BYTES = 200_000_000
SOLUTION_MAX_BYTES = 4_000_000_000
_MISSING_TOKENS = {"na", "n/a", "#n/a", "nan", "-nan", "+nan", "none", "null", "nil", "<na>"}
_INF_TOKENS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
# |value| bound of every number: squares and sums of larger values overflow to inf, which
# would give a submission an infinite (unrankable) score
MAX_ABS_VALUE = 1e100
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class _Problems:
    """Collects problems up to a cap, counting all of them."""

    def __init__(self, cap: int = MAX_PROBLEMS):
        self.cap, self.items, self.total = cap, [], 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(row, column, message))

    def add_rows(self, rows: np.ndarray, column: str | None, describe) -> None:
        """Add one problem per row number in ``rows``; ``describe(i)`` gets the array index."""
        for index in rows[: max(self.cap - len(self.items), 0)]:
            self.items.append(Problem(int(index) + 1, column, describe(int(index))))
        self.total += len(rows)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass
class _Raw:
    """A file's columns as Arrow arrays; ``rows[i]`` is the row number of record i."""

    columns: list[str]
    arrays: list[pa.Array | pa.ChunkedArray]
    rows: np.ndarray
    parquet: bool = False  # typed columns, as the file stores them (CSV: text)
    # Parquet: the group and breakdown columns as read, when dictionary-encoded (by index)
    encoded: dict[int, pa.DictionaryArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


class _Fatal(Exception):
    """The file cannot be read at all; carries the problem."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.problem = Problem(row, None, message)


# ---------------------------------------------------------------- Arrow to numpy, without pandas

# pyarrow's own conversions (``to_numpy``, Python scalars such as ``fill_null(0)``) import
# pandas on first use when it is installed: a quarter of a second of start-up that reading
# and scoring do not need. These two go around them on the usual path.


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


def _filled(array: pa.Array | pa.ChunkedArray, value) -> pa.Array | pa.ChunkedArray:
    """``array.fill_null(value)``, without making a scalar of ``value`` when nothing is null."""
    return array.fill_null(value) if array.null_count else array


# ---------------------------------------------------------------- loading bytes


def _load(path: Path, max_bytes: int, n_ids: int | None = None) -> tuple[_Raw, list[Problem]]:
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
            data = _read_capped(handle, path.stat().st_size, max(max_bytes, 0) + 1)
    except OSError as error:
        raise BenchmarkError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        size = max(path.stat().st_size, len(data))
        raise _Fatal(f"file is {size:,} bytes, over the size cap of {max_bytes:,} bytes")
    if not data:
        raise _Fatal("file is empty")
    if data.startswith(b"PAR1"):
        return _load_parquet(data, max_bytes, n_ids), []
    _refuse_binary(data, path)
    return _load_csv(data)


def _read_capped(handle, size_hint: int, limit: int) -> bytes:
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


def _refuse_binary(data: bytes, path: Path) -> None:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        raise _Fatal("this is a ZIP archive; extract it and submit the CSV or Parquet file inside")
    if data.startswith(b"\x1f\x8b"):
        raise _Fatal("this is a gzip-compressed file; decompress it and submit the CSV")
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise _Fatal(
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
            raise _Fatal(
                f"the file is {name}-encoded (it starts with a {name} byte-order mark); "
                "save it as UTF-8"
            )
    if path.suffix.lower() in (".parquet", ".pq"):
        raise _Fatal("the file is named like Parquet but is not a Parquet file (no PAR1 magic)")
    nul = data.find(b"\x00")
    if nul >= 0:
        hint = (
            "; the file looks UTF-16-encoded: save it as UTF-8"
            if data[1:2] == b"\x00" or data[:1] == b"\x00"
            else ""
        )
        raise _Fatal(
            f"binary content (NUL byte at offset {nul}); expected a UTF-8 CSV or a "
            f"Parquet file{hint}",
            _line_row(data, nul) or None,
        )


def _check_utf8(data: bytes) -> str:
    """Decoded text, or a fatal problem naming the line of the first invalid byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        row = _line_row(data, error.start)
        raise _Fatal(
            f"line {row + 1}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save the file as UTF-8",
            row or None,
        ) from None


def _line_row(data: bytes, offset: int) -> int:
    """Data row of the line holding ``offset`` (the header line is row 0)."""
    return data.count(b"\n", 0, offset)


def _load_parquet(data: bytes, max_bytes: int, n_ids: int | None) -> _Raw:
    """Read a Parquet file held in ``data``, refusing "bombs" before decoding them.

    A small Parquet file can expand enormously (run-length encoded rows, compressed long
    strings, one dictionary entry repeated on every row): a file with far more rows than the
    solution's ``n_ids`` is refused unread (a few extra rows are reported row by row later),
    the uncompressed size and the dictionary-decoded size are checked against ``max_bytes``.
    """
    try:
        probe = pq.ParquetFile(pa.BufferReader(data))
        meta, schema = probe.metadata, probe.schema
        if n_ids is not None and meta.num_rows > 2 * n_ids + 1000:
            raise _Fatal(f"the file has {meta.num_rows:,} rows but the solution has {n_ids:,} ids")
        unpacked = sum(
            meta.row_group(g).column(c).total_uncompressed_size
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        )
        if unpacked > max_bytes:
            raise _Fatal(
                f"the Parquet data is {unpacked:,} bytes uncompressed, over the size "
                f"cap of {max_bytes:,} bytes"
            )
        strings = [
            i
            for i in range(len(schema))
            if schema.column(i).physical_type == "BYTE_ARRAY" and "." not in schema.column(i).path
        ]
        table = pq.ParquetFile(pa.BufferReader(data), read_dictionary=strings).read()
    except _Fatal:
        raise
    except Exception as error:  # noqa: BLE001 - any reader failure is the file's fault
        raise _Fatal(f"not a readable Parquet file ({type(error).__name__}: {error})") from None
    arrays, decoded, encoded = [], 0, {}
    text = set(_extra_columns(table.schema.names))
    for index, column in enumerate(table.columns):
        array = column.combine_chunks()
        if pa.types.is_dictionary(array.type) and table.schema.names[index] in text:
            encoded[index] = array  # the distinct values of a group column, found already
        if pa.types.is_dictionary(array.type):
            values = array.dictionary
            if (
                pa.types.is_string(values.type)
                or pa.types.is_large_string(values.type)
                or pa.types.is_binary(values.type)
                or pa.types.is_large_binary(values.type)
            ):
                lengths = to_numpy(_filled(pc.binary_length(values), 0))
                indices = to_numpy(_filled(array.indices, 0))
                decoded += int(lengths[indices].sum()) if len(lengths) else 0
                if decoded > max_bytes:
                    raise _Fatal(
                        f"the Parquet data is over {max_bytes:,} bytes once decoded, "
                        f"over the size cap of {max_bytes:,} bytes"
                    )
            array = _dictionary_values(array)
        if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
            array = array.cast(pa.string())
        arrays.append(array)
    return _Raw(
        list(table.schema.names),
        arrays,
        np.arange(1, table.num_rows + 1),
        parquet=True,
        encoded=encoded,
    )


def _dictionary_values(array: pa.DictionaryArray) -> pa.Array:
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


def _load_csv(data: bytes) -> tuple[_Raw, list[Problem]]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if not data or data.isspace():  # (not data.strip(): that copies the whole file)
        raise _Fatal("file is empty (no header line)")
    end = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0), default=len(data))
    first_line = _check_utf8(data[:end])
    try:
        header = next(csv.reader([first_line], strict=True), [])
    except csv.Error as error:
        raise _Fatal(f"CSV syntax error in the header line: {error}") from None
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
        return _load_csv_slowly(data)
    return _Raw(header, list(table.columns), np.arange(1, table.num_rows + 1)), []


def _load_csv_slowly(data: bytes) -> tuple[_Raw, list[Problem]]:
    """Pure-Python pass used only for files the fast reader refuses: finds every bad record.

    Streams the bytes and keeps one list per column (not one per record): its memory stays
    a small multiple of the file's size.
    """
    _check_utf8(data)  # names the line of the first invalid byte
    problems: list[Problem] = []
    reader = csv.reader(
        io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""), strict=True
    )
    try:
        header = next(reader)
        columns: list[list[str]] = [[] for _ in header]
        rows: list[int] = []
        row = 0
        for record in reader:
            if not record:
                continue
            row += 1
            if len(record) != len(header):
                problems.append(
                    Problem(row, None, f"has {len(record)} fields but the header has {len(header)}")
                )
                continue
            for column, value in zip(columns, record, strict=True):
                column.append(value)
            rows.append(row)
    except csv.Error as error:
        hint = "; a quoted field is never closed" if "end of data" in str(error) else ""
        raise _Fatal(
            f"CSV syntax error at line {reader.line_num}: {error}{hint}",
            max(reader.line_num - 1, 0) or None,
        ) from None
    arrays = []
    for index in range(len(columns)):  # convert column by column, freeing each list
        arrays.append(pa.array(columns[index], type=pa.string()))
        columns[index] = []
    return _Raw(header, arrays, np.asarray(rows, dtype=np.int64)), problems


# ---------------------------------------------------------------- header


def _check_header(
    raw: _Raw, required: tuple[str, ...], problems: _Problems, allow_extra: bool = False
) -> dict[str, int]:
    """Map each required column present exactly once to its index; report the rest."""
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(raw.columns):
        positions.setdefault(name, []).append(index)
    found = {}
    for name, where in positions.items():
        if len(where) > 1:
            problems.add(
                None,
                name,
                f"column appears {len(where)} times (columns "
                f"{', '.join(str(i + 1) for i in where)})",
            )
        elif name in required:
            found[name] = where[0]
        elif not allow_extra:
            problems.add(
                None,
                name,
                "unknown column"
                + _hint(name, required)
                + f"; expected exactly: {', '.join(required)}",
            )
    for name in required:
        if name not in positions:
            problems.add(None, name, "missing column" + _separator_hint(raw.columns))
    return found


def _hint(name: str, expected: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name.strip().lower(), expected, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _separator_hint(columns: list[str]) -> str:
    if len(columns) == 1:
        for sep in (";", "\t", "|"):
            if sep in columns[0]:
                return f" (the header looks {sep!r}-separated; use commas)"
    return ""


# ---------------------------------------------------------------- cells


def _show(value, limit: int = 60) -> str:
    """repr() of a value from the file, shortened: a message never echoes a huge cell."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    return repr(value)


def _describe_bad_cell(raw: str) -> str:
    raw = str(raw)
    stripped = raw.strip().lower()
    if raw == "":
        return "empty cell"
    if stripped in _MISSING_TOKENS:
        return f"missing value {_show(raw)}; every id needs a prediction"
    if stripped in _INF_TOKENS:
        return f"infinite value {_show(raw)}"
    if raw != raw.strip():
        return f"value {_show(raw)} has leading or trailing whitespace"
    if _NUMBER.fullmatch(raw):
        return f"value {_show(raw)} is out of range (|value| must be below {MAX_ABS_VALUE:g})"
    if re.fullmatch(r"[+-]?\d+,\d*", raw):
        return f"not a number: {_show(raw)} (use '.' as the decimal separator)"
    return f"not a number: {_show(raw)}"


def _parse_ids(array: pa.Array, raw: _Raw, problems: _Problems) -> pa.Array | None:
    if not pa.types.is_string(array.type):
        problems.add(
            None,
            "id",
            f"has type {array.type}; ids must be strings (so that '007' is not read as 7)",
        )
        return None
    ids = array
    filled = _filled(array, "")
    bad = to_numpy(pc.is_null(array))
    bad |= to_numpy(pc.binary_length(filled)) == 0
    spaced = (
        to_numpy(pc.not_equal(pc.utf8_trim_whitespace(filled), filled)) & ~bad
        if _edges_may_be_spaces(filled)
        else np.zeros(len(array), dtype=bool)
    )
    problems.add_rows(raw.rows[np.flatnonzero(bad)] - 1, "id", lambda i: "missing id")
    problems.add_rows(
        raw.rows[np.flatnonzero(spaced)] - 1,
        "id",
        lambda i: f"id {_show(_row_value(ids, raw, i))} has leading or trailing whitespace",
    )
    return ids


def _edges_may_be_spaces(array: pa.Array | pa.ChunkedArray) -> bool:
    """False when no string of ``array`` can start or end with whitespace: the first and the
    last byte of each is printable ASCII other than space (a whitespace character is ASCII
    space or a control, or a character of several bytes, none of them printable ASCII)."""
    buffers = _string_buffers(array)
    if buffers is None:
        return True
    offsets, data = buffers
    filled = np.diff(offsets) > 0
    edges = np.concatenate([data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]])
    return bool(((edges < 0x21) | (edges > 0x7E)).any())


def _row_value(values: np.ndarray, raw: _Raw, row_index: int):
    """Value of the record whose row number is ``row_index + 1``."""
    value = values[int(np.searchsorted(raw.rows, row_index + 1))]
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _parse_numbers(array: pa.Array, column: str, raw: _Raw, problems: _Problems) -> np.ndarray:
    t = array.type
    if pa.types.is_string(t):
        try:
            values = to_numpy(pc.cast(array, pa.float64()))
            text = None
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            text = array.to_numpy(zero_copy_only=False)
            values = _numbers_from_text(text)
        bad = np.flatnonzero(~(np.abs(values) < MAX_ABS_VALUE))
        if len(bad):
            text = array.to_numpy(zero_copy_only=False) if text is None else text
            problems.add_rows(
                raw.rows[bad] - 1, column, lambda i: _describe_bad_cell(_row_value(text, raw, i))
            )
        return values
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        # safe=False: integers beyond 2**53 are rounded, never an error
        values = to_numpy(pc.cast(array, pa.float64(), safe=False))
        values = np.where(to_numpy(pc.is_valid(array)), values, np.nan)
        bad = np.flatnonzero(~(np.abs(values) < MAX_ABS_VALUE))
        problems.add_rows(
            raw.rows[bad] - 1, column, lambda i: _describe_bad_value(_row_value(values, raw, i))
        )
        return values
    problems.add(None, column, f"has type {t}; expected numbers")
    return np.full(len(array), np.nan)


def _describe_bad_value(value: float) -> str:
    if np.isnan(value):
        return "missing value"
    if np.isinf(value):
        return f"value {value} is not a finite number"
    return f"value {value:g} is out of range (|value| must be below {MAX_ABS_VALUE:g})"


def _numbers_from_text(text: np.ndarray) -> np.ndarray:
    import pandas as pd

    series = pd.Series(text, dtype=object)
    values = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    spaced = series.str.strip().to_numpy() != text
    values[spaced] = np.nan
    return values


def _label_lookup(task: Task) -> dict[str, int]:
    lookup = {label.lower(): code for code, label in enumerate(task.labels)}
    if task.code_base is not None:
        lookup.update({str(code + task.code_base): code for code in range(len(task.labels))})
    return lookup


def _expected_labels(task: Task) -> str:
    text = "expected one of " + ", ".join(task.labels)
    if task.code_base is not None:
        text += f" or a code {task.code_base}-{task.code_base + len(task.labels) - 1}"
    return text


def _parse_labels(
    array: pa.Array, column: str, task: Task, raw: _Raw, problems: _Problems
) -> np.ndarray:
    """Label codes 0..K-1 (-1 where invalid)."""
    t = array.type
    if pa.types.is_integer(t) and task.code_base is not None:
        values = to_numpy(pc.cast(array, pa.float64(), safe=False))
        valid = to_numpy(pc.is_valid(array))
        codes = np.where(valid, values - task.code_base, -1)
        codes = np.where((codes >= 0) & (codes < len(task.labels)), codes, -1).astype(np.int64)
    elif pa.types.is_string(t):
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks()
        encoded = pc.dictionary_encode(_filled(array, ""))
        lookup = _label_lookup(task)
        table = np.array(
            [
                lookup.get(str(v).lower(), -1) if v == str(v).strip() else -1
                for v in encoded.dictionary.to_pylist()
            ],
            dtype=np.int64,
        )
        codes = (
            table[to_numpy(encoded.indices)]
            if len(table)
            else np.full(len(array), -1, dtype=np.int64)
        )
    else:
        problems.add(None, column, f"has type {t}; {_expected_labels(task)}")
        return np.full(len(array), -1, dtype=np.int64)
    bad = np.flatnonzero(codes < 0)
    if len(bad):  # the cells as text (integer codes too), only to describe the bad ones
        text = pc.cast(array, pa.string()).fill_null("").to_numpy(zero_copy_only=False)
        problems.add_rows(
            raw.rows[bad] - 1, column, lambda i: _describe_bad_label(_row_value(text, raw, i), task)
        )
    return codes


def _describe_bad_label(value: str, task: Task) -> str:
    value = str(value)
    if value == "" or value.strip().lower() in _MISSING_TOKENS:
        return _describe_bad_cell(value)
    if value != value.strip():
        return f"label {_show(value)} has leading or trailing whitespace"
    return f"unknown label {_show(value)}; {_expected_labels(task)}"


def _parse_target(array: pa.Array, column: str, task: Task, raw: _Raw, problems: _Problems):
    if task.kind == "classification":
        return _parse_labels(array, column, task, raw, problems)
    return _parse_numbers(array, column, raw, problems)


def _as_column(values: np.ndarray, task: Task):
    """A frame's column of parsed values: label codes become a categorical of the labels."""
    if task.kind == "classification":
        import pandas as pd

        return pd.Categorical.from_codes(values, categories=list(task.labels))
    return values


# ---------------------------------------------------------------- id keys (hash join)

# Ids are matched by a 64-bit hash of their bytes, then verified byte for byte; any doubt
# (a hash shared by two solution ids, a hash match whose bytes differ, very long ids, nulls)
# falls back to Arrow's exact ``index_in`` / ``unique``, so the result is always exact.
_MAX_KEY_WORDS = 16  # ids up to 128 bytes take the hash path
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_M1, _M2, _M3 = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
)


@dataclass
class _Keys:
    """Every id's bytes as little-endian 8-byte words (zero-padded), its length and a hash."""

    words: list[np.ndarray]
    lengths: np.ndarray
    hashes: np.ndarray


def _string_buffers(array) -> tuple[np.ndarray, np.ndarray] | None:
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


def _id_keys(array, n_words: int | None = None) -> _Keys | None:
    """Keys of ``array`` with ``n_words`` words per id (default: enough for the longest id);
    None when the hash path does not apply (nulls, a big-endian machine, ids too long)."""
    buffers = _string_buffers(array) if sys.byteorder == "little" else None
    if buffers is None:
        return None
    offsets, data = buffers
    lengths = np.diff(offsets)
    if n_words is None:
        n_words = (int(lengths.max(initial=0)) + 7) // 8
    if n_words > _MAX_KEY_WORDS:
        return None
    start, end = int(offsets[0]), int(offsets[-1])
    padded = np.zeros((end - start + 7) // 8 + n_words + 2, dtype=np.uint64)
    padded.view(np.uint8)[: end - start] = data[start:end]
    at = offsets[:-1] - start
    low_shift = ((at & 7) * 8).astype(np.uint64)  # an id's bytes start mid-word
    high_shift = np.uint64(64) - low_shift  # a shift by 64 gives 0 in numpy
    at >>= 3
    hashes = lengths.astype(np.uint64) * _M1
    shortest = int(lengths.min(initial=0))
    words = []
    for j in range(n_words):
        word = np.take(padded, at) >> low_shift
        at += 1
        word |= np.take(padded, at) << high_shift
        if shortest < 8 * (j + 1):  # the bytes of word j of each id: between 0 and 8
            word &= _BYTE_MASKS[np.minimum(np.maximum(lengths - 8 * j, 0), 8)]
        words.append(word)
        hashes ^= word
        hashes *= _M2
        hashes ^= hashes >> np.uint64(29)
    hashes ^= hashes >> np.uint64(32)
    hashes *= _M3
    hashes ^= hashes >> np.uint64(29)
    return _Keys(words, lengths, hashes)


def _has_duplicates(ids: pa.Array, keys: _Keys | None = None) -> bool:
    """Whether ``ids`` holds a value twice (nulls count as one value, like ``pc.unique``);
    ``keys``: their :func:`_id_keys`, when known."""
    keys = _id_keys(ids) if keys is None else keys
    if keys is not None:
        ordered = np.sort(keys.hashes)
        if not (ordered[1:] == ordered[:-1]).any():
            return False  # distinct hashes: distinct ids
    return len(pc.unique(ids)) < len(ids)


def _positions(
    ids: pa.Array, solution_ids: pa.Array, solution_keys: _Keys | None = None
) -> np.ndarray | None:
    """Index in ``solution_ids`` (unique) of every id, -1 when absent; None when the hash
    path does not apply (the caller then uses ``pc.index_in``). ``solution_keys``: the
    :func:`_id_keys` of ``solution_ids``, when known."""
    solution_keys = _id_keys(solution_ids) if solution_keys is None else solution_keys
    if solution_keys is None:
        return None
    buffers = _string_buffers(ids)
    if buffers is None:
        return None
    keys = _id_keys(ids, len(solution_keys.words))
    n_solution, n = len(solution_keys.hashes), len(keys.hashes)
    if n == 0 or n_solution == 0:
        return None
    bits = max(n_solution - 1, n - 1, 1).bit_length()
    low = np.uint64((1 << bits) - 1)
    # high bits of the hash with the row index in the low bits: one fast sort of plain integers
    packed_solution = np.sort(
        (solution_keys.hashes & ~low) | np.arange(n_solution, dtype=np.uint64)
    )
    packed = np.sort((keys.hashes & ~low) | np.arange(n, dtype=np.uint64))
    solution_high, high = packed_solution & ~low, packed & ~low
    if (solution_high[1:] == solution_high[:-1]).any():
        return None  # two solution ids share the hash's high bits
    solution_row = (packed_solution & low).astype(np.int64)
    row = (packed & low).astype(np.int64)
    if n == n_solution and np.array_equal(high, solution_high):
        match = solution_row  # the same set of hashes: the usual case, no search
    else:
        at = np.minimum(np.searchsorted(solution_high, high), n_solution - 1)
        match = np.where(solution_high[at] == high, solution_row[at], -1)
    position = np.empty(n, dtype=np.int64)
    position[row] = match
    position[keys.lengths > 8 * len(solution_keys.words)] = -1  # longer than every solution id
    found = np.flatnonzero(position >= 0)
    every = len(found) == n  # the usual case: no copies of this file's keys
    target = position if every else position[found]
    same = np.take(solution_keys.lengths, target) == (
        keys.lengths if every else keys.lengths[found]
    )
    for solution_word, word in zip(solution_keys.words, keys.words, strict=True):
        same &= np.take(solution_word, target) == (word if every else word[found])
    return position if same.all() else None


# ---------------------------------------------------------------- public API


@dataclass
class SolutionArrays:
    """A solution as arrays: what :func:`read_solution`'s frame holds, without pandas.

    ``targets``: label codes 0..K-1 (int64) or float64 values per target; ``text``: the
    group and breakdown columns as text, each an Arrow string array (dictionary-encoded as
    the Parquet file had it, see :func:`decoded`), or, for values that are not plain text,
    the object array ``column.astype(str).to_numpy()`` of the frame.
    ``keys``: the hash keys of the ids, made for the duplicate check, kept for the join of
    the predictions' ids (:func:`read_prediction_arrays`).
    """

    ids: pa.Array
    folds: np.ndarray
    targets: dict[str, np.ndarray]
    scale: str | None = None
    text: dict[str, pa.Array | np.ndarray] = field(default_factory=dict)
    keys: _Keys | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.folds)

    def frame(self, task: Task) -> pd.DataFrame:
        """The frame of :func:`read_solution` (without the text columns)."""
        import pandas as pd

        frame = pd.DataFrame({"id": self.ids.to_pandas(), "fold": self.folds})
        for target, values in self.targets.items():
            frame[target] = _as_column(values, task)
        if self.scale is not None:
            frame["scale"] = self.scale
        return frame


def read_solution(path: Path, task: Task, *, group_columns: bool = False) -> pd.DataFrame:
    """Read a solution file: columns ``id`` (str), ``fold`` (int64) and the task's targets.

    Classification targets become a categorical with the task's labels (codes or names
    accepted in the file); regression targets float64. A regression solution may name its
    targets' scale in a ``scale`` column (one value, e.g. ``[0,1]`` or ``1-9``: the
    ``muse-vad`` task's scale depends on the lexicon); it is kept as a text column. Other
    extra columns are ignored, unless ``group_columns``: then the frame also has the
    columns :func:`with_solution_columns` adds (a Parquet file's text columns are taken from
    the one read of the file). Any problem raises :class:`BenchmarkError`.
    """
    raw = _load_solution(path)
    frame = _solution_arrays(raw, path, task).frame(task)
    if not group_columns:
        return frame
    text = _text_columns(raw[0])
    if text is None:
        return with_solution_columns(frame, path)
    return frame.assign(**{c: decoded(a).to_pandas().array for c, a in text.items()})


def read_solution_arrays(path: Path, task: Task, *, group_columns: bool = False) -> SolutionArrays:
    """:func:`read_solution` as :class:`SolutionArrays`: the same checks and values, and no
    pandas unless the group columns need it (a CSV file, or columns that are not text)."""
    raw = _load_solution(path)
    arrays = _solution_arrays(raw, path, task)
    if group_columns:
        text = _text_columns(raw[0])
        if text is None:
            frame = with_solution_columns(arrays.frame(task), path)
            text = {c: text_values(frame[c]) for c in _extra_columns(list(frame.columns))}
        arrays.text = text
    return arrays


def _load_solution(path: Path) -> tuple[_Raw, list[Problem]]:
    try:
        return _load(Path(path), SOLUTION_MAX_BYTES)
    except _Fatal as fatal:
        raise BenchmarkError(f"solution {path}: {fatal.problem}") from None


def _solution_arrays(loaded: tuple[_Raw, list[Problem]], path: Path, task: Task) -> SolutionArrays:
    raw, early = loaded
    problems = _Problems()
    for problem in early:
        problems.add(problem.row, problem.column, problem.message)
    required = ("id", "fold", *task.targets)
    found = _check_header(raw, required, problems, allow_extra=True)
    if problems or len(raw) == 0:
        if len(raw) == 0:
            problems.add(None, None, "no data rows")
        _raise_solution(path, problems)
    ids = _parse_ids(raw.arrays[found["id"]], raw, problems)
    folds = _parse_numbers(raw.arrays[found["fold"]], "fold", raw, problems)
    if np.isfinite(folds).all() and ((folds != np.round(folds)) | (np.abs(folds) >= 2**31)).any():
        problems.add(None, "fold", "folds must be whole numbers (of at most 10 digits)")
    columns = {t: _parse_target(raw.arrays[found[t]], t, task, raw, problems) for t in task.targets}
    keys = _id_keys(ids) if ids is not None else None
    if ids is not None and _has_duplicates(ids, keys):
        dup = _duplicated(ids.to_numpy(zero_copy_only=False))
        problems.add_rows(
            raw.rows[np.flatnonzero(dup)] - 1,
            "id",
            lambda i: f"duplicate id {_show(_row_value(ids, raw, i))}",
        )
    if problems:
        _raise_solution(path, problems)
    scale = _parse_scale(raw, task, problems)
    if problems:
        _raise_solution(path, problems)
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    return SolutionArrays(ids, folds.astype(np.int64), columns, scale, keys=keys)


def _duplicated(values: np.ndarray) -> np.ndarray:
    """``pd.Index(values).duplicated()``: True for every value seen before."""
    import pandas as pd

    return pd.Index(values).duplicated()


def _text_columns(raw: _Raw) -> dict[str, pa.Array] | None:
    """The columns :func:`with_solution_columns` would add, from a Parquet file's ``raw``
    columns when each is text without nulls (its values as they are, dictionary-encoded
    when the file is); None otherwise (a CSV file, numbers, nulls: :func:`with_solution_columns`
    reads them as it always has)."""
    wanted = _extra_columns(raw.columns)
    if not raw.parquet or any(raw.columns.count(c) != 1 for c in wanted):
        return None
    index = {c: raw.columns.index(c) for c in wanted}
    if any(
        not pa.types.is_string(raw.arrays[i].type) or raw.arrays[i].null_count
        for i in index.values()
    ):
        return None
    return {c: raw.encoded.get(i, raw.arrays[i]) for c, i in index.items()}


def decoded(array: pa.Array) -> pa.Array:
    """A dictionary-encoded array's values (any other array as it is)."""
    return array.dictionary_decode() if isinstance(array, pa.DictionaryArray) else array


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


def _parse_scale(raw: _Raw, task: Task, problems: _Problems) -> str | None:
    """The one value of a regression solution's ``scale`` column (None without one)."""
    if task.kind != "regression" or raw.columns.count("scale") != 1:
        return None
    values = pc.unique(pc.cast(raw.arrays[raw.columns.index("scale")], pa.string())).to_pylist()
    if len(values) != 1 or not values[0] or not values[0].strip():
        problems.add(None, "scale", f"must hold one scale for every row, found {values[:3]}")
        return None
    return values[0]


def _raise_solution(path: Path, problems: _Problems) -> None:
    raise BenchmarkError(
        "solution " + str(InvalidSubmission(str(path), problems.items, problems.total))
    )


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


def read_prediction_arrays(
    path: Path,
    solution: SolutionArrays | pa.Array,
    task: Task,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> dict[str, np.ndarray]:
    """:func:`read_predictions` as arrays, without pandas: each target's values (label codes
    or float64) in the order of the solution's ids (``solution``, or its ids as a string
    array)."""
    solution_ids, solution_keys = (
        (solution.ids, solution.keys) if isinstance(solution, SolutionArrays) else (solution, None)
    )
    source = str(path)
    problems = _Problems()
    try:
        raw, early = _load(Path(path), max_bytes, n_ids=len(solution_ids))
    except _Fatal as fatal:
        raise InvalidSubmission(source, [fatal.problem]) from None
    for problem in early:
        problems.add(problem.row, problem.column, problem.message)
    found = _check_header(raw, task.columns, problems)
    if len(raw) == 0 and not early:
        problems.add(None, None, "the file has a header but no data rows")
        raise InvalidSubmission(source, problems.items, problems.total)
    ids = _parse_ids(raw.arrays[found["id"]], raw, problems) if "id" in found else None
    columns = {
        t: _parse_target(raw.arrays[found[t]], t, task, raw, problems)
        for t in task.targets
        if t in found
    }
    position = _align(ids, raw, solution_ids, solution_keys, problems) if ids is not None else None
    if problems or position is None:
        raise InvalidSubmission(source, problems.items, problems.total)
    aligned = {}
    for target, values in columns.items():
        aligned[target] = np.empty_like(values)
        aligned[target][position] = values
    return aligned


def _align(
    ids: pa.Array,
    raw: _Raw,
    solution_ids: pa.Array,
    solution_keys: _Keys | None,
    problems: _Problems,
) -> np.ndarray:
    """Position in ``solution_ids`` of every prediction row; reports duplicate, extra, missing ids."""
    n_solution = len(solution_ids)
    if len(raw) > n_solution:
        problems.add(
            None, None, f"the file has {len(raw):,} rows but the solution has {n_solution:,} ids"
        )
    position = _positions(ids, solution_ids, solution_keys)
    if position is None:
        position = to_numpy(_filled(pc.index_in(ids, value_set=solution_ids), -1)).astype(np.int64)
    blank = to_numpy(pc.binary_length(_filled(ids, ""))) == 0
    extra = np.flatnonzero((position < 0) & ~blank)  # a missing id is reported once, as such
    problems.add_rows(
        raw.rows[extra] - 1,
        "id",
        lambda i: f"id {_show(_row_value(ids, raw, i))} is not in the solution",
    )
    counts = np.bincount(position[position >= 0], minlength=n_solution)
    if (counts > 1).any():
        _report_duplicates(ids, position, raw, problems)
    missing = np.flatnonzero(counts == 0)
    for index in missing[:MAX_PROBLEMS]:
        problems.add(
            None,
            "id",
            f"id {_show(solution_ids[int(index)].as_py())} of the solution has no prediction",
        )
    problems.total += max(len(missing) - MAX_PROBLEMS, 0)
    return position


def _report_duplicates(ids: pa.Array, position: np.ndarray, raw: _Raw, problems: _Problems) -> None:
    valid = np.flatnonzero(position >= 0)
    duplicated = _duplicated(position[valid])
    first_row: dict[int, int] = {}
    for index in valid[~duplicated]:
        first_row[int(position[index])] = int(raw.rows[index])
    rows = raw.rows[valid[duplicated]]

    def describe(i: int) -> str:
        index = int(np.searchsorted(raw.rows, i + 1))
        return (
            f"duplicate id {_show(ids[index].as_py())} (first seen in row "
            f"{first_row[int(position[index])]})"
        )

    problems.add_rows(rows - 1, "id", describe)


def with_solution_columns(solution: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``solution`` (from :func:`read_solution`) plus the file's first group column and its
    breakdown columns (:data:`GROUP_COLUMNS`, :data:`BREAKDOWN_COLUMNS`) as text, by id."""
    import pandas as pd

    path = Path(path)
    try:
        if pq_magic(path):
            names = pq.read_schema(path).names
            wanted = _extra_columns(names)
            extra = pq.read_table(path, columns=["id", *wanted]).to_pandas() if wanted else None
        else:
            names = list(pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns)
            wanted = _extra_columns(names)
            extra = (
                pd.read_csv(
                    path,
                    usecols=["id", *wanted],
                    dtype=str,
                    encoding="utf-8-sig",
                    keep_default_na=False,
                )
                if wanted
                else None
            )
    except (OSError, ValueError, pa.ArrowException) as error:
        raise BenchmarkError(f"solution {path}: cannot read its group columns ({error})") from None
    if extra is None:
        return solution
    ids = solution["id"].astype(str)
    extra = extra.assign(id=extra["id"].astype(str))
    if len(extra) == len(ids) and _same_strings(extra["id"], ids):
        # the solution's own rows in its order (read_solution's frame): no join needed
        return solution.assign(**{c: extra[c].astype(str).to_numpy() for c in wanted})
    extra = extra.drop_duplicates("id").set_index("id")
    return solution.assign(**{c: extra[c].astype(str).reindex(ids).to_numpy() for c in wanted})


def _same_strings(a: pd.Series, b: pd.Series) -> bool:
    try:
        a, b = (pa.array(v, type=pa.string()) for v in (a, b))
        a, b = (x if isinstance(x, pa.ChunkedArray) else pa.chunked_array([x]) for x in (a, b))
        return a.equals(b)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False


def _extra_columns(names: list[str]) -> list[str]:
    groups = [c for c in GROUP_COLUMNS if c in names][:1]
    return groups + [c for c in BREAKDOWN_COLUMNS if c in names and c not in groups]


def pq_magic(path: Path) -> bool:
    with Path(path).open("rb") as handle:
        return handle.read(4) == b"PAR1"


def group_column(columns) -> str | None:
    """The first of :data:`GROUP_COLUMNS` among ``columns`` (a solution frame, or the column
    names, or the ``text`` of :class:`SolutionArrays`), or None."""
    return next((c for c in GROUP_COLUMNS if c in columns), None)
