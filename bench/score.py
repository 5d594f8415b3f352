"""Benchmark: read + validate + score 1,000,000-row submissions, against a naive scorer.

Run: .venv/bin/python bench/score.py [--rows N]
Prints wall (and CPU) times and the speed-up (target: >= 5x faster than the naive
scorer and under 2 s per submission), plus Diebold-Mariano on N pairs. On a shared,
loaded machine the wall times are inflated; compare the CPU times.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from benchmark import stats
from benchmark.io import read_predictions, read_solution
from benchmark.scoring import score
from benchmark.tasks import RAVDESS_EMOTIONS, get_task


def _write(folder: Path, n: int, kind: str) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    ids = np.char.add("mix-", np.arange(n).astype(str)).astype(object)
    solution = pd.DataFrame({"id": ids, "fold": rng.integers(1, 7, n)})
    predictions = pd.DataFrame({"id": ids})
    if kind == "classification":
        truth = rng.integers(0, 8, n)
        solution["emotion"] = truth + 1
        guess = np.where(rng.random(n) < 0.4, truth, rng.integers(0, 8, n))
        predictions["emotion"] = np.asarray(RAVDESS_EMOTIONS)[guess]
    else:
        for target in ("valence", "arousal"):
            solution[target] = rng.uniform(1, 9, n)
            predictions[target] = solution[target] + rng.normal(0, 1, n)
    predictions = predictions.sample(frac=1, random_state=0)
    sol_path, pred_path = folder / f"{kind}-solution.parquet", folder / f"{kind}-pred.csv"
    solution.to_parquet(sol_path, index=False)
    predictions.to_csv(pred_path, index=False)
    return sol_path, pred_path


def _naive(sol_path: Path, pred_path: Path, kind: str) -> float:
    """A careful but straightforward pandas + scikit-learn scorer with row-wise checks."""
    solution = pd.read_parquet(sol_path)
    predictions = pd.read_csv(pred_path, dtype=str, keep_default_na=False)
    problems = []
    for row in predictions.itertuples(index=False):
        if not row.id or row.id != row.id.strip():
            problems.append(row.id)
    if predictions["id"].duplicated().any() or set(predictions["id"]) != set(solution["id"]):
        problems.append("ids")
    merged = solution.merge(predictions, on="id", suffixes=("_true", "_pred"))
    results = []
    for _, part in [(None, merged), *merged.groupby("fold")]:
        if kind == "classification":
            truth = np.asarray(RAVDESS_EMOTIONS)[part["emotion_true"].to_numpy() - 1]
            pred = part["emotion_pred"]
            results += [skm.accuracy_score(truth, pred), skm.balanced_accuracy_score(truth, pred),
                        skm.f1_score(truth, pred, average="macro")]
        else:
            for target in ("valence", "arousal"):
                t, p = part[f"{target}_true"], part[f"{target}_pred"].astype(float)
                results += [np.sqrt(skm.mean_squared_error(t, p)), skm.mean_absolute_error(t, p),
                            skm.r2_score(t, p)]
    assert not problems
    return float(results[0]) if kind == "classification" else float((results[0] + results[3]) / 2)


def _ours(sol_path: Path, pred_path: Path, task_name: str) -> float:
    task = get_task(task_name)
    solution = read_solution(sol_path, task)
    timings = {}
    start = time.perf_counter()
    predictions = read_predictions(pred_path, solution, task)
    timings["read+validate"] = time.perf_counter() - start
    start = time.perf_counter()
    value = score(predictions, solution, task).primary
    timings["score"] = time.perf_counter() - start
    print("  misme-score stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items()))
    return value


def _time(function, *args) -> tuple[float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  {getattr(function, '__name__', 'call')}: wall {wall:.2f} s, cpu {cpu:.2f} s")
    return wall, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    n = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as folder:
        for kind, task in (("regression", "misme-mer"), ("classification", "misme-ser")):
            sol_path, pred_path = _write(Path(folder), n, kind)
            ours, value = _time(_ours, sol_path, pred_path, task)
            naive, reference = _time(_naive, sol_path, pred_path, kind)
            assert abs(value - reference) < 1e-9, (value, reference)
            verdict = "OK" if naive / ours >= 5 and ours < 2 else "MISSED"
            print(f"{kind:<14} {n:,} rows: misme-score {ours:.2f} s, naive {naive:.2f} s, "
                  f"speed-up {naive / ours:.1f}x (target >= 5x and < 2 s: {verdict})")
    rng = np.random.default_rng(1)
    e1, e2 = rng.normal(size=n), rng.normal(size=n) * 1.01
    for h in (1, 5):
        elapsed, result = _time(lambda h=h: stats.diebold_mariano(e1, e2, h=h))
        print(f"diebold-mariano h={h} on {n:,} pairs: {elapsed * 1000:.0f} ms "
              f"(DM = {result.statistic:.3f}, p = {result.pvalue:.3g})")


if __name__ == "__main__":
    main()
