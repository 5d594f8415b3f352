"""What a submission is scored with: the request the scoring worker gets, and the scorer
(toolkit version and hash of the scoring code and task definition) it names.

A request crosses the process boundary as JSON (:meth:`ScoringRequest.to_json`, written
to the worker's folder; :meth:`ScoringRequest.from_json` in the worker)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

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
            "leaderboard.scoring.result",
            "leaderboard.scoring.worker",
        )
    )
)


@dataclass(frozen=True)
class Scorer:
    """Toolkit version and sha256 of the scoring code and the task definition."""

    version: str
    hash: str


@dataclass(frozen=True)
class ScoringRequest:
    """One prediction file to score, and how (``None`` primary metric: the task's own)."""

    predictions: str
    solution: str
    task: str
    folds: tuple[int, ...] | None
    public_fraction: float
    seed: int
    max_bytes: int
    memory_limit_mb: int | None  # None: no memory limit (measuring)
    time_limit_s: float
    primary_metric: str | None = None
    higher_is_better: bool | None = None
    bootstrap_resamples: int = 0
    bootstrap_seed: int = 0
    out_dir: str | None = None  # the worker's folder, set by the sandbox
    parent_pid: int | None = None  # the process whose death the worker follows

    @classmethod
    def for_submission(
        cls,
        config: ChallengeConfig,
        task: str,
        phase: PhaseConfig,
        predictions: Path,
    ) -> ScoringRequest:
        """The request a file submitted for ``task`` in ``phase`` is scored with."""
        from leaderboard.challenge.config import primary_metric

        metric, higher = primary_metric(config, task)
        return cls(
            predictions=str(predictions.resolve()),
            solution=str(config.task(task).solution),
            task=task,
            folds=tuple(phase.folds) if phase.folds is not None else None,
            public_fraction=phase.public_fraction,
            seed=phase.seed,
            max_bytes=config.max_file_bytes,
            memory_limit_mb=config.memory_limit_mb,
            time_limit_s=config.time_limit_s,
            primary_metric=metric,
            higher_is_better=higher,
            bootstrap_resamples=config.bootstrap_resamples,
            bootstrap_seed=config.bootstrap_seed,
        )

    def in_folder(self, out_dir: str | Path, parent_pid: int) -> ScoringRequest:
        return replace(self, out_dir=str(out_dir), parent_pid=parent_pid)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ScoringRequest:
        data = json.loads(text)
        if data.get("folds") is not None:
            data["folds"] = tuple(data["folds"])
        return cls(**data)

    def scorer(self) -> Scorer:
        """The scorer this request is scored with (SCORER_MODULES as this process would
        load them)."""
        from benchmark.tasks import get_task
        from benchmark.version import package_version, scorer_hash, task_definition

        definition = task_definition(
            get_task(self.task),
            primary_metric=self.primary_metric,
            higher_is_better=self.higher_is_better,
            folds=list(self.folds) if self.folds is not None else None,
            public_fraction=self.public_fraction,
            seed=self.seed,
            bootstrap=[self.bootstrap_resamples, self.bootstrap_seed],
        )
        return Scorer(package_version(), scorer_hash(definition, SCORER_MODULES))


def current_scorer(config: ChallengeConfig, task: str, phase: str) -> Scorer:
    """The scorer a submission of ``task`` in ``phase`` would be scored with now."""
    return ScoringRequest.for_submission(config, task, config.phase(phase), Path(".")).scorer()
