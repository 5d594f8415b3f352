"""The fast paths of issue 16 give exactly what the plain ones give: the hash join of ids
against Arrow's index_in, the duplicate check against unique, group codes against np.unique,
and whole reports (JSON, Markdown, terminal) with every fast path switched off."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmark import bootstrap, io, report, scoring
from benchmark.tasks import get_task

ALPHABET = ["a", "b", "0", "7", " ", "é", "💥", "\t", "x" * 9, "-", "\x00"]


def _word(rng: random.Random, longest: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def test_the_hash_join_equals_index_in_and_the_duplicate_check_equals_unique():
    rng, used = random.Random(0), 0
    for _ in range(2000):
        solution = list({_word(rng, rng.choice([3, 12, 40])) or "z" for _ in range(rng.randint(1, 40))})
        ids = [rng.choice(solution) if rng.random() < 0.8 else _word(rng, 20)
               for _ in range(rng.randint(0, 80))]
        if rng.random() < 0.3:
            ids = rng.sample(solution, len(solution))
        solution_ids = pa.array(solution, type=rng.choice([pa.string(), pa.large_string()]))
        if rng.random() < 0.3 and len(solution_ids) > 2:
            solution_ids = solution_ids.slice(1)
        array = pa.array(ids, type=pa.string())
        if rng.random() < 0.3 and len(array) > 2:
            array = pa.chunked_array([array.slice(0, 1), array.slice(1)])
        expected = pc.index_in(array, value_set=solution_ids).fill_null(-1).to_numpy(
            zero_copy_only=False).astype(np.int64)
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
        rng.integers(0, 8, 5000)]
    codes, n_groups = bootstrap.group_codes(keys, len(keys))
    unique, expected = np.unique(keys.astype(str), return_inverse=True)
    assert n_groups == len(unique) and np.array_equal(codes, expected)


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


@pytest.mark.parametrize("task_name", ["misme-mer", "misme-ser"])
def test_reports_are_identical_with_every_fast_path_off(tmp_path, monkeypatch, task_name):
    task = get_task(task_name)
    paths = _files(tmp_path, task.kind)
    fast = _reports(*paths, task)
    monkeypatch.setattr(io, "_positions", lambda ids, solution_ids: None)
    monkeypatch.setattr(io, "_id_keys", lambda array, n_words=None: None)
    monkeypatch.setattr(io, "_same_strings", lambda a, b: False)
    monkeypatch.setattr(pd.api.types, "infer_dtype", lambda *a, **k: "mixed")
    assert _reports(*paths, task) == fast
