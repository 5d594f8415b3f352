"""Board intervals end to end: computed once per new score and stored, the top group of real
submissions, the scorer of each row, and up to N final selections per team."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

import leaderboard.boards.intervals as intervals
from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import load_config
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import BoardInterval, Score, SubmissionFile
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import read_session
from leaderboard.store.teams import add_team
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import refresh_intervals, submit
from tests.leaderboard.conftest import (
    AFTER_DEV,
    IN_DEV,
    Clock,
    task_predictions,
    write_all_tasks_challenge,
    write_challenge,
)


@pytest.fixture(scope="module")
def noisy_board(tmp_path_factory):
    """misme-ser: two teams right 70 % of the time with different errors, one right 10 %."""
    folder = tmp_path_factory.mktemp("noise")
    config = load_config(write_all_tasks_challenge(folder))
    init_store(config)
    for name, quality, seed in (("Twin 1", 0.7, 1), ("Twin 2", 0.7, 2), ("Weak", 0.1, 3)):
        outcome = submit(
            config,
            task_predictions(folder, "misme-ser", quality, seed),
            "misme-ser",
            add_team(config, name),
        )
        assert outcome.status == "scored", outcome.message
    return config, folder


def test_noise_twins_share_the_top_group_and_the_weak_team_is_out(noisy_board) -> None:
    config, _ = noisy_board
    table = build_board(config, "misme-ser", "dev").table
    assert sorted(table["team"].iloc[:2]) == ["Twin 1", "Twin 2"]
    assert table["accuracy"].iloc[0] != table["accuracy"].iloc[1]  # one of them leads
    assert list(table["top_group"]) == [True, True, False]
    assert list(table["rank_low"]) == [1, 1, 3] and table["rank_high"].iloc[2] == 3
    assert (table["ci_low"] <= table["accuracy"]).all() and (
        table["accuracy"] <= table["ci_high"]
    ).all()
    assert (
        not table["older_scorer"].any() and table["scorer"].str.startswith("misme-toolkit ").all()
    )


def test_intervals_are_stored_once_and_only_recomputed_when_the_board_changes(
    noisy_board, monkeypatch
) -> None:
    config, folder = noisy_board
    with read_session(config) as session:
        stored = session.scalars(
            select(BoardInterval).where(
                BoardInterval.task == "misme-ser", BoardInterval.subset == "public"
            )
        ).all()
    assert len(stored) == 3 and len({row.board_key for row in stored}) == 1
    calls = []
    real = intervals.compute
    monkeypatch.setattr(intervals, "compute", lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(3):  # page views
        build_board(config, "misme-ser", "dev")
    assert calls == []
    token = add_team(config, "Late")
    submit(config, task_predictions(folder, "misme-ser", 0.5, 9), "misme-ser", token)
    assert calls == [1, 1]  # once per new score, for the public and the private ids
    build_board(config, "misme-ser", "dev")
    assert calls == [1, 1]


def test_a_batch_without_refresh_stores_no_intervals_until_one_refresh(
    tmp_path: Path, monkeypatch
) -> None:
    config = load_config(write_all_tasks_challenge(tmp_path))
    init_store(config)
    calls = []
    real = intervals.compute
    monkeypatch.setattr(intervals, "compute", lambda *a, **k: calls.append(1) or real(*a, **k))
    for name, quality, seed in (("Twin 1", 0.7, 1), ("Twin 2", 0.7, 2), ("Weak", 0.1, 3)):
        outcome = submit(
            config,
            task_predictions(tmp_path, "misme-ser", quality, seed),
            "misme-ser",
            add_team(config, name),
            refresh=False,
        )
        assert outcome.status == "scored", outcome.message
    with read_session(config) as session:
        assert session.scalar(select(func.count()).select_from(BoardInterval)) == 0
    assert calls == []
    refresh_intervals(config, "misme-ser", "dev", IN_DEV)
    assert calls == [1, 1]  # the public and the private ids, once for the whole batch
    table = build_board(config, "misme-ser", "dev", now=IN_DEV).table
    assert calls == [1, 1] and list(table["top_group"]) == [True, True, False]


def test_every_score_carries_its_scorer_and_the_file_is_kept(noisy_board) -> None:
    config, _ = noisy_board
    with read_session(config) as session:
        scorers = session.execute(
            select(Score.scorer_version, Score.scorer_hash, Score.solution_sha256).distinct()
        ).all()
        files = session.scalar(select(func.count()).select_from(SubmissionFile))
    assert len(scorers) == 1  # one task, one scorer, one solution file
    version, hash_, solution = scorers[0]
    assert version and len(hash_) == 64 and len(solution) == 64
    assert files >= 3


def test_no_bootstrap_means_no_intervals(tmp_path: Path) -> None:
    path = write_challenge(tmp_path, open_now=True)
    path.write_text("bootstrap_resamples = 0\n" + path.read_text())
    config = load_config(path)
    init_store(config)
    from tests.leaderboard.conftest import ser_predictions

    submit(config, ser_predictions(tmp_path / "p.csv", 30), "misme-ser", add_team(config, "A"))
    table = build_board(config, "misme-ser", "dev").table
    assert table["ci_low"].isna().all() and not table["top_group"].any()


def _final_challenge(folder: Path, limit: int):
    path = write_challenge(folder)
    path.write_text(f"final_submissions = {limit}\n" + path.read_text())
    config = load_config(path)
    init_store(config)
    return config


def test_up_to_n_final_submissions_and_the_best_private_one_counts(tmp_path: Path) -> None:
    from tests.leaderboard.conftest import ser_predictions

    config = _final_challenge(tmp_path, 2)
    token = add_team(config, "Team A")
    ids = [
        submit(
            config,
            ser_predictions(tmp_path / f"{n}.csv", n),
            "misme-ser",
            token,
            clock=Clock(IN_DEV + timedelta(minutes=i)),
        ).submission_id
        for i, n in enumerate((48, 10, 20, 44))
    ]
    for chosen in ids[1:3]:
        select_submission(config, token, chosen, now=IN_DEV)
    with pytest.raises(
        LeaderboardError, match=r"already selected 2 submissions .*\(2, 3\).*--unselect"
    ):
        select_submission(config, token, ids[3], now=IN_DEV)
    select_submission(config, token, ids[1], unselect=True, now=IN_DEV)
    select_submission(config, token, ids[3], now=IN_DEV)
    during = build_board(config, "misme-ser", "dev", now=IN_DEV + timedelta(hours=1))
    final = build_board(config, "misme-ser", "dev", now=AFTER_DEV)
    # the first 20 sorted ids are right in #3, the first 44 in #4: #4 is better on both halves
    assert list(during.table["submission"]) == [ids[3]]
    assert final.subset == "private" and list(final.table["submission"]) == [ids[3]]
    select_submission(config, token, ids[3], unselect=True, now=IN_DEV)  # only #3 left selected
    assert list(build_board(config, "misme-ser", "dev", now=AFTER_DEV).table["submission"]) == [
        ids[2]
    ]
    select_submission(config, token, ids[2], unselect=True, now=IN_DEV)  # none: the best public one
    assert list(build_board(config, "misme-ser", "dev", now=AFTER_DEV).table["submission"]) == [
        ids[0]
    ]


def test_one_final_submission_replaces_the_earlier_choice(tmp_path: Path) -> None:
    from tests.leaderboard.conftest import ser_predictions

    config = _final_challenge(tmp_path, 1)
    token = add_team(config, "Team A")
    first, second = (
        submit(
            config,
            ser_predictions(tmp_path / f"{n}.csv", n),
            "misme-ser",
            token,
            clock=Clock(IN_DEV),
        ).submission_id
        for n in (30, 20)
    )
    select_submission(config, token, first, now=IN_DEV)
    assert select_submission(config, token, second, now=IN_DEV).selected
    board = build_board(config, "misme-ser", "dev", now=IN_DEV)
    assert list(board.table["submission"]) == [second]


def test_rank_interval_columns_are_whole_numbers(noisy_board) -> None:
    table = build_board(noisy_board[0], "misme-ser", "dev").table
    ranks = table[["rank_low", "rank_high"]].to_numpy()
    assert np.array_equal(ranks, np.round(ranks))
