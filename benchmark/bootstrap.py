"""Vectorised paired bootstrap of a metric over ids or whole groups, and rank intervals.

A resample draws G groups with replacement (G = the speakers, artists or tracks of the
solution, or its single ids when it has no group column) and keeps every id of each drawn
group, as often as the group was drawn. Every metric of the benchmark is a function of
sums of per-id statistics (counts, hits per class, errors, moments), so the value on a
resample is ``finish(W @ X)``: W is the (resamples x groups) matrix of draw counts and X
the per-group sums of the statistics, for all submissions at once. The draws depend only
on the seed and the number of groups, so submissions scored one at a time on the same ids
are paired: their replicates can be ranked against each other later
(:func:`rank_intervals`). :func:`reference_replicates` is the slow loop over resamples that
calls :mod:`benchmark.metrics` on each resample, kept as the definition the fast path is
tested against. Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13;
Field & Welsh (2007), JRSS B 69:369-390 (resampling clusters).

Large files without groups (:func:`id_codes`). Up to ``MAX_EXACT_IDS`` ids, a resample
draws the ids themselves, as it always has. Beyond, drawing n ids per resample costs n
random numbers and counts (1,000 resamples of 1,000,000 ids: 24 s), so the ids are dealt at
random (a permutation seeded by the bootstrap seed alone) into ``ID_BLOCKS`` blocks of
m = n / B ids (sizes differ by one id at most) and the blocks are resampled as groups are.
Why the interval stays that of the id bootstrap: a resample's sums of per-id statistics x_i
have mean n x-bar under both schemes, and covariance n S under the id bootstrap (S: the
covariance of the x_i, divisor n) against B S_B under the block one (S_B: the covariance of
the block sums); for blocks drawn without replacement, E[B S_B] = n S (n - m) / (n - 1),
about n S (1 - 1/B), with a relative spread of about sqrt((kurtosis - 1) / B) (the method of
random groups: Wolter (2007), *Introduction to Variance Estimation*, 2nd ed., ch. 2; x_i
centred, as every metric is a ratio of sums to the count, which cancels the one-id
differences of block size to first order). With B = 65,536 the standard deviation of the
resampled sums, hence the interval's width, stays within about 0.5 % of the id bootstrap's
(bench/bootstrap.py prints it for 1,000,000 ids), well below the Monte Carlo error of 1,000
resamples (about 2 % of the width per end); tests/benchmark/test_bootstrap.py checks the
interval against the exact one. Solutions with a group column are resampled by group
whatever their size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from benchmark import metrics as m
from benchmark.errors import BenchmarkError
from benchmark.tasks import Task

CHUNK_CELLS = 4_000_000  # draw-count cells per chunk of resamples (32 MB of float64)
MAX_EXACT_IDS = 65_536  # more ids than this, and no groups: resample random blocks of ids
ID_BLOCKS = 65_536  # how many blocks then
RANDOM_ID_BLOCKS = "random id blocks"  # what such a bootstrap is grouped by, in its report
ROW_BY_ROW_GROUPS = 1024  # from this many groups on, draws are counted a resample at a time
_BLOCK_STREAM = 0xB10C  # the permutation's seed is (seed, this): a stream apart from the draws
_CLASSIFICATION = (
    "accuracy",
    "uar",
    "macro_f1",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
)
_REGRESSION = ("rmse", "mae", "r2", "pearson_r", "ccc", "ccc_n1")
_REGRESSION_STATS = {
    "rmse": ("e2",),
    "mae": ("ae",),
    "r2": ("e2", "t1", "t2"),
    "pearson_r": ("t1", "t2", "p1", "p2", "tp"),
    "ccc": ("t1", "t2", "p1", "p2", "tp"),
    "ccc_n1": ("t1", "t2", "p1", "p2", "tp"),
}


def metric_names(task: Task) -> tuple[str, ...]:
    """Every metric the bootstrap can resample for ``task`` (regression: also per target)."""
    if task.kind == "classification":
        return _CLASSIFICATION
    return _REGRESSION + tuple(
        f"{name}_{target}" for name in _REGRESSION for target in task.targets
    )


def _split_metric(task: Task, metric: str) -> tuple[str, tuple[int, ...]]:
    """(base metric, indices of the targets it averages over)."""
    if metric not in metric_names(task):
        raise BenchmarkError(
            f"cannot bootstrap {metric!r} for {task.name}; "
            f"choose one of {', '.join(metric_names(task))}"
        )
    if task.kind == "classification" or metric in _REGRESSION:
        return metric, tuple(range(len(task.targets)))
    for j, target in enumerate(task.targets):
        if metric.endswith(f"_{target}") and metric[: -len(target) - 1] in _REGRESSION:
            return metric[: -len(target) - 1], (j,)
    raise AssertionError(metric)  # metric_names() only lists names split above


# ---------------------------------------------------------------- resampling


def group_codes(groups: Sequence | np.ndarray | None, n: int) -> tuple[np.ndarray, int]:
    """Integer code 0..G-1 of each id's group (sorted group keys), or one group per id."""
    if groups is None:
        return np.arange(n), n
    keys = np.asarray(groups)
    if len(keys) != n:
        raise BenchmarkError(f"{len(keys)} group keys for {n} ids")
    if keys.dtype == object and len(keys) > 1000:
        import pandas as pd

        if pd.api.types.infer_dtype(keys, skipna=False) == "string":
            # the same codes as below, with the sort on the distinct keys only: hash first
            return codes_of_distinct(*pd.factorize(keys))
    unique, codes = np.unique(keys.astype(str), return_inverse=True)
    return codes.astype(np.int64), len(unique)


