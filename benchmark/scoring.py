"""Score aligned predictions against a solution: per fold, mean +- sd across folds, pooled."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from benchmark import metrics as m
from benchmark.errors import BenchmarkError
from benchmark.tasks import Task

CLASSIFICATION_METRICS = ("accuracy", "uar", "macro_f1", "weighted_precision", "weighted_recall",
                          "weighted_f1")
REGRESSION_METRICS = ("rmse", "mae", "r2", "pearson_r", "ccc", "ccc_n1")  # ccc: Lin's; ccc_n1: MuSe's


@dataclass
class ScoreReport:
    """Everything computed for one submission.

    ``primary`` is the pooled value of ``primary_metric`` (over all ids). Regression
    metrics are given per target (``rmse_valence``) and averaged over targets (``rmse``).
    ``per_id_loss`` (index = id) is the loss used for Diebold-Mariano: 0-1 loss for
    classification, squared error averaged over targets for regression. ``per_group``:
    the pooled metrics (and ``n``) per value of each breakdown column of the solution
    (``gender``, ``corpus``). ``bootstrap``: the percentile interval of ``bootstrap_metric``
    (resampling the solution's groups, see :mod:`benchmark.bootstrap`), with its
    ``replicates`` (one value per resample) kept out of :meth:`to_dict`.
    """

    task: str
    primary_metric: str
    primary: float
    higher_is_better: bool
    pooled: dict[str, float]
    per_fold: dict[int, dict[str, float]]
    fold_mean: dict[str, float]
    fold_sd: dict[str, float]
    per_id_loss: pd.Series
    extras: dict = field(default_factory=dict)
    n: int = 0
    per_group: dict = field(default_factory=dict)
    bootstrap: dict = field(default_factory=dict)
    replicates: np.ndarray | None = None

    def to_dict(self, *, include_losses: bool = False) -> dict:
        """JSON-serialisable dict (NaN becomes None); per-id losses only on request."""
        result = {
            "task": self.task, "n": self.n, "primary_metric": self.primary_metric,
            "primary": self.primary, "higher_is_better": self.higher_is_better,
            "pooled": self.pooled, "per_fold": {str(k): v for k, v in self.per_fold.items()},
            "fold_mean": self.fold_mean, "fold_sd": self.fold_sd, "extras": self.extras,
            "per_group": self.per_group, "bootstrap": self.bootstrap,
        }
        if include_losses:
            result["per_id_loss"] = {"id": [str(i) for i in self.per_id_loss.index],
                                     "loss": self.per_id_loss.to_numpy().tolist()}
        return _json_safe(result)


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist())
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    return value


def score(predictions: pd.DataFrame, solution: pd.DataFrame, task: Task, *,
          n_resamples: int = 0, seed: int = 0, metric: str | None = None,
          confidence: float = 0.95) -> ScoreReport:
    """Score ``predictions`` (as returned by :func:`benchmark.io.read_predictions`).

    ``n_resamples`` > 0 adds a bootstrap interval of ``metric`` (default: the primary one),
    resampling whole groups when the solution has a group column (see
    :func:`benchmark.io.with_solution_columns`).
    """
    predictions = _aligned(predictions, solution, task)
    folds = solution["fold"].to_numpy()
    fold_ids, fold_index = np.unique(folds, return_inverse=True)
    truth, pred = _arrays(solution, task), _arrays(predictions, task)
    if task.kind == "classification":
        pooled, per_fold, loss, extras = _score_classification(truth, pred, task, fold_ids,
                                                               fold_index)
    else:
        pooled, per_fold, loss, extras = _score_regression(truth, pred, solution, task,
                                                           fold_ids, fold_index)
    mean, sd = _fold_summary(per_fold)
    report = ScoreReport(
        task=task.name, primary_metric=task.primary_metric, primary=pooled[task.primary_metric],
        higher_is_better=task.higher_is_better, pooled=pooled, per_fold=per_fold,
        fold_mean=mean, fold_sd=sd, per_id_loss=pd.Series(loss, index=pd.Index(solution["id"],
                                                                                 name="id")),
        extras=extras, n=len(solution), per_group=_per_group(truth, pred, solution, task),
    )
    if n_resamples > 0:
        _add_bootstrap(report, truth, pred, solution, task, metric or task.primary_metric,
                       n_resamples, seed, confidence)
    return report


def _arrays(frame: pd.DataFrame, task: Task) -> np.ndarray:
    """Label codes (classification) or an (n, targets) float array (regression)."""
    if task.kind == "classification":
        return _codes(frame[task.targets[0]], task)
    return frame[list(task.targets)].to_numpy(dtype=np.float64)


def _metrics_of(truth: np.ndarray, pred: np.ndarray, task: Task) -> dict[str, float]:
    if task.kind == "classification":
        return _classification_metrics(m.confusion_from_codes(truth, pred, len(task.labels)))
    columns = {t: (truth[:, j], pred[:, j]) for j, t in enumerate(task.targets)}
    return _regression_metrics({t: v[0] for t, v in columns.items()},
                               {t: v[1] for t, v in columns.items()}, slice(None))


def _per_group(truth: np.ndarray, pred: np.ndarray, solution: pd.DataFrame,
               task: Task) -> dict[str, dict[str, dict[str, float]]]:
    from benchmark.io import BREAKDOWN_COLUMNS

    result = {}
    for column in (c for c in BREAKDOWN_COLUMNS if c in solution.columns):
        codes, values = pd.factorize(solution[column].astype(str).to_numpy())
        values = [str(value) for value in values]  # every distinct key, as set(keys) has them
        result[column] = {value: {"n": int(mask.sum()), **_metrics_of(truth[mask], pred[mask], task)}
                          for value in sorted(values) for mask in [codes == values.index(value)]}
    return result


def _add_bootstrap(report: ScoreReport, truth, pred, solution: pd.DataFrame, task: Task,
                   metric: str, n_resamples: int, seed: int, confidence: float) -> None:
    from benchmark import bootstrap
    from benchmark.io import group_column

    column = group_column(solution)
    groups = None if column is None else solution[column].astype(str).to_numpy()
    values = bootstrap.replicates(task, metric, truth, [pred], groups, n_resamples=n_resamples,
                                  seed=seed)[:, 0]
    low, high = bootstrap.percentile_interval(values[:, None], confidence)
    report.replicates = values
    report.bootstrap = {"metric": metric, "low": float(low[0]), "high": float(high[0]),
                        "confidence": confidence, "n_resamples": n_resamples, "seed": seed,
                        "grouped_by": column,
                        "n_groups": bootstrap.group_codes(groups, len(truth))[1]}


def _aligned(predictions: pd.DataFrame, solution: pd.DataFrame, task: Task) -> pd.DataFrame:
    missing = [c for c in ("id", *task.targets) if c not in predictions.columns]
    if missing:
        raise BenchmarkError(f"predictions lack column(s) {', '.join(missing)}")
    if len(solution) == 0:
        raise BenchmarkError("the solution is empty")
    if len(predictions) == len(solution) and _same_ids(predictions["id"], solution["id"]):
        return predictions
    pred_ids, sol_ids = predictions["id"].to_numpy(), solution["id"].to_numpy()
    if len(pred_ids) == len(sol_ids) and predictions["id"].is_unique \
            and set(pred_ids) == set(sol_ids):
        return predictions.set_index("id").loc[sol_ids].reset_index()
    raise BenchmarkError("predictions do not cover exactly the solution's ids; "
                         "read them with benchmark.io.read_predictions")


def _same_ids(a: pd.Series, b: pd.Series) -> bool:
    try:
        return pa.array(a, type=pa.string()).equals(pa.array(b, type=pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return bool((a.to_numpy() == b.to_numpy()).all())


def _codes(column: pd.Series, task: Task) -> np.ndarray:
    if isinstance(column.dtype, pd.CategoricalDtype) and \
            list(column.cat.categories) == list(task.labels):
        codes = column.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = pd.Categorical(column, categories=list(task.labels)).codes.astype(np.int64)
    if (codes < 0).any():
        raise BenchmarkError(f"labels outside the task's label set in column {column.name!r}")
    return codes


def _classification_metrics(cm: np.ndarray) -> dict[str, float]:
    precision, recall, f1 = m.weighted_prf_from_confusion(cm)
    return {"accuracy": m.accuracy_from_confusion(cm), "uar": m.uar_from_confusion(cm),
            "macro_f1": m.macro_f1_from_confusion(cm), "weighted_precision": precision,
            "weighted_recall": recall, "weighted_f1": f1}


def _score_classification(t, p, task, fold_ids, fold_index):
    k = len(task.labels)
    cms = np.bincount((fold_index * k + t) * k + p, minlength=len(fold_ids) * k * k)
    cms = cms.reshape(len(fold_ids), k, k)
    cm = cms.sum(axis=0)
    per_fold = {int(f): _classification_metrics(cms[i]) for i, f in enumerate(fold_ids)}
    precision = m.precision_per_class_from_confusion(cm)
    recall = m.recall_per_class_from_confusion(cm)
    extras = {
        "labels": list(task.labels),
        "confusion_matrix": cm.tolist(),
        "confusion_matrix_per_fold": {str(int(f)): cms[i].tolist() for i, f in enumerate(fold_ids)},
        "per_class": {label: {"precision": float(precision[j]), "recall": float(recall[j]),
                              "support": int(cm[j].sum())} for j, label in enumerate(task.labels)},
    }
    return _classification_metrics(cm), per_fold, (t != p).astype(np.float64), extras


def _regression_metrics(truth: dict, pred: dict, index) -> dict[str, float]:
    result: dict[str, float] = {}
    for target in truth:
        summary = m.regression_summary(truth[target][index], pred[target][index])
        result.update({f"{name}_{target}": value for name, value in summary.items()})
    for name in REGRESSION_METRICS:
        result[name] = float(np.mean([result[f"{name}_{target}"] for target in truth]))
    return result


def _score_regression(truth_matrix, pred_matrix, solution, task, fold_ids, fold_index):
    truth = {t: truth_matrix[:, j] for j, t in enumerate(task.targets)}
    pred = {t: pred_matrix[:, j] for j, t in enumerate(task.targets)}
    order = np.argsort(fold_index, kind="stable")
    bounds = np.searchsorted(fold_index[order], np.arange(len(fold_ids) + 1))
    sorted_truth = {t: v[order] for t, v in truth.items()}
    sorted_pred = {t: v[order] for t, v in pred.items()}
    per_fold = {int(f): _regression_metrics(sorted_truth, sorted_pred,
                                            slice(bounds[i], bounds[i + 1]))
                for i, f in enumerate(fold_ids)}
    pooled = _regression_metrics(truth, pred, slice(None))
    loss = np.mean([(pred[t] - truth[t]) ** 2 for t in task.targets], axis=0)
    return pooled, per_fold, loss, {"targets": list(task.targets), "scale": _scale(solution, task)}


def _scale(solution: pd.DataFrame, task: Task) -> str | None:
    """The targets' scale: the solution's ``scale`` column, else the task's documented range."""
    if "scale" in solution.columns and len(solution):
        return str(solution["scale"].iloc[0])
    if task.value_range is not None:
        return f"[{task.value_range[0]:g}, {task.value_range[1]:g}]"
    return None


def _fold_summary(per_fold: dict[int, dict[str, float]]) -> tuple[dict, dict]:
    names = next(iter(per_fold.values())).keys()
    mean, sd = {}, {}
    for name in names:
        values = np.array([fold[name] for fold in per_fold.values()], dtype=np.float64)
        mean[name] = float(np.mean(values))
        sd[name] = float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")
    return mean, sd
