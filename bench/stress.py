"""Exit-code histogram of every console script run many times under load (issue 15, defect 11).

Runs misme-score (validate/score a good file, validate a bad one), misme-leaderboard
(submit a good and a bad file, each a fresh file so that every submit starts a scoring
worker; show; show an unknown task) and cheap misme-build invocations (`--help`,
`verify /nonexistent`), `--runs` times each (default 1,000), while `--busy` processes
(default 1) keep cores busy. Prints, per script, the histogram of exit codes, the runs
whose code was not the expected one (first line of their stderr), and for submissions
how the scoring worker ended. An abort at interpreter exit shows as exit 134 (or -6).

    .venv/bin/python bench/stress.py --runs 50       # a quick look
    .venv/bin/python bench/stress.py --jobs 2        # the full 1,000 per script (hours on 2 cores)

It prints figures; it asserts nothing and is not a test.
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
from _args import at_least  # noqa: E402

from tests.leaderboard.conftest import (  # noqa: E402
    ser_predictions,
    ser_solution,
    write_challenge,
)

ABORT_CODES = (134, -6)


@dataclass
class Case:
    name: str
    argv: list[str]
    expected: int


@dataclass
class Tally:
    codes: Counter = field(default_factory=Counter)
    unexpected: Counter = field(default_factory=Counter)
    workers: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def console_script(name: str) -> list[str]:
    script = Path(sys.executable).parent / name
    return [str(script)] if script.exists() else [sys.executable, "-m", _MODULES[name]]


_MODULES = {
    "misme-score": "benchmark.cli",
    "misme-leaderboard": "leaderboard.cli",
    "misme-build": "builders.cli",
}


def spin() -> None:
    while True:
        pass


class Fixture:
    """A tiny challenge and benchmark files in a temporary folder; fresh files on demand."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.config = write_challenge(folder, per_day=1_000_000, total=1_000_000, open_now=True)
        self.solution = folder / "solutions" / "misme-ser.parquet"
        self.good = ser_predictions(folder / "good.csv", 30)
        self.bad = folder / "bad.csv"
        self.bad.write_text("id,emotion\na01-c00,furious\n", encoding="utf-8")
        self.counter = itertools.count()
        leaderboard = console_script("misme-leaderboard")
        subprocess.run(
            [*leaderboard, "init", "--config", str(self.config)], check=True, capture_output=True
        )
        added = subprocess.run(
            [*leaderboard, "team", "add", "Stress", "--config", str(self.config)],
            check=True,
            capture_output=True,
            text=True,
        )
        self.token = added.stdout.strip().splitlines()[-1]

    def fresh_good(self) -> str:
        """The same valid predictions in a new row order: a new file for the duplicate check."""
        index = next(self.counter)
        path = self.folder / "runs" / f"good-{index}.csv"
        path.parent.mkdir(exist_ok=True)
        frame = pd.read_csv(self.good, dtype=str).sample(frac=1.0, random_state=index)
        frame.to_csv(path, index=False)
        return str(path)

    def fresh_bad(self) -> str:
        index = next(self.counter)
        path = self.folder / "runs" / f"bad-{index}.csv"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"id,emotion\na01-c00,furious-{index}\n", encoding="utf-8")
        return str(path)


