"""How the suite is split across pytest-xdist workers (`make test`: `-n 2 --dist loadfile`).

Each test file goes to one worker, so its module fixtures are built once. The files that use
the session's Ray cluster (``RAY_FILES``) go to one worker together: one cluster per run,
since two on 2 cores would each want 3 CPUs. The Spleeter tests are among them, so their
tiny model is trained once too. The longest files are collected first, so that the run does
not end with one worker busy on a long file while the other idles.

xdist's own ``--dist loadgroup`` cannot do the grouping here: it renames the items' node ids,
which pytest 9.2 no longer reads, hence a scheduler of our own.
"""

from __future__ import annotations

import pytest

RAY_GROUP = "ray-cluster"
RAY_FILES = frozenset(
    {
        "tests/builders/engine/test_ray.py",
        "tests/builders/misme/test_ray_engine.py",
        "tests/builders/misme/test_spleeter.py",
        "tests/builders/muse_vad/test_build.py",
    }
)
# The longest groups, longest first (from `--durations`: the demo end to end about 5 min,
# the Ray + Spleeter group about 5 min); every other file follows in collection order.
LONGEST_FIRST = ("tests/builders/demo/test_demo.py", RAY_GROUP)


def group_of(nodeid: str) -> str:
    """The worker group of a test: its file, or ``RAY_GROUP`` for the files in ``RAY_FILES``."""
    file = nodeid.split("::", 1)[0]
    return RAY_GROUP if file in RAY_FILES else file


def check_ray_files(items: list[pytest.Item]) -> None:
    """A UsageError if a test file uses the ``ray_cluster`` fixture but is not in ``RAY_FILES``."""
    missing = sorted(
        {
            group_of(item.nodeid)
            for item in items
            if "ray_cluster" in getattr(item, "fixturenames", ())
        }
        - {RAY_GROUP}
    )
    if missing:
        raise pytest.UsageError(
            f"tests/conftest.py: add {', '.join(missing)} to RAY_FILES "
            "(it uses the session's Ray cluster)"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    check_ray_files(items)

    def rank(item: pytest.Item) -> int:
        group = group_of(item.nodeid)
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: collection order within a rank


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """With ``--dist loadfile``: xdist's file scheduler, with the Ray files as one file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FileAndRayScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    return FileAndRayScheduling(config, log)
