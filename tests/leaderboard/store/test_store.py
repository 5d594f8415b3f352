from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Submission
from leaderboard.store.quotas import quota_state
from leaderboard.store.schema import init_store
from leaderboard.store.sessions import read_session, write_session
from leaderboard.store.teams import add_team, hash_token, list_teams, team_for_token
from leaderboard.submissions.submit import _reserve

HOSTILE = "<script>alert(1)</script>"


def test_init_is_idempotent_and_teams_get_hashed_tokens(challenge: ChallengeConfig) -> None:
    init_store(challenge)
    token = add_team(challenge, "Team A")
    add_team(challenge, HOSTILE)
    assert [t.name for t in list_teams(challenge)] == ["Team A", HOSTILE]
    database = challenge.database_url.removeprefix("sqlite:///")
    stored = sqlite3.connect(database).execute("select token_sha256 from teams").fetchall()
    assert (hash_token(token),) in stored
    assert all(token not in row[0] for row in stored)
    with read_session(challenge) as session:
        assert team_for_token(session, challenge, token).name == "Team A"
        with pytest.raises(LeaderboardError, match="unknown team token"):
            team_for_token(session, challenge, token + "x")


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "must not be empty"), ("x" * 101, "longer than 100"), ("a\nb", "control characters")],
)
def test_bad_team_names(challenge: ChallengeConfig, name: str, message: str) -> None:
    with pytest.raises(LeaderboardError, match=message):
        add_team(challenge, name)


def test_duplicate_team_name_refused(challenge: ChallengeConfig) -> None:
    add_team(challenge, "Team A")
    with pytest.raises(LeaderboardError, match="already exists"):
        add_team(challenge, " Team A ")


def test_store_needs_init(tmp_path) -> None:
    from leaderboard.challenge.config import load_config
    from tests.leaderboard.conftest import write_challenge

    config = load_config(write_challenge(tmp_path))
    with pytest.raises(LeaderboardError, match="not initialised"):
        add_team(config, "Team A")


def _reserve_at(config: ChallengeConfig, token: str, moment: datetime, sha: str) -> int:
    return _reserve(config, token, "misme-ser", config.phase("dev"), sha, "p.csv", "", moment)


def test_daily_quota_follows_utc_day_boundaries(challenge: ChallengeConfig) -> None:
    token = add_team(challenge, "Team A")
    late = datetime(2025, 1, 10, 23, 59, 59, tzinfo=UTC)
    for i in range(5):
        _reserve_at(challenge, token, late - timedelta(hours=i), f"{i:064d}")
    with pytest.raises(LeaderboardError, match="daily quota reached"):
        _reserve_at(challenge, token, late, "f" * 64)
    _reserve_at(challenge, token, late + timedelta(seconds=1), "e" * 64)
    with read_session(challenge) as session:
        state = quota_state(
            session,
            1,
            "misme-ser",
            "dev",
            challenge.phase("dev").quota,
            late + timedelta(seconds=1),
        )
    assert (state.used_today, state.used_total, state.left_today) == (1, 6, 4)


def test_utc_day_start_ignores_local_time_zones() -> None:
    from datetime import timezone

    from leaderboard.store.quotas import utc_day_start

    local = datetime(2025, 1, 11, 1, 30, tzinfo=timezone(timedelta(hours=2)))  # 23:30 UTC the 10th
    assert utc_day_start(local) == datetime(2025, 1, 10, tzinfo=UTC)


def test_total_quota_and_failed_submissions(tmp_path) -> None:
    from leaderboard.challenge.config import load_config
    from tests.leaderboard.conftest import write_challenge

    config = load_config(write_challenge(tmp_path, per_day=10, total=2, count_failed=False))
    init_store(config)
    token = add_team(config, "Team A")
    day = datetime(2025, 1, 5, tzinfo=UTC)
    first = _reserve_at(config, token, day, "1" * 64)
    _reserve_at(config, token, day, "2" * 64)
    with pytest.raises(LeaderboardError, match="total quota reached"):
        _reserve_at(config, token, day, "3" * 64)
    with write_session(config) as session:  # a failed submission gives its quota back
        session.get(Submission, first).status = "failed"
    _reserve_at(config, token, day, "3" * 64)


def test_failed_submissions_count_when_configured(tmp_path) -> None:
    from leaderboard.challenge.config import load_config
    from tests.leaderboard.conftest import write_challenge

    config = load_config(write_challenge(tmp_path, per_day=10, total=1, count_failed=True))
    init_store(config)
    token = add_team(config, "Team A")
    day = datetime(2025, 1, 5, tzinfo=UTC)
    first = _reserve_at(config, token, day, "1" * 64)
    with write_session(config) as session:
        session.get(Submission, first).status = "invalid"
    with pytest.raises(LeaderboardError, match="total quota reached"):
        _reserve_at(config, token, day, "2" * 64)


def test_duplicate_file_refused_per_team_task_phase(challenge: ChallengeConfig) -> None:
    token_a, token_b = add_team(challenge, "Team A"), add_team(challenge, "Team B")
    day = datetime(2025, 1, 5, tzinfo=UTC)
    _reserve_at(challenge, token_a, day, "a" * 64)
    with pytest.raises(LeaderboardError, match="already submitted as submission 1"):
        _reserve_at(challenge, token_a, day, "a" * 64)
    _reserve_at(challenge, token_b, day, "a" * 64)  # another team may send the same bytes
    _reserve(
        challenge,
        token_a,
        "misme-ser",
        challenge.phase("test"),
        "a" * 64,
        "p.csv",
        "",
        datetime(2025, 2, 5, tzinfo=UTC),
    )  # and the next phase is a new start


def test_naive_datetimes_are_rejected(challenge: ChallengeConfig) -> None:
    token = add_team(challenge, "Team A")
    with pytest.raises(Exception, match="naive datetime"):
        _reserve_at(challenge, token, datetime(2025, 1, 5), "a" * 64)


def test_unreachable_database_is_not_reported_as_uninitialised(tmp_path) -> None:
    """A server that refuses the connection (loopback, closed port) is named as such, password masked."""
    from leaderboard.challenge.config import load_config
    from leaderboard.store.teams import list_teams
    from tests.leaderboard.conftest import write_challenge

    config = load_config(write_challenge(tmp_path))
    config = config.with_database("postgresql://organizer:s3cret@127.0.0.1:1/challenge")
    with pytest.raises(LeaderboardError) as caught:
        list_teams(config)
    message = str(caught.value)
    assert message.startswith(
        "cannot use database postgresql://organizer:***@127.0.0.1:1/challenge: "
    )
    assert "not initialised" not in message and "s3cret" not in message
