"""The sandbox a submission is scored in: a process of its own, with time and memory
limits, forked from the warm zygote or started as a fresh interpreter; its result read
back. Also the removal of score folders whose processes were all killed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leaderboard.scoring import warm
from leaderboard.scoring.limits import (
    address_space_mb,
    child_env,
    mentions_out_of_memory,
    near_limit,
    out_of_memory_message,
)
from leaderboard.scoring.zygote import STDERR_NAME

SCORE_DIR_PREFIX = "misme-score-"
WATCH_S = 0.25  # how often the worker's address space is looked at


def run_isolated(
    request: dict[str, Any], time_limit_s: float, warm: bool = True
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
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
            request = {**request, "out_dir": out_dir, "parent_pid": os.getpid()}
            request_path = Path(out_dir) / "request.json"
            request_path.write_text(json.dumps(request), encoding="utf-8")
            command = [sys.executable, "-m", "leaderboard.scoring.worker", str(request_path)]
            run = supervise(command, time_limit_s)
        else:
            request = {**request, "out_dir": out_dir}
        if run.timed_out:
            return _timed_out(request, time_limit_s, run.peak_mb), {}
        return _read_result(Path(out_dir), run, request)


def _ready_zygote(env: dict[str, str]):
    """This process's warm zygote, loaded; None when there is none to be had."""
    zygote = warm.shared(env)
    return zygote if zygote is not None and zygote.ready() else None


def _run_warm(
    zygote, env: dict[str, str], request: dict[str, Any], out_dir: Path, time_limit_s: float
) -> WorkerRun | None:
    """The request scored by a child of the warm zygote; None when it could not start one."""
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
    request: dict[str, Any], time_limit_s: float, peak_mb: float | None
) -> dict[str, Any]:
    """A worker stuck at its address-space limit ran out of memory: some native code (e.g.
    an Arrow hash table that could not grow) spins instead of failing."""
    if near_limit(peak_mb, request.get("memory_limit_mb")):
        return {"status": "failed", "message": out_of_memory_message(request)}
    return {"status": "timed-out", "message": f"scoring took longer than {time_limit_s:g} s"}


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
