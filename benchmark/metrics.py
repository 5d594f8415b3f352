"""Evaluation metrics as pure functions (scikit-learn style: ``metric(y_true, y_pred)``).

Classification metrics accept any hashable labels; ``labels`` fixes the label set and
order (default: sorted union of ``y_true`` and ``y_pred``). Regression metrics accept
1-d arrays of finite floats of equal length >= 1 (Pearson and CCC need >= 2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Whether a higher value is better, for every metric this module computes: the one place a
# metric's direction is declared (tasks.metric_directions names them per task). A smaller
# Pearson p-value is stronger evidence of a correlation.
CLASSIFICATION_DIRECTIONS = {
    "accuracy": True,
    "uar": True,
    "macro_f1": True,
    "weighted_precision": True,
    "weighted_recall": True,
    "weighted_f1": True,
}
REGRESSION_DIRECTIONS = {
    "rmse": False,
    "mae": False,
    "r2": True,
    "pearson_r": True,
    "pearson_p": False,
    "ccc": True,
    "ccc_n1": True,
}

# ---------------------------------------------------------------- validation


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or p.ndim != 1:
        raise ValueError("y_true and y_pred must be 1-d")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} values but y_pred has {len(p)}")
    if len(t) == 0:
        raise ValueError("no values to score")
    return t, p


def _float_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    t, p = _pair(y_true, y_pred)
    t, p = t.astype(np.float64), p.astype(np.float64)
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("y_true and y_pred must be finite")
    return t, p


def encode_labels(
    y_true, y_pred, labels: Sequence | None = None
) -> tuple[np.ndarray, np.ndarray, list]:
    """Integer codes of ``y_true`` and ``y_pred`` in ``labels`` (ValueError for unknown labels)."""
    import pandas as pd  # here: scoring passes codes and never needs it

    t, p = _pair(y_true, y_pred)
    if labels is None:
        labels = sorted(set(pd.unique(t)) | set(pd.unique(p)))
    labels = list(labels)
    t_codes = pd.Categorical(t, categories=labels).codes.astype(np.int64)
    p_codes = pd.Categorical(p, categories=labels).codes.astype(np.int64)
    if (t_codes < 0).any() or (p_codes < 0).any():
        raise ValueError("y_true or y_pred contains a label that is not in `labels`")
    return t_codes, p_codes, labels


# ---------------------------------------------------------------- classification


def confusion_from_codes(t_codes: np.ndarray, p_codes: np.ndarray, n_labels: int) -> np.ndarray:
    """Confusion matrix C[i, j] = #(true == i and pred == j) from integer codes 0..K-1."""
    counts = np.bincount(t_codes * n_labels + p_codes, minlength=n_labels * n_labels)
    return counts.reshape(n_labels, n_labels)


def confusion_matrix(y_true, y_pred, labels: Sequence | None = None) -> np.ndarray:
    """C[i, j] = number of samples with true label ``labels[i]`` predicted as ``labels[j]``.

    Same convention as ``sklearn.metrics.confusion_matrix`` (rows = truth).
    """
    t, p, labels = encode_labels(y_true, y_pred, labels)
    return confusion_from_codes(t, p, len(labels))


def accuracy_from_confusion(cm: np.ndarray) -> float:
    return float(np.trace(cm) / cm.sum())


def recall_per_class_from_confusion(cm: np.ndarray) -> np.ndarray:
    """recall_k = C[k, k] / sum_j C[k, j]; NaN for classes absent from the truth."""
    support = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(cm) / support, np.nan)


def precision_per_class_from_confusion(cm: np.ndarray) -> np.ndarray:
    """precision_k = C[k, k] / sum_i C[i, k]; 0 for classes never predicted (sklearn's zero_division=0)."""
    predicted = cm.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(predicted > 0, np.diag(cm) / np.maximum(predicted, 1), 0.0)


def uar_from_confusion(cm: np.ndarray) -> float:
    return float(np.nanmean(recall_per_class_from_confusion(cm)))


def macro_f1_from_confusion(cm: np.ndarray) -> float:
    """Mean F1 over classes present in the truth or the predictions (F1 = 0 when P + R = 0)."""
    present = (cm.sum(axis=1) + cm.sum(axis=0)) > 0
    recall = np.nan_to_num(recall_per_class_from_confusion(cm))
    precision = precision_per_class_from_confusion(cm)
    denominator = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(
            denominator > 0, 2 * precision * recall / np.where(denominator > 0, denominator, 1), 0.0
        )
    return float(f1[present].mean())


