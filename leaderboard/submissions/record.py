"""A scoring outcome as stored: the submission's status, one Score per metric and subset,
one SubsetResult (per-id losses, bootstrap replicates, details) per subset."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.store.arrays import npy_bytes
from leaderboard.store.models import Score, Submission, SubsetResult
from leaderboard.store.sessions import write_session


def record_outcome(
    config: ChallengeConfig,
    submission_id: int,
    result: dict[str, Any],
    arrays: dict[str, np.ndarray],
    now: datetime,
) -> None:
    """Store the outcome, unless a sweep has already ended the row (its verdict stands).
    ``arrays``: the worker's ``losses-<subset>`` and ``replicates-<subset>`` arrays."""
    with write_session(config) as session:
        submission = session.get(Submission, submission_id)
        if submission.status != "pending":
            return
        submission.status = result["status"]
        submission.message = result["message"]
        submission.finished_at = now
        if result["status"] != "scored":
            return
        for subset, scored in result["subsets"].items():
            session.add_all(score_rows(submission_id, subset, scored, result))
            session.add(
                SubsetResult(
                    submission_id=submission_id,
                    subset=subset,
                    **subset_result_fields(scored, subset, arrays),
                )
            )


def subset_result_fields(
    scored: dict[str, Any], subset: str, arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The SubsetResult columns of one subset of a worker result."""
    replicates = arrays.get(f"replicates-{subset}")
    return {
        "n_ids": scored["n_ids"],
        "ids_sha256": scored["ids_sha256"],
        "losses_npy": npy_bytes(arrays[f"losses-{subset}"]),
        "details_json": json.dumps(scored["details"]),
        "replicates_npy": None if replicates is None else npy_bytes(replicates),
        "bootstrap_json": json.dumps(scored.get("bootstrap") or {}),
    }


def score_rows(
    submission_id: int, subset: str, scored: dict[str, Any], result: dict[str, Any]
) -> list[Score]:
    """One Score per metric, each carrying the scorer and the solution file's sha256."""
    scorer = result.get("scorer") or {}
    return [
        Score(
            submission_id=submission_id,
            subset=subset,
            metric=name,
            value=value,
            scorer_version=scorer.get("version"),
            scorer_hash=scorer.get("hash"),
            solution_sha256=result.get("solution_sha256"),
        )
        for name, value in sorted(scored["metrics"].items())
    ]
