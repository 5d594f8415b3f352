"""The warm scoring zygote: `python -m leaderboard.scoring.zygote CONTROL_FD CALLER_PID`.

A long-lived caller (the demo, the Streamlit server, a `rescore` of many files) would pay
Python's and the scoring libraries' start-up (seconds) for every submission if each got a
fresh interpreter. The zygote pays it once: it imports everything :mod:`leaderboard.scoring.worker`
needs and then, **without ever starting a thread** (Arrow's jemalloc background thread is
switched off by the caller's environment, BLAS has one thread), forks one fresh child per
submission. The child is the scoring worker exactly as ``python -m leaderboard.scoring.worker``
would run it (:func:`leaderboard.scoring.worker.main`: its own Arrow threads, then its address-space
and CPU limits, then the scoring), so every submission still gets a process of its own
with its own limits, and the zygote itself never reads a label.

Protocol (Unix SOCK_SEQPACKET, one JSON object a packet). The caller holds the control
socket; the zygote says ``{"ready": ...}`` on it once loaded. For each submission the caller
passes one end of a new socket pair over the control socket (``run``) and sends on it
``{"request": path, "env": {...}, "time_limit_s": t}``; the zygote answers ``{"started": pid}``
(or ``{"refused": why}``), watches the child's address space and its wall-clock time limit
(SIGKILL at the limit) and answers ``{"ended": {"returncode", "peak_mb", "timed_out"}}``.
``{"kill": true}`` kills the child at once; the request socket closing before the end (its
caller died) sends the child SIGTERM, so that it removes its folder, and SIGKILL
``TERM_GRACE_S`` later.

Lifetime: the control socket closing means no more submissions: the zygote finishes the
running ones and exits. Its caller dying (the control socket's end of file, or
``getppid()`` changing) ends every child and the zygote. Each child also has the Linux
parent-death signal and a watchdog on the zygote (:func:`leaderboard.scoring.worker.follow_parent`).
SIGINT is ignored (a terminal's Ctrl-C is the caller's to handle); SIGTERM ends the children
and the zygote.

Why not the standard library's fork server (``multiprocessing`` "forkserver" with
``set_forkserver_preload`` of :func:`preload_modules`): ``bench/leaderboard.py --forkserver``
scores the same demo-size files in both (2 shared cores, 2026-12-07): a zygote child took a
median 0.110 s, with 428 MB of address space after its imports (468 MB peak); a forkserver
child 1.049 s (0.597 s at best), with 458 MB (498 MB peak). Each forkserver child first runs
``multiprocessing.spawn``'s preparation, which imports the caller's ``__main__`` again (under
the page, Streamlit's; here the bench script with pydantic and SQLAlchemy) and the target's
module, per submission, and their imports count against the worker's memory limit. The
library also starts its server with the caller's own environment (the worker's thread and
allocator settings would have to be put into the caller's ``os.environ``, shared by the
page's threads), has one server per process with no public way to restart it when a scorer
file changes (only the private ``_forkserver._stop``), and does not refuse to fork a server
that has started a thread. Hence this zygote, about 400 lines.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

# Beyond the scorer's own modules (SCORER_MODULES): what the worker imports before scoring
# and what scoring imports lazily on first use.
LIBRARIES = (
    "scipy.special",  # benchmark.metrics imports it on first use (Pearson p-values)
    "pyarrow.csv",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "pyarrow.json",
    "pyarrow.substrait",
    "pandas.io.parquet",
    "importlib.metadata",
    "email.parser",
    "encodings.ascii",
    "ctypes",
    "hashlib",
    "traceback",
)
STDERR_NAME = "worker-stderr.txt"  # the child's stderr, in the submission's out_dir
WATCH_S = 0.25  # how often a child's address space is looked at
PARENT_POLL_S = 0.5
TERM_GRACE_S = 5.0  # SIGTERM (the child removes its folder) before SIGKILL
MAX_PACKET = 1 << 20


class _Stop(BaseException):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@dataclass
class Child:
    pid: int
    conn: socket.socket | None
    deadline: float
    pidfd: int | None
    peak_mb: float | None = None
    timed_out: bool = False
    kill_at: float | None = None  # SIGKILL then, after a SIGTERM


def thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def preload_modules() -> tuple[str, ...]:
    """Every module the zygote imports before it forks: the scorer's and its libraries."""
    from leaderboard.scoring.request import SCORER_MODULES

    return (*SCORER_MODULES, *LIBRARIES)