def codes_of_distinct(raw_codes: np.ndarray, distinct: Sequence) -> tuple[np.ndarray, int]:
    """:func:`group_codes` of keys given as ``distinct[raw_codes]`` (a factorization: distinct
    strings, each key's index among them): only the distinct keys are sorted."""
    unique, codes = np.unique(np.asarray(distinct, dtype=object).astype(str), return_inverse=True)
    return codes[raw_codes].astype(np.int64), len(unique)


def stable_order(codes: np.ndarray, n_codes: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(codes, kind="stable")`` of codes 0..n_codes-1 and where each code's run
    starts in it: the rows of code c, in their order, are ``order[starts[c]:starts[c + 1]]``
    (``starts`` has n_codes + 1 entries). Codes that fit 16 bits take numpy's radix sort:
    the same permutation (a stable sort has only one), in a few milliseconds."""
    keys = codes.astype(np.uint16) if n_codes <= 1 << 16 else codes
    starts = np.zeros(n_codes + 1, dtype=np.int64)
    np.cumsum(np.bincount(codes, minlength=n_codes), out=starts[1:])
    return np.argsort(keys, kind="stable"), starts


def resample_draws(n_groups: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """The groups drawn by each resample, in chunks of rows (resamples x n_groups).

    ``numpy.random.default_rng(seed)``; the chunk size depends on ``n_groups`` only, so the
    draws are a function of (n_groups, n_resamples, seed) alone.
    """
    if n_resamples < 1:
        raise BenchmarkError("the bootstrap needs at least 1 resample")
    if n_groups < 1:
        raise BenchmarkError("the bootstrap needs at least one id")
    rng = np.random.default_rng(seed)
    rows = max(1, CHUNK_CELLS // n_groups)
    # int32 (4x faster than the default int64): below 2**32, numpy draws both with the same
    # bounded 32-bit generator, so these are the same numbers (a test checks it)
    width = np.int32 if n_groups <= np.iinfo(np.int32).max else np.int64
    for start in range(0, n_resamples, rows):
        yield rng.integers(
            0, n_groups, size=(min(rows, n_resamples - start), n_groups), dtype=width
        )


def id_codes(n: int, seed: int) -> tuple[np.ndarray, int, str | None]:
    """What a resample draws from ``n`` ids without groups: (codes, count, grouped_by). Up
    to ``MAX_EXACT_IDS`` the ids themselves (grouped_by None); beyond, ``ID_BLOCKS`` random
    blocks of them (:func:`id_block_codes`; grouped_by ``RANDOM_ID_BLOCKS``)."""
    if n <= MAX_EXACT_IDS:
        return np.arange(n), n, None
    return id_block_codes(n, seed), ID_BLOCKS, RANDOM_ID_BLOCKS


def id_block_codes(n: int, seed: int, n_blocks: int | None = None) -> np.ndarray:
    """The block 0..n_blocks-1 of each of ``n`` ids (default ``ID_BLOCKS``): a permutation
    seeded by (``seed``, a constant) dealt into n_blocks runs of n // n_blocks or one more."""
    n_blocks = ID_BLOCKS if n_blocks is None else n_blocks
    if not 1 <= n_blocks <= n:
        raise BenchmarkError(f"cannot cut {n:,} ids into {n_blocks:,} blocks")
    blocks = np.empty(n, dtype=np.int64)
    blocks[np.random.default_rng((seed, _BLOCK_STREAM)).permutation(n)] = (
        np.arange(n) * n_blocks // n
    )
    return blocks


def _counts(draws: np.ndarray, n_groups: int) -> np.ndarray:
    """How often each group was drawn, per resample (rows of ``draws``): one bincount of
    all rows (offset by row) for few groups, else one per row, which stays in the cache
    (3x faster for 65,536 groups); the same integer counts either way."""
    if n_groups >= ROW_BY_ROW_GROUPS:
        counts = np.empty(draws.shape)
        for row, drawn in zip(counts, draws, strict=True):
            row[:] = np.bincount(drawn, minlength=n_groups)
        return counts
    offsets = draws + n_groups * np.arange(len(draws))[:, None]
    return (
        np.bincount(offsets.ravel(), minlength=draws.size).reshape(draws.shape).astype(np.float64)
    )


# ---------------------------------------------------------------- statistics per id


def _classification_stats(
    metric: str, truth: np.ndarray, predictions: np.ndarray, n_labels: int
) -> dict[str, np.ndarray]:
    """Per-id statistics, (n, S[, K]) or (n, 1[, K]) when they do not depend on the
    submission; truth codes (n,), prediction codes (n, S)."""
    count = np.ones((len(truth), 1))
    if metric in ("accuracy", "weighted_recall"):
        return {"n": count, "hit": (predictions == truth[:, None]).astype(np.float64)}
    labels = np.arange(n_labels)
    true_k = (truth[:, None, None] == labels).astype(np.float64)
    pred_k = (predictions[..., None] == labels).astype(np.float64)
    stats = {"n": count, "true": true_k, "tp": true_k * pred_k}
    return stats if metric == "uar" else {**stats, "pred": pred_k}


def _regression_stats(
    metric: str, truth: np.ndarray, predictions: np.ndarray, targets: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """Per-id statistics (n, S, J), or (n, 1, J) for those of the truth alone; truth (n, J),
    predictions (n, S, J); values are shifted by the truth's mean (the moments are
    shift-invariant; it keeps the sums well conditioned)."""
    t = truth[:, targets]
    p = predictions[:, :, targets]
    shift = t.mean(axis=0)
    tt, pp = (t - shift)[:, None, :], p - shift
    every = {
        "e2": lambda: (pp - tt) ** 2,
        "ae": lambda: np.abs(pp - tt),
        "t1": lambda: tt,
        "t2": lambda: tt * tt,
        "p1": lambda: pp,
        "p2": lambda: pp * pp,
        "tp": lambda: tt * pp,
    }
    stats = {"n": np.ones((len(t), 1, 1))}
    stats.update(
        {name: np.asarray(every[name](), dtype=np.float64) for name in _REGRESSION_STATS[metric]}
    )
    return stats


# ---------------------------------------------------------------- metrics from sums


def _ratio(numerator: np.ndarray, denominator: np.ndarray, fill: float = np.nan) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), fill
        )


