"""The fast paths of reading give exactly what the plain ones give: the whitespace check of
ids, Arrow-to-numpy without pyarrow's conversion, and the solution read once against twice."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from benchmark import io
from benchmark.errors import BenchmarkError
from benchmark.io import cells
from benchmark.io.raw import Problems, Raw
from benchmark.tasks import get_task
from tests.benchmark.conftest import MER_SOLUTION


def test_the_whitespace_check_of_ids_skips_only_what_cannot_be_spaced(monkeypatch):
    rng = random.Random(5)
    spaces = [" ", "\t", "\n", "\x0b", "\x1c", "\x85", "\u00a0", "\u2003", "\u3000", "\x7f"]
    letters = ["a", "0", "~", "!", "é", "💥", "-"]
    for _ in range(300):
        ids = [
            "".join(
                rng.choice(letters + spaces * (rng.random() < 0.3))
                for _ in range(rng.randint(0, 4))
            )
            for _ in range(rng.randint(1, 30))
        ]
        array = pa.array(ids, type=pa.string())
        raw = Raw(["id"], [array], np.arange(1, len(ids) + 1))
        fast = Problems()
        cells.parse_ids(array, raw, fast)
        with monkeypatch.context() as patch:
            patch.setattr(cells, "edges_may_be_spaces", lambda array: True)
            plain = Problems()
            cells.parse_ids(array, raw, plain)
        assert (fast.items, fast.total) == (plain.items, plain.total), ids


def test_to_numpy_equals_pyarrows_conversion():
    rng = np.random.default_rng(2)
    for kind in (
        pa.bool_(),
        pa.int8(),
        pa.int32(),
        pa.uint16(),
        pa.int64(),
        pa.uint64(),
        pa.float32(),
        pa.float64(),
        pa.string(),
    ):
        for n in (0, 1, 7, 8, 9, 100):
            values = rng.integers(0, 3, n)
            array = pa.array(values.astype(str) if kind == pa.string() else values).cast(kind)
            nulls = pa.array(
                [None if i % 5 == 4 else v for i, v in enumerate(array.to_pylist())], kind
            )
            for candidate in (
                array,
                nulls,
                array.slice(min(n, 3)),
                nulls.slice(min(n, 2), 3),
                pa.chunked_array([array, array.slice(min(n, 1))], kind),
                pa.chunked_array([], kind),
            ):
                expected = candidate.to_numpy(zero_copy_only=False)
                got = io.to_numpy(candidate)
                assert got.dtype == expected.dtype, (kind, n)
                np.testing.assert_array_equal(got, expected)


SOLUTION_VARIANTS = {
    "text.parquet": lambda f: f,
    "int-actor.parquet": lambda f: f.drop(columns="group").assign(actor=np.arange(len(f)) % 3),
    "null-corpus.parquet": lambda f: f.assign(corpus=[None, *f["corpus"][1:]]),
    "category.parquet": lambda f: f.assign(corpus=f["corpus"].astype("category")),
    "no-groups.parquet": lambda f: f.drop(columns=["group", "corpus"]),
    "text.csv": lambda f: f,
}


@pytest.mark.parametrize("name", SOLUTION_VARIANTS)
def test_the_solution_read_once_equals_the_second_read_of_its_group_columns(tmp_path, name):
    task = get_task("misme-mer")
    frame = SOLUTION_VARIANTS[name](
        MER_SOLUTION.assign(
            group=["g1", "g1", "g2", "g2", "g3", "g3"], corpus=["DEAM", "x", "DEAM", "é", "x", "x"]
        )
    )
    path = tmp_path / name
    frame.to_parquet(path, index=False) if name.endswith(".parquet") else frame.to_csv(
        path, index=False
    )
    twice = io.with_solution_columns(io.read_solution(path, task), path)
    pd.testing.assert_frame_equal(io.read_solution(path, task, group_columns=True), twice)
    arrays = io.read_solution_arrays(path, task, group_columns=True)
    assert list(arrays.text) == [c for c in ("actor", "group", "corpus") if c in twice.columns]
    for column, values in arrays.text.items():
        expected = io.text_values(twice[column])
        assert isinstance(values, pa.Array) == isinstance(expected, pa.Array)
        assert list(values.to_pylist() if isinstance(values, pa.Array) else values) == list(
            expected.to_pylist() if isinstance(expected, pa.Array) else expected
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="fold"), "column 'fold': missing column"),
        (lambda f: f.drop(columns="arousal"), "column 'arousal': missing column"),
        (lambda f: pd.concat([f, f.iloc[:1]]), "row 7, column 'id': duplicate id '007'"),
        (lambda f: f.assign(id=range(6)), "ids must be strings"),
    ],
)
def test_the_single_read_refuses_a_bad_solution_as_the_plain_read_does(tmp_path, change, message):
    task = get_task("misme-mer")
    path = tmp_path / "solution.parquet"
    change(MER_SOLUTION.assign(group="g")).to_parquet(path, index=False)
    errors = []
    for read in (
        lambda: io.read_solution(path, task),
        lambda: io.read_solution(path, task, group_columns=True),
        lambda: io.read_solution_arrays(path, task, group_columns=True),
    ):
        with pytest.raises(BenchmarkError) as raised:
            read()
        errors.append(str(raised.value))
    assert message in errors[0] and errors == [errors[0]] * 3
