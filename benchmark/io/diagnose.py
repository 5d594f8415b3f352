"""The slow diagnostic pass over a CSV file that the fast reader refuses.

The pure-Python ``csv`` reader finds every bad record (wrong field count, a quote never
closed, invalid UTF-8) and names its row, so that a participant sees all of them at once.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa

from benchmark.errors import Problem
from benchmark.io.raw import Fatal, Raw


def check_utf8(data: bytes) -> str:
    """Decoded text, or a fatal problem naming the line of the first invalid byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        row = line_row(data, error.start)
        raise Fatal(
            f"line {row + 1}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save the file as UTF-8",
            row or None,
        ) from None


def line_row(data: bytes, offset: int) -> int:
    """Data row of the line holding ``offset`` (the header line is row 0)."""
    return data.count(b"\n", 0, offset)


def load_csv_slowly(data: bytes) -> tuple[Raw, list[Problem]]:
    """Pure-Python pass used only for files the fast reader refuses: finds every bad record.

    Streams the bytes and keeps one list per column (not one per record): its memory stays
    a small multiple of the file's size.
    """
    check_utf8(data)  # names the line of the first invalid byte
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
        raise Fatal(
            f"CSV syntax error at line {reader.line_num}: {error}{hint}",
            max(reader.line_num - 1, 0) or None,
        ) from None
    arrays = []
    for index in range(len(columns)):  # convert column by column, freeing each list
        arrays.append(pa.array(columns[index], type=pa.string()))
        columns[index] = []
    return Raw(header, arrays, np.asarray(rows, dtype=np.int64)), problems
