"""Leaderboard page-data time with 1,000 scored submissions (target: under 1 s).

Fills a fresh SQLite store directly (50 teams x 20 submissions on 7,200 ids, as the
submission service would store them), then times what the leaderboard page computes:
the ranking with DM tests against the leader, and the pairwise p-value matrix.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leaderboard.config import load_config  # noqa: E402
from leaderboard.models import Score, Submission, SubsetResult  # noqa: E402
from leaderboard.ranking import build_board, pairwise_p_values  # noqa: E402
from leaderboard.service import _npy_bytes  # noqa: E402
from leaderboard.store import add_team, init_store, list_teams, write_session  # noqa: E402

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
            submission = Submission(team_id=team.id, task="misme-ser", phase="dev",
                                    status="scored", message="scored", file_sha256=f"{n:064d}",
                                    file_name="p.csv", note="", selected=False,
                                    created_at=start + timedelta(minutes=n))
            session.add(submission)
            session.flush()
            for subset in ("public", "private"):
                losses = (rng.random(N_IDS // 2) > skill).astype(np.float64)
                accuracy = 1 - losses.mean()
                session.add_all([Score(submission_id=submission.id, subset=subset, metric=m,
                                       value=accuracy) for m in ("accuracy", "uar", "macro_f1")])
                session.add(SubsetResult(submission_id=submission.id, subset=subset,
                                         n_ids=len(losses), ids_sha256="0" * 64,
                                         losses_npy=_npy_bytes(losses),
                                         details_json=json.dumps({"per_fold": []})))


def write_solution(path: Path) -> None:
    """A misme-ser solution with N_IDS ids over six folds and 24 actors."""
    rng = np.random.default_rng(1)
    pd.DataFrame({"id": [f"m{i:05d}" for i in range(N_IDS)], "fold": [i % 6 + 1 for i in range(N_IDS)],
                  "emotion": rng.integers(1, 9, N_IDS), "actor": [f"{i % 24 + 1:02d}" for i in range(N_IDS)]}
                 ).to_parquet(path, index=False)


def timed(function, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "challenge.toml"
        write_solution(Path(folder) / "solution.parquet")  # the config refuses a missing solution file
        path.write_text(CONFIG)
        config = load_config(path)
        init_store(config)
        began = time.perf_counter()
        fill(config)
        print(f"filled {N_TEAMS * PER_TEAM} submissions ({N_IDS // 2} ids per subset) in "
              f"{time.perf_counter() - began:.1f} s")
        board_s = timed(lambda: build_board(config, "misme-ser", "dev"))
        board = build_board(config, "misme-ser", "dev")
        pairwise_s = timed(lambda: pairwise_p_values(board), repeats=2)
        print(f"leaderboard page data ({len(board.table)} teams, DM + Holm vs leader): "
              f"{board_s:.3f} s (target < 1 s, ratio {board_s / 1.0:.2f})")
        print(f"pairwise DM matrix ({len(board.table)}x{len(board.table)}): {pairwise_s:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
