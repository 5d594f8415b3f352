"""Score aligned predictions against a solution: per fold, mean +- sd across folds, pooled.

:func:`score` takes the frames of :mod:`benchmark.io`; :func:`score_arrays` the same data
as arrays (what :func:`score` makes of the frames), which needs no pandas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from benchmark import bootstrap
from benchmark import metrics as m
from benchmark.errors import BenchmarkError
from benchmark.io import (
    BREAKDOWN_COLUMNS,
    SolutionArrays,
    decoded,
    group_column,
    text_values,
    to_numpy,
)
from benchmark.scale_check import off_scale_warning
from benchmark.tasks import Task

if TYPE_CHECKING:
    import pandas as pd

CLASSIFICATION_METRICS = (
    "accuracy",
    "uar",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
)
REGRESSION_METRICS = (
    "rmse",
    "mae",
    "r2",
    "pearson_r",
    "ccc",
    "ccc_n1",
)  # ccc: Lin's; ccc_n1: MuSe's
MAX_DICTIONARY = 1 << 16  # a larger file dictionary is encoded again by Arrow, not in Python


@dataclass
class ScoreReport:
    """Everything computed for one submission.

    ``primary`` is the pooled value of ``primary_metric`` (over all ids). Regression
    metrics are given per target (``rmse_valence``) and averaged over targets (``rmse``).
    ``per_id_loss`` (index = id) is the loss used for Diebold-Mariano: 0-1 loss for
    classification, squared error averaged over targets for regression (``losses``, in
    the order of the solution's ``ids``, as a pandas Series). ``per_group``:
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
    losses: np.ndarray
    ids: Any  # the solution's ids: a pandas Series or a pyarrow string array
    extras: dict = field(default_factory=dict)
    n: int = 0
    per_group: dict = field(default_factory=dict)
    bootstrap: dict = field(default_factory=dict)
    replicates: np.ndarray | None = None

    @property
    def per_id_loss(self) -> pd.Series:
        """``losses`` as a Series indexed by id (named "id")."""
        import pandas as pd

        ids = self.ids.to_pandas() if isinstance(self.ids, pa.Array | pa.ChunkedArray) else self.ids
        return pd.Series(self.losses, index=pd.Index(ids, name="id"))

    def to_dict(self, *, include_losses: bool = False) -> dict:
        """JSON-serialisable dict (NaN becomes None); per-id losses only on request."""
        result = {
            "task": self.task,
            "n": self.n,
            "primary_metric": self.primary_metric,
            "primary": self.primary,
            "higher_is_better": self.higher_is_better,
            "pooled": self.pooled,
            "per_fold": {str(k): v for k, v in self.per_fold.items()},
            "fold_mean": self.fold_mean,
            "fold_sd": self.fold_sd,
            "extras": self.extras,
            "per_group": self.per_group,
            "bootstrap": self.bootstrap,
        }
        if include_losses:
            result["per_id_loss"] = {
                "id": [str(i) for i in self.per_id_loss.index],
                "loss": self.per_id_loss.to_numpy().tolist(),
            }
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


def score(
    predictions: pd.DataFrame,
    solution: pd.DataFrame,
    task: Task,
    *,
    n_resamples: int = 0,
    seed: int = 0,
    metric: str | None = None,
    confidence: float = 0.95,
) -> ScoreReport:
    """Score ``predictions`` (as returned by :func:`benchmark.io.read_predictions`).

    ``n_resamples`` > 0 adds a bootstrap interval of ``metric`` (default: the primary one),
    resampling whole groups when the solution has a group column (see
    :func:`benchmark.io.with_solution_columns`).
    """
    predictions = _aligned(predictions, solution, task)
    arrays = _solution_arrays(solution, task)
    return score_arrays(
        _arrays(predictions, task),
        arrays,
        task,
        n_resamples=n_resamples,
        seed=seed,
        metric=metric,
        confidence=confidence,
    )


def score_arrays(
    pred: np.ndarray,
    solution: SolutionArrays,
    task: Task,
    *,
    n_resamples: int = 0,
    seed: int = 0,
    metric: str | None = None,
    confidence: float = 0.95,
) -> ScoreReport:
    """:func:`score` of arrays: ``pred`` as :func:`target_matrix` makes it of
    :func:`benchmark.io.read_prediction_arrays`, ``solution`` as
    :func:`benchmark.io.read_solution_arrays` reads it."""
    if len(solution) == 0:
        raise BenchmarkError("the solution is empty")
    fold_ids, fold_index = _sorted_codes(solution.folds)
    truth = target_matrix(solution.targets, task)
    if task.kind == "classification":
        pooled, per_fold, loss, extras = _score_classification(
            truth, pred, task, fold_ids, fold_index
        )
    else:
        pooled, per_fold, loss, extras = _score_regression(
            truth, pred, solution.scale, task, fold_ids, fold_index
        )
    mean, sd = _fold_summary(per_fold)
    report = ScoreReport(
        task=task.name,
        primary_metric=task.primary_metric,
        primary=pooled[task.primary_metric],
        higher_is_better=task.higher_is_better,
        pooled=pooled,
        per_fold=per_fold,
        fold_mean=mean,
        fold_sd=sd,
        losses=loss,
        ids=solution.ids,
        extras=extras,
        n=len(solution),
        per_group=_per_group(truth, pred, solution.text, task),
    )
    if task.kind == "regression" and (warning := off_scale_warning(pred, task, solution.scale)):
        report.extras["scale_warning"] = warning
    if n_resamples > 0:
        _add_bootstrap(
            report,
            truth,
            pred,
            solution.text,
            task,
            metric or task.primary_metric,
            n_resamples,
            seed,
            confidence,
        )
    return report


def target_matrix(columns: dict[str, np.ndarray], task: Task) -> np.ndarray:
    """What :func:`_arrays` gives of a frame with these columns: the label codes, or an
    (n, targets) float64 array laid out as pandas lays it out (column after column)."""
    if task.kind == "classification":
        return np.asarray(columns[task.targets[0]], dtype=np.int64)
    return np.stack([np.asarray(columns[t], dtype=np.float64) for t in task.targets]).T


def _solution_arrays(solution: pd.DataFrame, task: Task) -> SolutionArrays:
    """What :func:`score` reads of a solution frame."""
    if task.kind == "classification":
        targets = {task.targets[0]: _codes(solution[task.targets[0]], task)}
    else:
        targets = {t: solution[t].to_numpy(dtype=np.float64) for t in task.targets}
    group = group_column(solution.columns)
    text = {
        c: text_values(solution[c])
        for c in ([group] if group else [])
        + [c for c in BREAKDOWN_COLUMNS if c in solution.columns]
    }
    scale = (
        str(solution["scale"].iloc[0]) if "scale" in solution.columns and len(solution) else None
    )
    return SolutionArrays(solution["id"], solution["fold"].to_numpy(), targets, scale, text)


def _sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``; for integers within a range of a million
    (folds), by counting instead of sorting."""
    if values.dtype.kind == "i" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < 1 << 20:
            offset = values.astype(np.int64) - low
            present = np.bincount(offset) > 0
            distinct = (np.flatnonzero(present) + low).astype(values.dtype)
            return distinct, (np.cumsum(present) - 1)[offset]
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.reshape(-1)


def _arrays(frame: pd.DataFrame, task: Task) -> np.ndarray:
    """Label codes (classification) or an (n, targets) float array (regression)."""
    if task.kind == "classification":
        return _codes(frame[task.targets[0]], task)
    return frame[list(task.targets)].to_numpy(dtype=np.float64)


def _metrics_of(truth, pred, task: Task, index: slice) -> dict[str, float]:
    """The pooled metrics of rows ``index`` of ``truth`` and ``pred`` (from :func:`_columns`)."""
    if task.kind == "classification":
        cm = m.confusion_from_codes(truth[index], pred[index], len(task.labels))
        return _classification_metrics(cm)
    return _regression_metrics(truth, pred, index)


def _columns(matrix: np.ndarray, task: Task, order: np.ndarray | None = None):
    """Label codes (classification) or one contiguous array per target (regression), in
    ``order`` when given: what the metrics of row slices are computed from."""
    if task.kind == "classification":
        return matrix if order is None else np.take(matrix, order)
    if order is None:
        return {t: np.ascontiguousarray(matrix[:, j]) for j, t in enumerate(task.targets)}
    return {
        t: np.take(matrix[:, j], order) for j, t in enumerate(task.targets)
    }  # np.take: 2x faster


def _per_group(truth: np.ndarray, pred: np.ndarray, text: dict, task: Task) -> dict:
    """The pooled metrics (and ``n``) per value of each breakdown column in ``text``."""
    result = {}
    for column in (c for c in BREAKDOWN_COLUMNS if c in text):
        codes, values = _factorized(text[column])
        order, bounds = bootstrap.stable_order(codes + 1, len(values) + 1)  # code -1 (NaN) first
        t, p = _columns(truth, task, order), _columns(pred, task, order)
        result[column] = {
            value: {"n": int(stop - start), **_metrics_of(t, p, task, slice(start, stop))}
            for value in sorted(values)
            for code in [values.index(value) + 1]
            for start, stop in [(bounds[code], bounds[code + 1])]
        }
    return result


def _factorized(values: pa.Array | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """A factorization of a text column (:class:`benchmark.io.SolutionArrays`' ``text``):
    codes (-1 for NaN) and the distinct values as text, as ``pd.factorize`` gives them but
    maybe in another order (every use sorts them)."""
    if isinstance(values, pa.DictionaryArray) and len(values.dictionary) <= MAX_DICTIONARY:
        return _compacted(to_numpy(values.indices), values.dictionary.to_pylist())
    if isinstance(values, pa.Array):
        encoded = pc.dictionary_encode(decoded(values))
        return to_numpy(encoded.indices).astype(np.int64), encoded.dictionary.to_pylist()
    import pandas as pd

    codes, distinct = pd.factorize(values)
    return codes, [str(value) for value in distinct]  # every distinct key, as set(keys) has them


def _compacted(indices: np.ndarray, dictionary: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes and distinct values of ``dictionary[indices]``: a file's dictionary may repeat a
    value or hold one that no row uses."""
    used = np.flatnonzero(np.bincount(indices, minlength=len(dictionary)))
    first = {}
    for i in used.tolist():
        first.setdefault(dictionary[i], len(first))
    code = np.full(len(dictionary), -1, dtype=np.int64)
    code[used] = [first[dictionary[i]] for i in used.tolist()]
    return code[indices], list(first)


def _add_bootstrap(
    report: ScoreReport,
    truth,
    pred,
    text: dict,
    task: Task,
    metric: str,
    n_resamples: int,
    seed: int,
    confidence: float,
) -> None:
    codes, n_groups, grouped_by = resampling_codes(text, len(truth), seed)
    values = bootstrap.replicates_of_codes(
        task, metric, truth, [pred], codes, n_groups, n_resamples=n_resamples, seed=seed
    )[:, 0]
    low, high = bootstrap.percentile_interval(values[:, None], confidence)
    report.replicates = values
    report.bootstrap = {
        "metric": metric,
        "low": float(low[0]),
        "high": float(high[0]),
        "confidence": confidence,
        "n_resamples": n_resamples,
        "seed": seed,
        "grouped_by": grouped_by,
        "n_groups": n_groups,
    }


def resampling_codes(text: dict, n: int, seed: int) -> tuple[np.ndarray, int, str | None]:
    """What a bootstrap resample of a solution draws: (codes, count, grouped_by). The groups
    of its group column in ``text`` (an Arrow column's distinct values found by Arrow, not by
    Python objects), else its ``n`` ids or, beyond :data:`benchmark.bootstrap.MAX_EXACT_IDS`,
    random blocks of them (:func:`benchmark.bootstrap.id_codes`)."""
    column = group_column(text)
    if column is None:
        return bootstrap.id_codes(n, seed)
    if isinstance(text[column], pa.Array):
        return (*bootstrap.codes_of_distinct(*_factorized(text[column])), column)
    return (*bootstrap.group_codes(text[column], n), column)


def _aligned(predictions: pd.DataFrame, solution: pd.DataFrame, task: Task) -> pd.DataFrame:
    missing = [c for c in ("id", *task.targets) if c not in predictions.columns]
    if missing:
        raise BenchmarkError(f"predictions lack column(s) {', '.join(missing)}")
    if len(solution) == 0:
        raise BenchmarkError("the solution is empty")
    if len(predictions) == len(solution) and _same_ids(predictions["id"], solution["id"]):
        return predictions
    pred_ids, sol_ids = predictions["id"].to_numpy(), solution["id"].to_numpy()
    if (
        len(pred_ids) == len(sol_ids)
        and predictions["id"].is_unique
        and set(pred_ids) == set(sol_ids)
    ):
        return predictions.set_index("id").loc[sol_ids].reset_index()
    raise BenchmarkError(
        "predictions do not cover exactly the solution's ids; "
        "read them with benchmark.io.read_predictions"
    )


def _same_ids(a: pd.Series, b: pd.Series) -> bool:
    try:
        return pa.array(a, type=pa.string()).equals(pa.array(b, type=pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return bool((a.to_numpy() == b.to_numpy()).all())


def _codes(column: pd.Series, task: Task) -> np.ndarray:
    """Label codes of a frame's label column."""
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype) and list(column.cat.categories) == list(
        task.labels
    ):
        codes = column.cat.codes.to_numpy().astype(np.int64)
    else:
        codes = pd.Categorical(column, categories=list(task.labels)).codes.astype(np.int64)
    if (codes < 0).any():
        raise BenchmarkError(f"labels outside the task's label set in column {column.name!r}")
    return codes


def _classification_metrics(cm: np.ndarray) -> dict[str, float]:
    precision, recall, f1 = m.weighted_prf_from_confusion(cm)
    return {
        "accuracy": m.accuracy_from_confusion(cm),
        "uar": m.uar_from_confusion(cm),
        "macro_f1": m.macro_f1_from_confusion(cm),
        "weighted_precision": precision,
        "weighted_recall": recall,
        "weighted_f1": f1,
    }


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
        "per_class": {
            label: {
                "precision": float(precision[j]),
                "recall": float(recall[j]),
                "support": int(cm[j].sum()),
            }
            for j, label in enumerate(task.labels)
        },
    }
    return _classification_metrics(cm), per_fold, (t != p).astype(np.float64), extras


def _regression_metrics(truth: dict, pred: dict, index) -> dict[str, float]:
    """Metrics of rows ``index`` of contiguous float64 arrays (per target) checked finite."""
    result: dict[str, float] = {}
    for target in truth:
        summary = m.summary_of_checked(truth[target][index], pred[target][index])
        result.update({f"{name}_{target}": value for name, value in summary.items()})
    for name in REGRESSION_METRICS:
        result[name] = float(np.mean([result[f"{name}_{target}"] for target in truth]))
    return result


def _score_regression(truth_matrix, pred_matrix, scale, task, fold_ids, fold_index):
    _check_finite(truth_matrix, pred_matrix)
    truth, pred = _columns(truth_matrix, task), _columns(pred_matrix, task)
    order, bounds = bootstrap.stable_order(fold_index, len(fold_ids))
    sorted_truth, sorted_pred = (
        _columns(truth_matrix, task, order),
        _columns(pred_matrix, task, order),
    )
    per_fold = {
        int(f): _regression_metrics(sorted_truth, sorted_pred, slice(bounds[i], bounds[i + 1]))
        for i, f in enumerate(fold_ids)
    }
    pooled = _regression_metrics(truth, pred, slice(None))
    loss = np.mean([(pred[t] - truth[t]) ** 2 for t in task.targets], axis=0)
    return pooled, per_fold, loss, {"targets": list(task.targets), "scale": _scale(scale, task)}


def _check_finite(*matrices: np.ndarray) -> None:
    """What :func:`benchmark.metrics.regression_summary` checks before its sums."""
    if not all(np.isfinite(matrix).all() for matrix in matrices):
        raise ValueError("y_true and y_pred must be finite")


def _scale(scale: str | None, task: Task) -> str | None:
    """The targets' scale: the solution's ``scale`` column, else the task's documented range."""
    if scale is not None:
        return scale
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
