"""The Ray backend: the same units, run as Ray tasks (or by Ray actors when they carry a state).

- Without an address, a local cluster is started, sized to the workers (``num_cpus`` =
  workers + 1, so a CPU stays free for Ray's own tasks; the object store set explicitly,
  because ``/dev/shm`` is often small), and shut down at the end. With ``auto`` or
  ``HOST:PORT`` an existing cluster is joined (bounded wait); a connection that already
  exists in this process (a test session's cluster) is reused and left open.
- At most ``workers`` chunks are in flight; results are put back in unit order.
- Stateless units are tasks with ``max_retries``: a worker killed mid-unit loses only that
  unit, which Ray runs again. Units with a per-worker state run on ``workers`` actors
  (never more than the cluster's free CPUs minus one, so actors cannot starve each other or
  Ray's own tasks), each holding its state (e.g. its own Spleeter subprocess), restarted
  when they die.
- A unit's error names the unit and the node it ran on; Ray's logs stay off the
  terminal unless ``verbose``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from typing import Any

from builders.engine.local import progress_bar
from builders.engine.options import Engine
from builders.errors import UserError

RETRIES = 3
CONNECT_TIMEOUT_S = 10.0
MIN_OBJECT_STORE = 80 * 2**20
MAX_OBJECT_STORE = 512 * 2**20
INSTALL_HINT = "pip install 'misme-toolkit[ray]' (or pip install 'ray>=2.40,<3')"


def import_ray():
    """The ``ray`` module, or a UserError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(
            f"--engine ray needs Ray, which is not installed here: {INSTALL_HINT}"
        ) from None
    return ray