def weighted_prf_from_confusion(cm: np.ndarray) -> tuple[float, float, float]:
    """Support-weighted precision, recall and F1 from a confusion matrix (see :func:`weighted_prf`)."""
    support = cm.sum(axis=1)
    recall = np.nan_to_num(recall_per_class_from_confusion(cm))
    precision = precision_per_class_from_confusion(cm)
    denominator = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(
            denominator > 0, 2 * precision * recall / np.where(denominator > 0, denominator, 1), 0.0
        )
    weights = support / support.sum()
    return float(weights @ precision), float(weights @ recall), float(weights @ f1)


def accuracy(y_true, y_pred) -> float:
    """Accuracy = (1/n) sum_i [y_pred_i == y_true_i]."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def uar(y_true, y_pred, labels: Sequence | None = None) -> float:
    """Unweighted average recall: UAR = (1/|K|) sum_{k in K} TP_k / (TP_k + FN_k).

    K is the set of classes present in ``y_true`` (classes only predicted are ignored),
    as in ``sklearn.metrics.balanced_accuracy_score``. Reference: Schuller et al.,
    "The INTERSPEECH 2009 Emotion Challenge", 2009.
    """
    return uar_from_confusion(confusion_matrix(y_true, y_pred, labels))


def macro_f1(y_true, y_pred, labels: Sequence | None = None) -> float:
    """Macro F1 = (1/|K|) sum_k 2 P_k R_k / (P_k + R_k), K = classes in truth or predictions.

    Matches ``sklearn.metrics.f1_score(average="macro", zero_division=0)``.
    """
    return macro_f1_from_confusion(confusion_matrix(y_true, y_pred, labels))


def weighted_prf(y_true, y_pred, labels: Sequence | None = None) -> tuple[float, float, float]:
    """Support-weighted precision, recall and F1 (the averages seed 003 reports for quadrants).

    M_w = sum_k (n_k / n) M_k, n_k = TP_k + FN_k (the class's count in the truth), for
    M in precision P_k = TP_k / (TP_k + FP_k) (0 if never predicted), recall
    R_k = TP_k / n_k and F1_k = 2 P_k R_k / (P_k + R_k) (0 when P_k + R_k = 0). Weighted
    recall always equals accuracy. Matches ``sklearn.metrics.precision_recall_fscore_support(
    average="weighted", zero_division=0)``; Sokolova & Lapalme (2009), Inf. Process. Manag.
    45:427-437.

    >>> weighted_prf(["a", "a", "a", "b"], ["a", "a", "b", "b"])
    (0.875, 0.75, 0.7666666666666667)
    """
    return weighted_prf_from_confusion(confusion_matrix(y_true, y_pred, labels))


def precision_recall_per_class(y_true, y_pred, labels: Sequence | None = None) -> dict[str, dict]:
    """Per class: precision = TP/(TP+FP) (0 if never predicted), recall = TP/(TP+FN)
    (NaN if absent from the truth), support = TP+FN."""
    t, p, labels = encode_labels(y_true, y_pred, labels)
    cm = confusion_from_codes(t, p, len(labels))
    precision = precision_per_class_from_confusion(cm)
    recall = recall_per_class_from_confusion(cm)
    return {
        str(label): {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "support": int(cm[k].sum()),
        }
        for k, label in enumerate(labels)
    }


# ---------------------------------------------------------------- regression


def rmse(y_true, y_pred) -> float:
    """Root mean squared error: sqrt((1/n) sum_i (y_pred_i - y_true_i)^2)."""
    t, p = _float_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((p - t) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error: (1/n) sum_i |y_pred_i - y_true_i|."""
    t, p = _float_pair(y_true, y_pred)
    return float(np.mean(np.abs(p - t)))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination R^2 = 1 - sum (y - f)^2 / sum (y - mean(y))^2.

    NaN when ``y_true`` is constant (undefined); otherwise equals ``sklearn.metrics.r2_score``.
    """
    t, p = _float_pair(y_true, y_pred)
    total = np.sum((t - t.mean()) ** 2)
    return float(1 - np.sum((t - p) ** 2) / total) if total > 0 else float("nan")


def pearson(y_true, y_pred) -> tuple[float, float]:
    """Pearson r = cov(x, y) / (sd(x) sd(y)) and its two-sided p-value.

    p = 2 P(T >= |t|), t = r sqrt((n-2)/(1-r^2)), T ~ Student-t with n-2 df (as
    ``scipy.stats.pearsonr``). (NaN, NaN) when either input is constant or n < 3.
    """
    t, p = _float_pair(y_true, y_pred)
    n = len(t)
    dt, dp = t - t.mean(), p - p.mean()
    denominator = np.sqrt(np.sum(dt * dt) * np.sum(dp * dp))
    if n < 3 or denominator == 0:
        return float("nan"), float("nan")
    r = float(np.clip(np.sum(dt * dp) / denominator, -1.0, 1.0))
    if abs(r) == 1.0:
        return r, 0.0
    statistic = r * np.sqrt((n - 2) / (1 - r * r))
    return r, float(2 * _t_sf(abs(statistic), n - 2))


def ccc(y_true, y_pred) -> float:
    """Lin's concordance correlation coefficient with population (divisor n) moments:

    CCC = 2 s_xy / (s_x^2 + s_y^2 + (mean_x - mean_y)^2).

    Lin (1989), Biometrics 45:255-268. Note: the MuSe 2021+ challenge baselines compute
    the moments with n-1 divisors, which gives slightly different values for small n
    (:func:`ccc_n1`, reported beside it as ``ccc_n1``). NaN when both inputs are constant
    and equal (0/0).

    >>> ccc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    """
    t, p = _float_pair(y_true, y_pred)
    mt, mp = t.mean(), p.mean()
    covariance = np.mean((t - mt) * (p - mp))
    denominator = np.mean((t - mt) ** 2) + np.mean((p - mp) ** 2) + (mt - mp) ** 2
    return float(2 * covariance / denominator) if denominator > 0 else float("nan")


def ccc_n1(y_true, y_pred) -> float:
    """The n-1 form of the concordance correlation coefficient, as the MuSe 2021+ baselines
    compute it (``np.cov``, unbiased variances and covariance); not Lin's estimator:

    CCC_{n-1} = 2 s'_xy / (s'_x^2 + s'_y^2 + (mean_x - mean_y)^2), s' with divisor n - 1.

    Stappen et al., "The MuSe 2021 Multimodal Sentiment Analysis Challenge", ACM MM
    workshop 2021 (baseline code). It exceeds :func:`ccc` slightly when the means differ and
    equals it when they agree. NaN for fewer than 2 values or a zero denominator.

    >>> round(ccc_n1([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]), 6)
    0.870968
    >>> round(ccc([1.0, 2.0, 3.0], [1.0, 2.0, 4.0]), 6)
    0.857143
    """
    t, p = _float_pair(y_true, y_pred)
    n = len(t)
    if n < 2:
        return float("nan")
    mt, mp = t.mean(), p.mean()
    covariance = np.sum((t - mt) * (p - mp)) / (n - 1)
    denominator = (np.sum((t - mt) ** 2) + np.sum((p - mp) ** 2)) / (n - 1) + (mt - mp) ** 2
    return float(2 * covariance / denominator) if denominator > 0 else float("nan")


def _t_sf(x: float, df: int) -> float:
    """P(T > x) for Student's t with ``df`` degrees of freedom: ``scipy.stats.t.sf`` computes
    exactly this (``scipy.special.stdtr(df, -x)``). Imported here: scipy.special takes a
    quarter of a second to import and only Pearson's p-value needs it (not classification)."""
    from scipy import special

    return special.stdtr(df, -x)


def _pearson_pvalue(r: float, n: int) -> float:
    if n < 3 or np.isnan(r):
        return float("nan")
    if abs(r) >= 1.0:
        return 0.0
    return float(2 * _t_sf(abs(r * np.sqrt((n - 2) / (1 - r * r))), n - 2))


def regression_summary(y_true, y_pred) -> dict[str, float]:
    """All regression metrics at once (rmse, mae, r2, pearson_r, pearson_p, ccc, ccc_n1), sharing the
    centred arrays; same formulas and edge cases as the single-metric functions above."""
    return summary_of_checked(*_float_pair(y_true, y_pred))


def summary_of_checked(t: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """:func:`regression_summary` of arrays already checked: 1-d, contiguous, float64, finite,
    of one length >= 1 (no copies; contiguous so that sums add in the same order as on
    :func:`regression_summary`'s copies)."""
    n = len(t)
    e = p - t
    mt, mp = t.mean(), p.mean()
    dt, dp = t - mt, p - mp
    stt, spp, stp = float(dt @ dt), float(dp @ dp), float(dt @ dp)
    sse = float(e @ e)
    r = (
        float(np.clip(stp / np.sqrt(stt * spp), -1, 1))
        if n >= 3 and stt * spp > 0
        else float("nan")
    )
    ccc_denominator = (stt + spp) / n + (mt - mp) ** 2
    return {
        "rmse": float(np.sqrt(sse / n)),
        "mae": float(np.mean(np.abs(e))),
        "r2": 1 - sse / stt if stt > 0 else float("nan"),
        "pearson_r": r,
        "pearson_p": _pearson_pvalue(r, n),
        "ccc": 2 * stp / n / ccc_denominator if ccc_denominator > 0 else float("nan"),
        "ccc_n1": _ccc_n1_from_moments(stt, spp, stp, mt - mp, n),
    }


def _ccc_n1_from_moments(
    stt: float, spp: float, stp: float, mean_difference: float, n: int
) -> float:
    denominator = (stt + spp) / (n - 1) + mean_difference**2 if n > 1 else 0.0
    return float(2 * stp / (n - 1) / denominator) if denominator > 0 else float("nan")
