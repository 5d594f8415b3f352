"""A warning for regression predictions on another scale than the labels' (1-9 predictions
for ``mer-va`` on [-1, 1], or for a ``muse-vad`` solution on [0, 1]). Such a file is scored
as it is; the warning only says which scale the task expects."""

from __future__ import annotations

import re

import numpy as np

from benchmark.tasks import Task

MOST = 0.5  # the share of predicted values outside the labels' range that makes a warning
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_RANGE = re.compile(rf"^\s*\[?\s*({_NUMBER})\s*(?:,|-|to)\s*({_NUMBER})\s*\]?\s*$")


def labels_range(task: Task, scale: str | None) -> tuple[float, float] | None:
    """The labels' declared range: the task's ``value_range``, else the solution's ``scale``
    column read as ``[0,1]`` or ``1-9``; None when neither says."""
    if task.value_range is not None:
        return task.value_range
    match = _RANGE.match(scale or "")
    if match is None:
        return None
    low, high = float(match.group(1)), float(match.group(2))
    return (low, high) if low < high else None


def off_scale_warning(pred: np.ndarray, task: Task, scale: str | None) -> str | None:
    """A warning when most predicted values (an (n, targets) array) lie outside the labels'
    range, naming the range the task expects; None otherwise."""
    bounds = labels_range(task, scale)
    values = np.asarray(pred, dtype=np.float64)
    if bounds is None or values.size == 0:
        return None
    low, high = bounds
    outside = float(np.mean((values < low) | (values > high)))
    if outside <= MOST:
        return None
    expected = scale if task.value_range is None and scale else f"[{low:g}, {high:g}]"
    return (
        f"{outside:.0%} of the predicted values lie outside the labels' range: {task.name} "
        f"expects {', '.join(task.targets)} on {expected}, and these predictions span "
        f"{np.min(values):.4g} to {np.max(values):.4g}; they are scored as they are"
    )
