"""Token overlap: matching a local song to Spotify search results."""

from __future__ import annotations

from fractions import Fraction

import pytest

from builders.corpora.recorded import spotify_id_for, spotify_search_response, spotify_track_object
from builders.corpora.spotify_match import best_match, token_overlap, tokens
from builders.errors import UserError


def test_tokens_are_case_folded_words_without_accents() -> None:
    assert tokens("Don't Stop_Me, NOW!") == {"don", "t", "stop", "me", "now"}
    assert tokens("Beyoncé  ＡＣ/ＤＣ") == {"beyonce", "ac", "dc"}
    assert tokens("la la la") == {"la"}
    assert tokens(" - ") == frozenset()


def test_overlap_is_the_share_of_local_tokens_found_in_the_candidate() -> None:
    assert token_overlap("Artist Song", "artist - song (Remastered 2011)") == 1
    assert token_overlap("one two three four", "one two five") == Fraction(1, 2)
    assert token_overlap("la la land", "la") == Fraction(1, 2)
    assert token_overlap("", "anything") == 0
    assert token_overlap("a b", "") == 0


LOCAL_TEN = "a1 a2 a3 a4 a5 a6 a7 a8 a9 a10"


def _response(*labels: tuple[str, str]) -> dict:
    items = [
        spotify_track_object(spotify_id_for(artist, name), artist, name, 10.0)
        for artist, name in labels
    ]
    return spotify_search_response("q", items)


@pytest.mark.parametrize(
    ("candidate_tokens", "threshold", "matched"),
    [
        (7, 0.7, True),  # exactly 70 %: kept (>=), compared exactly, not in floating point
        (6, 0.7, False),
        (10, 1.0, True),
        (0, 0.0, True),
        (2, 0.2, True),
        (1, 0.2, False),
    ],
)
def test_threshold_edges(candidate_tokens: int, threshold: float, matched: bool) -> None:
    local_artist, local_title = LOCAL_TEN.split(" ", 5)[:5], LOCAL_TEN.split(" ")[5:]
    candidate = " ".join(LOCAL_TEN.split()[:candidate_tokens]) + " extra"
    found = best_match(
        " ".join(local_artist), " ".join(local_title), _response(("", candidate)), threshold
    )
    assert found.matched is matched
    assert found.overlap == Fraction(candidate_tokens, 10)
    assert (found.spotify_id is not None) is matched


def test_best_match_takes_the_highest_overlap_and_the_earlier_of_ties() -> None:
    response = _response(("X", "Song"), ("Artist", "Song"), ("Artist", "Song Live"))
    found = best_match("Artist", "Song", response)
    assert found.spotify_id == spotify_id_for("Artist", "Song")
    assert found.duration_s == 10.0
    assert best_match("Artist", "Song", _response()).candidate is None


def test_a_threshold_outside_zero_to_one_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"threshold must be a number in \[0, 1\]"):
        best_match("a", "b", _response(("a", "b")), 70)
