"""Real processes killed for real: a killed submit, an orphaned worker, Ctrl-C and SIGTERM.

The scoring worker sleeps before scoring when MISME_TEST_WORKER_DELAY_S is set, so that
a submit can be caught mid-scoring whatever the machine's speed.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.scoring.worker import TEST_DELAY_ENV
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import INTERRUPTED, submit
from leaderboard.submissions.sweep import ABANDONED, sweep_unfinished
from tests.leaderboard.conftest import ser_predictions, stale_pending_row, write_challenge

ROOT = Path(__file__).resolve().parents[3]
WAIT_S = 180  # generous: a loaded 2-core machine


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"gave up after {timeout:g} s waiting for {what}")


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def rows(config, sql: str) -> list[tuple]:
    with sqlite3.connect(config.database_url.removeprefix("sqlite:///")) as connection:
        return connection.execute(sql).fetchall()


def start_submit(path: Path, token: str, predictions: Path, scratch: Path) -> subprocess.Popen:
    """`misme-leaderboard submit` as its own process, its worker asleep before scoring."""
    env = {**os.environ, TEST_DELAY_ENV: "600", "TMPDIR": str(scratch)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "leaderboard.cli",
            "submit",
            str(predictions),
            "--config",
            str(path),
            "--task",
            "misme-ser",
            "--token",
            token,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def scoring_processes(process: subprocess.Popen) -> tuple[int | None, int]:
    """Wait until the submit's scoring worker is running: (its warm zygote or None, its pid).

    Warm, the worker is a child of the submit's zygote (a child of the submit); cold
    (MISME_LEADERBOARD_WARM=0), a `python -m leaderboard.scoring.worker` child of the submit."""

    def worker() -> tuple[int | None, int] | None:
        assert process.poll() is None, process.communicate()
        for pid in children(process.pid):
            if not alive(pid):
                continue
            if "leaderboard.scoring.worker" in cmdline(pid):
                return None, pid
            forked = [child for child in children(pid) if alive(child)]
            if forked:
                return pid, forked[0]
        return None

    return wait_for(worker, "the scoring worker to start")


def scoring_worker(process: subprocess.Popen) -> int:
    return scoring_processes(process)[1]


@pytest.fixture
def killable(tmp_path: Path):
    """A challenge open now, one team, one valid file, a private temp folder."""
    path = write_challenge(tmp_path, per_day=1, count_failed=True, time_limit_s=20, open_now=True)
    config = load_config(path)
    init_store(config)
    token = add_team(config, "Team A")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    return path, config, token, ser_predictions(tmp_path / "p.csv", 30), scratch


def test_killed_submit_ends_failed_refunded_and_resubmittable(killable, capsys) -> None:
    path, config, token, predictions, scratch = killable
    process = start_submit(path, token, predictions, scratch)
    zygote, worker = scoring_processes(process)
    assert zygote is not None and "leaderboard.scoring.zygote" in cmdline(zygote)  # warm by default
    assert [p.name.split("-")[2] for p in scratch.glob("misme-score-*")] == [str(process.pid)]
    assert rows(config, "select status from submissions") == [("pending",)]
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_for(lambda: not alive(worker), "the orphaned worker to exit")
    wait_for(lambda: not alive(zygote), "the orphaned zygote to exit")
    wait_for(lambda: not list(scratch.glob("misme-score-*")), "the worker's folder to go")

    def swept() -> bool:
        assert main(["show", "--config", str(path), "--task", "misme-ser"]) == 0
        return rows(config, "select status from submissions") != [("pending",)]

    wait_for(swept, "show's sweep to end the row", timeout=config.time_limit_s + 15 + WAIT_S)
    [(status, message, finished)] = rows(
        config, "select status, message, finished_at from submissions"
    )
    assert (status, message) == ("failed", ABANDONED) and finished is not None
    outcome = submit(config, predictions, "misme-ser", token)  # the same file, quota of 1 a day
    assert outcome.status == "scored", outcome.message
    assert outcome.quota.left_today == 0


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_interrupted_submit_exits_with_one_line_and_a_failed_row(killable, signum, code) -> None:
    path, config, token, predictions, scratch = killable
    process = start_submit(path, token, predictions, scratch)
    zygote, worker = scoring_processes(process)
    process.send_signal(signum)
    out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == code, err
    assert err.count("\n") == 1 and "interrupted" in err and "Traceback" not in err
    assert not alive(worker) and not list(scratch.glob("misme-score-*"))
    assert not alive(zygote)  # the console script shut it down before leaving
    assert rows(config, "select status, message from submissions") == [("failed", INTERRUPTED)]
    assert submit(config, predictions, "misme-ser", token).status == "scored"  # not charged


def test_worker_and_submit_both_killed_leave_a_folder_the_sweep_removes(
    killable, monkeypatch
) -> None:
    import tempfile

    path, config, token, predictions, scratch = killable
    process = start_submit(path, token, predictions, scratch)
    worker = scoring_worker(process)
    process.send_signal(signal.SIGSTOP)  # else it may see its worker die and clean up first
    os.kill(worker, signal.SIGKILL)
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_for(lambda: not alive(worker), "the worker to die")
    assert len(list(scratch.glob("misme-score-*"))) == 1
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    sweep_unfinished(config)
    assert not list(scratch.glob("misme-score-*"))


@pytest.mark.parametrize("entry", ["init", "show", "submit"])
def test_init_show_and_submit_sweep_stale_pending_rows(killable, entry) -> None:
    path, config, token, predictions, _ = killable
    stale_pending_row(config, token)
    if entry == "submit":
        assert submit(config, predictions, "misme-ser", token).status == "scored"  # quota was 1
    else:
        argv = {"init": ["init"], "show": ["show", "--task", "misme-ser"]}[entry]
        assert main([*argv, "--config", str(path)]) == 0
    assert ("failed", ABANDONED) in rows(config, "select status, message from submissions")


def test_a_late_result_does_not_overwrite_a_swept_row(killable) -> None:
    from leaderboard.store.sessions import utc_now
    from leaderboard.submissions.record import record_outcome

    _, config, token, _, _ = killable
    stale_pending_row(config, token)
    sweep_unfinished(config)
    record_outcome(
        config, 1, {"status": "scored", "message": "scored", "subsets": {}}, {}, utc_now()
    )
    assert rows(config, "select status from submissions") == [("failed",)]
