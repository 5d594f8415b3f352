"""`init`'s check that the scoring worker works under the config's limits on this machine.

For each task it scores a perfect prediction of the whole solution file in the real
worker, under `memory_limit_mb` and `time_limit_s`. A limit too small is refused with the
measured figure (the worker's peak address space when run without a memory limit),
rather than discovered by the teams, whose every submission would fail.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from leaderboard.challenge.config import ChallengeConfig, TaskConfig
from leaderboard.errors import LeaderboardError
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.result import ScoringResult
from leaderboard.scoring.sandbox import run_isolated

HEADROOM = 1.25  # suggested limit over the measured peak: submissions vary in size


def check_worker_limits(config: ChallengeConfig) -> None:
    """LeaderboardError unless a valid file of every task scores under the config's limits."""
    for task in config.tasks:
        result = probe(config, task, config.memory_limit_mb)
        if result.scored:
            continue
        if "ran out of memory" in result.message:
            raise LeaderboardError(_too_small(config, task))
        raise LeaderboardError(
            f"task {task.name}: the scoring worker could not score a valid "
            f"file under this config: {result.status}: "
            f"{result.message.splitlines()[0]}"
        )


def probe(config: ChallengeConfig, task: TaskConfig, memory_limit_mb: int | None) -> ScoringResult:
    """The worker's result for a perfect prediction of `task` (None: no memory limit)."""
    phase = config.phases[0]
    with tempfile.TemporaryDirectory(prefix="misme-probe-") as folder:
        predictions = _perfect_predictions(task, Path(folder) / "probe.parquet")
        request = ScoringRequest(
            predictions=str(predictions),
            solution=str(task.solution),
            task=task.name,
            folds=None,
            public_fraction=phase.public_fraction,
            seed=phase.seed,
            max_bytes=config.max_file_bytes,
            memory_limit_mb=memory_limit_mb,
            time_limit_s=config.time_limit_s,
        )
        result, _ = run_isolated(request, config.time_limit_s)
    return result


def _perfect_predictions(task: TaskConfig, path: Path) -> Path:
    from benchmark.io import read_solution
    from benchmark.tasks import get_task

    known = get_task(task.name)
    solution = read_solution(task.solution, known)
    solution[["id", *known.targets]].to_parquet(path, index=False)
    return path


def _too_small(config: ChallengeConfig, task: TaskConfig) -> str:
    unlimited = probe(config, task, None)
    peak = unlimited.peak_mb
    figure = (
        f"needs about {math.ceil(peak)} MB of address space on this machine (measured); "
        f"set memory_limit_mb to at least {_round_up(peak * HEADROOM)}"
        if unlimited.scored and peak
        else "could not be measured"
    )
    return (
        f"memory_limit_mb = {config.memory_limit_mb} is too small: the scoring worker ran "
        f"out of memory on a valid {task.name} file, which {figure}"
    )


def _round_up(megabytes: float, step: int = 100) -> int:
    return int(math.ceil(megabytes / step) * step)
