"""The study's figures as PNG: predicted-vs-true heat maps (Appendix A; confusion matrices
for SER) and importance bars (Appendices B and C)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def mer_heatmap(pred: pd.DataFrame, truth: pd.DataFrame, title: str, path: Path) -> Path:
    """Valence and arousal: counts of (true, predicted) in 0.25-wide bins over 1-9."""
    plt = _pyplot()
    truth = truth.set_index("id")
    pred = pred.set_index("id").loc[truth.index]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    edges = np.arange(1, 9.25, 0.25)
    for axis, target in zip(axes, ("valence", "arousal"), strict=True):
        counts, _, _ = np.histogram2d(truth[target], pred[target], bins=[edges, edges])
        image = axis.imshow(counts.T, origin="lower", extent=(1, 9, 1, 9), cmap="viridis")
        axis.plot([1, 9], [1, 9], color="white", linewidth=0.8)
        rmse = float(np.sqrt(np.mean((truth[target] - pred[target]) ** 2)))
        axis.set(xlabel=f"true {target}", ylabel=f"predicted {target}", title=f"RMSE {rmse:.3f}")
        fig.colorbar(image, ax=axis, shrink=0.8)
    fig.suptitle(title)
    return _save(fig, path)


def ser_confusion(pred: pd.DataFrame, truth: pd.DataFrame, title: str, path: Path) -> Path:
    plt = _pyplot()
    from builders.misme.study.thesis import EMOTIONS

    truth = truth.set_index("id")
    pred = pred.set_index("id").loc[truth.index]
    counts = np.zeros((8, 8))
    np.add.at(counts, (truth["emotion"].to_numpy() - 1, pred["emotion"].to_numpy() - 1), 1)
    fig, axis = plt.subplots(figsize=(5, 4.5))
    image = axis.imshow(counts, cmap="viridis")
    axis.set_xticks(range(8), EMOTIONS, rotation=60)
    axis.set_yticks(range(8), EMOTIONS)
    axis.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(image, ax=axis, shrink=0.8)
    return _save(fig, path)


def importance_bars(table: pd.DataFrame, title: str, path: Path) -> Path:
    """Horizontal bars of a top-features table (``feature``, ``importance``)."""
    plt = _pyplot()
    fig, axis = plt.subplots(figsize=(7, 0.25 * len(table) + 1))
    axis.barh(range(len(table)), table["importance"], color="tab:blue")
    axis.set_yticks(range(len(table)), table["feature"], fontsize=7)
    axis.invert_yaxis()
    axis.set(xlabel="importance", title=title)
    return _save(fig, path)
