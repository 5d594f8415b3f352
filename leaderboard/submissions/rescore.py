"""`misme-leaderboard rescore`: score the stored submission files again with the current
scorer, in the isolated worker, and record every score it looked at in ``rescore_audit``
(old and new value, old and new scorer and solution hash, who, when).

A score that the current scorer reproduces (same value, same scorer hash, same solution
file) is ``unchanged`` and nothing of the submission is rewritten. Otherwise the
submission's scores and subset results are replaced by the new ones, each change being in
the audit: ``changed`` (another value), ``new-scorer`` (the same value from another scorer
or solution file), ``added`` / ``removed`` (a metric only one scorer computes). A file the
current scorer no longer accepts keeps its old scores (``failed`` in the audit).
"""

from __future__ import annotations

import getpass
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select

from benchmark.version import scorer_label
from leaderboard.challenge.config import ChallengeConfig
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.result import ScoringResult
from leaderboard.scoring.sandbox import run_isolated
from leaderboard.store.models import (
    RescoreAudit,
    Score,
    Submission,
    SubmissionFile,
    SubsetResult,
    Team,
)
from leaderboard.store.schema import challenge_row
from leaderboard.store.sessions import read_session, utc_now, write_session
from leaderboard.submissions.record import add_subset_rows
from leaderboard.submissions.submit import refresh_intervals

OUTCOMES = ("unchanged", "new-scorer", "changed", "added", "removed", "failed")


@dataclass
class Rescored:
    """What rescoring did to one submission."""

    submission_id: int
    team: str
    task: str
    phase: str
    outcome: str  # unchanged, rescored (some score changed or has a new scorer), failed, no file
    message: str = ""
    changes: list[dict] = field(default_factory=list)  # the audit rows other than unchanged
    old_scorer: str | None = None
    new_scorer: str | None = None


def who_am_i() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (a container)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def rescore(
    config: ChallengeConfig,
    task: str | None = None,
    phase: str | None = None,
    *,
    dry_run: bool = False,
    who: str | None = None,
    now: datetime | None = None,
) -> list[Rescored]:
    """Rescore every scored submission of the challenge (of ``task`` / ``phase`` if given)."""
    if task is not None:
        config.task(task)
    if phase is not None:
        config.phase(phase)
    run_id, who, now = uuid.uuid4().hex, who or who_am_i(), now or utc_now()
    done = [
        _rescore_one(config, sid, run_id, who, now, dry_run)
        for sid in _scored_ids(config, task, phase)
    ]
    if not dry_run:
        for board in sorted({(r.task, r.phase) for r in done if r.outcome == "rescored"}):
            refresh_intervals(config, *board, now)
    return done


def _scored_ids(config: ChallengeConfig, task: str | None, phase: str | None) -> list[int]:
    with read_session(config) as session:
        challenge = challenge_row(session, config)
        query = (
            select(Submission.id)
            .join(Team, Team.id == Submission.team_id)
            .where(Team.challenge_id == challenge.id, Submission.status == "scored")
            .order_by(Submission.id)
        )
        if task is not None:
            query = query.where(Submission.task == task)
        if phase is not None:
            query = query.where(Submission.phase == phase)
        return list(session.scalars(query))


def _rescore_one(
    config: ChallengeConfig, submission_id: int, run_id: str, who: str, now: datetime, dry_run: bool
) -> Rescored:
    with read_session(config) as session:
        submission = session.get(Submission, submission_id)
        team = session.get(Team, submission.team_id).name
        stored = session.get(SubmissionFile, submission_id)
        content = stored.content if stored is not None else None
        old = {(s.subset, s.metric): s for s in submission.scores}
    done = Rescored(submission_id, team, submission.task, submission.phase, "rescored")
    first = next(iter(old.values()), None)
    done.old_scorer = scorer_label(first.scorer_version, first.scorer_hash) if first else None
    if submission.phase not in {p.name for p in config.phases}:
        done.outcome, done.message = (
            "failed",
            f"phase {submission.phase!r} is no longer in the config",
        )
        return done
    if content is None:
        done.outcome, done.message = "no file", "no stored file (submitted before schema 2)"
        return done
    result, arrays = _score_again(config, submission, content)
    if not result.scored:
        done.outcome, done.message = (
            "failed",
            f"{result.status}: {result.message.splitlines()[0]}",
        )
        if not dry_run:
            _write_audit(
                config,
                [
                    _audit(
                        run_id,
                        submission_id,
                        "*",
                        "*",
                        "failed",
                        None,
                        None,
                        who,
                        now,
                        new_scorer=done.message[:110],
                    )
                ],
            )
        return done
    done.new_scorer = scorer_label(result.scorer.version, result.scorer.hash)
    rows = _compare(old, result, run_id, submission_id, who, now)
    done.changes = [r for r in rows if r.outcome != "unchanged"]
    done.outcome = "rescored" if done.changes else "unchanged"
    if not dry_run:
        _write(config, submission_id, result, arrays, rows, replace=bool(done.changes))
    return done


