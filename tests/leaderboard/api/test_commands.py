"""The command line around the API: the organizer's view of every submission, one of --url
or --config, and the rate limiter's window (a clock that moves only when told)."""

from __future__ import annotations

from pathlib import Path

from leaderboard.api.guard import RateLimiter
from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import ser_predictions, write_challenge


def test_the_organizer_sees_every_teams_notes_and_messages(tmp_path: Path, capsys) -> None:
    path = write_challenge(tmp_path, open_now=True)
    config = load_config(path)
    init_store(config)
    a, b = add_team(config, "Team A"), add_team(config, "Team B")
    submit(config, ser_predictions(tmp_path / "a.csv", 30), "misme-ser", a, note="a's idea")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\na01-c00,happyish\n", encoding="utf-8")
    submit(config, bad, "misme-ser", b, note="b's try")
    capsys.readouterr()
    assert main(["submissions", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "team Team A: submission 1: scored" in out and "note: a's idea" in out
    assert "team Team B: submission 2: invalid" in out and "happyish" in out
    assert main(["submissions", "--config", str(path), "--team", "Team B"]) == 0
    only_b = capsys.readouterr().out
    assert "Team B" in only_b and "Team A" not in only_b


def test_submit_needs_url_or_config_not_both(tmp_path: Path, capsys) -> None:
    path = write_challenge(tmp_path)
    neither = ["submit", "p.csv", "--task", "misme-ser", "--token", "t"]
    assert main(neither) == 2
    assert "needs --url URL (participants) or --config FILE" in capsys.readouterr().err
    both = [*neither, "--url", "http://127.0.0.1:9", "--config", str(path)]
    assert main(both) == 2
    assert "give --url (a server) or --config (the store), not both" in capsys.readouterr().err


def test_an_unreachable_server_is_one_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv("MISME_TOKEN", "team_x")
    assert main(["mine", "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach http://127.0.0.1:9/api/v1") and err.count("\n") == 1


def test_a_url_that_is_not_a_web_address_is_one_line(capsys) -> None:
    assert main(["mine", "--url", "localhost:8000", "--token", "t"]) == 2
    error = capsys.readouterr().err
    assert "is not a web address" in error and error.count("\n") == 1


def test_the_rate_limit_window_slides() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.wait_for("t") for _ in range(2)] == [0.0, 0.0]
    assert limiter.wait_for("t") == 60.0  # the first of the two leaves the window at 60 s
    assert limiter.wait_for("other") == 0.0
    now[0] = 59.5
    assert limiter.wait_for("t") == 0.5
    now[0] = 60.0
    assert limiter.wait_for("t") == 0.0
