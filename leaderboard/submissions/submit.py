"""Submitting: refuse (token, task, phase, size, duplicate, quota), reserve a row, score in
the sandbox (:mod:`leaderboard.scoring.sandbox`), store the outcome, refresh the board's
intervals."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig, PhaseConfig
from leaderboard.errors import LeaderboardError
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.result import ScoringResult
from leaderboard.scoring.sandbox import run_isolated
from leaderboard.store.models import Submission, Team
from leaderboard.store.quotas import (
    UNFINISHED,
    QuotaState,
    previous_with_same_file,
    quota_state,
)
from leaderboard.store.sessions import read_session, utc_now, write_session
from leaderboard.store.teams import check_note, safe_file_name, team_for_token
from leaderboard.submissions.record import record_outcome
from leaderboard.submissions.sweep import sweep_unfinished

INTERRUPTED = f"{UNFINISHED}: scoring was interrupted; not counted against the quota"
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Outcome:
    submission_id: int
    status: str
    message: str
    public_metrics: dict[str, float] = field(default_factory=dict)
    quota: QuotaState | None = None


def submit(
    config: ChallengeConfig,
    prediction_path: str | Path,
    task: str,
    token: str,
    phase: str | None = None,
    note: str = "",
    clock: Clock = utc_now,
    file_name: str | None = None,
    refresh: bool = True,
) -> Outcome:
    """Score one prediction file for a team. Refusals raise LeaderboardError and store nothing;
    a file that was accepted for scoring always ends as one stored submission row (failed,
    not charged, when scoring is interrupted; see :func:`sweep_unfinished` for a killed one).

    ``refresh=False`` leaves the board's stored rank intervals as they were, for a batch of
    submissions followed by one :func:`refresh_intervals` per task and phase."""
    prediction_path = Path(prediction_path)
    now = clock()
    config.task(task)  # refuses a task the challenge does not have
    phase_config = _phase_for(config, phase, now)
    file_sha256, content = _checked_file(config, prediction_path)
    sweep_unfinished(config, now)
    submission_id = _reserve(
        config,
        token,
        task,
        phase_config,
        file_sha256,
        safe_file_name(file_name or prediction_path.name),
        check_note(note),
        now,
    )
    request = ScoringRequest.for_submission(config, task, phase_config, prediction_path)
    try:
        result, arrays = run_isolated(request, config.time_limit_s)
    except BaseException as error:  # Ctrl-C, SIGTERM, a Streamlit rerun, a full disk
        message = (
            INTERRUPTED
            if not isinstance(error, Exception)
            else f"{UNFINISHED}: scoring could not run ({type(error).__name__}); not counted against the quota"
        )
        record_outcome(config, submission_id, ScoringResult.failed(message), {}, clock())
        raise
    record_outcome(config, submission_id, result, arrays, clock(), content)
    if result.scored and refresh:
        refresh_intervals(config, task, phase_config.name, clock())
    return _outcome(config, submission_id, phase_config, clock())


def refresh_intervals(config: ChallengeConfig, task: str, phase: str, now: datetime) -> None:
    """Compute and store the board's rank intervals now (once per new score), for the public
    and the private ids, so that page views only read them."""
    for reveal in (False, True):
        build_board(config, task, phase, reveal_private=reveal, now=now)


def _outcome(
    config: ChallengeConfig, submission_id: int, phase: PhaseConfig, now: datetime
) -> Outcome:
    """The submission as stored (a sweep may have ended it first) and the team's quota."""
    with read_session(config) as session:
        submission = session.get(Submission, submission_id)
        quota = quota_state(
            session, submission.team_id, submission.task, phase.name, phase.quota, now
        )
        public = {
            score.metric: score.value for score in submission.scores if score.subset == "public"
        }
    return Outcome(submission_id, submission.status, submission.message, public, quota)


def _phase_for(config: ChallengeConfig, name: str | None, now: datetime) -> PhaseConfig:
    if name is None:
        return config.open_phase(now)
    phase = config.phase(name)
    if now < phase.start:
        raise LeaderboardError(f"phase {phase.name!r} opens at {phase.start.isoformat()}")
    if phase.has_ended(now):
        raise LeaderboardError(f"phase {phase.name!r} closed at {phase.end.isoformat()}")
    return phase


def _checked_file(config: ChallengeConfig, path: Path) -> tuple[str, bytes]:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LeaderboardError(f"prediction file not found: {path}") from None
    if not path.is_file():
        raise LeaderboardError(f"not a file: {path}")
    if size > config.max_file_bytes:
        raise LeaderboardError(
            f"prediction file is {size} bytes; the limit is {config.max_file_bytes} bytes"
        )
    if size == 0:
        raise LeaderboardError("prediction file is empty")
    with path.open("rb") as handle:
        content = handle.read(config.max_file_bytes + 1)
    if len(content) > config.max_file_bytes:  # it grew since stat()
        raise LeaderboardError(
            f"prediction file is over the limit of {config.max_file_bytes} bytes"
        )
    return hashlib.sha256(content).hexdigest(), content


def _reserve(
    config: ChallengeConfig,
    token: str,
    task: str,
    phase: PhaseConfig,
    file_sha256: str,
    file_name: str,
    note: str,
    now: datetime,
) -> int:
    """Quota check and insert of a pending row, in one write transaction (the file is kept
    only once it is scored: :func:`record_outcome`)."""
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
        duplicate = previous_with_same_file(session, team.id, task, phase.name, file_sha256)
        if duplicate is not None:
            raise LeaderboardError(
                f"this file was already submitted as submission {duplicate.id} "
                f"({duplicate.status}) for {task} in phase {phase.name}"
            )
        refusal = quota_state(session, team.id, task, phase.name, phase.quota, now).refusal()
        if refusal:
            raise LeaderboardError(refusal)
        submission = Submission(
            team_id=team.id,
            task=task,
            phase=phase.name,
            status="pending",
            message="",
            file_sha256=file_sha256,
            file_name=file_name[:255],
            note=note,
            selected=False,
            created_at=now,
        )
        session.add(submission)
        session.flush()
        return submission.id
