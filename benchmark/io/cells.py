"""The header and the cells of a file: ids, numbers and labels, parsed and validated.

Every cell is read as text first: ids stay strings ("007" stays "007"), numbers must parse
completely, labels must belong to the task's label set. Each bad cell is reported with its
row and column, in words a participant can act on.
"""

from __future__ import annotations

import difflib
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmark.io.arrow import filled, string_buffers, to_numpy
from benchmark.io.raw import Problems, Raw
from benchmark.tasks import Task

_MISSING_TOKENS = {"na", "n/a", "#n/a", "nan", "-nan", "+nan", "none", "null", "nil", "<na>"}
_INF_TOKENS = {"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"}
# |value| bound of every number: squares and sums of larger values overflow to inf, which
# would give a submission an infinite (unrankable) score
MAX_ABS_VALUE = 1e100
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# ---------------------------------------------------------------- header


def check_header(
    raw: Raw, required: tuple[str, ...], problems: Problems, allow_extra: bool = False
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


# ---------------------------------------------------------------- describing a cell


def show(value, limit: int = 60) -> str:
    """repr() of a value from the file, shortened: a message never echoes a huge cell."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value):,} characters)"
    return repr(value)


def row_value(values, raw: Raw, row_index: int):
    """Value of the record whose row number is ``row_index + 1`` (``values``: an Arrow or a
    numpy array with one value per record)."""
    value = values[int(np.searchsorted(raw.rows, row_index + 1))]
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _describe_bad_cell(raw: str) -> str:
    raw = str(raw)
    stripped = raw.strip().lower()
    if raw == "":
        return "empty cell"
    if stripped in _MISSING_TOKENS:
        return f"missing value {show(raw)}; every id needs a prediction"
    if stripped in _INF_TOKENS:
        return f"infinite value {show(raw)}"
    if raw != raw.strip():
        return f"value {show(raw)} has leading or trailing whitespace"
    if _NUMBER.fullmatch(raw):
        return f"value {show(raw)} is out of range (|value| must be below {MAX_ABS_VALUE:g})"
    if re.fullmatch(r"[+-]?\d+,\d*", raw):
        return f"not a number: {show(raw)} (use '.' as the decimal separator)"
    return f"not a number: {show(raw)}"


def _describe_bad_value(value: float) -> str:
    if np.isnan(value):
        return "missing value"
    if np.isinf(value):
        return f"value {value} is not a finite number"
    return f"value {value:g} is out of range (|value| must be below {MAX_ABS_VALUE:g})"


def _describe_bad_label(value: str, task: Task) -> str:
    value = str(value)
    if value == "" or value.strip().lower() in _MISSING_TOKENS:
        return _describe_bad_cell(value)
    if value != value.strip():
        return f"label {show(value)} has leading or trailing whitespace"
    return f"unknown label {show(value)}; {_expected_labels(task)}"


# ---------------------------------------------------------------- ids


def parse_ids(array: pa.Array, raw: Raw, problems: Problems) -> pa.Array | None:
    """The ids as they are (None when the column is not text); reports missing ids and ids
    with leading or trailing whitespace."""
    if not pa.types.is_string(array.type):
        problems.add(
            None,
            "id",
            f"has type {array.type}; ids must be strings (so that '007' is not read as 7)",
        )
        return None
    ids = array
    text = filled(array, "")
    bad = to_numpy(pc.is_null(array))
    bad |= to_numpy(pc.binary_length(text)) == 0
    spaced = (
        to_numpy(pc.not_equal(pc.utf8_trim_whitespace(text), text)) & ~bad
        if edges_may_be_spaces(text)
        else np.zeros(len(array), dtype=bool)
    )
    problems.add_rows(raw.rows[np.flatnonzero(bad)] - 1, "id", lambda i: "missing id")
    problems.add_rows(
        raw.rows[np.flatnonzero(spaced)] - 1,
        "id",
        lambda i: f"id {show(row_value(ids, raw, i))} has leading or trailing whitespace",
    )
    return ids


def edges_may_be_spaces(array: pa.Array | pa.ChunkedArray) -> bool:
    """False when no string of ``array`` can start or end with whitespace: the first and the
    last byte of each is printable ASCII other than space (a whitespace character is ASCII
    space or a control, or a character of several bytes, none of them printable ASCII)."""
    buffers = string_buffers(array)
    if buffers is None:
        return True
    offsets, data = buffers
    nonempty = np.diff(offsets) > 0
    edges = np.concatenate([data[offsets[:-1][nonempty]], data[offsets[1:][nonempty] - 1]])
    return bool(((edges < 0x21) | (edges > 0x7E)).any())


# ---------------------------------------------------------------- numbers


def parse_numbers(array: pa.Array, column: str, raw: Raw, problems: Problems) -> np.ndarray:
    """float64 values; reports every cell that is not a finite number below the bound."""
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
                raw.rows[bad] - 1, column, lambda i: _describe_bad_cell(row_value(text, raw, i))
            )
        return values
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        # safe=False: integers beyond 2**53 are rounded, never an error
        values = to_numpy(pc.cast(array, pa.float64(), safe=False))
        values = np.where(to_numpy(pc.is_valid(array)), values, np.nan)
        bad = np.flatnonzero(~(np.abs(values) < MAX_ABS_VALUE))
        problems.add_rows(
            raw.rows[bad] - 1, column, lambda i: _describe_bad_value(row_value(values, raw, i))
        )
        return values
    problems.add(None, column, f"has type {t}; expected numbers")
    return np.full(len(array), np.nan)


def _numbers_from_text(text: np.ndarray) -> np.ndarray:
    import pandas as pd

    series = pd.Series(text, dtype=object)
    values = np.array(pd.to_numeric(series, errors="coerce"), dtype=np.float64)
    spaced = series.str.strip().to_numpy() != text
    values[spaced] = np.nan
    return values


# ---------------------------------------------------------------- labels


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


def parse_labels(
    array: pa.Array, column: str, task: Task, raw: Raw, problems: Problems
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
        codes = _label_codes(array, task)
    else:
        problems.add(None, column, f"has type {t}; {_expected_labels(task)}")
        return np.full(len(array), -1, dtype=np.int64)
    bad = np.flatnonzero(codes < 0)
    if len(bad):  # the cells as text (integer codes too), only to describe the bad ones
        text = pc.cast(array, pa.string()).fill_null("").to_numpy(zero_copy_only=False)
        problems.add_rows(
            raw.rows[bad] - 1, column, lambda i: _describe_bad_label(row_value(text, raw, i), task)
        )
    return codes


def _label_codes(array: pa.Array, task: Task) -> np.ndarray:
    """Codes of a text column: each distinct value is looked up once."""
    encoded = pc.dictionary_encode(filled(array, ""))
    lookup = _label_lookup(task)
    table = np.array(
        [
            lookup.get(str(v).lower(), -1) if v == str(v).strip() else -1
            for v in encoded.dictionary.to_pylist()
        ],
        dtype=np.int64,
    )
    if not len(table):
        return np.full(len(array), -1, dtype=np.int64)
    return table[to_numpy(encoded.indices)]


def parse_target(array: pa.Array, column: str, task: Task, raw: Raw, problems: Problems):
    """A target column: label codes (classification) or float64 values (regression)."""
    if task.kind == "classification":
        return parse_labels(array, column, task, raw, problems)
    return parse_numbers(array, column, raw, problems)
