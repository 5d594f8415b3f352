"""Submission service: refuse (token, task, phase, size, duplicate, quota), reserve a row,
score in an isolated child process with time and memory limits, store the outcome."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from leaderboard.config import ChallengeConfig, PhaseConfig
from leaderboard.errors import LeaderboardError
from leaderboard.models import Score, Submission, SubsetResult, Team
from leaderboard.store import (
    QuotaState,
    check_note,
    previous_with_same_file,
    quota_state,
    read_session,
    safe_file_name,
    team_for_token,
    utc_now,
    write_session,
)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Outcome:
    submission_id: int
    status: str
    message: str
    public_metrics: dict[str, float] = field(default_factory=dict)
    quota: QuotaState | None = None


def submit(config: ChallengeConfig, prediction_path: str | Path, task: str, token: str,
           phase: str | None = None, note: str = "", clock: Clock = utc_now,
           file_name: str | None = None) -> Outcome:
    """Score one prediction file for a team. Refusals raise LeaderboardError and store nothing;
    a file that was accepted for scoring always ends as one stored submission row."""
    prediction_path = Path(prediction_path)
    now = clock()
    task_config = config.task(task)
    phase_config = _phase_for(config, phase, now)
    file_sha256 = _checked_file_hash(config, prediction_path)
    submission_id = _reserve(config, token, task, phase_config, file_sha256,
                             safe_file_name(file_name or prediction_path.name), check_note(note), now)
    request = _request(config, task_config.solution, task, phase_config, prediction_path)
    result, losses = run_isolated(request, config.time_limit_s)
    _record(config, submission_id, result, losses, clock())
    with read_session(config) as session:
        submission = session.get(Submission, submission_id)
        quota = quota_state(session, submission.team_id, task, phase_config.name,
                            phase_config.quota, clock())
    public = result.get("subsets", {}).get("public", {}).get("metrics", {})
    return Outcome(submission_id, result["status"], result["message"], public, quota)


def _phase_for(config: ChallengeConfig, name: str | None, now: datetime) -> PhaseConfig:
    if name is None:
        return config.open_phase(now)
    phase = config.phase(name)
    if now < phase.start:
        raise LeaderboardError(f"phase {phase.name!r} opens at {phase.start.isoformat()}")
    if phase.has_ended(now):
        raise LeaderboardError(f"phase {phase.name!r} closed at {phase.end.isoformat()}")
    return phase


def _checked_file_hash(config: ChallengeConfig, path: Path) -> str:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise LeaderboardError(f"prediction file not found: {path}") from None
    if not path.is_file():
        raise LeaderboardError(f"not a file: {path}")
    if size > config.max_file_bytes:
        raise LeaderboardError(f"prediction file is {size} bytes; the limit is "
                               f"{config.max_file_bytes} bytes")
    if size == 0:
        raise LeaderboardError("prediction file is empty")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(io.DEFAULT_BUFFER_SIZE * 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _reserve(config: ChallengeConfig, token: str, task: str, phase: PhaseConfig,
             file_sha256: str, file_name: str, note: str, now: datetime) -> int:
    """Quota check and insert of a pending row, in one write transaction."""
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
        duplicate = previous_with_same_file(session, team.id, task, phase.name, file_sha256)
        if duplicate is not None:
            raise LeaderboardError(
                f"this file was already submitted as submission {duplicate.id} "
                f"({duplicate.status}) for {task} in phase {phase.name}")
        refusal = quota_state(session, team.id, task, phase.name, phase.quota, now).refusal()
        if refusal:
            raise LeaderboardError(refusal)
        submission = Submission(team_id=team.id, task=task, phase=phase.name, status="pending",
                                message="", file_sha256=file_sha256, file_name=file_name[:255],
                                note=note, selected=False, created_at=now)
        session.add(submission)
        session.flush()
        return submission.id


def _request(config: ChallengeConfig, solution: Path, task: str, phase: PhaseConfig,
             prediction_path: Path) -> dict[str, Any]:
    return {
        "predictions": str(prediction_path.resolve()), "solution": str(solution), "task": task,
        "folds": list(phase.folds) if phase.folds is not None else None,
        "public_fraction": phase.public_fraction, "seed": phase.seed,
        "max_bytes": config.max_file_bytes, "memory_limit_mb": config.memory_limit_mb,
    }


def run_isolated(request: dict[str, Any], time_limit_s: float
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Run leaderboard.worker in a fresh interpreter; returns (result, losses by subset)."""
    with tempfile.TemporaryDirectory(prefix="misme-score-") as out_dir:
        request = {**request, "out_dir": out_dir}
        request_path = Path(out_dir) / "request.json"
        request_path.write_text(json.dumps(request), encoding="utf-8")
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "leaderboard.worker", str(request_path)],
                capture_output=True, timeout=time_limit_s, env=_child_env(), check=False)
        except subprocess.TimeoutExpired:
            return {"status": "timed-out",
                    "message": f"scoring took longer than {time_limit_s:g} s"}, {}
        return _read_result(Path(out_dir), completed)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _read_result(out_dir: Path, completed: subprocess.CompletedProcess
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    result_path = out_dir / "result.json"
    if not result_path.exists():
        return {"status": "failed",
                "message": f"scoring process ended without a result (exit code "
                           f"{completed.returncode}; memory limit hit?)"}, {}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    losses = {subset: np.load(out_dir / f"losses-{subset}.npy")
              for subset in result.get("subsets", {})}
    return result, losses


def _record(config: ChallengeConfig, submission_id: int, result: dict[str, Any],
            losses: dict[str, np.ndarray], now: datetime) -> None:
    with write_session(config) as session:
        submission = session.get(Submission, submission_id)
        submission.status = result["status"]
        submission.message = result["message"]
        submission.finished_at = now
        if result["status"] != "scored":
            return
        for subset, scored in result["subsets"].items():
            session.add_all(_score_rows(submission_id, subset, scored))
            session.add(SubsetResult(
                submission_id=submission_id, subset=subset, n_ids=scored["n_ids"],
                ids_sha256=scored["ids_sha256"], losses_npy=_npy_bytes(losses[subset]),
                details_json=json.dumps(scored["details"])))


def _score_rows(submission_id: int, subset: str, scored: dict[str, Any]) -> list[Score]:
    metrics = scored["metrics"]
    return [Score(submission_id=submission_id, subset=subset, metric=name, value=value)
            for name, value in sorted(metrics.items())]


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def load_losses(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def select_submission(config: ChallengeConfig, token: str, submission_id: int) -> Submission:
    """Mark one scored submission as the team's choice for its task and phase."""
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        chosen = session.get(Submission, submission_id)
        if chosen is None or chosen.team_id != team.id:
            raise LeaderboardError(f"submission {submission_id} is not one of your team's")
        if chosen.status != "scored":
            raise LeaderboardError(f"submission {submission_id} is {chosen.status}; "
                                   "only scored submissions can be selected")
        for other in session.scalars(select(Submission).where(
                Submission.team_id == team.id, Submission.task == chosen.task,
                Submission.phase == chosen.phase, Submission.selected.is_(True))):
            other.selected = False
        chosen.selected = True
        return chosen
