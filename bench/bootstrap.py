"""Benchmark: the vectorised paired bootstrap against the slow reference loop.

Run: .venv/bin/python bench/bootstrap.py [--resamples 1000] [--submissions 50] [--ids 10000]
    [--reference-resamples 20] [--groups G]
Prints the wall and CPU time of benchmark.bootstrap.replicates for every submission at once
(target: seconds for 1,000 resamples x 50 submissions x 10,000 ids) and the time per
resample of benchmark.bootstrap.reference_replicates (a Python loop over resamples and
submissions calling benchmark.metrics), run on the first --reference-resamples resamples
only and checked to give the same numbers; the speed-up is per resample (target >= 20x).
On a shared, loaded machine the wall times are inflated; compare the CPU times.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _args import at_least

from benchmark.bootstrap import reference_replicates, replicates
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
    if not all(agreed):
        print("the vectorised bootstrap and the reference loop disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
