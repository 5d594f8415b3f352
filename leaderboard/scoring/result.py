"""What the scoring worker reports: a status and message, and for a scored file the scores
of each subset of ids (public, private). It crosses the process boundary as the worker's
``result.json`` (:meth:`ScoringResult.to_json` / :meth:`ScoringResult.from_json`); the
per-id losses and bootstrap replicates travel beside it as ``.npy`` files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from leaderboard.scoring.request import Scorer

SCORED = "scored"


@dataclass(frozen=True)
class SubsetScores:
    """The scores of one subset of ids."""

    metrics: dict[str, float]  # pooled over the subset's ids, finite values only
    primary: float
    details: dict[str, Any]  # per fold, per group, confusion matrix or scatter
    bootstrap: dict[str, Any]  # the primary metric's interval and its settings
    ids_sha256: str
    n_ids: int


@dataclass(frozen=True)
class ScoringResult:
    """How scoring ended; ``subsets`` and ``scorer`` only when ``status`` is "scored".
    ``libraries_mb`` / ``peak_mb``: the worker's address space after its imports and at
    its most (None when the worker did not report them)."""

    status: str  # scored, invalid, failed, timed-out
    message: str
    subsets: dict[str, SubsetScores] = field(default_factory=dict)
    scorer: Scorer | None = None
    solution_sha256: str | None = None
    libraries_mb: float | None = None
    peak_mb: float | None = None

    @property
    def scored(self) -> bool:
        return self.status == SCORED

    @classmethod
    def failed(cls, message: str) -> ScoringResult:
        return cls("failed", message)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ScoringResult:
        data = json.loads(text)
        subsets = {name: SubsetScores(**scores) for name, scores in data.pop("subsets").items()}
        scorer = data.pop("scorer")
        return cls(**data, subsets=subsets, scorer=Scorer(**scorer) if scorer else None)
