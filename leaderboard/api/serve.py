"""`misme-leaderboard serve-api`: the participant API on uvicorn, in this process; started
by `serve --api-port`, it ends with the page's process (:data:`PARENT_ENV`)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from leaderboard.api.server import create_app
from leaderboard.challenge.config import ChallengeConfig

PARENT_ENV = "MISME_API_PARENT"  # the pid this server ends with (set by `serve --api-port`)
PARENT_POLL_S = 1.0


def serve_api(config: ChallengeConfig, address: str, port: int, rate_per_minute: int) -> int:
    """Serve until SIGINT / SIGTERM (uvicorn finishes the requests under way, then stops)."""
    import uvicorn

    if parent := os.environ.get(PARENT_ENV):
        _end_with(int(parent))
    print(f"participant API of {config.name!r} on http://{address}:{port}/api/docs", flush=True)
    uvicorn.run(
        create_app(config, rate_per_minute),
        host=address,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=int(config.time_limit_s) + 5,
    )
    return 0


def _end_with(parent_pid: int) -> None:
    """SIGTERM to this process when ``parent_pid`` ends: Linux's parent-death signal, and a
    watchdog on the parent's pid where there is none (or the parent had already gone)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(PARENT_POLL_S)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent watchdog", daemon=True).start()