def _finish_classification(metric: str, s: dict[str, np.ndarray]) -> np.ndarray:
    n = s["n"]
    if metric in ("accuracy", "weighted_recall"):
        return s["hit"] / n
    true, tp = s["true"], s["tp"]
    if metric == "uar":
        with np.errstate(invalid="ignore"):
            return np.nanmean(_ratio(tp, np.broadcast_to(true, tp.shape)), axis=-1)
    pred = s["pred"]
    f1 = _ratio(2 * tp, true + pred, 0.0)
    if metric == "macro_f1":
        return f1.sum(axis=-1) / np.maximum((true + pred > 0).sum(axis=-1), 1)
    weights = true / n[..., None]
    if metric == "weighted_f1":
        return (weights * f1).sum(axis=-1)
    return (weights * _ratio(tp, pred, 0.0)).sum(axis=-1)  # weighted_precision


def _finish_regression(metric: str, s: dict[str, np.ndarray]) -> np.ndarray:
    n = s["n"]
    if metric == "rmse":
        return np.sqrt(s["e2"] / n).mean(axis=-1)
    if metric == "mae":
        return (s["ae"] / n).mean(axis=-1)
    sxx = np.maximum(s["t2"] - s["t1"] ** 2 / n, 0.0)
    tiny = 1e-12 * np.maximum(s["t2"], 1.0)
    if metric == "r2":
        return (1 - _ratio(s["e2"], np.where(sxx > tiny, sxx, 0.0))).mean(axis=-1)
    syy = np.maximum(s["p2"] - s["p1"] ** 2 / n, 0.0)
    sxy = s["tp"] - s["t1"] * s["p1"] / n
    if metric == "pearson_r":
        varying = (sxx > tiny) & (syy > 1e-12 * np.maximum(s["p2"], 1.0)) & (n >= 3)
        r = _ratio(sxy, np.sqrt(np.where(varying, sxx * syy, 0.0)))
        return np.clip(r, -1, 1).mean(axis=-1)
    mean_difference = (s["t1"] - s["p1"]) / n
    divisor = n if metric == "ccc" else np.where(n > 1, n - 1, 0.0)
    denominator = _ratio(sxx + syy, divisor, 0.0) + mean_difference**2
    return _ratio(_ratio(2 * sxy, divisor, 0.0), np.where(divisor > 0, denominator, 0.0)).mean(
        axis=-1
    )


