"""The fast paths of issue 16 give exactly what the plain ones give: the hash join of ids
against Arrow's index_in, the duplicate check against unique, group codes against np.unique,
Arrow-to-numpy without pyarrow's conversion, the solution read once against twice, the
arrays of ``misme-score score`` against the frames, and whole reports (JSON, Markdown,
terminal) with every fast path switched off."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmark import bootstrap, io, report, scoring
from benchmark.errors import BenchmarkError
from benchmark.tasks import get_task
from tests.benchmark.conftest import MER_SOLUTION

ROOT = Path(__file__).resolve().parents[2]

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
        got = io._positions(array, solution_ids)
        if got is not None:
            used += 1
            assert np.array_equal(got, expected), (solution, ids)
        plain = pa.array(ids, type=pa.string())
        assert io._has_duplicates(plain) == (len(pc.unique(plain)) < len(plain)), ids
    assert used > 1500  # the fast path is the usual one


def test_group_codes_by_factorize_equal_np_unique():
    rng = np.random.default_rng(0)
    keys = np.array(["b", "a", "a\x00", "10", "9", "é", "A", ""], dtype=object)[
        rng.integers(0, 8, 5000)
    ]
    codes, n_groups = bootstrap.group_codes(keys, len(keys))
    unique, expected = np.unique(keys.astype(str), return_inverse=True)
    assert n_groups == len(unique) and np.array_equal(codes, expected)


def test_fold_codes_by_counting_and_orders_by_radix_equal_numpys():
    rng = np.random.default_rng(3)
    for dtype in (np.int8, np.int32, np.int64, np.uint8, np.float64):
        info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else np.iinfo(np.int64)
        for low, high in ((0, 6), (-100, 100), (-(2**21), 2**21), (info.min, info.max)):
            low, high = max(low, info.min), min(high, info.max)
            values = rng.integers(low, high, 500, endpoint=True, dtype=np.int64).astype(dtype)
            distinct, inverse = scoring._sorted_codes(values)
            expected = np.unique(values, return_inverse=True)
            assert distinct.dtype == expected[0].dtype and inverse.dtype == expected[1].dtype
            assert np.array_equal(distinct, expected[0]) and np.array_equal(inverse, expected[1])
    for n_codes in (1, 5, 40_000):
        codes = rng.integers(0, n_codes, 3000)
        order, starts = bootstrap.stable_order(codes, n_codes)
        expected_order, expected_starts = _plain_stable_order(codes, n_codes)
        assert np.array_equal(order, expected_order) and np.array_equal(starts, expected_starts)


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
        raw = io._Raw(["id"], [array], np.arange(1, len(ids) + 1))
        fast = io._Problems()
        io._parse_ids(array, raw, fast)
        with monkeypatch.context() as patch:
            patch.setattr(io, "_edges_may_be_spaces", lambda array: True)
            plain = io._Problems()
            io._parse_ids(array, raw, plain)
        assert (fast.items, fast.total) == (plain.items, plain.total), ids


def test_a_dictionary_column_factorizes_as_its_values_do():
    """A file's dictionary may repeat a value or hold one no row uses (or hold many)."""
    rng = np.random.default_rng(4)
    for dictionary in (["x", "DEAM", "x", "unused", "é", ""], [f"g{i}" for i in range(70_000)]):
        indices = pa.array(
            rng.choice([0, 1, 2, 4, 5], 300)
            if len(dictionary) < 10
            else rng.integers(0, len(dictionary), 300),
            pa.int32(),
        )
        encoded = pa.DictionaryArray.from_arrays(indices, pa.array(dictionary))
        codes, values = scoring._factorized(encoded)
        assert len(set(values)) == len(values)
        assert [values[c] for c in codes] == encoded.to_pylist()
        assert sorted(values) == sorted(set(encoded.to_pylist()))


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


def _files(tmp_path, kind: str, n: int = 3000):
    rng = np.random.default_rng(1)
    ids = np.array([f"id-{i:05d}" for i in range(n)], dtype=object)
    solution = pd.DataFrame({"id": ids, "fold": rng.integers(1, 5, n)})
    predictions = pd.DataFrame({"id": ids})
    if kind == "classification":
        solution["actor"] = rng.integers(1, 25, n).astype(str)
        solution["gender"] = np.where(rng.random(n) < 0.5, "male", "female")
        solution["emotion"] = rng.integers(1, 9, n)
        predictions["emotion"] = rng.integers(1, 9, n)
    else:
        solution["group"] = np.char.add("clip-", rng.integers(0, 300, n).astype(str))
        solution["corpus"] = np.array(["DEAM", "EMOPIA", "Soundtracks"])[rng.integers(0, 3, n)]
        for target in ("valence", "arousal"):
            solution[target] = rng.uniform(1, 9, n)
            predictions[target] = solution[target] + rng.normal(0, 1, n)
    solution_path, predictions_path = tmp_path / "solution.parquet", tmp_path / "pred.csv"
    solution.to_parquet(solution_path, index=False)
    predictions.sample(frac=1, random_state=0).to_csv(predictions_path, index=False)
    return solution_path, predictions_path


