"""Submission service: refuse (token, task, phase, size, duplicate, quota), reserve a row,
score in an isolated child process with time and memory limits, store the outcome."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, update

from leaderboard.config import ChallengeConfig, PhaseConfig
from leaderboard.errors import LeaderboardError
from leaderboard.models import Score, Submission, SubmissionFile, SubsetResult, Team
from leaderboard.store import (
    UNFINISHED,
    QuotaState,
    challenge_row,
    check_note,
    previous_with_same_file,
    quota_state,
    read_session,
    safe_file_name,
    team_for_token,
    utc_now,
    write_session,
)
from leaderboard.worker import (
    WORKER_ENV,
    address_space_mb,
    mentions_out_of_memory,
    near_limit,
    out_of_memory_message,
)

SCORE_DIR_PREFIX = "misme-score-"
SWEEP_GRACE_S = 15.0  # beyond the time limit: interpreter start-up and the store write
WATCH_S = 0.25  # how often the worker's address space is looked at
INTERRUPTED = f"{UNFINISHED}: scoring was interrupted; not counted against the quota"
ABANDONED = (
    f"{UNFINISHED}: the scoring process ended without reporting back (killed?); "
    "not counted against the quota"
)

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
    task_config = config.task(task)
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
        content,
    )
    request = _request(config, task_config.solution, task, phase_config, prediction_path)
    try:
        result, arrays = run_isolated(request, config.time_limit_s)
    except BaseException as error:  # Ctrl-C, SIGTERM, a Streamlit rerun, a full disk
        message = (
            INTERRUPTED
            if not isinstance(error, Exception)
            else f"{UNFINISHED}: scoring could not run ({type(error).__name__}); not counted against the quota"
        )
        _record(config, submission_id, {"status": "failed", "message": message}, {}, clock())
        raise
    _record(config, submission_id, result, arrays, clock())
    if result["status"] == "scored" and refresh:
        refresh_intervals(config, task, phase_config.name, clock())
    return _outcome(config, submission_id, phase_config, clock())


def refresh_intervals(config: ChallengeConfig, task: str, phase: str, now: datetime) -> None:
    """Compute and store the board's rank intervals now (once per new score), for the public
    and the private ids, so that page views only read them."""
    from leaderboard.ranking import build_board

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
    content: bytes | None = None,
) -> int:
    """Quota check and insert of a pending row (and the file, kept for rescoring), in one
    write transaction."""
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
        if content is not None:
            session.add(
                SubmissionFile(
                    submission_id=submission.id, size_bytes=len(content), content=content
                )
            )
        return submission.id


def _request(
    config: ChallengeConfig, solution: Path, task: str, phase: PhaseConfig, prediction_path: Path
) -> dict[str, Any]:
    from leaderboard.ranking import primary_metric

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
    from leaderboard.worker import scorer_of

    request = _request(config, config.task(task).solution, task, config.phase(phase), Path("."))
    return scorer_of(request)


def run_isolated(
    request: dict[str, Any], time_limit_s: float, warm: bool = True
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Score one request in a process of its own; returns (result, losses by subset).

    The process is a child forked from this process's warm zygote (:mod:`leaderboard.warm`:
    the libraries already loaded, the child's own limits applied), or, with ``warm=False``,
    warm workers off, or no zygote to be had, a fresh ``python -m leaderboard.worker``.
    Either way it runs :func:`leaderboard.worker.main` on the same request. The worker's
    folder is named after this process (``misme-score-<pid>-...``) so that a sweep can
    remove it should this process and its worker both be killed."""
    env = _child_env()
    zygote = _ready_zygote(env) if warm else None  # before the folder: a kill meanwhile leaves none
    with tempfile.TemporaryDirectory(
        prefix=f"{SCORE_DIR_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True
    ) as out_dir:
        run = _run_warm(zygote, env, request, Path(out_dir), time_limit_s) if zygote else None
        if run is None:
            request = {**request, "out_dir": out_dir, "parent_pid": os.getpid()}
            request_path = Path(out_dir) / "request.json"
            request_path.write_text(json.dumps(request), encoding="utf-8")
            command = [sys.executable, "-m", "leaderboard.worker", str(request_path)]
            run = supervise(command, time_limit_s)
        else:
            request = {**request, "out_dir": out_dir}
        if run.timed_out:
            return _timed_out(request, time_limit_s, run.peak_mb), {}
        return _read_result(Path(out_dir), run, request)