def object_store_bytes() -> int:
    """A store that fits in ``/dev/shm`` (a third of what is free), between 80 and 512 MB."""
    try:
        free = shutil.disk_usage("/dev/shm").free
    except OSError:
        free = MAX_OBJECT_STORE
    return int(max(MIN_OBJECT_STORE, min(MAX_OBJECT_STORE, free // 3)))


def _check_reachable(address: str) -> None:
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--ray-address must be auto or HOST:PORT, got {address!r}")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as error:
        raise UserError(
            f"cannot reach the Ray cluster at {address}: {error.strerror or error}"
        ) from None


def local_worker_priority() -> None:
    """Run the workers of a Ray cluster started from here at this process's own priority, as
    the local engine's workers run, rather than 15 niceness steps below it (Ray's default),
    at which a build on a machine with any other CPU load crawls (20x slower beside 4 busy
    processes on 2 cores). ``RAY_worker_niceness`` (an increment) set by the user wins. Call
    it before ``ray.init`` starts a cluster."""
    os.environ.setdefault("RAY_worker_niceness", "0")


@contextlib.contextmanager
def connected(engine: Engine) -> Iterator[Any]:
    """A Ray connection for one run: reused, joined, or a local cluster started (and stopped)."""
    ray = import_ray()
    if engine.address is not None:
        _check_reachable(engine.address)
    if ray.is_initialized():
        yield ray
        return
    quiet = {
        "log_to_driver": engine.verbose,
        "logging_level": "INFO" if engine.verbose else "ERROR",
        "include_dashboard": False,
    }
    if engine.address is None:
        local_worker_priority()
        ray.init(num_cpus=engine.workers + 1, object_store_memory=object_store_bytes(), **quiet)
    else:
        try:
            ray.init(address=engine.address, **quiet)
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as error:
            raise UserError(
                f"cannot join the Ray cluster at {engine.address}: {str(error).splitlines()[0]}"
            ) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def unit_label(unit: Any) -> str:
    """How an error names a unit: its ``unit_id`` when it has one."""
    return str(getattr(unit, "unit_id", None) or repr(unit)[:120])


def run_chunk(fn: Callable[..., Any], chunk: list[Any], state: Any = None) -> list[Any]:
    """Run units on a Ray worker; a unit's user error is re-raised naming the unit and the node."""
    results = []
    for unit in chunk:
        try:
            results.append(fn(unit) if state is None else fn(state, unit))
        except UserError as error:
            raise UserError(
                f"{error} [unit {unit_label(unit)} on node {socket.gethostname()}]"
            ) from None
    return results


class StatefulWorker:
    """A Ray actor holding one worker's state (made once, closed when the actor ends)."""

    def __init__(self, state: Callable[[], Any]) -> None:
        self.state, self.error = None, None
        try:
            self.state = state()
        except UserError as error:  # reported through the first chunk, like the local engine
            self.error = UserError(f"{error} [on node {socket.gethostname()}]")

    def run(self, fn: Callable[..., Any], chunk: list[Any]) -> list[Any]:
        if self.error is not None:
            raise self.error
        return run_chunk(fn, chunk, self.state)

    def close(self) -> None:
        if hasattr(self.state, "close"):
            self.state.close()


def map_units(
    fn: Callable[..., Any],
    units: list[Any],
    *,
    engine: Engine,
    desc: str,
    unit: str,
    weights: list[int],
    state: Callable[[], Any] | None,
    on_result: Callable[[int, Any], None] | None,
    chunksize: int,
    progress: bool,
) -> list[Any]:
    chunks = [
        list(range(start, min(start + chunksize, len(units))))
        for start in range(0, len(units), chunksize)
    ]
    results: list[Any] = [None] * len(units)
    if not chunks:
        return results
    with connected(engine) as ray, progress_bar(sum(weights), desc, unit, progress) as bar:
        runners = Runners(ray, fn, state, engine.workers)
        pending: dict[Any, list[int]] = {}
        waiting = list(reversed(chunks))
        try:
            while waiting or pending:
                while waiting and runners.free():
                    chunk = waiting.pop()
                    pending[runners.submit([units[i] for i in chunk])] = chunk
                [ready], _ = ray.wait(list(pending), num_returns=1)
                chunk = pending.pop(ready)
                for index, result in zip(chunk, runners.collect(ready), strict=True):
                    results[index] = result
                    if on_result is not None:
                        on_result(index, result)
                    bar.update(weights[index])
        finally:
            runners.cancel(pending)
            runners.close()
    return results


class Runners:
    """At most ``workers`` chunks in flight: as tasks, or on a pool of stateful actors."""

    def __init__(
        self, ray, fn: Callable[..., Any], state: Callable[[], Any] | None, workers: int
    ) -> None:
        self.ray, self.fn, self.workers = ray, fn, workers
        self.busy: dict[Any, Any] = {}  # ref -> actor (None for a task)
        if state is None:
            self.task, self.idle = ray.remote(max_retries=RETRIES, num_cpus=1)(run_chunk), []
        else:  # actors hold their CPU while alive: never more than the cluster has, one CPU left free
            actor = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(
                StatefulWorker
            )
            cpus = int(ray.available_resources().get("CPU", 1))
            self.workers = max(1, min(workers, cpus - 1))
            self.task, self.idle = None, [actor.remote(state) for _ in range(self.workers)]
        self.actors = list(self.idle)

    def free(self) -> bool:
        return len(self.busy) < self.workers

    def submit(self, chunk: list[Any]):
        if self.task is not None:
            ref, actor = self.task.remote(self.fn, chunk), None
        else:
            actor = self.idle.pop()
            ref = actor.run.remote(self.fn, chunk)
        self.busy[ref] = actor
        return ref

    def collect(self, ref) -> list[Any]:
        actor = self.busy.pop(ref)
        if actor is not None:
            self.idle.append(actor)
        return _result(self.ray, ref)

    def cancel(self, refs) -> None:
        """Stop what is still running (tasks at once; actors are killed by :meth:`close`)."""
        for ref in refs:
            if self.busy.get(ref) is None:
                with contextlib.suppress(Exception):
                    self.ray.cancel(ref, force=True)

    def close(self) -> None:
        if not self.actors:
            return
        with contextlib.suppress(Exception):
            self.ray.get([actor.close.remote() for actor in self.actors], timeout=60)
        for actor in self.actors:
            self.ray.kill(actor)


def _result(ray, ref) -> list[Any]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as error:
        cause = error.cause if getattr(error, "cause", None) is not None else error
        if isinstance(cause, UserError):
            raise UserError(str(cause)) from None
        raise cause from None
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayActorError) as error:
        raise UserError(
            f"a Ray worker died {RETRIES + 1} times running the same units: "
            f"{str(error).splitlines()[0]}"
        ) from None
