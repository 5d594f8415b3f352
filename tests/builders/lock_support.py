"""A plan that waits for a render of the same folder (issue 28: one lock protocol)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from builders.common.lock import build_lock


def assert_waits_for_the_render(out: Path, plan: Callable[[], int]) -> None:
    """``plan()`` (a plan with --wait, its exit status) started while a render holds OUT's lock
    waits for it, then succeeds."""
    held, release = threading.Event(), threading.Event()

    def render() -> None:
        with build_lock(out, "render"):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=render)
    holder.start()
    held.wait(60)
    result: list = []
    planner = threading.Thread(target=lambda: result.append(plan()))
    planner.start()
    planner.join(1.0)
    assert planner.is_alive() and not result  # waiting for the render
    release.set()
    holder.join(60)
    planner.join(120)
    assert result == [0]
