"""The sandbox a submission is scored in: a process of its own, with time and memory
limits, forked from the warm zygote or started as a fresh interpreter; its result read
back. Also the removal of score folders whose processes were all killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leaderboard.scoring import warm
from leaderboard.scoring.limits import (
    address_space_mb,
    child_env,
    mentions_out_of_memory,
    near_limit,
    out_of_memory_message,
)
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.result import ScoringResult
from leaderboard.scoring.zygote import STDERR_NAME

SCORE_DIR_PREFIX = "misme-score-"
WATCH_S = 0.25  # how often the worker's address space is looked at


def run_isolated(
    request: ScoringRequest, time_limit_s: float, warm: bool = True
) -> tuple[ScoringResult, dict[str, np.ndarray]]:
    """Score one request in a process of its own; returns (result, losses by subset).

    The process is a child forked from this process's warm zygote (:mod:`leaderboard.scoring.warm`:
    the libraries already loaded, the child's own limits applied), or, with ``warm=False``,
    warm workers off, or no zygote to be had, a fresh ``python -m leaderboard.scoring.worker``.
    Either way it runs :func:`leaderboard.scoring.worker.main` on the same request. The worker's
    folder is named after this process (``misme-score-<pid>-...``) so that a sweep can
    remove it should this process and its worker both be killed."""
    env = child_env()
    zygote = _ready_zygote(env) if warm else None  # before the folder: a kill meanwhile leaves none
    with tempfile.TemporaryDirectory(
        prefix=f"{SCORE_DIR_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True
    ) as out_dir:
        run = _run_warm(zygote, env, request, Path(out_dir), time_limit_s) if zygote else None
        if run is None:
            request_path = _write_request(request.in_folder(out_dir, os.getpid()))
            command = [sys.executable, "-m", "leaderboard.scoring.worker", str(request_path)]
            run = supervise(command, time_limit_s)
        if run.timed_out:
            return _timed_out(request.memory_limit_mb, time_limit_s, run.peak_mb), {}
        return _read_result(Path(out_dir), run, request.memory_limit_mb)


def _write_request(request: ScoringRequest) -> Path:
    path = Path(request.out_dir) / "request.json"
    path.write_text(request.to_json(), encoding="utf-8")
    return path


def _ready_zygote(env: dict[str, str]):
    """This process's warm zygote, loaded; None when there is none to be had."""
    zygote = warm.shared(env)
    return zygote if zygote is not None and zygote.ready() else None


def _run_warm(
    zygote, env: dict[str, str], request: ScoringRequest, out_dir: Path, time_limit_s: float
) -> WorkerRun | None:
    """The request scored by a child of the warm zygote; None when it could not start one."""
    # The child's parent is the zygote: that is whose death it follows.
    request_path = _write_request(request.in_folder(out_dir, zygote.pid))
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
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env()
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
    memory_limit_mb: int | None, time_limit_s: float, peak_mb: float | None
) -> ScoringResult:
    """A worker stuck at its address-space limit ran out of memory: some native code (e.g.
    an Arrow hash table that could not grow) spins instead of failing."""
    if near_limit(peak_mb, memory_limit_mb):
        return ScoringResult.failed(out_of_memory_message(memory_limit_mb))
    return ScoringResult("timed-out", f"scoring took longer than {time_limit_s:g} s")


def _read_result(
    out_dir: Path, run: WorkerRun, memory_limit_mb: int | None
) -> tuple[ScoringResult, dict[str, np.ndarray]]:
    result_path = out_dir / "result.json"
    if not result_path.exists():
        return ScoringResult.failed(_no_result_message(run, memory_limit_mb)), {}
    result = ScoringResult.from_json(result_path.read_text(encoding="utf-8"))
    arrays = {
        path.stem: np.load(path)
        for subset in result.subsets
        for path in (out_dir / f"losses-{subset}.npy", out_dir / f"replicates-{subset}.npy")
        if path.exists()
    }
    return result, arrays


def _no_result_message(run: WorkerRun, memory_limit_mb: int | None) -> str:
    """Why the worker ended without a result; its stderr is read, never shown (labels)."""
    if near_limit(run.peak_mb, memory_limit_mb) or mentions_out_of_memory(
        run.stderr.decode("utf-8", "replace")
    ):
        return out_of_memory_message(memory_limit_mb)
    code = run.returncode
    if code is None:
        return "scoring process ended without a result (its warm zygote died)"
    how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
    return f"scoring process {how} without a result"


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
