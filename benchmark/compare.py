"""Pairwise comparison of two submissions on the same solution (paired by id)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark import bootstrap, stats
from benchmark.errors import BenchmarkError
from benchmark.scoring import (
    ScoreReport,
    _arrays,
    _json_safe,
    _solution_arrays,
    resampling_codes,
    score,
)
from benchmark.tasks import Task


@dataclass
class ComparisonReport:
    """Scores of A and B, Diebold-Mariano tests (Holm-adjusted across the family),
    McNemar for classification, and bootstrap CIs of the primary metric and of A - B."""

    task: str
    primary_metric: str
    higher_is_better: bool
    a: ScoreReport
    b: ScoreReport
    tests: list[dict] = field(default_factory=list)
    bootstrap: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    files: tuple[str, str] | None = None  # what A and B are (as given), for the reports

    def to_dict(self) -> dict:
        return _json_safe(
            {
                "task": self.task,
                "primary_metric": self.primary_metric,
                "higher_is_better": self.higher_is_better,
                "settings": self.settings,
                "a": self.a.to_dict(),
                "b": self.b.to_dict(),
                "tests": self.tests,
                "bootstrap": self.bootstrap,
            }
        )


def _dm(name: str, run) -> dict:
    try:
        result = run()
        return {
            "test": "diebold-mariano",
            "name": name,
            "statistic": result.statistic,
            "pvalue": result.pvalue,
            "mean_loss_difference": result.mean_difference,
        }
    except BenchmarkError as error:
        return {
            "test": "diebold-mariano",
            "name": name,
            "statistic": None,
            "pvalue": None,
            "error": str(error),
        }


def compare(
    pred_a: pd.DataFrame,
    pred_b: pd.DataFrame,
    solution: pd.DataFrame,
    task: Task,
    *,
    h: int = 1,
    power: float = 2,
    alternative: str = "two-sided",
    n_resamples: int = 1000,
    seed: int = 0,
) -> ComparisonReport:
    """Compare two aligned prediction frames (see :func:`benchmark.io.read_predictions`).

    Regression: DM on the errors of each target (loss |e|^power) and on the loss averaged
    over targets. Classification: DM on 0-1 loss and McNemar. ``alternative="less"``
    means H1: A is more accurate than B (A's losses are smaller).
    """
    report_a, report_b = score(pred_a, solution, task), score(pred_b, solution, task)
    truth, a, b = _arrays(solution, task), _arrays(pred_a, task), _arrays(pred_b, task)
    if task.kind == "classification":
        tests = [
            _dm(
                "0-1 loss",
                lambda: stats.diebold_mariano_from_losses(
                    (a != truth).astype(float),
                    (b != truth).astype(float),
                    h=h,
                    alternative=alternative,
                ),
            )
        ]
        mc = stats.mcnemar(a == truth, b == truth)
        tests.append(
            {
                "test": "mcnemar",
                "name": "correct/incorrect",
                "statistic": mc.statistic,
                "pvalue": mc.pvalue,
                "only_a_correct": mc.b,
                "only_b_correct": mc.c,
                "exact": mc.exact,
            }
        )
    else:
        ea, eb = a - truth, b - truth
        tests = [
            _dm(
                target,
                lambda j=j: stats.diebold_mariano(
                    ea[:, j], eb[:, j], h=h, power=power, alternative=alternative
                ),
            )
            for j, target in enumerate(task.targets)
        ]
        if len(task.targets) > 1:
            tests.append(
                _dm(
                    "mean over targets",
                    lambda: stats.diebold_mariano_from_losses(
                        np.mean(np.abs(ea) ** power, axis=1),
                        np.mean(np.abs(eb) ** power, axis=1),
                        h=h,
                        alternative=alternative,
                    ),
                )
            )
    _add_holm(tests)
    return ComparisonReport(
        task.name,
        task.primary_metric,
        task.higher_is_better,
        report_a,
        report_b,
        tests,
        _bootstrap(task, solution, truth, a, b, n_resamples, seed),
        {
            "h": h,
            "power": power,
            "alternative": alternative,
            "n_resamples": n_resamples,
            "seed": seed,
            "n": len(solution),
        },
    )


def _add_holm(tests: list[dict]) -> None:
    valid = [t for t in tests if t.get("pvalue") is not None]
    if valid:
        for test, adjusted in zip(valid, stats.holm([t["pvalue"] for t in valid]), strict=True):
            test["pvalue_holm"] = float(adjusted)


def _bootstrap(
    task: Task, solution: pd.DataFrame, truth, a, b, n_resamples: int, seed: int
) -> dict:
    """Paired bootstrap of the primary metric (whole groups when the solution has them):
    intervals of A, B and A - B, and the rank interval of each."""
    if n_resamples <= 0:
        return {}
    arrays = _solution_arrays(solution, task)
    codes, n_groups, grouped_by = resampling_codes(arrays.text, len(truth), seed)
    values = bootstrap.replicates_of_codes(
        task,
        task.primary_metric,
        truth,
        [a, b],
        codes,
        n_groups,
        n_resamples=n_resamples,
        seed=seed,
    )
    low, high = bootstrap.percentile_interval(values)
    difference = bootstrap.percentile_interval((values[:, 0] - values[:, 1])[:, None])
    rank_low, rank_high = bootstrap.rank_intervals(values, task.higher_is_better)
    return {
        "confidence": 0.95,
        "grouped_by": grouped_by,
        "n_groups": n_groups,
        "a": (float(low[0]), float(high[0])),
        "b": (float(low[1]), float(high[1])),
        "a_minus_b": (float(difference[0][0]), float(difference[1][0])),
        "rank_a": (int(rank_low[0]), int(rank_high[0])),
        "rank_b": (int(rank_low[1]), int(rank_high[1])),
    }