def cases(fixture: Fixture) -> dict[str, list]:
    """Per script, a list of case factories (called once per run, for fresh files)."""
    score, board, build = (
        console_script(n) for n in ("misme-score", "misme-leaderboard", "misme-build")
    )
    solution, config = str(fixture.solution), str(fixture.config)
    common = ["--solution", solution, "--task", "misme-ser"]
    report = str(fixture.folder / "report.json")
    submit = [*board, "submit"]
    tail = ["--config", config, "--task", "misme-ser", "--token", fixture.token]
    return {
        "misme-score": [
            lambda: Case("validate good", [*score, "validate", str(fixture.good), *common], 0),
            lambda: Case(
                "score good", [*score, "score", str(fixture.good), *common, "--json", report], 0
            ),
            lambda: Case("validate bad", [*score, "validate", str(fixture.bad), *common], 2),
        ],
        "misme-leaderboard": [
            lambda: Case("submit good", [*submit, fixture.fresh_good(), *tail], 0),
            lambda: Case("submit bad", [*submit, fixture.fresh_bad(), *tail], 2),
            lambda: Case("show", [*board, "show", "--config", config, "--task", "misme-ser"], 0),
            lambda: Case(
                "show bad task", [*board, "show", "--config", config, "--task", "nope"], 2
            ),
        ],
        "misme-build": [
            lambda: Case("--help", [*build, "--help"], 0),
            lambda: Case("verify missing", [*build, "verify", "/nonexistent"], 2),
        ],
    }


def run_one(case: Case, env: dict[str, str]) -> tuple[Case, int | str, str, str]:
    try:
        done = subprocess.run(
            case.argv, capture_output=True, text=True, env=env, timeout=300, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return case, "timeout", "", ""
    return case, done.returncode, done.stdout, done.stderr


def worker_outcome(case: Case, stdout: str) -> str | None:
    """For a submission: its status, and the reason when it was neither scored nor invalid."""
    if not case.name.startswith("submit"):
        return None
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("submission "):
            status = line.split(": ", 1)[1]
            reason = lines[index + 1] if index + 1 < len(lines) else ""
            return status if status in ("scored", "invalid") else f"{status}: {reason}"
    return "no submission line"


def stress(script: str, factories: list, runs: int, jobs: int, env: dict[str, str]) -> Tally:
    tally = Tally()
    began = time.perf_counter()
    planned = (factories[i % len(factories)]() for i in range(runs))
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for case, code, stdout, stderr in pool.map(lambda c: run_one(c, env), planned):
            tally.codes[code] += 1
            if code != case.expected:
                first = (stderr.strip().splitlines() or stdout.strip().splitlines() or [""])[-1]
                tally.unexpected[(case.name, code, first[:160])] += 1
            outcome = worker_outcome(case, stdout)
            if outcome is not None:
                tally.workers[outcome] += 1
    tally.seconds = time.perf_counter() - began
    return tally


def show(script: str, runs: int, tally: Tally) -> None:
    aborts = sum(tally.codes[c] for c in ABORT_CODES)
    histogram = ", ".join(f"{code}: {n}" for code, n in sorted(tally.codes.items(), key=str))
    print(
        f"{script:<18} {runs:>5} runs  {tally.seconds:7.0f} s  exit codes {{{histogram}}}  "
        f"aborts: {aborts}"
    )
    for (name, code, line), n in sorted(tally.unexpected.items(), key=str):
        print(f"    unexpected: {n} x {name!r} exited {code}: {line}")
    for outcome, n in sorted(tally.workers.items()):
        print(f"    scoring worker: {n} x {outcome}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=at_least(1), default=1000, help="runs per console script")
    parser.add_argument(
        "--busy", type=at_least(0), default=1, help="processes that keep a core busy"
    )
    parser.add_argument("--jobs", type=at_least(1), default=1, help="runs at the same time")
    parser.add_argument("--scripts", nargs="+", default=list(_MODULES), choices=list(_MODULES))
    args = parser.parse_args()
    env = {**os.environ, "MISME_NO_PROGRESS": "1"}
    spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(args.busy)]
    for spinner in spinners:
        spinner.start()
    try:
        with tempfile.TemporaryDirectory(prefix="misme-stress-") as folder:
            fixture = Fixture(Path(folder))
            factories = cases(fixture)
            print(
                f"{args.runs} runs per script, {args.busy} busy core(s), {args.jobs} at a time, "
                f"{os.cpu_count()} CPUs; {len(ser_solution())} ids per submission"
            )
            for script in args.scripts:
                show(
                    script, args.runs, stress(script, factories[script], args.runs, args.jobs, env)
                )
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
