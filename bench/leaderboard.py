"""Leaderboard benchmarks: page-data time and submission throughput.

1. Page data with 1,000 scored submissions (target: under 1 s). Fills a fresh SQLite store
   directly (50 teams x 20 submissions on 7,200 ids, as the submission service would store
   them), then times what the leaderboard page computes: the ranking with DM tests against
   the leader, and the pairwise p-value matrix.
2. Submissions end to end through ``leaderboard.submissions.submit`` (checks, quota, the
   isolated scoring worker, the store, the board's intervals) on demo-size files (a
   misme-ser solution of 24 actors x 8 clips, 1,000 bootstrap resamples as the demo's
   config): seconds per submission (median) with a fresh interpreter per submission (cold,
   ``MISME_LEADERBOARD_WARM=0``) and with the warm zygote (target: under 0.5 s), then
   submissions/s for 100 sequential submissions and for 8 concurrent submitters (threads
   of one process sharing its zygote, as the Streamlit server's sessions do).

    .venv/bin/python bench/leaderboard.py [--cold 5] [--warm 10] [--submissions 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _args import at_least  # noqa: E402

from leaderboard.boards.ranking import build_board  # noqa: E402
from leaderboard.boards.significance import pairwise_p_values  # noqa: E402
from leaderboard.challenge.config import load_config  # noqa: E402
from leaderboard.store.arrays import npy_bytes  # noqa: E402
from leaderboard.store.models import Score, Submission, SubsetResult  # noqa: E402
from leaderboard.store.schema import init_store  # noqa: E402
from leaderboard.store.sessions import write_session  # noqa: E402
from leaderboard.store.teams import add_team, list_teams  # noqa: E402

N_TEAMS, PER_TEAM, N_IDS = 50, 20, 7200
CONFIG = """name = "bench"
[[tasks]]
name = "misme-ser"
solution = "solution.parquet"
[[phases]]
name = "dev"
start = "2025-01-01T00:00:00Z"
end = "2099-01-01T00:00:00Z"
"""


def fill(config) -> None:
    rng = np.random.default_rng(0)
    start = datetime(2025, 1, 2, tzinfo=UTC)
    for index in range(N_TEAMS):
        add_team(config, f"Team {index:02d}")
    teams = list_teams(config)
    with write_session(config) as session:
        for n in range(N_TEAMS * PER_TEAM):
            team = teams[n % N_TEAMS]
            skill = 0.2 + 0.6 * rng.random()
            submission = Submission(
                team_id=team.id,
                task="misme-ser",
                phase="dev",
                status="scored",
                message="scored",
                file_sha256=f"{n:064d}",
                file_name="p.csv",
                note="",
                selected=False,
                created_at=start + timedelta(minutes=n),
            )
            session.add(submission)
            session.flush()
            for subset in ("public", "private"):
                losses = (rng.random(N_IDS // 2) > skill).astype(np.float64)
                accuracy = 1 - losses.mean()
                session.add_all(
                    [
                        Score(submission_id=submission.id, subset=subset, metric=m, value=accuracy)
                        for m in ("accuracy", "uar", "macro_f1")
                    ]
                )
                session.add(
                    SubsetResult(
                        submission_id=submission.id,
                        subset=subset,
                        n_ids=len(losses),
                        ids_sha256="0" * 64,
                        losses_npy=npy_bytes(losses),
                        details_json=json.dumps({"per_fold": []}),
                    )
                )


def write_solution(path: Path) -> None:
    """A misme-ser solution with N_IDS ids over six folds and 24 actors."""
    rng = np.random.default_rng(1)
    pd.DataFrame(
        {
            "id": [f"m{i:05d}" for i in range(N_IDS)],
            "fold": [i % 6 + 1 for i in range(N_IDS)],
            "emotion": rng.integers(1, 9, N_IDS),
            "actor": [f"{i % 24 + 1:02d}" for i in range(N_IDS)],
        }
    ).to_parquet(path, index=False)


def timed(function, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


SUBMIT_CONFIG = """name = "bench submissions"
max_file_bytes = 20000000
time_limit_s = 120
[quotas]
per_day = 100000
total = 100000
[[tasks]]
name = "misme-ser"
solution = "solution.parquet"
[[phases]]
name = "dev"
start = "2020-01-01T00:00:00Z"
end = "2099-01-01T00:00:00Z"
public_fraction = 0.5
seed = 1
"""
DEMO_ACTORS, DEMO_CLIPS = 24, 8
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


class Submissions:
    """A demo-size misme-ser challenge and a new prediction file on every call (new row
    order, some labels moved: the duplicate check sees a new file)."""

    def __init__(self, folder: Path, teams: int = 10):
        from leaderboard.store.schema import init_store

        rng = np.random.default_rng(2)
        n = DEMO_ACTORS * DEMO_CLIPS
        self.solution = pd.DataFrame(
            {
                "id": [f"a{i // DEMO_CLIPS + 1:02d}-c{i % DEMO_CLIPS:02d}" for i in range(n)],
                "fold": 6,
                "emotion": rng.integers(1, 9, n),
                "actor": [f"{i // DEMO_CLIPS + 1:02d}" for i in range(n)],
                "gender": ["male" if (i // DEMO_CLIPS) % 2 else "female" for i in range(n)],
            }
        )
        self.solution.to_parquet(folder / "solution.parquet", index=False)
        (folder / "challenge.toml").write_text(SUBMIT_CONFIG)
        self.config = load_config(folder / "challenge.toml")
        init_store(self.config)
        self.tokens = [add_team(self.config, f"Team {i:02d}") for i in range(teams)]
        self.folder, self.count, self.lock = folder, 0, threading.Lock()

    def file(self) -> Path:
        with self.lock:
            index = self.count
            self.count += 1
        rng = np.random.default_rng(100 + index)
        truth = self.solution["emotion"].to_numpy()
        predicted = np.where(rng.random(len(truth)) < 0.6, truth, rng.integers(1, 9, len(truth)))
        frame = pd.DataFrame(
            {"id": self.solution["id"], "emotion": [EMOTIONS[v - 1] for v in predicted]}
        )
        path = self.folder / f"p{index:04d}.csv"
        frame.sample(frac=1.0, random_state=index).to_csv(path, index=False)
        return path

    def submit(self, team: int) -> float:
        from leaderboard.submissions.submit import submit

        path = self.file()
        began = time.perf_counter()
        outcome = submit(self.config, path, "misme-ser", self.tokens[team % len(self.tokens)])
        took = time.perf_counter() - began
        if outcome.status != "scored":
            raise SystemExit(
                f"submission {outcome.submission_id}: {outcome.status}: {outcome.message}"
            )
        return took


def bench_submissions(cold: int, warm_runs: int, total: int, concurrent: int = 8) -> None:
    from leaderboard.scoring import warm

    with tempfile.TemporaryDirectory() as folder:
        bench = Submissions(Path(folder))
        print(
            f"\nsubmissions end to end (misme-ser, {len(bench.solution)} ids, "
            f"{bench.config.bootstrap_resamples} bootstrap resamples, {os.cpu_count()} CPUs):"
        )
        os.environ[warm.WARM_ENV] = "0"
        cold_s = [bench.submit(i) for i in range(cold)]
        del os.environ[warm.WARM_ENV]
        first = bench.submit(0)  # starts and loads the zygote
        warm_s = [bench.submit(i) for i in range(warm_runs)]
        cold_median, warm_median = statistics.median(cold_s), statistics.median(warm_s)
        print(
            f"  cold (fresh interpreter each): median {cold_median:.3f} s/submission of {cold} "
            f"(min {min(cold_s):.3f}, max {max(cold_s):.3f})"
        )
        print(
            f"  warm (forked from the zygote): median {warm_median:.3f} s/submission of {warm_runs} "
            f"(min {min(warm_s):.3f}, max {max(warm_s):.3f}); the first, which starts the "
            f"zygote: {first:.3f} s"
        )
        print(
            f"  warm / cold: {warm_median / cold_median:.3f} (cold is {cold_median / warm_median:.1f}x "
            f"slower); warm vs the 0.5 s target: ratio {warm_median / 0.5:.2f}"
        )

        began = time.perf_counter()
        for index in range(total):
            bench.submit(index)
        sequential = time.perf_counter() - began
        print(
            f"  {total} sequential submissions: {sequential:.1f} s, "
            f"{total / sequential:.2f} submissions/s"
        )

        errors: list[BaseException] = []

        def submitter(which: int) -> None:
            try:
                for index in range(which, total, concurrent):
                    bench.submit(index)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=submitter, args=(i,)) for i in range(concurrent)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        parallel = time.perf_counter() - began
        if errors:
            raise errors[0]
        print(
            f"  {total} submissions from {concurrent} concurrent submitters: {parallel:.1f} s, "
            f"{total / parallel:.2f} submissions/s (ratio to sequential {sequential / parallel:.2f})"
        )
        warm.shutdown()
        from leaderboard.store.sessions import close_engines

        close_engines()


def forkserver_worker(request_path: str, env: dict[str, str]) -> None:
    """The scoring worker as a child of multiprocessing's forkserver (as the zygote's
    child becomes it: its environment, no stdout, then the worker's main)."""
    os.environ.clear()
    os.environ.update(env)
    os.dup2(os.open(os.devnull, os.O_RDWR), 1)
    from leaderboard.scoring.worker import main as worker_main

    os._exit(worker_main([request_path]))


