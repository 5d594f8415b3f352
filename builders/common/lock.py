"""One run at a time per build folder: an exclusive lock on ``OUT/.misme-build.lock``.

The lock is an ``fcntl.flock`` on the lock file, so it is released by the kernel when its
process dies however it dies (a stale lock cannot block anyone); the file records who holds
it (step, pid, host, start) for the message the second run prints. A run that finds the
lock taken stops at once with a UserError, or waits when asked to.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from builders.errors import UserError

LOCK_NAME = ".misme-build.lock"


def _holder(handle) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read() or "{}")
    except ValueError:
        info = {}
    if not info:
        return "another run"
    return f"another {info.get('step', 'run')} of {info.get('out', 'this folder')} (pid {info.get('pid')} on {info.get('host')})"


@contextlib.contextmanager
def build_lock(out: Path, step: str, *, wait: bool = False) -> Iterator[None]:
    """Hold OUT's lock while the block runs; UserError naming the holder if it is taken."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK_NAME, "a+")  # noqa: SIM115 - held for the whole block
    except OSError as error:
        raise UserError(f"cannot write to output folder {out}: {error.strerror or error}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise UserError(
                f"{_holder(handle)} is running; wait for it to finish (or pass --wait)"
            ) from None
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(
                json.dumps(
                    {
                        "step": step,
                        "out": str(out),
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "started": time.time(),
                    }
                )
            )
            handle.flush()
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
