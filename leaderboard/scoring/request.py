"""What a submission is scored with: the request the scoring worker gets, and the scorer
(toolkit version and hash of the scoring code and task definition) it names."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmark.version import SCORING_MODULES

if TYPE_CHECKING:  # the worker imports this module: no pydantic there
    from leaderboard.challenge.config import ChallengeConfig, PhaseConfig

# The code a score depends on: the benchmark's scoring modules and the leaderboard's own.
SCORER_MODULES = tuple(
    dict.fromkeys(
        (
            *SCORING_MODULES,
            "benchmark.version",
            "leaderboard.challenge.splits",
            "leaderboard.scoring.limits",
            "leaderboard.scoring.request",
            "leaderboard.scoring.worker",
        )
    )
)


def scoring_request(
    config: ChallengeConfig, solution: Path, task: str, phase: PhaseConfig, prediction_path: Path
) -> dict[str, Any]:
    from leaderboard.challenge.config import primary_metric

    metric, higher = primary_metric(config, task)
    return {
        "predictions": str(prediction_path.resolve()),
        "solution": str(solution),
        "task": task,
        "folds": list(phase.folds) if phase.folds is not None else None,
        "public_fraction": phase.public_fraction,
        "seed": phase.seed,
        "max_bytes": config.max_file_bytes,
        "memory_limit_mb": config.memory_limit_mb,
        "time_limit_s": config.time_limit_s,
        "primary_metric": metric,
        "higher_is_better": higher,
        "bootstrap_resamples": config.bootstrap_resamples,
        "bootstrap_seed": config.bootstrap_seed,
    }


def current_scorer(config: ChallengeConfig, task: str, phase: str) -> dict[str, str]:
    """The scorer a submission of ``task`` in ``phase`` would be scored with now."""
    request = scoring_request(
        config, config.task(task).solution, task, config.phase(phase), Path(".")
    )
    return scorer_of(request)


def scorer_of(request: dict[str, Any]) -> dict[str, str]:
    """The scorer a request is scored with: toolkit version and sha256 of the scoring code
    (SCORER_MODULES as this process would load them) and of the task definition."""
    from benchmark.tasks import get_task
    from benchmark.version import package_version, scorer_hash, task_definition

    definition = task_definition(
        get_task(request["task"]),
        primary_metric=request.get("primary_metric"),
        higher_is_better=request.get("higher_is_better"),
        folds=request.get("folds"),
        public_fraction=request["public_fraction"],
        seed=request["seed"],
        bootstrap=[request.get("bootstrap_resamples", 0), request.get("bootstrap_seed", 0)],
    )
    return {"version": package_version(), "hash": scorer_hash(definition, SCORER_MODULES)}