def _ready_zygote(env: dict[str, str]):
    """This process's warm zygote, loaded; None when there is none to be had."""
    from leaderboard import warm

    zygote = warm.shared(env)
    return zygote if zygote is not None and zygote.ready() else None


def _run_warm(
    zygote, env: dict[str, str], request: dict[str, Any], out_dir: Path, time_limit_s: float
) -> WorkerRun | None:
    """The request scored by a child of the warm zygote; None when it could not start one."""
    from leaderboard.zygote import STDERR_NAME

    # The child's parent is the zygote: that is whose death it follows.
    request = {**request, "out_dir": str(out_dir), "parent_pid": zygote.pid}
    request_path = out_dir / "request.json"
    request_path.write_text(json.dumps(request), encoding="utf-8")
    done = zygote.run(request_path, env, time_limit_s)
    if done is None:
        return None
    try:  # read, never shown (labels); gone when the child abandoned its folder
        stderr = (out_dir / STDERR_NAME).read_bytes()
    except OSError:
        stderr = b""
    return WorkerRun(done.returncode, stderr, done.peak_mb, done.timed_out)


@dataclass(frozen=True)
class WorkerRun:
    returncode: int | None
    stderr: bytes
    peak_mb: float | None  # the worker's VmPeak when last seen alive
    timed_out: bool


def supervise(command: list[str], time_limit_s: float) -> WorkerRun:
    """Run the worker to its end or the time limit, watching its peak address space (a
    worker that dies at its memory limit, by SIGSEGV say, cannot report it itself)."""
    deadline = time.monotonic() + time_limit_s
    peak = None
    with subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_child_env()
    ) as process:
        try:
            while True:
                try:
                    _, stderr = process.communicate(
                        timeout=max(0.0, min(WATCH_S, deadline - time.monotonic()))
                    )
                    return WorkerRun(process.returncode, stderr, peak, False)
                except subprocess.TimeoutExpired:
                    peak = address_space_mb("VmPeak", process.pid) or peak
                    if time.monotonic() >= deadline:
                        process.kill()
                        return WorkerRun(None, process.communicate()[1], peak, True)
        except BaseException:  # interrupted: the worker must not outlive this call
            process.kill()
            raise


def _timed_out(
    request: dict[str, Any], time_limit_s: float, peak_mb: float | None
) -> dict[str, Any]:
    """A worker stuck at its address-space limit ran out of memory: some native code (e.g.
    an Arrow hash table that could not grow) spins instead of failing."""
    if near_limit(peak_mb, request.get("memory_limit_mb")):
        return {"status": "failed", "message": out_of_memory_message(request)}
    return {"status": "timed-out", "message": f"scoring took longer than {time_limit_s:g} s"}