def scored_by_forkserver(context, request, env: dict[str, str], folder: Path) -> tuple:
    from multiprocessing import forkserver

    from leaderboard.scoring.result import ScoringResult

    out = Path(tempfile.mkdtemp(dir=folder))
    path = out / "request.json"
    began = time.perf_counter()
    forkserver.ensure_running()
    server = forkserver._forkserver._forkserver_pid  # the child's parent (private attribute)
    path.write_text(request.in_folder(out, server).to_json())
    process = context.Process(target=forkserver_worker, args=(str(path), env))
    process.start()
    process.join(120)
    took = time.perf_counter() - began
    result = ScoringResult.from_json((out / "result.json").read_text())
    if not result.scored:
        raise SystemExit(f"forkserver worker: {result.status}: {result.message}")
    return took, result


def bench_forkserver(runs: int) -> None:
    """The same scoring requests in the zygote's child and in a child of the standard
    library's forkserver (preloading the zygote's modules, started with the worker's
    environment): what keeping leaderboard.scoring.zygote rests on."""
    import multiprocessing

    from leaderboard.scoring import warm
    from leaderboard.scoring.limits import child_env
    from leaderboard.scoring.request import ScoringRequest
    from leaderboard.scoring.sandbox import run_isolated
    from leaderboard.scoring.zygote import preload_modules

    with tempfile.TemporaryDirectory() as folder:
        bench = Submissions(Path(folder))
        phase = bench.config.phase("dev")
        requests = [
            ScoringRequest.for_submission(bench.config, "misme-ser", phase, bench.file())
            for _ in range(runs + 1)
        ]
        env = child_env()
        saved = dict(os.environ)
        os.environ.update(warm.zygote_env(env))  # the forkserver takes this process's environment
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload_modules()))
        first, _ = scored_by_forkserver(context, requests[0], env, Path(folder))
        os.environ.clear()
        os.environ.update(saved)
        timed = [scored_by_forkserver(context, r, env, Path(folder)) for r in requests[1:]]
        library = [took for took, _ in timed]
        warm.shared(env).ready()
        run_isolated(requests[0], 120)
        zygote = []
        for request in requests[1:]:
            began = time.perf_counter()
            result, _ = run_isolated(request, 120)
            zygote.append(time.perf_counter() - began)
        warm.shutdown()
        print(f"\nscoring in the sandbox, warm ({runs} requests, the same files each way):")
        print(
            f"  zygote child: median {statistics.median(zygote):.3f} s "
            f"(min {min(zygote):.3f}); libraries {result.libraries_mb:.0f} MB, "
            f"peak {result.peak_mb:.0f} MB"
        )
        print(
            f"  forkserver child: median {statistics.median(library):.3f} s "
            f"(min {min(library):.3f}; the first, which starts the server: {first:.3f} s); "
            f"libraries {timed[-1][1].libraries_mb:.0f} MB, peak {timed[-1][1].peak_mb:.0f} MB"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", type=at_least(1), default=5, help="cold submissions timed")
    parser.add_argument("--warm", type=at_least(1), default=10, help="warm submissions timed")
    parser.add_argument(
        "--submissions",
        type=at_least(1),
        default=100,
        help="submissions of the sequential and of the concurrent run",
    )
    parser.add_argument("--skip-page", action="store_true", help="only the submissions")
    parser.add_argument(
        "--forkserver",
        type=at_least(0),
        default=10,
        help="warm requests scored by the zygote and by multiprocessing's forkserver (0: skip)",
    )
    args = parser.parse_args()
    if not args.skip_page:
        bench_page()
    bench_submissions(args.cold, args.warm, args.submissions)
    if args.forkserver:
        bench_forkserver(args.forkserver)
    return 0


def bench_page() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "challenge.toml"
        write_solution(
            Path(folder) / "solution.parquet"
        )  # the config refuses a missing solution file
        path.write_text(CONFIG)
        config = load_config(path)
        init_store(config)
        began = time.perf_counter()
        fill(config)
        print(
            f"filled {N_TEAMS * PER_TEAM} submissions ({N_IDS // 2} ids per subset) in "
            f"{time.perf_counter() - began:.1f} s"
        )
        board_s = timed(lambda: build_board(config, "misme-ser", "dev"))
        board = build_board(config, "misme-ser", "dev")
        pairwise_s = timed(lambda: pairwise_p_values(board), repeats=2)
        print(
            f"leaderboard page data ({len(board.table)} teams, DM + Holm vs leader): "
            f"{board_s:.3f} s (target < 1 s, ratio {board_s / 1.0:.2f})"
        )
        print(f"pairwise DM matrix ({len(board.table)}x{len(board.table)}): {pairwise_s:.3f} s")


if __name__ == "__main__":
    sys.exit(main())
