"""Statistical comparison of two systems scored on the same ids.

Diebold-Mariano exactly as R's ``forecast::dm.test`` (with the Harvey-Leybourne-Newbold
correction), McNemar for two classifiers, seeded percentile bootstrap confidence
intervals, and Holm's step-down adjustment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from benchmark.errors import BenchmarkError

ALTERNATIVES = ("two-sided", "less", "greater")


@dataclass(frozen=True)
class DMResult:
    """Diebold-Mariano test result; ``mean_difference`` is mean(d), d = loss1 - loss2."""

    statistic: float
    pvalue: float
    h: int = 1
    alternative: str = "two-sided"
    n: int = 0
    mean_difference: float = float("nan")


@dataclass(frozen=True)
class McNemarResult:
    """McNemar result; ``b`` = only system 1 correct, ``c`` = only system 2 correct."""

    statistic: float
    pvalue: float
    b: int
    c: int
    exact: bool


def _vector(values, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise BenchmarkError(f"{name} must be one-dimensional")
    if not np.isfinite(array).all():
        raise BenchmarkError(f"{name} contains NaN or infinite values")
    return array


def _alternative(alternative: str) -> str:
    alternative = "two-sided" if alternative == "two.sided" else alternative
    if alternative not in ALTERNATIVES:
        raise BenchmarkError(
            f"alternative must be one of {', '.join(ALTERNATIVES)}, not {alternative!r}"
        )
    return alternative


def diebold_mariano(
    e1, e2, *, h: int = 1, power: float = 2, alternative: str = "two-sided"
) -> DMResult:
    """Diebold-Mariano test of equal accuracy of forecast errors ``e1`` and ``e2``.

    d_t = |e1_t|^power - |e2_t|^power; see :func:`diebold_mariano_from_losses`.
    ``alternative="less"``: H1 is that system 2 is less accurate than system 1
    (mean d < 0); ``"greater"``: system 2 is more accurate. As R ``forecast::dm.test``.
    """
    if not power > 0:
        raise BenchmarkError(f"power must be positive, not {power}")
    a, b = _vector(e1, "e1"), _vector(e2, "e2")
    if len(a) != len(b):
        raise BenchmarkError(f"e1 has {len(a)} values but e2 has {len(b)}")
    return diebold_mariano_from_losses(
        np.abs(a) ** power, np.abs(b) ** power, h=h, alternative=alternative
    )


def diebold_mariano_from_losses(
    loss1, loss2, *, h: int = 1, alternative: str = "two-sided"
) -> DMResult:
    """Diebold-Mariano test on per-item losses, d_t = loss1_t - loss2_t.

    gamma_k = (1/n) sum_{t=k+1}^{n} (d_t - dbar)(d_{t-k} - dbar), k = 0..h-1;
    V = (gamma_0 + 2 sum_{k=1}^{h-1} gamma_k) / n; DM = dbar / sqrt(V) multiplied by the
    Harvey-Leybourne-Newbold factor sqrt((n + 1 - 2h + h(h-1)/n) / n); p-values from
    Student-t with n-1 df. Diebold & Mariano (1995), JBES 13:253-263; Harvey, Leybourne &
    Newbold (1997), IJF 13:281-291. A zero or negative V raises BenchmarkError.
    """
    alternative = _alternative(alternative)
    a, b = _vector(loss1, "loss1"), _vector(loss2, "loss2")
    if len(a) != len(b):
        raise BenchmarkError(f"loss1 has {len(a)} values but loss2 has {len(b)}")
    n = len(a)
    if not isinstance(h, int | np.integer) or h < 1:
        raise BenchmarkError(f"h must be a positive integer, not {h!r}")
    if n < 2 or h >= n:
        raise BenchmarkError(
            f"the Diebold-Mariano test needs more than h={h} and at least 2 paired values; got {n}"
        )
    d = a - b
    mean = float(d.mean())
    centred = d - mean
    gamma = [float(np.dot(centred[k:], centred[: n - k])) / n for k in range(h)]
    variance = (gamma[0] + 2 * sum(gamma[1:])) / n
    if variance == 0:
        raise BenchmarkError(
            "the Diebold-Mariano variance is zero: the two systems have "
            "identical losses on every item, so they cannot be told apart"
        )
    if variance < 0:
        raise BenchmarkError(
            f"the Diebold-Mariano variance estimate is negative with h={h}; "
            "use a smaller h (R's dm.test falls back to h=1)"
        )
    correction = np.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = float(mean / np.sqrt(variance) * correction)
    return DMResult(
        statistic, _t_pvalue(statistic, n - 1, alternative), int(h), alternative, n, mean
    )


def _t_pvalue(statistic: float, df: int, alternative: str) -> float:
    if alternative == "less":
        return float(_st.t.cdf(statistic, df))
    if alternative == "greater":
        return float(_st.t.sf(statistic, df))
    return float(min(1.0, 2 * _st.t.cdf(-abs(statistic), df)))


def mcnemar(correct1, correct2, *, exact: bool | None = None) -> McNemarResult:
    """McNemar's test for two classifiers evaluated on the same items.

    b = #(1 right, 2 wrong), c = #(1 wrong, 2 right). Exact: statistic = min(b, c),
    p = min(1, 2 * Binom(b + c, 1/2).cdf(min(b, c))). Asymptotic (with continuity
    correction): statistic = (|b - c| - 1)^2 / (b + c), p = chi2_1.sf(statistic).
    ``exact=None`` uses the exact test when b + c < 25. McNemar (1947),
    Psychometrika 12:153-157; Dietterich (1998), Neural Computation 10:1895-1923.
    """
    one, two = np.asarray(correct1, dtype=bool), np.asarray(correct2, dtype=bool)
    if one.shape != two.shape or one.ndim != 1:
        raise BenchmarkError("correct1 and correct2 must be 1-d and of equal length")
    b, c = int(np.sum(one & ~two)), int(np.sum(~one & two))
    exact = (b + c < 25) if exact is None else exact
    if b + c == 0:
        return McNemarResult(0.0, 1.0, b, c, exact)
    if exact:
        k = min(b, c)
        return McNemarResult(
            float(k), float(min(1.0, 2 * _st.binom.cdf(k, b + c, 0.5))), b, c, True
        )
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    return McNemarResult(float(statistic), float(_st.chi2.sf(statistic, 1)), b, c, False)


def bootstrap_ci(
    metric: Callable,
    y_true,
    y_pred,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``metric(y_true, y_pred)``: resample ids with replacement
    ``n_resamples`` times (``numpy.random.default_rng(seed)``), return the (1-c)/2 and
    (1+c)/2 quantiles of the metric. Efron & Tibshirani (1993), ch. 13."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if len(t) != len(p) or len(t) == 0:
        raise BenchmarkError("y_true and y_pred must be non-empty and of equal length")
    if not 0 < confidence < 1:
        raise BenchmarkError(f"confidence must be in (0, 1), not {confidence}")
    if n_resamples < 1:
        raise BenchmarkError("n_resamples must be at least 1")
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for i in range(n_resamples):
        index = rng.integers(0, len(t), len(t))
        values[i] = metric(t[index], p[index])
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down adjusted p-values: for sorted p_(1) <= ... <= p_(m),
    adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j)), returned in the input order.
    Holm (1979), Scand. J. Statist. 6:65-70; equals R's ``p.adjust(method="holm")``."""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise BenchmarkError("p-values must be a 1-d sequence of numbers in [0, 1]")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    result = np.empty(m)
    result[order] = adjusted
    return result
