"""A team name that only looks like another ("Team А" with a Cyrillic A) is refused."""

from __future__ import annotations

import pytest

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.errors import LeaderboardError
from leaderboard.store.teams import add_team, list_teams, name_key


@pytest.mark.parametrize(
    "lookalike",
    [
        "Team \u0410",  # Cyrillic capital A
        "T\u0435am A",  # Cyrillic small ie
        "Te\u0430m A",  # Cyrillic small a
        "\u0422eam A",  # Cyrillic capital te
        "Team \u0391",  # Greek capital alpha
        "\uff34eam A",  # fullwidth T (NFKC)
        "Team\u00a0A",  # no-break space
        "Team  A",  # two spaces
        "Team\u200b A",  # zero-width space
        "team a",  # case
    ],
)
def test_a_lookalike_of_an_existing_team_is_refused(challenge: ChallengeConfig, lookalike):
    add_team(challenge, "Team A")
    with pytest.raises(LeaderboardError, match="looks like the existing team 'Team A'"):
        add_team(challenge, lookalike)
    assert [team.name for team in list_teams(challenge)] == ["Team A"]


def test_distinct_names_are_still_accepted(challenge: ChallengeConfig):
    for name in ("Team A", "Team B", "Team AA", "Команда Б"):
        add_team(challenge, name)
    assert len(list_teams(challenge)) == 4


def test_the_key_folds_common_homoglyphs():
    assert name_key("Team \u0410") == name_key("team a") == name_key("TEAM\u3000A")
    assert name_key("\u0420\u0430\u0441\u0441\u0435") == name_key("Pacce")  # Cyrillic Рассе
    assert name_key("Team A") != name_key("Team B")
