"""Benchmark: the vectorised paired bootstrap against the slow reference loop.

Run: .venv/bin/python bench/bootstrap.py [--resamples 1000] [--submissions 50] [--ids 10000]
    [--reference-resamples 20] [--groups G]
Prints the wall and CPU time of benchmark.bootstrap.replicates for every submission at once
(target: seconds for 1,000 resamples x 50 submissions x 10,000 ids) and the time per
resample of benchmark.bootstrap.reference_replicates (a Python loop over resamples and
submissions calling benchmark.metrics), run on the first --reference-resamples resamples
only and checked to give the same numbers; the speed-up is per resample (target >= 20x).
On a shared, loaded machine the wall times are inflated; compare the CPU times.

Then, for --large-ids ids without groups (default 1,000,000; 0 to skip), one submission:
the default bootstrap (beyond benchmark.bootstrap.MAX_EXACT_IDS ids, random blocks of ids)
against the exact id-level one it replaces, for misme-mer rmse and ccc: their times, their
intervals, and how far apart the ends are in % of the exact interval's width, beside the
same figure for the exact bootstrap with another seed (the Monte Carlo noise alone); and,
free of Monte Carlo noise, the standard deviation of the resampled sums of the centred
per-id statistics under the blocks over that under the ids (1 is exact).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _args import at_least

from benchmark.bootstrap import (
    id_block_codes,
    percentile_interval,
    reference_replicates,
    replicates,
    replicates_of_codes,
)
from benchmark.tasks import get_task


def _data(task, n_ids: int, n_submissions: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    if task.kind == "classification":
        truth = rng.integers(0, len(task.labels), n_ids)
        predictions = [
            np.where(
                rng.random(n_ids) < 0.3 + 0.01 * s, truth, rng.integers(0, len(task.labels), n_ids)
            )
            for s in range(n_submissions)
        ]
        return truth, predictions
    truth = rng.uniform(1, 9, (n_ids, len(task.targets)))
    return truth, [truth + rng.normal(0, 1 + 0.01 * s, truth.shape) for s in range(n_submissions)]


def _timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def run(task_name: str, metric: str, args) -> bool:
    task = get_task(task_name)
    truth, predictions = _data(task, args.ids, args.submissions)
    groups = None if args.groups is None else np.arange(args.ids) % args.groups
    fast, wall, cpu = _timed(
        lambda: replicates(
            task, metric, truth, predictions, groups, n_resamples=args.resamples, seed=0
        )
    )
    slow, ref_wall, ref_cpu = _timed(
        lambda: reference_replicates(
            task, metric, truth, predictions, groups, n_resamples=args.reference_resamples, seed=0
        )
    )
    agree = np.allclose(fast[: len(slow)], slow, atol=1e-9, equal_nan=True)
    per_fast = cpu / args.resamples
    per_slow = ref_cpu / args.reference_resamples
    print(
        f"{task_name} {metric}: {args.resamples:,} resamples x {args.submissions} submissions x "
        f"{args.ids:,} ids ({'ids' if groups is None else f'{args.groups:,} groups'}): "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    )
    print(
        f"  reference loop: {args.reference_resamples} resamples in {ref_wall:.2f} s wall, "
        f"{ref_cpu:.2f} s CPU = {per_slow * 1000:.1f} ms CPU per resample "
        f"(x {args.resamples:,} = {per_slow * args.resamples:.0f} s)"
    )
    print(
        f"  speed-up per resample (CPU): {per_slow / max(per_fast, 1e-9):.0f}x; same numbers: {agree}"
    )
    return agree


def large(metric: str, n_ids: int, n_resamples: int) -> None:
    """The default bootstrap of ``n_ids`` ids without groups against the exact one."""
    task = get_task("misme-mer")
    truth, predictions = _data(task, n_ids, 1)
    blocks, wall, cpu = _timed(
        lambda: replicates(task, metric, truth, predictions, n_resamples=n_resamples, seed=0)
    )
    exact = {}
    for seed in (0, 1):
        exact[seed], exact_wall, exact_cpu = _timed(
            lambda seed=seed: replicates_of_codes(
                task,
                metric,
                truth,
                predictions,
                np.arange(n_ids),
                n_ids,
                n_resamples=n_resamples,
                seed=seed,
            )
        )
    low, high = (float(end[0]) for end in percentile_interval(exact[0]))

    def apart(values: np.ndarray) -> str:
        ends = [float(end[0]) for end in percentile_interval(values)]
        shift = max(abs(ends[0] - low), abs(ends[1] - high)) / (high - low)
        return f"[{ends[0]:.5f}, {ends[1]:.5f}], ends within {shift:.1%} of the width"

    print(f"misme-mer {metric}, {n_resamples:,} resamples of {n_ids:,} ids without groups:")
    print(f"  default (random id blocks): {wall:.2f} s wall, {cpu:.2f} s CPU; {apart(blocks)}")
    print(
        f"  exact id-level:             {exact_wall:.2f} s wall, {exact_cpu:.2f} s CPU; "
        f"[{low:.5f}, {high:.5f}]"
    )
    print(f"  exact id-level, seed 1:     {apart(exact[1])} (Monte Carlo noise alone)")


def block_spread(n_ids: int) -> None:
    """sd of the resampled sums, blocks / ids, of each centred per-id statistic of MER
    (squared error, truth, prediction, their squares and product, per target): the ratio
    the interval's width follows, without resampling (sqrt of B var(block sums) / n var)."""
    truth, (prediction,) = _data(get_task("misme-mer"), n_ids, 1)
    x = np.column_stack(
        [(prediction - truth) ** 2, truth, prediction, truth**2, prediction**2, truth * prediction]
    )
    x -= x.mean(axis=0)
    for seed in (0, 1, 2):
        blocks = id_block_codes(n_ids, seed)
        sums = [np.bincount(blocks, weights=column) for column in x.T]
        ratio = [np.sqrt(len(s) * s.var() / (n_ids * c.var())) for s, c in zip(sums, x.T)]
        print(
            f"  sd of the resampled sums, blocks / ids, seed {seed}: "
            f"{min(ratio):.4f}-{max(ratio):.4f} over {len(ratio)} statistics"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=at_least(1), default=1000)
    parser.add_argument("--submissions", type=at_least(1), default=50)
    parser.add_argument("--ids", type=at_least(2), default=10_000)
    parser.add_argument("--reference-resamples", type=at_least(1), default=20)
    parser.add_argument(
        "--groups",
        type=at_least(2),
        default=None,
        help="resample this many groups of ids instead of single ids",
    )
    parser.add_argument(
        "--large-ids",
        type=at_least(0),
        default=1_000_000,
        help="ids of the default-against-exact comparison without groups (0 to skip)",
    )
    args = parser.parse_args()
    agreed = [
        run(task_name, metric, args)
        for task_name, metric in (
            ("misme-ser", "accuracy"),
            ("misme-ser", "uar"),
            ("misme-mer", "rmse"),
            ("muse-vad", "ccc"),
        )
    ]
    for metric in ("rmse", "ccc") if args.large_ids else ():
        large(metric, args.large_ids, args.resamples)
    if args.large_ids:
        block_spread(args.large_ids)
    if not all(agreed):
        print("the vectorised bootstrap and the reference loop disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