# ---------------------------------------------------------------- the bootstrap


def _prepare(task: Task, metric: str, truth, predictions: Sequence):
    base, targets = _split_metric(task, metric)
    if len(predictions) == 0:
        raise BenchmarkError("no predictions to bootstrap")
    if task.kind == "classification":
        t = np.asarray(truth, dtype=np.int64)
        p = np.stack([np.asarray(x, dtype=np.int64) for x in predictions], axis=1)
        return base, _classification_stats(base, t, p, len(task.labels)), _finish_classification
    t = np.asarray(truth, dtype=np.float64).reshape(len(truth), -1)
    p = np.stack([np.asarray(x, dtype=np.float64).reshape(len(x), -1) for x in predictions], axis=1)
    return base, _regression_stats(base, t, p, targets), _finish_regression


def replicates(
    task: Task,
    metric: str,
    truth,
    predictions: Sequence,
    groups=None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """``metric`` on every resample for each submission: array (n_resamples, S).

    ``truth``: label codes 0..K-1 (classification) or an (n, targets) array; ``predictions``:
    S arrays like it, aligned with ``truth``; ``groups``: a group key per id (None: ids, or
    beyond ``MAX_EXACT_IDS`` random blocks of them, see :func:`id_codes`).
    Same numbers as :func:`reference_replicates`, computed from sums of per-id statistics.

    >>> from benchmark.tasks import get_task
    >>> r = replicates(get_task("misme-ser"), "accuracy", [0, 1, 2, 3], [[0, 1, 2, 0]],
    ...                n_resamples=5, seed=1)
    >>> r.shape, bool(((r >= 0) & (r <= 1)).all())
    ((5, 1), True)
    """
    prepared = _prepare(task, metric, truth, predictions)
    codes, n_groups = _resampled_codes(groups, len(next(iter(prepared[1].values()))), seed)
    return _resampled(prepared, codes, n_groups, n_resamples, seed)


def _resampled_codes(groups, n: int, seed: int) -> tuple[np.ndarray, int]:
    """:func:`group_codes` of ``groups``, or :func:`id_codes` without groups."""
    return group_codes(groups, n) if groups is not None else id_codes(n, seed)[:2]


def replicates_of_codes(
    task: Task,
    metric: str,
    truth,
    predictions: Sequence,
    codes: np.ndarray,
    n_groups: int,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """:func:`replicates` with the groups given as their :func:`group_codes` (codes, count)."""
    return _resampled(
        _prepare(task, metric, truth, predictions), codes, n_groups, n_resamples, seed
    )


def _resampled(
    prepared: tuple, codes: np.ndarray, n_groups: int, n_resamples: int, seed: int
) -> np.ndarray:
    base, stats, finish = prepared
    n = len(codes)
    names = list(stats)
    shapes = {name: stats[name].shape[1:] for name in names}
    flat = np.concatenate([stats[name].reshape(n, -1) for name in names], axis=1)
    order, starts = stable_order(codes, n_groups)
    # np.take, not flat[order]: the same rows, gathered a row at a time (3x faster)
    per_group = np.add.reduceat(np.take(flat, order, axis=0), starts[:-1], axis=0)
    sizes = np.cumsum([0, *(int(np.prod(shapes[name])) for name in names)])
    chunks = []
    for draws in resample_draws(n_groups, n_resamples, seed):
        sums = _counts(draws, n_groups) @ per_group
        named = {
            name: sums[:, sizes[i] : sizes[i + 1]].reshape(len(sums), *shapes[name])
            for i, name in enumerate(names)
        }
        chunks.append(finish(base, named))
    return np.concatenate(chunks, axis=0)


def metric_function(task: Task, metric: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """``metric`` as a function of (truth, predictions) arrays, built from :mod:`benchmark.metrics`."""
    base, targets = _split_metric(task, metric)
    if task.kind == "classification":
        single = {
            "accuracy": m.accuracy,
            "uar": m.uar,
            "macro_f1": m.macro_f1,
            "weighted_precision": lambda t, p: m.weighted_prf(t, p)[0],
            "weighted_recall": lambda t, p: m.weighted_prf(t, p)[1],
            "weighted_f1": lambda t, p: m.weighted_prf(t, p)[2],
        }[base]
        return single
    single = {
        "rmse": m.rmse,
        "mae": m.mae,
        "r2": m.r2,
        "ccc": m.ccc,
        "ccc_n1": m.ccc_n1,
        "pearson_r": lambda t, p: m.pearson(t, p)[0],
    }[base]
    return lambda t, p: float(np.mean([single(t[:, j], p[:, j]) for j in targets]))


def reference_replicates(
    task: Task,
    metric: str,
    truth,
    predictions: Sequence,
    groups=None,
    *,
    n_resamples: int = 1000,
    seed: int = 0,
) -> np.ndarray:
    """The slow definition of :func:`replicates`: for each resample and submission, gather the
    drawn groups' ids and call the metric of :mod:`benchmark.metrics` on them."""
    function = metric_function(task, metric)
    t = np.asarray(truth)
    t = t if task.kind == "classification" else t.astype(np.float64).reshape(len(t), -1)
    preds = [
        np.asarray(p)
        if task.kind == "classification"
        else np.asarray(p, dtype=np.float64).reshape(len(p), -1)
        for p in predictions
    ]
    codes, n_groups = _resampled_codes(groups, len(t), seed)
    members = [np.flatnonzero(codes == g) for g in range(n_groups)]
    rows = []
    for draws in resample_draws(n_groups, n_resamples, seed):
        for drawn in draws:
            index = np.concatenate([members[g] for g in drawn])
            rows.append([function(t[index], p[index]) for p in preds])
    return np.asarray(rows, dtype=np.float64)


def resampled_unit(grouped_by: str | None, n_groups: int) -> str:
    """What a resample draws, for reports: "24 actor groups", "40 groups", "1,000 ids",
    "65,536 random blocks of ids"."""
    if not grouped_by:
        return f"{n_groups:,} ids"
    if grouped_by == RANDOM_ID_BLOCKS:
        return f"{n_groups:,} random blocks of ids"
    return f"{n_groups:,} groups" if grouped_by == "group" else f"{n_groups:,} {grouped_by} groups"


# ---------------------------------------------------------------- intervals and ranks


def percentile_interval(
    values: np.ndarray, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column: the (1-c)/2 and (1+c)/2 quantiles, NaN resamples left out."""
    if not 0 < confidence < 1:
        raise BenchmarkError(f"confidence must be in (0, 1), not {confidence}")
    alpha = (1 - confidence) / 2
    with np.errstate(invalid="ignore"):
        low, high = np.nanquantile(np.asarray(values, dtype=np.float64), [alpha, 1 - alpha], axis=0)
    return low, high


def resample_ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Rank of each submission (column) within each resample (row): 1 + the number of
    submissions strictly better; ties share the better rank; NaN ranks last."""
    values = np.asarray(values, dtype=np.float64)
    signed = -values if higher_is_better else values
    signed = np.where(np.isnan(signed), np.inf, signed)
    from scipy import stats as _st  # here: scoring one submission never ranks, start-up stays short

    return _st.rankdata(signed, method="min", axis=1).astype(np.int64)


def rank_intervals(
    values: np.ndarray, higher_is_better: bool, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) rank per submission over the central ``confidence`` of resamples.

    Ranks are integers, so the bounds are observed ranks (``inverted_cdf`` quantiles).

    >>> values = np.array([[0.9, 0.5], [0.8, 0.6], [0.7, 0.9]])
    >>> [b.tolist() for b in rank_intervals(values, higher_is_better=True, confidence=0.5)]
    [[1, 1], [2, 2]]
    """
    ranks = resample_ranks(values, higher_is_better)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(ranks, [alpha, 1 - alpha], axis=0, method="inverted_cdf")
    return low.astype(np.int64), high.astype(np.int64)


def top_group(rank_low: np.ndarray, rank_high: np.ndarray, leader: int = 0) -> np.ndarray:
    """Submissions whose rank interval overlaps the leader's (the leader included)."""
    rank_low, rank_high = np.asarray(rank_low), np.asarray(rank_high)
    return (rank_low <= rank_high[leader]) & (rank_high >= rank_low[leader])
