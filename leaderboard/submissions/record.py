"""A scoring outcome as stored: the submission's status, one Score per metric and subset,
one SubsetResult (per-id losses, bootstrap replicates, details) per subset."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.scoring.result import ScoringResult, SubsetScores
from leaderboard.store.arrays import npy_bytes
from leaderboard.store.models import Score, Submission, SubmissionFile, SubsetResult
from leaderboard.store.sessions import write_session


def record_outcome(
    config: ChallengeConfig,
    submission_id: int,
    result: ScoringResult,
    arrays: dict[str, np.ndarray],
    now: datetime,
    content: bytes | None = None,
) -> None:
    """Store the outcome, unless a sweep has already ended the row (its verdict stands).
    ``arrays``: the worker's ``losses-<subset>`` and ``replicates-<subset>`` arrays;
    ``content``: the submitted file, kept (for `rescore`) only when it was scored: an invalid,
    failed or timed-out file keeps its sha256 and report, not its bytes."""
    with write_session(config) as session:
        submission = session.get(Submission, submission_id)
        if submission.status != "pending":
            return
        submission.status = result.status
        submission.message = result.message
        submission.finished_at = now
        if result.scored:
            add_subset_rows(session, submission_id, result, arrays)
            if content is not None:
                session.add(
                    SubmissionFile(
                        submission_id=submission_id, size_bytes=len(content), content=content
                    )
                )


def add_subset_rows(
    session: Session, submission_id: int, result: ScoringResult, arrays: dict[str, np.ndarray]
) -> None:
    """A scored result's rows: per subset, one Score per metric and one SubsetResult."""
    for subset, scored in result.subsets.items():
        session.add_all(score_rows(submission_id, subset, scored, result))
        session.add(
            SubsetResult(
                submission_id=submission_id,
                subset=subset,
                **subset_result_fields(scored, subset, arrays),
            )
        )


def subset_result_fields(
    scored: SubsetScores, subset: str, arrays: dict[str, np.ndarray]
) -> dict[str, Any]:
    """The SubsetResult columns of one subset of a worker result."""
    replicates = arrays.get(f"replicates-{subset}")
    return {
        "n_ids": scored.n_ids,
        "ids_sha256": scored.ids_sha256,
        "losses_npy": npy_bytes(arrays[f"losses-{subset}"]),
        "details_json": json.dumps(scored.details),
        "replicates_npy": None if replicates is None else npy_bytes(replicates),
        "bootstrap_json": json.dumps(scored.bootstrap or {}),
    }


def score_rows(
    submission_id: int, subset: str, scored: SubsetScores, result: ScoringResult
) -> list[Score]:
    """One Score per metric, each carrying the scorer and the solution file's sha256."""
    scorer = result.scorer
    return [
        Score(
            submission_id=submission_id,
            subset=subset,
            metric=name,
            value=value,
            scorer_version=scorer.version if scorer else None,
            scorer_hash=scorer.hash if scorer else None,
            solution_sha256=result.solution_sha256,
        )
        for name, value in sorted(scored.metrics.items())
    ]
