"""The warm scoring zygote: reused across submissions (one zygote, a fresh child each time),
threadless, the same scores and scorer as a fresh interpreter, limits still per child, and
no process outliving its caller."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from leaderboard.challenge.config import load_config
from leaderboard.scoring import warm
from leaderboard.scoring.limits import child_env
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.sandbox import run_isolated
from leaderboard.scoring.worker import TEST_DELAY_ENV
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import (
    IN_DEV,
    Clock,
    mer_predictions,
    mer_solution,
    ser_predictions,
    write_challenge,
)
from tests.leaderboard.scoring.test_processes import alive

ROOT = Path(__file__).resolve().parents[3]
WAIT_S = 120


def wait_for(condition, what: str, timeout: float = WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"gave up after {timeout:g} s waiting for {what}")


@pytest.fixture
def runs(monkeypatch) -> list[warm.WarmRun]:
    """Every WarmRun of this test, as the zygote reported it."""
    seen: list[warm.WarmRun] = []
    original = warm.Zygote.run

    def spy(self, *args, **kwargs):
        done = original(self, *args, **kwargs)
        if done is not None:
            seen.append(done)
        return done

    monkeypatch.setattr(warm.Zygote, "run", spy)
    return seen


@pytest.fixture
def ser_request(tmp_path: Path):
    config = load_config(write_challenge(tmp_path, time_limit_s=60))
    return config, ScoringRequest.for_submission(
        config,
        "misme-ser",
        config.phase("dev"),
        ser_predictions(tmp_path / "p.csv", 30),
    )


def test_one_zygote_a_fresh_child_per_submission_and_no_thread_in_the_zygote(
    ser_request, runs
) -> None:
    _, request = ser_request
    for _ in range(3):
        result, _ = run_isolated(request, 60)
        assert result.status == "scored", result.message
    assert len(runs) == 3
    assert len({run.zygote_pid for run in runs}) == 1  # the same warm zygote every time
    assert len({run.pid for run in runs}) == 3  # each submission in a process of its own
    zygote = runs[0].zygote_pid
    assert zygote != os.getpid() and all(run.pid != zygote for run in runs)
    assert "leaderboard.scoring.zygote" in Path(f"/proc/{zygote}/cmdline").read_bytes().decode()
    assert os.listdir(f"/proc/{zygote}/task") == [str(zygote)]  # forked from a single thread
    assert not any(alive(run.pid) for run in runs)  # each child ended and was reaped


def test_warm_scores_equal_a_fresh_interpreters(ser_request, runs) -> None:
    _, request = ser_request
    cold, cold_arrays = run_isolated(request, 60, warm=False)
    hot, hot_arrays = run_isolated(request, 60)
    assert len(runs) == 1
    cold, hot = (replace(result, libraries_mb=None, peak_mb=None) for result in (cold, hot))
    assert hot == cold  # metrics, details, bootstrap, scorer version and hash, solution sha256
    assert hot_arrays.keys() == cold_arrays.keys() and hot_arrays
    for name, array in cold_arrays.items():
        np.testing.assert_array_equal(hot_arrays[name], array)


def test_the_time_limit_kills_the_child_not_the_zygote(ser_request, runs, monkeypatch) -> None:
    _, request = ser_request
    monkeypatch.setenv(TEST_DELAY_ENV, "600")  # the child's environment is the caller's of now
    began = time.monotonic()
    result, _ = run_isolated(replace(request, time_limit_s=2), 2)
    assert (result.status, result.message) == ("timed-out", "scoring took longer than 2 s")
    assert time.monotonic() - began < 30
    assert runs[-1].timed_out and not alive(runs[-1].pid)
    monkeypatch.delenv(TEST_DELAY_ENV)
    result, _ = run_isolated(request, 60)
    assert result.status == "scored"
    assert runs[-1].zygote_pid == runs[0].zygote_pid and alive(runs[0].zygote_pid)


def test_a_memory_bomb_is_killed_and_reported_and_the_zygote_serves_on(
    tmp_path: Path, runs
) -> None:
    solution = mer_solution(300_000)
    path = write_challenge(tmp_path, time_limit_s=60, max_file_bytes=50_000_000)
    solution.to_parquet(tmp_path / "solutions" / "misme-mer.parquet", index=False)
    predictions = tmp_path / "big.csv"
    solution[["id", "valence", "arousal"]].to_csv(predictions, index=False)
    config = load_config(path)
    request = ScoringRequest.for_submission(config, "misme-mer", config.phase("dev"), predictions)
    small, _ = run_isolated(
        replace(
            request,
            memory_limit_mb=None,
            predictions=str(mer_predictions(tmp_path / "small.csv", 0.1)),
        ),
        60,
    )
    assert small.status == "invalid"  # 40 ids of 300,000: the zygote is up and scoring
    tight = int(small.libraries_mb + 60)  # far below what 300,000 ids take
    result, _ = run_isolated(replace(request, memory_limit_mb=tight), 60)
    assert (result.status, result.message) == (
        "failed",
        f"scoring ran out of memory (limit {tight} MB)",
    )
    assert alive(runs[0].zygote_pid) and len({r.zygote_pid for r in runs}) == 1
    again, _ = run_isolated(replace(request, memory_limit_mb=None), 60)
    assert again.status == "scored" and runs[-1].zygote_pid == runs[0].zygote_pid
    assert again.peak_mb > tight  # the limit was the child's, not the zygote's


def test_parallel_submissions_from_threads_share_the_zygote_and_lose_nothing(
    tmp_path: Path, runs
) -> None:
    config = load_config(write_challenge(tmp_path, per_day=50))
    init_store(config)
    tokens = [add_team(config, f"Team {i}") for i in range(10)]
    files = [ser_predictions(tmp_path / f"p{i}.csv", 3 * i, seed=i) for i in range(10)]
    statuses: list[str] = []

    def one(index: int) -> None:
        statuses.append(
            submit(config, files[index], "misme-ser", tokens[index], clock=Clock(IN_DEV)).status
        )

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == ["scored"] * 10
    assert (
        len(runs) == 10
        and len({r.pid for r in runs}) == 10
        and len({r.zygote_pid for r in runs}) == 1
    )
    import sqlite3

    with sqlite3.connect(config.database_url.removeprefix("sqlite:///")) as db:
        assert db.execute(
            "select count(*), count(distinct team_id) from submissions where status='scored'"
        ).fetchone() == (10, 10)
        assert db.execute("select count(*) from subset_results").fetchone() == (20,)


def test_a_killed_zygote_fails_its_submission_and_the_next_one_gets_a_new_zygote(
    ser_request, runs, monkeypatch
) -> None:
    _, request = ser_request
    zygote = warm.shared(child_env())
    assert zygote.ready()
    monkeypatch.setenv(TEST_DELAY_ENV, "600")
    killer = threading.Timer(3.0, lambda: os.kill(zygote.pid, signal.SIGKILL))
    killer.start()
    result, _ = run_isolated(request, 60)
    killer.join()
    assert result.status == "failed" and "without a result" in result.message
    wait_for(lambda: not alive(runs[-1].pid), "the orphaned child to end")
    monkeypatch.delenv(TEST_DELAY_ENV)
    result, _ = run_isolated(request, 60)
    assert result.status == "scored" and runs[-1].zygote_pid != zygote.pid


def test_a_changed_scorer_file_or_directory_starts_a_new_zygote(
    ser_request, runs, tmp_path, monkeypatch
) -> None:
    _, request = ser_request
    env = child_env()
    zygote = warm.shared(env)
    assert zygote.ready() and zygote.fresh(env)
    path, (mtime_ns, size) = next(iter(zygote._ready["files"].items()))
    assert Path(path).name == "errors.py"  # benchmark.errors, the first scorer module
    zygote._ready["files"][path] = [mtime_ns - 1, size]  # as if the file had been edited since
    assert not zygote.fresh(env)
    assert warm.shared(env).pid != zygote.pid
    wait_for(lambda: zygote.process.poll() is not None, "the retired zygote to end")
    current = warm.shared(env)
    monkeypatch.chdir(tmp_path)  # `-m` puts the working directory first on sys.path
    assert warm.shared(child_env()).pid != current.pid


SCRIPT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from leaderboard.challenge.config import load_config
from leaderboard.scoring.limits import child_env
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.sandbox import run_isolated
from leaderboard.scoring import warm
config = load_config({config!r})
request = ScoringRequest.for_submission(config, "misme-ser", config.phase("dev"),
                   Path({predictions!r}))
result, _ = run_isolated(request, 60)
zygote = warm.shared(child_env())
print(result.status, zygote.pid, flush=True)
if {hang}:
    time.sleep(600)
"""


