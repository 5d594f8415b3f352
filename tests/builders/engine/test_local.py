"""The local engine: order, per-worker state, errors, and workers that die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builders.engine import check_workers, map_units
from builders.errors import UserError
from tests.builders.engine import units

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_unit_order_whatever_finishes_first(workers):
    seen = []
    results = map_units(
        units.slow_square,
        list(range(10)),
        workers=workers,
        progress=False,
        on_result=lambda i, r: seen.append(i),
    )
    assert [r[0] for r in results] == [x * x for x in range(10)]
    assert sorted(seen) == list(range(10))
    if workers == 2:
        assert seen[-1] == 0 and len({pid for _, pid in results}) == 2  # unit 0 finished last


def test_state_is_made_once_per_worker_and_closed_when_it_ends(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_TEST_CLOSED", str(tmp_path))
    results = map_units(
        units.count, list(range(12)), workers=2, state=units.make_counter, progress=False
    )
    per_worker = {}
    for pid, calls in results:
        per_worker[pid] = max(per_worker.get(pid, 0), calls)
    assert sum(per_worker.values()) == 12 and len(per_worker) in (
        1,
        2,
    )  # a loaded machine may start one late
    closed = {int(p.name): int(p.read_text()) for p in tmp_path.iterdir()}
    idle = {pid: calls for pid, calls in closed.items() if pid not in per_worker}
    assert {pid: closed.get(pid) for pid in per_worker} == per_worker
    assert set(idle.values()) <= {0} and len(closed) <= 2  # a worker that got no unit closes too
    serial = map_units(
        units.count, list(range(3)), workers=1, state=units.make_counter, progress=False
    )
    assert [calls for _, calls in serial] == [1, 2, 3]
    assert (tmp_path / str(os.getpid())).read_text() == "3"


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_unit_stops_the_run_with_its_own_error(workers):
    with pytest.raises(UserError, match="unit 3 is broken"):
        map_units(units.fail_on_three, list(range(8)), workers=workers, progress=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_state_that_cannot_be_made_reports_its_own_error(workers):
    with pytest.raises(UserError, match="no model here"):
        map_units(
            units.count, list(range(4)), workers=workers, state=units.refuse_state, progress=False
        )


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_worker_counts_are_checked_in_one_place(bad):
    with pytest.raises(UserError, match="--workers must be at least 1"):
        check_workers(bad)


def test_workers_die_when_their_parent_is_killed(tmp_path):
    driver = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from builders.engine import map_units\n"
        "from tests.builders.engine import units\n"
        f"map_units(units.record_pid_and_sleep, [{str(tmp_path)!r}] * 2, workers=2, progress=False)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", driver], cwd=REPO)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    children = [int(p.name) for p in tmp_path.iterdir()]
    assert len(children) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in children)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.is_file() and "State:\tZ" in status.read_text())
