"""Background: a function in a process of its own, its output in a log file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from builders.engine.background import Background
from builders.errors import UserError


def add_and_print(a: int, b: int) -> dict:
    print(f"adding {a} and {b}")
    return {"sum": a + b, "pid": os.getpid()}


def refuse(reason: str) -> None:
    raise UserError(reason)


def crash() -> None:
    raise ZeroDivisionError("a bug, not a user's mistake")


def sleep_then_write(path: str) -> None:
    print("started", flush=True)
    time.sleep(60)
    Path(path).write_text("finished")


def test_the_result_comes_back_and_the_output_goes_to_the_log(tmp_path):
    with Background(add_and_print, 2, 3, log=tmp_path / "log.txt") as job:
        result = job.result()
    assert result["sum"] == 5 and result["pid"] != os.getpid()
    assert job.output() == "adding 2 and 3\n"


def test_a_user_error_is_raised_as_such_and_a_bug_names_the_log(tmp_path):
    with (
        Background(refuse, "no such folder", log=tmp_path / "a.txt") as job,
        pytest.raises(UserError, match="^no such folder$"),
    ):
        job.result()
    with (
        Background(crash, log=tmp_path / "b.txt") as job,
        pytest.raises(UserError, match="traceback is in .*b.txt"),
    ):
        job.result()
    assert "ZeroDivisionError: a bug" in job.output()


def test_leaving_the_block_early_stops_the_process(tmp_path):
    marker = tmp_path / "finished.txt"
    with (
        pytest.raises(KeyboardInterrupt),
        Background(sleep_then_write, str(marker), log=tmp_path / "log.txt") as job,
    ):
        deadline = time.monotonic() + 60
        while "started" not in job.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        raise KeyboardInterrupt  # what Ctrl-C in the caller's own work does
    assert not job._process.is_alive() and job._process.exitcode != 0
    assert not marker.exists()


def pool_start_method() -> dict:
    import multiprocessing

    from builders.engine import map_units

    return {
        "method": multiprocessing.get_start_method(),
        "values": map_units(abs, [-1, -2], workers=2, progress=False),
    }


def test_pools_in_the_process_start_like_the_callers_and_leave_no_semaphore(tmp_path):
    import multiprocessing
    import subprocess
    import sys

    script = tmp_path / "run.py"
    script.write_text(
        "from pathlib import Path\n"
        "from builders.engine.background import Background\n"
        "from tests.builders.engine.test_background import pool_start_method\n"
        "if __name__ == '__main__':\n"
        f"    with Background(pool_start_method, log=Path({str(tmp_path / 'log.txt')!r})) as job:\n"
        "        print(job.result())\n"
    )
    root = Path(__file__).parents[3]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        {"method": multiprocessing.get_start_method(), "values": [1, 2]}
    )
    assert "leaked" not in done.stderr, done.stderr  # the resource tracker's warning at exit