def watched_files() -> dict[str, list[int]]:
    """(mtime_ns, size) of the scorer's source files as loaded here: the caller starts a
    new zygote once one of them changes, so that the code run is the code hashed."""
    from leaderboard.scoring.request import SCORER_MODULES

    files = {}
    for name in (
        *SCORER_MODULES,
        __name__ if __name__ != "__main__" else "leaderboard.scoring.zygote",
    ):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            stat = os.stat(path)
            files[path] = [stat.st_mtime_ns, stat.st_size]
    return files


def main(argv: list[str]) -> int:
    control = socket.socket(fileno=int(argv[0]))
    caller = int(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    if os.getppid() != caller:
        return 0
    try:
        for name in preload_modules():
            importlib.import_module(name)
        import leaderboard.scoring.zygote  # noqa: F401 - its file is watched like the scorer's
    except Exception as error:  # noqa: BLE001 - the caller falls back to a fresh interpreter
        _send(control, {"ready": False, "error": type(error).__name__})
        return 1
    gc.collect()
    gc.freeze()  # the children's collector leaves the zygote's objects (and their pages) alone
    threads = thread_count()
    _send(
        control,
        {
            "ready": threads == 1,
            "pid": os.getpid(),
            "threads": threads,
            "files": watched_files(),
            "error": None if threads == 1 else "threads",
        },
    )
    if threads != 1:
        return 1
    return Zygote(control, caller).serve()


def _stop_on_signal(signum: int, _frame) -> None:
    raise _Stop(128 + signum)


class Zygote:
    def __init__(self, control: socket.socket, caller: int):
        self.control: socket.socket | None = control
        self.caller = caller
        self.children: dict[int, Child] = {}
        self.waiting: set[socket.socket] = set()  # request sockets before their request

    def serve(self) -> int:
        code = 0
        try:
            while self.control is not None or self.children or self.waiting:
                if os.getppid() != self.caller:
                    break
                self._step()
        except _Stop as stop:
            code = stop.code
        self._end_all()
        return code

    def _step(self) -> None:
        readers: list[Any] = [*self.waiting]
        if self.control is not None:
            readers.append(self.control)
        by_fd = {}
        for child in self.children.values():
            if child.conn is not None:
                readers.append(child.conn)
            if child.pidfd is not None:
                by_fd[child.pidfd] = child
        readers.extend(by_fd)
        timeout = (
            PARENT_POLL_S
            if not self.children
            else min(
                WATCH_S, *(max(0.0, c.deadline - time.monotonic()) for c in self.children.values())
            )
        )
        ready, _, _ = select.select(readers, [], [], timeout)
        for item in ready:
            if item is self.control:
                self._on_control()
            elif isinstance(item, int):
                self._reap(by_fd[item], block=True)
            elif item in self.waiting:
                self._on_request(item)
            else:
                self._on_child_conn(item)
        self._watch()

    def _on_control(self) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(self.control, 64, 1)
        except OSError:
            data, fds = b"", []
        if not data:  # the caller closed it: no more submissions (or it died)
            self.control.close()
            self.control = None
            return
        for fd in fds:
            self.waiting.add(socket.socket(fileno=fd))

    def _on_request(self, conn: socket.socket) -> None:
        self.waiting.discard(conn)
        message = receive(conn)
        if not message or "request" not in message:
            conn.close()
            return
        if self.control is None:
            _send(conn, {"refused": "closing"})
            conn.close()
            return
        if thread_count() != 1:  # forking a process with threads is what this design avoids
            _send(conn, {"refused": "threads"})
            conn.close()
            return
        pid = self._fork(conn, message)
        pidfd = None
        try:
            pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pass
        self.children[pid] = Child(
            pid, conn, time.monotonic() + float(message["time_limit_s"]), pidfd
        )
        _send(conn, {"started": pid})

    def _on_child_conn(self, conn: socket.socket) -> None:
        child = next(c for c in self.children.values() if c.conn is conn)
        message = receive(conn)
        if message and message.get("kill"):
            _kill(child.pid, signal.SIGKILL)
            return
        if not message:  # its caller went away: the child removes its folder, then goes
            conn.close()
            child.conn = None
            _kill(child.pid, signal.SIGTERM)
            child.kill_at = time.monotonic() + TERM_GRACE_S

    def _watch(self) -> None:
        now = time.monotonic()
        for child in list(self.children.values()):
            if self._reap(child, block=False):
                continue
            child.peak_mb = _peak_mb(child.pid) or child.peak_mb
            if now >= child.deadline and not child.timed_out:
                child.timed_out = True
                _kill(child.pid, signal.SIGKILL)
            if child.kill_at is not None and now >= child.kill_at:
                _kill(child.pid, signal.SIGKILL)

    def _reap(self, child: Child, block: bool) -> bool:
        try:
            pid, status = os.waitpid(child.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = child.pid, 0
        if pid == 0:
            return False
        del self.children[child.pid]
        if child.pidfd is not None:
            os.close(child.pidfd)
        if child.conn is not None:
            code = os.waitstatus_to_exitcode(status)
            _send(
                child.conn,
                {
                    "ended": {
                        "returncode": code,
                        "peak_mb": child.peak_mb,
                        "timed_out": child.timed_out,
                    }
                },
            )
            child.conn.close()
        return True

    def _end_all(self) -> None:
        """SIGTERM every child (each removes its folder), SIGKILL what is left after a while."""
        for child in self.children.values():
            _kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE_S
        while self.children and time.monotonic() < deadline:
            for child in list(self.children.values()):
                self._reap(child, block=False)
            time.sleep(0.02)
        for child in list(self.children.values()):
            _kill(child.pid, signal.SIGKILL)
            self._reap(child, block=True)

    def _fork(self, conn: socket.socket, message: dict[str, Any]) -> int:
        pid = os.fork()
        if pid:
            return pid
        try:
            self._close_inherited()
            become_worker(message)
        finally:
            os._exit(1)  # become_worker never returns; this ends a child whose set-up failed

    def _close_inherited(self) -> None:
        for sock in (self.control, *self.waiting):
            if sock is not None:
                sock.close()
        for child in self.children.values():
            if child.conn is not None:
                child.conn.close()
            if child.pidfd is not None:
                os.close(child.pidfd)


def become_worker(message: dict[str, Any]) -> NoReturn:
    """In the forked child: the worker's signals, streams and environment, then its main."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(signum, signal.SIG_DFL)
    request_path = Path(message["request"])
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    err = os.open(request_path.parent / STDERR_NAME, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    os.close(devnull)
    os.close(err)
    os.environ.clear()
    os.environ.update(message.get("env") or {})
    from leaderboard.scoring.worker import main as worker_main
    from misme_console import leave

    try:
        code = worker_main([str(request_path)])
    except BaseException:  # noqa: BLE001 - as `python -m leaderboard.scoring.worker`: say it, exit 1
        import traceback

        traceback.print_exc()
        code = 1
    leave(code)


def _peak_mb(pid: int) -> float | None:
    from leaderboard.scoring.limits import address_space_mb

    return address_space_mb("VmPeak", pid)


def _kill(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)  # never reaped yet, so the pid is still this child's
    except ProcessLookupError:
        pass


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:  # the other end is gone
        pass


def receive(sock: socket.socket) -> dict[str, Any] | None:
    """The next JSON message on ``sock``, or None when it closed, timed out or sent garbage."""
    try:
        data = sock.recv(MAX_PACKET)
    except OSError:
        return None
    if not data:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _run_as_script() -> None:
    try:
        code = main(sys.argv[1:])
    except _Stop as stop:  # SIGTERM while loading
        code = stop.code
    os._exit(code)  # no finalisation: nothing of the zygote's is left to flush


if __name__ == "__main__":
    _run_as_script()
