"""Predictions to solution ids: the position of every prediction row in the solution, and
the problems of the ids (not in the solution, given twice, missing).

Ids are matched by a 64-bit hash of their bytes, then verified byte for byte; any doubt
(a hash shared by two solution ids, a hash match whose bytes differ, very long ids, nulls)
falls back to Arrow's exact ``index_in`` / ``unique``, so the result is always exact.

Why not ``pyarrow.compute.index_in`` alone (issue 23 asked for it): it gives the same
positions (tests/benchmark/io/test_join.py) but cannot meet the same timings. Reading
bench/score.py's 1,000,000-row solution and submission in one process (CPU seconds, the
median of 5 runs in each of 3 interleaved rounds, 2 shared cores) took 0.79-0.87 s (MER)
and 0.66-0.72 s (SER) with this join, 0.98-1.19 s and 0.84-1.07 s with ``index_in`` +
``unique`` (alone: this join 0.16 s against 0.28 s, the solution's duplicate check 0.05 s
against 0.09 s). bench/score.py itself, under a heavier load, gave 2.34 s of CPU for
``misme-score score --bootstrap 0`` (MER) with ``index_in``, 1.40 s with this join.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmark.io.arrow import filled, string_buffers, to_numpy
from benchmark.io.cells import row_value, show
from benchmark.io.raw import MAX_PROBLEMS, Problems, Raw

_MAX_KEY_WORDS = 16  # ids up to 128 bytes take the hash path
_BYTE_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_M1, _M2, _M3 = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xBF58476D1CE4E5B9),
    np.uint64(0x94D049BB133111EB),
)


@dataclass
class Keys:
    """Every id's bytes as little-endian 8-byte words (zero-padded), its length and a hash."""

    words: list[np.ndarray]
    lengths: np.ndarray
    hashes: np.ndarray


def id_keys(array: pa.Array | pa.ChunkedArray, n_words: int | None = None) -> Keys | None:
    """Keys of ``array`` with ``n_words`` words per id (default: enough for the longest id);
    None when the hash path does not apply (nulls, a big-endian machine, ids too long)."""
    buffers = string_buffers(array) if sys.byteorder == "little" else None
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
    return Keys(words, lengths, hashes)


def has_duplicates(ids: pa.Array, keys: Keys | None = None) -> bool:
    """Whether ``ids`` holds a value twice (nulls count as one value, like ``pc.unique``);
    ``keys``: their :func:`id_keys`, when known."""
    keys = id_keys(ids) if keys is None else keys
    if keys is not None:
        ordered = np.sort(keys.hashes)
        if not (ordered[1:] == ordered[:-1]).any():
            return False  # distinct hashes: distinct ids
    return len(pc.unique(ids)) < len(ids)


def positions(
    ids: pa.Array, solution_ids: pa.Array, solution_keys: Keys | None = None
) -> np.ndarray | None:
    """Index in ``solution_ids`` (unique) of every id, -1 when absent; None when the hash
    path does not apply (:func:`align` then uses ``pc.index_in``). ``solution_keys``: the
    :func:`id_keys` of ``solution_ids``, when known."""
    solution_keys = id_keys(solution_ids) if solution_keys is None else solution_keys
    if solution_keys is None or string_buffers(ids) is None:
        return None
    keys = id_keys(ids, len(solution_keys.words))
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
    return position if _same_bytes(position, keys, solution_keys) else None


def _same_bytes(position: np.ndarray, keys: Keys, solution_keys: Keys) -> bool:
    """Whether every id found by its hash has the bytes of the solution id it was matched to."""
    found = np.flatnonzero(position >= 0)
    every = len(found) == len(position)  # the usual case: no copies of this file's keys
    target = position if every else position[found]
    same = np.take(solution_keys.lengths, target) == (
        keys.lengths if every else keys.lengths[found]
    )
    for solution_word, word in zip(solution_keys.words, keys.words, strict=True):
        same &= np.take(solution_word, target) == (word if every else word[found])
    return bool(same.all())


def duplicated(values: np.ndarray) -> np.ndarray:
    """``pd.Index(values).duplicated()``: True for every value seen before."""
    import pandas as pd

    return pd.Index(values).duplicated()


def align(
    ids: pa.Array,
    raw: Raw,
    solution_ids: pa.Array,
    solution_keys: Keys | None,
    problems: Problems,
) -> np.ndarray:
    """Position in ``solution_ids`` of every prediction row; reports duplicate, extra, missing ids."""
    n_solution = len(solution_ids)
    if len(raw) > n_solution:
        problems.add(
            None, None, f"the file has {len(raw):,} rows but the solution has {n_solution:,} ids"
        )
    position = positions(ids, solution_ids, solution_keys)
    if position is None:
        position = to_numpy(filled(pc.index_in(ids, value_set=solution_ids), -1)).astype(np.int64)
    blank = to_numpy(pc.binary_length(filled(ids, ""))) == 0
    extra = np.flatnonzero((position < 0) & ~blank)  # a missing id is reported once, as such
    problems.add_rows(
        raw.rows[extra] - 1,
        "id",
        lambda i: f"id {show(row_value(ids, raw, i))} is not in the solution",
    )
    counts = np.bincount(position[position >= 0], minlength=n_solution)
    if (counts > 1).any():
        _report_duplicates(ids, position, raw, problems)
    missing = np.flatnonzero(counts == 0)
    for index in missing[:MAX_PROBLEMS]:
        problems.add(
            None,
            "id",
            f"id {show(solution_ids[int(index)].as_py())} of the solution has no prediction",
        )
    problems.total += max(len(missing) - MAX_PROBLEMS, 0)
    return position


def _report_duplicates(ids: pa.Array, position: np.ndarray, raw: Raw, problems: Problems) -> None:
    valid = np.flatnonzero(position >= 0)
    seen_before = duplicated(position[valid])
    first_row: dict[int, int] = {}
    for index in valid[~seen_before]:
        first_row[int(position[index])] = int(raw.rows[index])
    rows = raw.rows[valid[seen_before]]

    def describe(i: int) -> str:
        index = int(np.searchsorted(raw.rows, i + 1))
        return (
            f"duplicate id {show(ids[index].as_py())} (first seen in row "
            f"{first_row[int(position[index])]})"
        )

    problems.add_rows(rows - 1, "id", describe)
