"""Every metric the scorer emits has a declared direction (benchmark.tasks.metric_directions),
so that no caller guesses it from the metric's name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmark.errors import BenchmarkError
from benchmark.scoring import CLASSIFICATION_METRICS, REGRESSION_METRICS, score
from benchmark.tasks import TASKS, get_task, higher_is_better, metric_directions


def _solution_and_predictions(task, n: int = 90) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    solution = pd.DataFrame({"id": [f"x{i:03d}" for i in range(n)], "fold": rng.integers(1, 4, n)})
    predictions = pd.DataFrame({"id": solution["id"]})
    for target in task.targets:
        if task.kind == "classification":
            labels = list(task.labels)
            solution[target] = pd.Categorical.from_codes(rng.integers(0, len(labels), n), labels)
            predictions[target] = pd.Categorical.from_codes(rng.integers(0, len(labels), n), labels)
        else:
            solution[target] = rng.uniform(1, 9, n)
            predictions[target] = solution[target] + rng.normal(0, 1, n)
    return solution, predictions


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_metric_the_scorer_emits_has_a_declared_direction(name: str) -> None:
    task = get_task(name)
    report = score(*reversed(_solution_and_predictions(task)), task, n_resamples=10)
    emitted = set(report.pooled) | {m for fold in report.per_fold.values() for m in fold}
    assert emitted and emitted <= set(metric_directions(task))
    assert higher_is_better(task, task.primary_metric) is task.higher_is_better


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_metric_a_config_may_rank_by_has_a_declared_direction(name: str) -> None:
    task = get_task(name)
    choices = CLASSIFICATION_METRICS if task.kind == "classification" else REGRESSION_METRICS
    for metric in choices:
        assert isinstance(higher_is_better(task, metric), bool)


def test_directions_are_declared_not_guessed() -> None:
    mer = get_task("misme-mer")
    assert higher_is_better(mer, "rmse_valence") is False
    assert higher_is_better(mer, "mae") is False
    assert higher_is_better(mer, "ccc_arousal") is True
    assert higher_is_better(mer, "pearson_p_valence") is False
    assert higher_is_better(get_task("misme-ser"), "uar") is True
    with pytest.raises(BenchmarkError, match="not a metric of misme-ser"):
        higher_is_better(get_task("misme-ser"), "rmse")
