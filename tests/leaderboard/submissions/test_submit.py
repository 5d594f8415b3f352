"""Submissions through the real isolated scoring process."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.errors import LeaderboardError
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import (
    IN_DEV,
    Clock,
    mer_predictions,
    ser_predictions,
    ser_solution,
    write_challenge,
)


def _rows(config: ChallengeConfig, sql: str) -> list[tuple]:
    return sqlite3.connect(config.database_url.removeprefix("sqlite:///")).execute(sql).fetchall()


def test_scored_submission_stores_metrics_losses_and_details(challenge, tmp_path) -> None:
    token = add_team(challenge, "Team A")
    outcome = submit(
        challenge,
        ser_predictions(tmp_path / "p.csv", 30),
        "misme-ser",
        token,
        note="rf baseline",
        clock=Clock(IN_DEV),
    )
    assert outcome.status == "scored", outcome.message
    assert 0 < outcome.public_metrics["accuracy"] <= 1
    assert outcome.quota.left_today == 4
    subsets = _rows(challenge, "select subset, n_ids from subset_results order by subset")
    assert subsets == [("private", 24), ("public", 24)]  # 8 actors split 4/4, 6 clips each
    metrics = {m for (m,) in _rows(challenge, "select metric from scores where subset='public'")}
    assert {"accuracy", "uar", "macro_f1"} <= metrics
    assert _rows(challenge, "select note, status from submissions") == [("rf baseline", "scored")]


def test_public_and_private_ids_split_by_speaker(challenge, tmp_path) -> None:
    """All 30 correct ids come first in sorted order (actors 01-05); the public and private
    accuracies reveal which actors landed on each side, and no actor is split."""
    token = add_team(challenge, "Team A")
    submit(
        challenge, ser_predictions(tmp_path / "p.csv", 48), "misme-ser", token, clock=Clock(IN_DEV)
    )
    accuracy = dict(_rows(challenge, "select subset, value from scores where metric='accuracy'"))
    assert accuracy == {"public": 1.0, "private": 1.0}
    from leaderboard.challenge.splits import public_mask

    solution = ser_solution()
    mask = public_mask(solution, 0.5, 3)
    by_actor = pd.Series(mask).groupby(solution["actor"]).agg(["min", "max"])
    assert (by_actor["min"] == by_actor["max"]).all()
    assert mask.sum() == 24
    assert (public_mask(solution, 0.5, 3) == mask).all()
    assert not (public_mask(solution, 0.5, 99) == mask).all()


def test_invalid_file_gets_status_and_message_no_score(challenge, tmp_path) -> None:
    token = add_team(challenge, "Team A")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\na01-c00,furious\n")
    outcome = submit(challenge, bad, "misme-ser", token, clock=Clock(IN_DEV))
    assert outcome.status == "invalid"
    assert "unknown label 'furious'" in outcome.message
    assert "has no prediction" in outcome.message
    assert _rows(challenge, "select count(*) from scores") == [(0,)]
    assert outcome.quota.left_today == 5  # failures do not count by default


def test_mer_submission_scores_and_keeps_scatter(challenge, tmp_path) -> None:
    token = add_team(challenge, "Team A")
    outcome = submit(
        challenge, mer_predictions(tmp_path / "m.csv", 0.5), "misme-mer", token, clock=Clock(IN_DEV)
    )
    assert outcome.status == "scored", outcome.message
    assert 0.2 < outcome.public_metrics["rmse"] < 0.9
    details = _rows(challenge, "select details_json from subset_results where subset='public'")
    assert '"scatter"' in details[0][0] and '"valence"' in details[0][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": "nope"}, "unknown team token"),
        ({"task": "misme-ser-speech"}, "unknown task 'misme-ser-speech' in this challenge"),
        ({"phase": "test"}, "phase 'test' opens at"),
        ({"phase": "final"}, "unknown phase 'final'"),
    ],
)
def test_refusals_store_nothing(challenge, tmp_path, change, message) -> None:
    token = add_team(challenge, "Team A")
    arguments = {"task": "misme-ser", "token": token, "phase": None, **change}
    with pytest.raises(LeaderboardError, match=message):
        submit(
            challenge,
            ser_predictions(tmp_path / "p.csv", 30),
            arguments["task"],
            arguments["token"],
            arguments["phase"],
            clock=Clock(IN_DEV),
        )
    assert _rows(challenge, "select count(*) from submissions") == [(0,)]


def test_oversized_and_missing_files_refused(tmp_path) -> None:
    config = load_config(write_challenge(tmp_path, max_file_bytes=100))
    init_store(config)
    token = add_team(config, "Team A")
    with pytest.raises(LeaderboardError, match="the limit is 100 bytes"):
        submit(
            config, ser_predictions(tmp_path / "p.csv", 30), "misme-ser", token, clock=Clock(IN_DEV)
        )
    with pytest.raises(LeaderboardError, match="prediction file not found"):
        submit(config, tmp_path / "missing.csv", "misme-ser", token, clock=Clock(IN_DEV))
    assert _rows(config, "select count(*) from submissions") == [(0,)]


def test_over_quota_refused(tmp_path) -> None:
    config = load_config(write_challenge(tmp_path, per_day=1))
    init_store(config)
    token = add_team(config, "Team A")
    submit(config, ser_predictions(tmp_path / "a.csv", 30), "misme-ser", token, clock=Clock(IN_DEV))
    with pytest.raises(LeaderboardError, match="daily quota reached"):
        submit(
            config, ser_predictions(tmp_path / "b.csv", 20), "misme-ser", token, clock=Clock(IN_DEV)
        )
    assert _rows(config, "select count(*) from submissions") == [(1,)]


def test_time_limit_gives_timed_out_status(tmp_path) -> None:
    config = load_config(write_challenge(tmp_path, time_limit_s=0.001))
    init_store(config)
    token = add_team(config, "Team A")
    outcome = submit(
        config, ser_predictions(tmp_path / "a.csv", 30), "misme-ser", token, clock=Clock(IN_DEV)
    )
    assert outcome.status == "timed-out"
    assert "longer than 0.001 s" in outcome.message
    assert _rows(config, "select count(*) from scores") == [(0,)]


def test_memory_limit_gives_failed_status(tmp_path) -> None:
    path = write_challenge(tmp_path)
    path.write_text("memory_limit_mb = 40\n" + path.read_text())
    config = load_config(path)
    init_store(config)
    token = add_team(config, "Team A")
    outcome = submit(
        config, ser_predictions(tmp_path / "a.csv", 30), "misme-ser", token, clock=Clock(IN_DEV)
    )
    assert outcome.status == "failed"
    assert "memory" in outcome.message
    assert _rows(config, "select count(*) from scores") == [(0,)]


def test_solution_labels_never_reach_error_messages(challenge, tmp_path) -> None:
    """A failure inside scoring reports its exception type only, never its text."""
    from leaderboard.scoring.worker import _failure

    leaked = _failure(ValueError("solution label of a01-c00 is 'angry'"))
    assert (leaked.status, leaked.message) == ("failed", "scoring failed (ValueError)")


@pytest.mark.parametrize("note", ["a\x00b", "bell\x07", "x" * 1001])
def test_notes_with_control_characters_or_too_long_are_refused(challenge, tmp_path, note) -> None:
    token = add_team(challenge, "Team A")
    with pytest.raises(LeaderboardError, match="note"):
        submit(
            challenge,
            ser_predictions(tmp_path / "p.csv", 30),
            "misme-ser",
            token,
            note=note,
            clock=Clock(IN_DEV),
        )
    assert _rows(challenge, "select count(*) from submissions") == [(0,)]


def test_multiline_notes_and_odd_file_names_are_kept_as_text(challenge, tmp_path) -> None:
    token = add_team(challenge, "Team A")
    submit(
        challenge,
        ser_predictions(tmp_path / "p.csv", 30),
        "misme-ser",
        token,
        note="line one\n<b>line two</b>",
        file_name="pred\x00s.csv",
        clock=Clock(IN_DEV),
    )
    assert _rows(challenge, "select note, file_name from submissions") == [
        ("line one\n<b>line two</b>", "pred?s.csv")
    ]


def test_an_invalid_file_keeps_its_hash_and_report_not_its_bytes(challenge, tmp_path) -> None:
    """Issue 28, defect 7: uncharged invalid files filled the database with their bytes."""
    import hashlib

    token = add_team(challenge, "Team A")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\n" + "a01-c00,furious\n" * 20_000)
    outcome = submit(challenge, bad, "misme-ser", token, clock=Clock(IN_DEV))
    assert outcome.status == "invalid"
    good = submit(
        challenge, ser_predictions(tmp_path / "p.csv", 30), "misme-ser", token, clock=Clock(IN_DEV)
    )
    assert good.status == "scored", good.message
    assert _rows(challenge, "select submission_id from submission_files") == [
        (good.submission_id,)
    ]  # rescore needs the scored file only
    sha256, message = _rows(
        challenge,
        f"select file_sha256, message from submissions where id = {outcome.submission_id}",
    )[0]
    assert sha256 == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert message == outcome.message and "unknown label 'furious'" in message


def test_invalid_submissions_have_their_own_daily_quota(tmp_path) -> None:
    path = write_challenge(tmp_path)  # count_failed = false: invalid files use no quota
    path.write_text(path.read_text().replace("per_day = 5", "per_day = 5\ninvalid_per_day = 2"))
    config = load_config(path)
    init_store(config)
    token = add_team(config, "Team A")
    for n in range(2):
        bad = tmp_path / f"bad{n}.csv"
        bad.write_text(f"id,emotion\na01-c0{n},furious\n")
        outcome = submit(config, bad, "misme-ser", token, clock=Clock(IN_DEV))
        assert outcome.status == "invalid"
        assert outcome.quota.left_today == 5 and outcome.quota.invalid_left_today == 1 - n
    good = ser_predictions(tmp_path / "good.csv", 30)
    with pytest.raises(LeaderboardError, match=r"daily quota of invalid submissions reached \(2 "):
        submit(config, good, "misme-ser", token, clock=Clock(IN_DEV))
    assert _rows(config, "select count(*) from submissions") == [(2,)]
    other_task = submit(
        config, mer_predictions(tmp_path / "m.csv", 0.5), "misme-mer", token, clock=Clock(IN_DEV)
    )
    assert other_task.status == "scored"  # per team, task and phase, like the other quotas
    tomorrow = Clock(IN_DEV + pd.Timedelta(days=1))
    assert submit(config, good, "misme-ser", token, clock=tomorrow).status == "scored"
