"""Scores of out-of-fold predictions as the thesis reports them, and Diebold-Mariano tests.

SER: accuracy over all clips; precision and recall per emotion (Table 4.3). MER per target:
RMSE and Pearson's r over all clips, R² as the mean (and standard deviation) over the folds
(Tables 4.5, 4.6). Diebold-Mariano (``benchmark.stats``): per-clip losses of two predictions
of the same clips (squared error per target; for SER 0/1), aligned by id; predictions of
experiment A are compared on the mixes, each mix given its source's prediction.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

EMOTION_CODES = tuple(range(1, 9))


def _aligned(pred: pd.DataFrame, truth: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = truth.set_index("id")
    pred = pred.set_index("id").loc[truth.index]
    return pred, truth


def ser_scores(pred: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Accuracy, and precision / recall per emotion code (NaN where undefined)."""
    from sklearn.metrics import precision_recall_fscore_support

    pred, truth = _aligned(pred, truth)
    y, p = truth["emotion"].to_numpy(), pred["emotion"].to_numpy()
    precision, recall, _, _ = precision_recall_fscore_support(
        y, p, labels=list(EMOTION_CODES), zero_division=np.nan
    )
    return {
        "accuracy": float((y == p).mean()),
        "precision": dict(zip(EMOTION_CODES, precision.tolist(), strict=True)),
        "recall": dict(zip(EMOTION_CODES, recall.tolist(), strict=True)),
        "n": len(y),
    }


def mer_scores(pred: pd.DataFrame, truth: pd.DataFrame, targets: tuple[str, ...]) -> dict:
    """Per target: rmse, pcc (pooled), r2 and r2_sd (over folds)."""
    from sklearn.metrics import r2_score

    pred, truth = _aligned(pred, truth)
    scores = {}
    for target in targets:
        y, p = truth[target].to_numpy(), pred[target].to_numpy()
        per_fold = [
            r2_score(y[mask], p[mask])
            for fold in np.unique(truth["fold"])
            if (mask := (truth["fold"] == fold).to_numpy()).sum() >= 2
        ]
        pcc = np.corrcoef(y, p)[0, 1] if np.std(p) > 0 and np.std(y) > 0 else math.nan
        scores[target] = {
            "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
            "r2": float(np.mean(per_fold)) if per_fold else math.nan,
            "r2_sd": float(np.std(per_fold)) if per_fold else math.nan,
            "pcc": float(pcc),
        }
    return scores


def losses(pred: pd.DataFrame, truth: pd.DataFrame, target: str, classification: bool) -> pd.Series:
    """Per-id loss: 0/1 for SER, squared error for a MER target."""
    pred, truth = _aligned(pred, truth)
    if classification:
        return (pred[target] != truth[target]).astype("float64")
    return (pred[target] - truth[target]) ** 2


def dm_test(loss_a: pd.Series, loss_b: pd.Series) -> dict:
    """Diebold-Mariano on the ids both have: statistic, p-value, n (NaN with a note when the
    test cannot run, e.g. identical losses)."""
    from benchmark.errors import BenchmarkError
    from benchmark.stats import diebold_mariano_from_losses

    common = loss_a.index.intersection(loss_b.index)
    row = {
        "n": len(common),
        "mean_loss_a": float(loss_a.loc[common].mean()),
        "mean_loss_b": float(loss_b.loc[common].mean()),
    }
    try:
        result = diebold_mariano_from_losses(
            loss_a.loc[common].to_numpy(), loss_b.loc[common].to_numpy()
        )
        row.update(statistic=result.statistic, pvalue=result.pvalue, note="")
    except BenchmarkError as error:
        row.update(statistic=math.nan, pvalue=math.nan, note=str(error))
    return row
