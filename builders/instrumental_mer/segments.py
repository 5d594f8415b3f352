"""DEAM segmentation (mode b): stable 10-15 s stretches of the 2 Hz dynamic ratings.

The rule (issue 11, from the thesis's section on DEAM):

1. Windows of ``window_s`` (5 s) are laid back to back from the first annotation sample
   (15 s: DEAM already removed the first 15 s of ratings, nothing more is dropped).
   Window k holds samples ``k*S .. (k+1)*S - 1`` (S = 2 Hz x ``window_s`` = 10), i.e. the
   samples whose time is in ``[t0 + k*window_s, t0 + (k+1)*window_s)``; only complete
   windows count, and only windows that end no later than the audio (plus the recipe's
   ``end_tolerance_s``).
2. Each window has a mean valence and a mean arousal.
3. Scanning from the first window: take three windows if every neighbour change of the
   window means (valence and arousal) is <= ``max_change`` and the first-to-last change
   is <= ``max_change``; else two windows if their change is <= ``max_change``; else move
   on one window. Segments never overlap; at most ``max_segments`` (the first in time).
4. A segment's label is the mean of the 2 Hz ratings inside it.

Changes are compared as ``|a - b| <= max_change + 1e-9``: the tolerance absorbs the float
rounding of the means (ratings have at most a few decimals), so a change of exactly 0.05
counts as 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMPARE_TOLERANCE = 1e-9
PREFERRED_WINDOWS = (3, 2)


@dataclass(frozen=True)
class Segment:
    """One segment: its span (seconds inside the audio file) and in-segment mean ratings."""

    start_s: float
    end_s: float
    windows: int
    valence: float
    arousal: float


def window_means(values: np.ndarray, samples_per_window: int) -> np.ndarray:
    """Means of the complete back-to-back windows of ``values`` (a 1-d array)."""
    count = len(values) // samples_per_window
    return (
        np.asarray(values[: count * samples_per_window], dtype="float64")
        .reshape(count, samples_per_window)
        .mean(axis=1)
    )


def _close(a: float, b: float, limit: float) -> bool:
    return abs(a - b) <= limit + COMPARE_TOLERANCE


def stable(means: np.ndarray, limit: float) -> bool:
    """Every neighbour change and the first-to-last change of ``means`` (rows: windows,
    columns: valence, arousal) are within ``limit``."""
    for column in range(means.shape[1]):
        series = means[:, column]
        if not all(_close(a, b, limit) for a, b in zip(series[:-1], series[1:])):
            return False
        if not _close(series[0], series[-1], limit):
            return False
    return True


def usable_windows(times_s: np.ndarray, complete: int, window_s: float, last_end_s: float) -> int:
    """How many of the ``complete`` windows from ``times_s[0]`` end by ``last_end_s``."""
    t0 = float(times_s[0]) if len(times_s) else 0.0
    return sum(1 for k in range(complete) if t0 + (k + 1) * window_s <= last_end_s + 1e-9)


def segment_song(
    times_s: np.ndarray,
    valence: np.ndarray,
    arousal: np.ndarray,
    *,
    window_s: float,
    samples_per_window: int,
    max_change: float,
    max_segments: int,
    last_end_s: float = float("inf"),
) -> list[Segment]:
    """The segments of one song's ratings by the rule of the module docstring.

    ``times_s[i]`` is the time of sample i (2 Hz); ``last_end_s`` is the latest time a
    window may end (the audio's end plus the tolerance).
    """
    if len(times_s) == 0:
        return []
    t0 = float(times_s[0])
    means = np.column_stack(
        [window_means(valence, samples_per_window), window_means(arousal, samples_per_window)]
    )
    usable = usable_windows(times_s, len(means), window_s, last_end_s)
    segments: list[Segment] = []
    k = 0
    while k < usable and len(segments) < max_segments:
        size = next(
            (
                n
                for n in PREFERRED_WINDOWS
                if k + n <= usable and stable(means[k : k + n], max_change)
            ),
            None,
        )
        if size is None:
            k += 1
            continue
        first, last = k * samples_per_window, (k + size) * samples_per_window
        segments.append(
            Segment(
                start_s=round(t0 + k * window_s, 6),
                end_s=round(t0 + (k + size) * window_s, 6),
                windows=size,
                valence=float(np.mean(valence[first:last])),
                arousal=float(np.mean(arousal[first:last])),
            )
        )
        k += size
    return segments
