"""A console script whose reader goes away (``... | head``) ends quietly: no traceback, no
"internal error", exit status 141 (a shell's SIGPIPE) or 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

REPOSITORY = Path(__file__).resolve().parents[2]
QUIET_STATUSES = (0, 141)


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPOSITORY), "MISME_NO_PROGRESS": "1"}


def _run_closing_after_one_line(command: list[str]) -> tuple[int, str, bytes]:
    """Run ``command`` with stdout to a pipe that is closed after its first line."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_environment()
    )
    first = process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.stderr.close()
    return process.wait(timeout=120), stderr, first


def _run_into_a_closed_pipe(command: list[str]) -> tuple[int, str]:
    """Run ``command`` with stdout to a pipe whose reader has gone before it starts."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            command, stdout=write_end, stderr=subprocess.PIPE, env=_environment(), timeout=120
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr.decode()


def _assert_quiet(code: int, stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert "BrokenPipe" not in stderr, stderr
    assert code in QUIET_STATUSES, (code, stderr)


def test_a_body_that_writes_into_a_closed_pipe_ends_quietly():
    body = (
        "from misme_console import run_console_script\n"
        "def body():\n"
        "    for i in range(200_000):\n"
        "        print('line', i)\n"
        "    return 0\n"
        "run_console_script('prog', body)\n"
    )
    code, stderr, first = _run_closing_after_one_line([sys.executable, "-c", body])
    assert first == b"line 0\n"
    _assert_quiet(code, stderr)


def test_misme_score_through_a_pipe_closed_early(tmp_path):
    """The real console script: a report with a 3,000-row per-corpus table."""
    n = 3000
    ids = [f"id{i:05d}" for i in range(n)]
    solution = pd.DataFrame(
        {
            "id": ids,
            "fold": [i % 3 + 1 for i in range(n)],
            "emotion": [i % 8 + 1 for i in range(n)],
            "corpus": [f"corpus-{i:05d}" for i in range(n)],
        }
    )
    solution.to_csv(tmp_path / "solution.csv", index=False)
    solution[["id", "emotion"]].to_csv(tmp_path / "predictions.csv", index=False)
    script = Path(sys.executable).with_name("misme-score")
    command = [
        str(script),
        "score",
        str(tmp_path / "predictions.csv"),
        "--solution",
        str(tmp_path / "solution.csv"),
        "--task",
        "misme-ser",
    ]
    code, stderr, first = _run_closing_after_one_line(command)
    assert first.startswith(b"misme-ser: 3,000 ids")
    _assert_quiet(code, stderr)


def test_misme_leaderboard_submit_and_list_into_a_closed_pipe(tmp_path):
    """The real console script (``submit ... | head`` said "internal error")."""
    from tests.leaderboard.conftest import ser_predictions, write_challenge

    script = str(Path(sys.executable).with_name("misme-leaderboard"))
    config = str(write_challenge(tmp_path, open_now=True))
    setup = subprocess.run(
        [script, "init", "--config", config], capture_output=True, env=_environment()
    )
    assert setup.returncode == 0, setup.stderr
    added = subprocess.run(
        [script, "team", "add", "Team A", "--config", config],
        capture_output=True,
        env=_environment(),
    )
    token = added.stdout.decode().strip().splitlines()[-1]
    predictions = str(ser_predictions(tmp_path / "p.csv", 30))
    submit = [script, "submit", predictions, "--config", config, "--task", "misme-ser"]
    _assert_quiet(*_run_into_a_closed_pipe([*submit, "--token", token]))
    _assert_quiet(*_run_into_a_closed_pipe([script, "team", "list", "--config", config]))
