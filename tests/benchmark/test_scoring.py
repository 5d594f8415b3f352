"""Scores per fold, across folds and pooled, against scikit-learn computed independently."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from benchmark.errors import BenchmarkError
from benchmark.scoring import score
from benchmark.tasks import RAVDESS_EMOTIONS, TASKS, get_task


def _ser(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 8, n)
    pred = np.where(rng.random(n) < 0.5, truth, rng.integers(0, 8, n))
    labels = list(RAVDESS_EMOTIONS)
    solution = pd.DataFrame(
        {
            "id": [f"s{i:04d}" for i in range(n)],
            "fold": rng.integers(1, 7, n),
            "emotion": pd.Categorical.from_codes(truth, labels),
        }
    )
    predictions = pd.DataFrame(
        {"id": solution["id"], "emotion": pd.Categorical.from_codes(pred, labels)}
    )
    return solution, predictions


def _mer(seed: int, n: int = 600, targets=("valence", "arousal")):
    rng = np.random.default_rng(seed)
    solution = pd.DataFrame({"id": [f"m{i:04d}" for i in range(n)], "fold": rng.integers(1, 7, n)})
    predictions = pd.DataFrame({"id": solution["id"]})
    for target in targets:
        solution[target] = rng.uniform(1, 9, n)
        predictions[target] = solution[target] * 0.6 + rng.normal(2, 1, n)
    return solution, predictions


@pytest.mark.parametrize("seed", range(3))
def test_classification_scores_match_sklearn(seed):
    solution, predictions = _ser(seed)
    report = score(predictions, solution, get_task("misme-ser"))
    t, p = solution["emotion"].astype(str), predictions["emotion"].astype(str)
    assert report.primary == pytest.approx(skm.accuracy_score(t, p), abs=1e-12)
    assert report.pooled["uar"] == pytest.approx(skm.balanced_accuracy_score(t, p), abs=1e-12)
    assert report.pooled["macro_f1"] == pytest.approx(
        skm.f1_score(t, p, average="macro"), abs=1e-12
    )
    per_fold_acc = []
    for fold in sorted(solution["fold"].unique()):
        mask = solution["fold"] == fold
        expected = skm.accuracy_score(t[mask], p[mask])
        per_fold_acc.append(expected)
        assert report.per_fold[int(fold)]["accuracy"] == pytest.approx(expected, abs=1e-12)
        assert report.per_fold[int(fold)]["uar"] == pytest.approx(
            skm.balanced_accuracy_score(t[mask], p[mask]), abs=1e-12
        )
    assert report.fold_mean["accuracy"] == pytest.approx(np.mean(per_fold_acc), abs=1e-12)
    assert report.fold_sd["accuracy"] == pytest.approx(np.std(per_fold_acc, ddof=1), abs=1e-12)
    np.testing.assert_array_equal(
        report.extras["confusion_matrix"], skm.confusion_matrix(t, p, labels=list(RAVDESS_EMOTIONS))
    )
    recall = skm.recall_score(t, p, labels=list(RAVDESS_EMOTIONS), average=None)
    for k, label in enumerate(RAVDESS_EMOTIONS):
        assert report.extras["per_class"][label]["recall"] == pytest.approx(recall[k], abs=1e-12)
    np.testing.assert_array_equal(report.per_id_loss.to_numpy(), (t != p).to_numpy().astype(float))
    assert list(report.per_id_loss.index) == list(solution["id"])


@pytest.mark.parametrize("seed", range(3))
def test_regression_scores_match_sklearn(seed):
    solution, predictions = _mer(seed)
    report = score(predictions, solution, get_task("misme-mer"))
    rmse = {}
    for target in ("valence", "arousal"):
        t, p = solution[target], predictions[target]
        rmse[target] = np.sqrt(skm.mean_squared_error(t, p))
        assert report.pooled[f"rmse_{target}"] == pytest.approx(rmse[target], abs=1e-9)
        assert report.pooled[f"r2_{target}"] == pytest.approx(skm.r2_score(t, p), abs=1e-9)
        assert report.pooled[f"mae_{target}"] == pytest.approx(
            skm.mean_absolute_error(t, p), abs=1e-9
        )
        fold_rmse = [
            np.sqrt(skm.mean_squared_error(t[solution.fold == f], p[solution.fold == f]))
            for f in sorted(solution.fold.unique())
        ]
        assert [
            report.per_fold[f][f"rmse_{target}"] for f in sorted(report.per_fold)
        ] == pytest.approx(fold_rmse, abs=1e-9)
        assert report.fold_sd[f"rmse_{target}"] == pytest.approx(
            np.std(fold_rmse, ddof=1), abs=1e-9
        )
    assert report.primary == pytest.approx((rmse["valence"] + rmse["arousal"]) / 2, abs=1e-9)
    assert not report.higher_is_better
    expected_loss = (
        (predictions[["valence", "arousal"]] - solution[["valence", "arousal"]]) ** 2
    ).mean(axis=1)
    np.testing.assert_allclose(report.per_id_loss.to_numpy(), expected_loss.to_numpy(), rtol=1e-12)


def test_three_target_task_averages_over_three_targets():
    solution, predictions = _mer(0, targets=("valence", "arousal", "dominance"))
    report = score(predictions, solution, get_task("muse-vad"))
    assert report.pooled["ccc"] == pytest.approx(
        np.mean([report.pooled[f"ccc_{t}"] for t in ("valence", "arousal", "dominance")])
    )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), kind=st.sampled_from(["ser", "mer"]), data=st.randoms())
def test_row_order_does_not_change_scores(seed, kind, data):
    solution, predictions = (_ser if kind == "ser" else _mer)(seed, n=120)
    task = get_task("misme-ser" if kind == "ser" else "misme-mer")
    order = list(range(len(solution)))
    data.shuffle(order)
    base = score(predictions, solution, task)
    shuffled = score(
        predictions.iloc[order].reset_index(drop=True),
        solution.iloc[order].reset_index(drop=True),
        task,
    )
    for name, value in base.pooled.items():
        assert shuffled.pooled[name] == pytest.approx(value, rel=1e-9, abs=1e-12)
    for fold, values in base.per_fold.items():
        for name, value in values.items():
            assert shuffled.per_fold[fold][name] == pytest.approx(value, rel=1e-9, abs=1e-12)
    # predictions in another order than the solution are re-aligned by id
    realigned = score(predictions.iloc[order].reset_index(drop=True), solution, task)
    assert realigned.pooled == pytest.approx(base.pooled)


def test_misaligned_predictions_are_refused():
    solution, predictions = _mer(1, n=20)
    predictions.loc[3, "id"] = "other"
    with pytest.raises(BenchmarkError, match="solution's ids"):
        score(predictions, solution, get_task("misme-mer"))


def test_report_is_json_serialisable_with_every_number():
    solution, predictions = _ser(2)
    solution["fold"] = 1  # a single fold: sd is undefined -> null
    data = json.loads(
        json.dumps(
            score(predictions, solution, get_task("misme-ser")).to_dict(include_losses=True),
            allow_nan=False,
        )
    )
    assert data["fold_sd"]["accuracy"] is None
    assert len(data["per_id_loss"]["loss"]) == len(solution)
    assert data["extras"]["labels"] == list(RAVDESS_EMOTIONS)


def test_task_registry():
    assert {
        "misme-ser",
        "misme-ser-speech",
        "misme-mer",
        "misme-mer-music",
        "mer-quadrant",
        "mer-va",
        "muse-vad",
    } <= set(TASKS)
    assert get_task("mer-quadrant").labels == ("Q1", "Q2", "Q3", "Q4")
    assert (
        get_task("misme-ser").primary_metric == "accuracy"
        and get_task("misme-ser").higher_is_better
    )
    with pytest.raises(BenchmarkError, match="unknown task 'nope'; known tasks: .*misme-mer"):
        get_task("nope")


def test_benchmark_never_imports_builders():
    code = (
        "import sys, benchmark.cli, benchmark.compare, benchmark.report, benchmark.io; "
        "sys.exit(any(m == 'builders' or m.startswith('builders.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
