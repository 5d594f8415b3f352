"""The fast paths of issue 16 give exactly what the plain ones give: group codes against
np.unique, the arrays of ``misme-score score`` against the frames, and whole reports (JSON,
Markdown, terminal) with every fast path switched off (those of reading included; reading's
own are checked one by one in tests/benchmark/io/test_fast_paths.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from benchmark import bootstrap, io, report, scoring
from benchmark.io import arrays, arrow, cells, groups, join, load
from benchmark.tasks import get_task

ROOT = Path(__file__).resolve().parents[2]


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
    for n_codes in (1, 5, 40_000, 65_536):  # 16 bits: numpy's radix sort
        codes = rng.integers(0, n_codes, 3000)
        codes[:2] = (n_codes - 1, 0)
        order, starts = bootstrap.stable_order(codes, n_codes)
        expected_order, expected_starts = _plain_stable_order(codes, n_codes)
        assert np.array_equal(order, expected_order) and np.array_equal(starts, expected_starts)


@pytest.mark.parametrize("n_groups", [3, bootstrap.ROW_BY_ROW_GROUPS, 65_536])
def test_draws_counted_row_by_row_equal_one_bincount_of_all_rows(n_groups):
    draws = next(bootstrap.resample_draws(n_groups, 40, seed=2))
    offsets = draws + n_groups * np.arange(len(draws))[:, None]
    expected = np.bincount(offsets.ravel(), minlength=draws.size).reshape(draws.shape)
    counts = bootstrap._counts(draws, n_groups)
    assert counts.dtype == np.float64 and np.array_equal(counts, expected)


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
    monkeypatch.setattr(join, "positions", lambda ids, solution_ids, solution_keys=None: None)
    monkeypatch.setattr(arrays, "id_keys", lambda array, n_words=None: None)
    monkeypatch.setattr(groups, "same_strings", lambda a, b: False)
    monkeypatch.setattr(arrays, "text_columns", lambda raw: None)
    monkeypatch.setattr(cells, "edges_may_be_spaces", lambda array: True)
    monkeypatch.setattr(pd.api.types, "infer_dtype", lambda *a, **k: "mixed")
    monkeypatch.setattr(scoring, "text_values", lambda column: column.astype(str).to_numpy())
    monkeypatch.setattr(
        scoring, "_sorted_codes", lambda values: np.unique(values, return_inverse=True)
    )
    monkeypatch.setattr(bootstrap, "stable_order", _plain_stable_order)
    for module in (arrow, load, cells, join, scoring):
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
