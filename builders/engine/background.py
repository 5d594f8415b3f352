"""One function run in a process of its own, beside the caller's work (the demo's side chain).

``Background(fn, *args, log=path)`` starts ``fn(*args)`` in a fresh (spawned) interpreter
whose stdout and stderr go to ``log``; ``result()`` waits for it and returns what ``fn``
returned, or raises the ``UserError`` it raised (any other failure becomes a UserError
naming the log). ``stop()`` ends it and its workers; use the object as a context manager
so that an error or Ctrl-C in the caller stops it too. The process dies with its parent
(``die_with_parent``), so a ``kill -9`` of the caller leaves nothing behind.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders.engine.local import die_with_parent
from builders.errors import UserError
from misme_console import leave

STOP_TIMEOUT_S = 10.0


def cpu_seconds_used() -> float:
    """CPU time of this process and of its finished (reaped) children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _child(send, fn: Callable[..., Any], args: tuple, log: str, start_method: str) -> None:
    die_with_parent()
    # a spawned child inherits "spawn" as its default; its engine pools start workers the
    # caller's way instead (fork on Linux: no re-import per worker, no semaphore left to the
    # resource tracker by a child that leaves without finalising)
    multiprocessing.set_start_method(start_method, force=True)
    with open(log, "w") as stream:
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
    os.environ["MISME_NO_PROGRESS"] = "1"  # bars in a log file are noise
    code, message = 0, ("error", None)
    try:
        message = ("ok", fn(*args))
    except UserError as error:
        message, code = ("user-error", str(error)), 2
    except BaseException:  # noqa: BLE001 - reported to the parent, the traceback kept in the log
        traceback.print_exc()
        code = 1
    send.send((*message, cpu_seconds_used()))
    leave(
        code
    )  # like the console scripts: no interpreter finalisation, which can abort on Arrow's pool


class Background:
    """``fn(*args)`` running in its own process, its output in ``log``."""

    def __init__(self, fn: Callable[..., Any], *args: Any, log: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.log = Path(log)
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child,
            args=(send, fn, args, str(self.log), multiprocessing.get_start_method()),
            name=f"misme-{getattr(fn, '__name__', 'background')}",
        )
        self._received: tuple | None = None
        self._process.start()
        send.close()

    def _message(self) -> tuple[str, Any, float] | None:
        """(status, value, CPU seconds) as the process sent them (waiting for it), or None if it died."""
        if self._received is None:
            try:
                self._received = self._receive.recv()
            except EOFError:
                self._received = ()
            self._process.join()
        return self._received or None

    def result(self) -> Any:
        """Wait for the function; its return value, or a UserError."""
        message = self._message()
        if message is None:
            raise UserError(
                f"the background process died (exit {self._process.exitcode}); "
                f"its output is in {self.log}"
            )
        status, value, _ = message
        if status == "user-error":
            raise UserError(value)
        if status == "error":
            raise UserError(f"the background process failed; its traceback is in {self.log}")
        return value

    def finished(self) -> bool:
        """Whether the process has ended (and been reaped: its CPU time is now in this process's
        RUSAGE_CHILDREN)."""
        return self._process.exitcode is not None

    def cpu_seconds(self) -> float:
        """The CPU time the process (with its workers) reported at its end; waits for it; 0.0
        if it died without reporting."""
        message = self._message()
        return message[2] if message is not None else 0.0

    def output(self) -> str:
        """What the process has written so far."""
        return self.log.read_text(errors="replace") if self.log.is_file() else ""

    def stop(self) -> None:
        """End the process (and, through their parent-death signal, its workers) if it still runs."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(STOP_TIMEOUT_S)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._receive.close()

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
