"""Pairwise comparison of two submissions on the same solution (paired by id)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from benchmark import metrics as m
from benchmark import stats
from benchmark.errors import BenchmarkError
from benchmark.scoring import ScoreReport, _json_safe, score
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

    def to_dict(self) -> dict:
        return _json_safe({
            "task": self.task, "primary_metric": self.primary_metric,
            "higher_is_better": self.higher_is_better, "settings": self.settings,
            "a": self.a.to_dict(), "b": self.b.to_dict(), "tests": self.tests,
            "bootstrap": self.bootstrap,
        })


def _primary_function(task: Task):
    if task.kind == "classification":
        return {"accuracy": m.accuracy, "uar": m.uar, "macro_f1": m.macro_f1}[task.primary_metric]
    single = {"rmse": m.rmse, "mae": m.mae, "r2": m.r2, "ccc": m.ccc,
              "pearson_r": lambda t, p: m.pearson(t, p)[0]}[task.primary_metric]
    return lambda t, p: float(np.mean([single(t[:, j], p[:, j]) for j in range(t.shape[1])]))


def _matrix(frame: pd.DataFrame, task: Task) -> np.ndarray:
    if task.kind == "classification":
        column = frame[task.targets[0]]
        return pd.Categorical(column, categories=list(task.labels)).codes.astype(np.int64)
    return frame[list(task.targets)].to_numpy(dtype=np.float64)


def _dm(name: str, run) -> dict:
    try:
        result = run()
        return {"test": "diebold-mariano", "name": name, "statistic": result.statistic,
                "pvalue": result.pvalue, "mean_loss_difference": result.mean_difference}
    except BenchmarkError as error:
        return {"test": "diebold-mariano", "name": name, "statistic": None, "pvalue": None,
                "error": str(error)}


def compare(pred_a: pd.DataFrame, pred_b: pd.DataFrame, solution: pd.DataFrame, task: Task, *,
            h: int = 1, power: float = 2, alternative: str = "two-sided",
            n_resamples: int = 1000, seed: int = 0) -> ComparisonReport:
    """Compare two aligned prediction frames (see :func:`benchmark.io.read_predictions`).

    Regression: DM on the errors of each target (loss |e|^power) and on the loss averaged
    over targets. Classification: DM on 0-1 loss and McNemar. ``alternative="less"``
    means H1: A is more accurate than B (A's losses are smaller).
    """
    report_a, report_b = score(pred_a, solution, task), score(pred_b, solution, task)
    truth, a, b = _matrix(solution, task), _matrix(pred_a, task), _matrix(pred_b, task)
    if task.kind == "classification":
        tests = [_dm("0-1 loss", lambda: stats.diebold_mariano_from_losses(
            (a != truth).astype(float), (b != truth).astype(float), h=h, alternative=alternative))]
        mc = stats.mcnemar(a == truth, b == truth)
        tests.append({"test": "mcnemar", "name": "correct/incorrect", "statistic": mc.statistic,
                      "pvalue": mc.pvalue, "only_a_correct": mc.b, "only_b_correct": mc.c,
                      "exact": mc.exact})
    else:
        ea, eb = a - truth, b - truth
        tests = [_dm(target, lambda j=j: stats.diebold_mariano(
            ea[:, j], eb[:, j], h=h, power=power, alternative=alternative))
            for j, target in enumerate(task.targets)]
        if len(task.targets) > 1:
            tests.append(_dm("mean over targets", lambda: stats.diebold_mariano_from_losses(
                np.mean(np.abs(ea) ** power, axis=1), np.mean(np.abs(eb) ** power, axis=1),
                h=h, alternative=alternative)))
    _add_holm(tests)
    return ComparisonReport(
        task.name, task.primary_metric, task.higher_is_better, report_a, report_b, tests,
        _bootstrap(task, truth, a, b, n_resamples, seed),
        {"h": h, "power": power, "alternative": alternative, "n_resamples": n_resamples,
         "seed": seed, "n": len(solution)},
    )


def _add_holm(tests: list[dict]) -> None:
    valid = [t for t in tests if t.get("pvalue") is not None]
    if valid:
        for test, adjusted in zip(valid, stats.holm([t["pvalue"] for t in valid]), strict=True):
            test["pvalue_holm"] = float(adjusted)


def _bootstrap(task: Task, truth, a, b, n_resamples: int, seed: int) -> dict:
    if n_resamples <= 0:
        return {}
    primary = _primary_function(task)
    both = np.stack([a, b], axis=1)
    options = {"n_resamples": n_resamples, "seed": seed}
    return {
        "confidence": 0.95,
        "a": stats.bootstrap_ci(primary, truth, a, **options),
        "b": stats.bootstrap_ci(primary, truth, b, **options),
        "a_minus_b": stats.bootstrap_ci(
            lambda t, p: primary(t, p[:, 0]) - primary(t, p[:, 1]), truth, both, **options),
    }