def _score_again(
    config: ChallengeConfig, submission: Submission, content: bytes
) -> tuple[ScoringResult, dict[str, np.ndarray]]:
    with tempfile.TemporaryDirectory(prefix="misme-rescore-") as folder:
        path = Path(folder) / (Path(submission.file_name).name or "predictions")
        path.write_bytes(content)
        request = ScoringRequest.for_submission(
            config, submission.task, config.phase(submission.phase), path
        )
        return run_isolated(request, config.time_limit_s)


def _compare(
    old: dict[tuple[str, str], Score],
    result: ScoringResult,
    run_id: str,
    submission_id: int,
    who: str,
    now: datetime,
) -> list[RescoreAudit]:
    new_scorer = _scorer_text(result.scorer.version, result.scorer.hash)
    new_solution = result.solution_sha256
    new = {
        (subset, metric): value
        for subset, scored in result.subsets.items()
        for metric, value in scored.metrics.items()
    }
    rows = []
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        old_scorer = _scorer_text(before.scorer_version, before.scorer_hash) if before else None
        old_solution = before.solution_sha256 if before else None
        if before is None:
            outcome = "added"
        elif after is None:
            outcome = "removed"
        elif before.value != after:
            outcome = "changed"
        elif old_scorer != new_scorer or old_solution != new_solution:
            outcome = "new-scorer"
        else:
            outcome = "unchanged"
        rows.append(
            _audit(
                run_id,
                submission_id,
                *key,
                outcome,
                before.value if before else None,
                after,
                who,
                now,
                old_scorer=old_scorer,
                new_scorer=new_scorer,
                old_solution=old_solution,
                new_solution=new_solution,
            )
        )
    return rows


def _scorer_text(version: str | None, hash_: str | None) -> str | None:
    return None if not hash_ else f"{version} {hash_}"


def _audit(
    run_id: str,
    submission_id: int,
    subset: str,
    metric: str,
    outcome: str,
    old_value: float | None,
    new_value: float | None,
    who: str,
    now: datetime,
    *,
    old_scorer: str | None = None,
    new_scorer: str | None = None,
    old_solution: str | None = None,
    new_solution: str | None = None,
) -> RescoreAudit:
    return RescoreAudit(
        run_id=run_id,
        submission_id=submission_id,
        subset=subset,
        metric=metric,
        outcome=outcome,
        old_value=old_value,
        new_value=new_value,
        old_scorer=old_scorer,
        new_scorer=new_scorer,
        old_solution_sha256=old_solution,
        new_solution_sha256=new_solution,
        who=who[:200],
        at=now,
    )


def _write_audit(config: ChallengeConfig, rows: list[RescoreAudit]) -> None:
    with write_session(config) as session:
        session.add_all(rows)


def _write(
    config: ChallengeConfig,
    submission_id: int,
    result: ScoringResult,
    arrays: dict[str, np.ndarray],
    audit: list[RescoreAudit],
    replace: bool,
) -> None:
    """The audit rows and, when anything differs, the new scores and subset results."""
    with write_session(config) as session:
        session.add_all(audit)
        if not replace:
            return
        session.execute(delete(Score).where(Score.submission_id == submission_id))
        session.execute(delete(SubsetResult).where(SubsetResult.submission_id == submission_id))
        add_subset_rows(session, submission_id, result, arrays)


def summary_line(done: Rescored, metric: str | None = None, shown: int = 3) -> str:
    """One line per submission for the terminal."""
    head = f"submission {done.submission_id} ({done.team}, {done.task} / {done.phase})"
    if done.outcome == "unchanged":
        return f"{head}: unchanged ({done.new_scorer})"
    if done.outcome in ("failed", "no file"):
        return f"{head}: not rescored: {done.message}; its scores are kept"
    changed = [c for c in done.changes if c.outcome == "changed"]
    first = sorted(changed, key=lambda c: (c.metric != metric, c.subset, c.metric))[:shown]
    values = "; ".join(
        f"{c.subset} {c.metric} {c.old_value:.6g} -> {c.new_value:.6g}" for c in first
    )
    more = len(changed) - len(first)
    what = (
        f"changed: {values}" + (f" (+{more} more)" if more > 0 else "")
        if changed
        else "same values, recorded with the new scorer"
    )
    return f"{head}: {what}; scorer {done.old_scorer} -> {done.new_scorer}"
