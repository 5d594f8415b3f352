"""The hash join of ids gives exactly what Arrow's index_in gives, and the duplicate check
what unique gives."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmark.io import join

ALPHABET = ["a", "b", "0", "7", " ", "é", "💥", "\t", "x" * 9, "-", "\x00"]


def _word(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def test_the_hash_join_equals_index_in_and_the_duplicate_check_equals_unique():
    rng, used = random.Random(0), 0
    for _ in range(2000):
        solution = list(
            {_word(rng, rng.choice([3, 12, 40])) or "z" for _ in range(rng.randint(1, 40))}
        )
        ids = [
            rng.choice(solution) if rng.random() < 0.8 else _word(rng, 20)
            for _ in range(rng.randint(0, 80))
        ]
        if rng.random() < 0.3:
            ids = rng.sample(solution, len(solution))
        solution_ids = pa.array(solution, type=rng.choice([pa.string(), pa.large_string()]))
        if rng.random() < 0.3 and len(solution_ids) > 2:
            solution_ids = solution_ids.slice(1)
        array = pa.array(ids, type=pa.string())
        if rng.random() < 0.3 and len(array) > 2:
            array = pa.chunked_array([array.slice(0, 1), array.slice(1)])
        expected = (
            pc.index_in(array, value_set=solution_ids)
            .fill_null(-1)
            .to_numpy(zero_copy_only=False)
            .astype(np.int64)
        )
        got = join.positions(array, solution_ids)
        if got is not None:
            used += 1
            assert np.array_equal(got, expected), (solution, ids)
        plain = pa.array(ids, type=pa.string())
        assert join.has_duplicates(plain) == (len(pc.unique(plain)) < len(plain)), ids
    assert used > 1500  # the fast path is the usual one