def _child_env() -> dict[str, str]:
    env = {**os.environ, **WORKER_ENV}
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def _read_result(
    out_dir: Path, run: WorkerRun, request: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    result_path = out_dir / "result.json"
    if not result_path.exists():
        return {"status": "failed", "message": _no_result_message(run, request)}, {}
    result = json.loads(result_path.read_text(encoding="utf-8"))
    arrays = {
        path.stem: np.load(path)
        for subset in result.get("subsets", {})
        for path in (out_dir / f"losses-{subset}.npy", out_dir / f"replicates-{subset}.npy")
        if path.exists()
    }
    return result, arrays


def _no_result_message(run: WorkerRun, request: dict[str, Any]) -> str:
    """Why the worker ended without a result; its stderr is read, never shown (labels)."""
    if near_limit(run.peak_mb, request.get("memory_limit_mb")) or mentions_out_of_memory(
        run.stderr.decode("utf-8", "replace")
    ):
        return out_of_memory_message(request)
    code = run.returncode
    if code is None:
        return "scoring process ended without a result (its warm zygote died)"
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return f"scoring process {how} without a result"


def _record(
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
        "losses_npy": _npy_bytes(arrays[f"losses-{subset}"]),
        "details_json": json.dumps(scored["details"]),
        "replicates_npy": None if replicates is None else _npy_bytes(replicates),
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


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array, dtype=np.float64), allow_pickle=False)
    return buffer.getvalue()


def load_losses(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def select_submission(
    config: ChallengeConfig, token: str, submission_id: int, unselect: bool = False
) -> Submission:
    """Mark one scored submission as one of the team's final choices for its task and phase
    (at most the config's ``final_submissions``; with 1 it replaces the earlier choice), or
    take the mark off with ``unselect``."""
    with write_session(config) as session:
        team = team_for_token(session, config, token)
        chosen = session.get(Submission, submission_id)
        if chosen is None or chosen.team_id != team.id:
            raise LeaderboardError(f"submission {submission_id} is not one of your team's")
        if unselect or chosen.selected:
            chosen.selected = chosen.selected and not unselect
            return chosen
        if chosen.status != "scored":
            raise LeaderboardError(
                f"submission {submission_id} is {chosen.status}; "
                "only scored submissions can be selected"
            )
        others = list(
            session.scalars(
                select(Submission)
                .where(
                    Submission.team_id == team.id,
                    Submission.task == chosen.task,
                    Submission.phase == chosen.phase,
                    Submission.selected.is_(True),
                )
                .order_by(Submission.id)
            )
        )
        limit = config.final_submissions
        if limit == 1:
            for other in others:
                other.selected = False
        elif len(others) >= limit:
            raise LeaderboardError(
                f"your team has already selected {limit} submissions for {chosen.task} / "
                f"{chosen.phase} ({', '.join(str(o.id) for o in others)}); take one off first "
                "with `misme-leaderboard select ID --unselect`"
            )
        chosen.selected = True
        return chosen


def sweep_unfinished(config: ChallengeConfig, now: datetime | None = None) -> int:
    """End every pending submission older than the scoring time limit (plus start-up grace)
    as failed, not charged, so that the same file may be submitted again; remove the score
    folders of dead processes. Returns the number of rows ended."""
    now = now or utc_now()
    cutoff = now - timedelta(seconds=config.time_limit_s + SWEEP_GRACE_S)
    remove_orphan_score_folders()
    with read_session(config) as session:
        stale = _stale_pending(session, config, cutoff)
        if not session.scalars(stale.limit(1)).first():  # the usual case: no write lock taken
            return 0
    with write_session(config) as session:
        ids = list(session.scalars(_stale_pending(session, config, cutoff)))
        session.execute(
            update(Submission)
            .where(Submission.id.in_(ids), Submission.status == "pending")
            .values(status="failed", message=ABANDONED, finished_at=now)
        )
    return len(ids)


def _stale_pending(session, config: ChallengeConfig, cutoff: datetime):
    challenge = challenge_row(session, config)
    return (
        select(Submission.id)
        .join(Team, Team.id == Submission.team_id)
        .where(
            Team.challenge_id == challenge.id,
            Submission.status == "pending",
            Submission.created_at < cutoff,
        )
    )


def remove_orphan_score_folders() -> None:
    """Remove ``misme-score-<pid>-*`` folders whose process is gone (both it and its worker
    were killed; the worker removes the folder itself when only its parent dies)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SCORE_DIR_PREFIX}*-*"):
        owner = folder.name.removeprefix(SCORE_DIR_PREFIX).split("-", 1)[0]
        if owner.isdigit() and not _alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