def _script(tmp_path: Path, hang: bool) -> subprocess.Popen:
    path = write_challenge(tmp_path)
    code = SCRIPT.format(
        root=str(ROOT),
        config=str(path),
        hang=hang,
        predictions=str(ser_predictions(tmp_path / "p.csv", 30)),
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_killed_caller_takes_its_zygote_with_it(tmp_path: Path) -> None:
    process = _script(tmp_path, hang=True)
    status, zygote = process.stdout.readline().split()
    assert status == "scored" and alive(int(zygote))
    process.send_signal(signal.SIGKILL)
    process.wait()
    wait_for(lambda: not alive(int(zygote)), "the zygote to follow its caller", timeout=10)


@pytest.mark.parametrize("attempt", range(3))
def test_a_caller_that_ends_normally_shuts_the_zygote_down_without_an_abort(
    tmp_path: Path, attempt
) -> None:
    process = _script(tmp_path, hang=False)
    out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err  # not 134: "terminate called without an active exception"
    status, zygote = out.split()
    assert status == "scored" and not alive(int(zygote))  # atexit closed it, it ended
    assert "terminate called" not in err


def test_warm_off_uses_a_fresh_interpreter(ser_request, runs, monkeypatch) -> None:
    _, request = ser_request
    monkeypatch.setenv(warm.WARM_ENV, "0")
    result, _ = run_isolated(request, 60)
    assert result.status == "scored" and runs == []


def test_the_zygote_reports_what_it_watches(ser_request) -> None:
    zygote = warm.shared(child_env())
    assert zygote.ready()
    from leaderboard.scoring.request import SCORER_MODULES

    files = zygote._ready["files"]
    assert len(files) == len(SCORER_MODULES) + 1  # the scorer's sources and the zygote's own
    assert any(path.endswith(os.path.join("leaderboard", "scoring", "zygote.py")) for path in files)
    assert json.loads(json.dumps(files)) == files


def test_a_zygote_with_a_thread_refuses_to_fork_and_a_fresh_interpreter_scores(
    ser_request, runs, monkeypatch
) -> None:
    """Without the jemalloc setting Arrow's import starts a background thread: forking
    then is what the zygote exists to avoid, so it says so and the caller goes cold."""
    _, request = ser_request
    warm.shutdown()
    monkeypatch.setattr(warm, "zygote_env", lambda env: {**env, warm.JEMALLOC_ENV: ""})
    monkeypatch.setattr(warm, "_failed_at", None)
    zygote = warm.shared(child_env())
    assert not zygote.ready()
    assert zygote._ready["threads"] > 1 and zygote._ready["error"] == "threads"
    result, _ = run_isolated(request, 60)
    assert result.status == "scored" and runs == []
    assert warm.shared(child_env()) is None  # no new zygote for a while: it would fail alike
    warm.shutdown()
