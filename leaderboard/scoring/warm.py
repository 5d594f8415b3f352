"""The caller's side of the warm scoring zygote (:mod:`leaderboard.scoring.zygote`).

:func:`shared` gives this process's zygote, started on first use (``prestart`` starts it
early, e.g. when the Streamlit page loads) and started again when it died, when the
working directory or ``PYTHON*`` variables it was started under changed (they decide
which scorer code an import finds), or when one of the scorer's source files changed on
disk (so that the hash a score carries is that of the code that computed it). Every
thread of the process shares it; each submission gets its own request socket and its
own forked child. :func:`shutdown` (also at exit) lets the zygote finish and end;
``MISME_LEADERBOARD_WARM=0`` turns it off (each submission then starts a fresh
interpreter, as ``python -m leaderboard.scoring.worker``).
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaderboard.scoring.limits import child_env
from leaderboard.scoring.zygote import receive

WARM_ENV = "MISME_LEADERBOARD_WARM"
READY_TIMEOUT_S = 300.0  # imports on a loaded 2-core machine
REPLY_GRACE_S = 30.0  # beyond the time limit, before the zygote is given up as stuck
KILL_WAIT_S = 10.0
# Arrow's bundled jemalloc starts a background thread at import; the zygote must have none.
JEMALLOC_ENV = "JE_ARROW_MALLOC_CONF"
JEMALLOC_CONF = "background_thread:false"


@dataclass(frozen=True)
class WarmRun:
    """How a forked worker ended (``returncode`` None: its zygote vanished)."""

    pid: int
    zygote_pid: int
    returncode: int | None
    peak_mb: float | None
    timed_out: bool


def enabled() -> bool:
    return (
        os.environ.get(WARM_ENV, "1").strip().lower() not in ("0", "false", "no", "off")
        and hasattr(os, "fork")
        and hasattr(socket, "send_fds")
        and sys.platform != "win32"
    )


def zygote_env(env: dict[str, str]) -> dict[str, str]:
    conf = env.get(JEMALLOC_ENV)
    return {**env, JEMALLOC_ENV: f"{conf},{JEMALLOC_CONF}" if conf else JEMALLOC_CONF}


def _key(env: dict[str, str]) -> tuple:
    return (
        os.getcwd(),
        sys.executable,
        tuple(sorted((k, v) for k, v in env.items() if k.startswith("PYTHON"))),
    )


class Zygote:
    """One zygote process and its control socket."""

    def __init__(self, env: dict[str, str]):
        self.key = _key(env)
        self.owner = os.getpid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "leaderboard.scoring.zygote",
                    str(theirs.fileno()),
                    str(os.getpid()),
                ],
                pass_fds=[theirs.fileno()],
                env=zygote_env(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("MISME_DEBUG") else subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.control: socket.socket | None = ours
        self.pid = self.process.pid
        self._lock = threading.Lock()
        self._ready: dict[str, Any] | None = None
        self.broken = False

    def ready(self, timeout: float = READY_TIMEOUT_S) -> bool:
        """Wait for the zygote's imports; False when it cannot serve."""
        with self._lock:
            if self._ready is None and not self.broken:
                self.control.settimeout(timeout)
                try:
                    data = self.control.recv(1 << 20)
                    self._ready = json.loads(data) if data else {"ready": False}
                except (OSError, ValueError):
                    self._ready = {"ready": False}
                self.control.settimeout(None)
                self.broken = not self._ready.get("ready")
            return not self.broken

    def fresh(self, env: dict[str, str]) -> bool:
        """Alive, started under the same directory and variables, its scorer files unchanged."""
        if self.broken or self.process.poll() is not None or self.key != _key(env):
            return False
        if self._ready is None:
            return True
        for path, (mtime_ns, size) in self._ready.get("files", {}).items():
            try:
                stat = os.stat(path)
            except OSError:
                return False
            if (stat.st_mtime_ns, stat.st_size) != (mtime_ns, size):
                return False
        return True

    def run(self, request_path: Path, env: dict[str, str], time_limit_s: float) -> WarmRun | None:
        """Score one request in a child forked from the zygote; None when no child could
        be started (the caller then uses a fresh interpreter)."""
        if not self.ready():
            return None
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with mine:
            try:
                with self._lock:
                    socket.send_fds(self.control, [b"run"], [theirs.fileno()])
            except OSError:
                self.broken = True
                return None
            finally:
                theirs.close()
            mine.sendall(
                json.dumps(
                    {"request": str(request_path), "env": env, "time_limit_s": time_limit_s}
                ).encode()
            )
            try:
                mine.settimeout(READY_TIMEOUT_S)
                started = receive(mine)
                if not started or "started" not in started:
                    self.broken = self.broken or not started or started.get("refused") == "threads"
                    return None
                pid = int(started["started"])
                mine.settimeout(time_limit_s + REPLY_GRACE_S)
                ended = receive(mine)
            except BaseException:  # interrupted: the worker must not outlive this call
                _kill_and_wait(mine)
                raise
            if ended is None:  # the zygote died or is stuck: its children die with it
                self.broken = True
                self.terminate()
                return WarmRun(pid, self.pid, None, None, False)
            ended = ended["ended"]
            return WarmRun(pid, self.pid, ended["returncode"], ended["peak_mb"], ended["timed_out"])

    def close(self, wait_s: float = KILL_WAIT_S) -> None:
        """No more submissions: the zygote finishes what runs and exits."""
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.owner != os.getpid():
            return
        if self._ready is None:  # still loading, nothing running: no need to wait for it
            self.terminate()
            return
        try:
            self.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            self.terminate()

    def terminate(self) -> None:
        if self.owner != os.getpid():
            return
        if self.process.poll() is None:
            self.process.terminate()  # its SIGTERM ends its children first
            try:
                self.process.wait(KILL_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _kill_and_wait(sock: socket.socket) -> None:
    try:
        sock.settimeout(KILL_WAIT_S)
        sock.sendall(json.dumps({"kill": True}).encode())
        while (reply := receive(sock)) is not None and "ended" not in reply:
            pass  # "started" first when the interruption came before it; then the child is reaped
    except BaseException:  # noqa: BLE001 - a second interruption: closing the socket ends it too
        pass


RETRY_AFTER_S = 60.0  # after a zygote that could not load, fresh interpreters meanwhile
_lock = threading.Lock()
_shared: Zygote | None = None
_retired: list[Zygote] = []
_failed_at: float | None = None


def shared(env: dict[str, str]) -> Zygote | None:
    """This process's zygote for a child environment ``env``, started if needed; None
    when warm workers are off or the zygote cannot be started."""
    global _shared, _failed_at
    if not enabled():
        return None
    with _lock:
        zygote = _shared
        if zygote is not None and zygote.owner != os.getpid():  # a fork of the caller
            zygote = _shared = None
        if zygote is not None and not zygote.fresh(env):
            if zygote.broken and zygote._ready is not None and not zygote._ready.get("ready"):
                _failed_at = time.monotonic()  # it could not load: do not pay that every time
            _retire(zygote)
            zygote = _shared = None
        if zygote is None:
            if _failed_at is not None and time.monotonic() - _failed_at < RETRY_AFTER_S:
                return None
            try:
                zygote = _shared = Zygote(env)
            except OSError:
                return None
            _register_exit()
        _retired[:] = [z for z in _retired if z.process.poll() is None]
    return zygote


def prestart(env: dict[str, str] | None = None) -> None:
    """Start the zygote now (it loads in the background) so that the first submission is warm."""
    shared(child_env() if env is None else env)


def _retire(zygote: Zygote) -> None:
    if zygote.control is not None:
        zygote.control.close()  # it ends once its running submissions are done
        zygote.control = None
    _retired.append(zygote)


def shutdown() -> None:
    """End this process's zygotes (each finishes its running submissions first)."""
    global _shared
    with _lock:
        zygotes = [z for z in (_shared, *_retired) if z is not None and z.owner == os.getpid()]
        _shared = None
        _retired.clear()
    for zygote in zygotes:
        zygote.close()


_exit_registered = False


def _register_exit() -> None:
    global _exit_registered
    if not _exit_registered:
        atexit.register(shutdown)
        _exit_registered = True


def _forget_after_fork() -> None:
    global _shared, _lock
    _lock = threading.Lock()
    _shared = None
    _retired.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