def _reports(solution_path, predictions_path, task) -> tuple[str, str, str]:
    solution = io.with_solution_columns(io.read_solution(solution_path, task), solution_path)
    predictions = io.read_predictions(predictions_path, solution, task)
    result = scoring.score(predictions, solution, task, n_resamples=200, seed=3)
    return report.to_json(result), report.to_markdown(result), report.to_terminal(result)


def _reports_of_arrays(solution_path, predictions_path, task) -> tuple[str, str, str]:
    """What ``misme-score score`` does: arrays, no frames."""
    solution = io.read_solution_arrays(solution_path, task, group_columns=True)
    predictions = io.read_prediction_arrays(predictions_path, solution, task)
    result = scoring.score_arrays(
        scoring.target_matrix(predictions, task), solution, task, n_resamples=200, seed=3
    )
    return report.to_json(result), report.to_markdown(result), report.to_terminal(result)


def _plain_stable_order(codes, n_codes):
    order = np.argsort(codes, kind="stable")
    return order, np.searchsorted(codes[order], np.arange(n_codes + 1))


@pytest.mark.parametrize("task_name", ["misme-mer", "misme-ser"])
def test_reports_are_identical_with_every_fast_path_off(tmp_path, monkeypatch, task_name):
    task = get_task(task_name)
    paths = _files(tmp_path, task.kind)
    fast = _reports(*paths, task)
    assert _reports_of_arrays(*paths, task) == fast
    monkeypatch.setattr(io, "_positions", lambda ids, solution_ids, solution_keys=None: None)
    monkeypatch.setattr(io, "_id_keys", lambda array, n_words=None: None)
    monkeypatch.setattr(io, "_same_strings", lambda a, b: False)
    monkeypatch.setattr(io, "_text_columns", lambda raw: None)
    monkeypatch.setattr(io, "_edges_may_be_spaces", lambda array: True)
    monkeypatch.setattr(pd.api.types, "infer_dtype", lambda *a, **k: "mixed")
    monkeypatch.setattr(scoring, "text_values", lambda column: column.astype(str).to_numpy())
    monkeypatch.setattr(
        scoring, "_sorted_codes", lambda values: np.unique(values, return_inverse=True)
    )
    monkeypatch.setattr(bootstrap, "stable_order", _plain_stable_order)
    for module in (io, scoring):
        monkeypatch.setattr(module, "to_numpy", lambda array: array.to_numpy(zero_copy_only=False))
    assert _reports(*paths, task) == fast
    assert _reports_of_arrays(*paths, task) == fast


def test_per_id_losses_of_arrays_and_frames_agree(tmp_path):
    task = get_task("misme-mer")
    solution_path, predictions_path = _files(tmp_path, task.kind, n=50)
    frames = io.read_solution(solution_path, task, group_columns=True)
    by_frames = scoring.score(io.read_predictions(predictions_path, frames, task), frames, task)
    arrays = io.read_solution_arrays(solution_path, task, group_columns=True)
    predictions = io.read_prediction_arrays(predictions_path, arrays, task)
    by_arrays = scoring.score_arrays(scoring.target_matrix(predictions, task), arrays, task)
    pd.testing.assert_series_equal(by_arrays.per_id_loss, by_frames.per_id_loss)


@pytest.mark.parametrize(
    ("task_name", "absent"), [("misme-ser", ("pandas", "scipy")), ("misme-mer", ("pandas",))]
)
def test_misme_score_score_imports_no_pandas(tmp_path, task_name, absent):
    """Start-up is most of a 1M-row score: the command does without pandas (a quarter of a
    second), and without scipy for classification (Pearson's p-value needs scipy.special)."""
    task = get_task(task_name)
    solution_path, predictions_path = _files(tmp_path, task.kind, n=200)
    code = (
        "import sys\n"
        "from benchmark.cli import main\n"
        f"assert main(['score', {str(predictions_path)!r}, '--solution', {str(solution_path)!r},"
        f" '--task', {task_name!r}, '--json', {str(tmp_path / 'r.json')!r}]) == 0\n"
        f"loaded = sorted({{name.split('.')[0] for name in sys.modules}} & {set(absent)!r})\n"
        "assert not loaded, loaded\n"
        "import os; os._exit(0)  # as the console script leaves (no Arrow pool at finalisation)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
