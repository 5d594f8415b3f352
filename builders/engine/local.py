"""The local backend: in this process for one worker, else a process pool.

Pool workers die with the process that started them: a parent-death signal (Linux
``prctl``) plus a watchdog thread that exits when the parent pid changes, so a
``kill -9`` of a build leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import util
from typing import Any

from tqdm import tqdm

PR_SET_PDEATHSIG = 1
WATCHDOG_PERIOD_S = 1.0
_worker_state: list[Any] = []  # this worker process's state (one slot), set by _start_worker


def progress_bar(total: int, desc: str, unit: str, progress: bool) -> tqdm:
    """The builders' progress bar: stderr, off when ``progress`` is False or MISME_NO_PROGRESS=1."""
    disable = not progress or total == 0 or os.environ.get("MISME_NO_PROGRESS") == "1"
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr)


def die_with_parent() -> None:
    """End this process when its parent dies (prctl on Linux, a watchdog thread everywhere)."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCHDOG_PERIOD_S)
        os._exit(1)

    threading.Thread(target=watch, name="misme-parent-watchdog", daemon=True).start()


class _StateFailed:
    """A worker whose state could not be made: its units re-raise the error (e.g. a UserError)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def _start_worker(state: Callable[[], Any] | None) -> None:
    die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    if state is not None:
        try:
            _worker_state.append(_open_state(state))
        except Exception as error:  # noqa: BLE001 - reported through the first unit, not a broken pool
            _worker_state.append(_StateFailed(error))


def _open_state(state: Callable[[], Any]) -> Any:
    value = state()
    if hasattr(value, "close"):
        util.Finalize(value, value.close, exitpriority=10)
    return value


def _run_chunk(fn: Callable[..., Any], chunk: list[Any], with_state: bool) -> list[Any]:
    if with_state:
        if isinstance(_worker_state[0], _StateFailed):
            raise _worker_state[0].error
        return [fn(_worker_state[0], item) for item in chunk]
    return [fn(item) for item in chunk]


def map_units(
    fn: Callable[..., Any],
    units: list[Any],
    *,
    workers: int,
    desc: str,
    unit: str,
    weights: list[int],
    state: Callable[[], Any] | None,
    on_result: Callable[[int, Any], None] | None,
    chunksize: int,
    progress: bool,
) -> list[Any]:
    results: list[Any] = [None] * len(units)
    with progress_bar(sum(weights), desc, unit, progress) as bar:
        if workers <= 1 or len(units) <= 1:
            _run_serial(fn, units, weights, state, on_result, results, bar)
        else:
            _run_pool(fn, units, workers, weights, state, on_result, chunksize, results, bar)
    return results


def _run_serial(fn, units, weights, state, on_result, results, bar) -> None:
    value = state() if state is not None else None
    try:
        for index, item in enumerate(units):
            results[index] = fn(value, item) if state is not None else fn(item)
            if on_result is not None:
                on_result(index, results[index])
            bar.update(weights[index])
    finally:
        if hasattr(value, "close"):
            value.close()


def _run_pool(fn, units, workers, weights, state, on_result, chunksize, results, bar) -> None:
    chunks = [
        list(range(start, min(start + chunksize, len(units))))
        for start in range(0, len(units), chunksize)
    ]
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)), initializer=_start_worker, initargs=(state,)
    ) as pool:
        pending = {
            pool.submit(_run_chunk, fn, [units[i] for i in chunk], state is not None): chunk
            for chunk in chunks
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    chunk = pending.pop(future)
                    for index, result in zip(chunk, future.result(), strict=True):
                        results[index] = result
                        if on_result is not None:
                            on_result(index, result)
                        bar.update(weights[index])
        except BaseException:  # a unit's error or Ctrl-C: stop at once; finished units stay done
            pool.shutdown(wait=True, cancel_futures=True)
            raise
