"""Picklable work-unit functions for the engine tests."""

from __future__ import annotations

import os
import time
from pathlib import Path

from builders.errors import UserError


def slow_square(x: int) -> tuple[int, int]:
    time.sleep(3.0 if x == 0 else 0.01)  # unit 0 finishes last when another worker takes the rest
    return x * x, os.getpid()


def fail_on_three(x: int) -> int:
    if x == 3:
        raise UserError("unit 3 is broken")
    return x


class Counter:
    """Per-worker state: counts the units one worker ran."""

    def __init__(self) -> None:
        self.pid, self.calls = os.getpid(), 0

    def close(self) -> None:
        marker = os.environ.get("ENGINE_TEST_CLOSED")
        if marker:
            Path(marker, f"{self.pid}").write_text(str(self.calls))


def make_counter() -> Counter:
    return Counter()


def count(state: Counter, x: int) -> tuple[int, int]:
    state.calls += 1
    return state.pid, state.calls


def refuse_state() -> Counter:
    raise UserError("no model here")


def record_pid_and_sleep(folder: str) -> None:
    Path(folder, str(os.getpid())).write_text("")
    time.sleep(120)


def die_once(marker_folder: str, x: int) -> int:
    """Kill this worker process the first time unit 2 runs (a node lost mid-unit)."""
    marker = Path(marker_folder, f"died-{x}")
    if x == 2 and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return x * 10


def niceness(_: int) -> int:
    return os.nice(0)
