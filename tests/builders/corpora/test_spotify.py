"""The Spotify reader: the real spotipy client against recorded answers served on 127.0.0.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from builders.common.call_cache import CallCache, cache_line
from builders.corpora.recorded import (
    RecordedSpotifyTrack,
    spotify_calls,
    spotify_id_for,
    write_demo_spotify_cache,
)
from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_match import search_params
from builders.corpora.spotify_screening import LocalSong, screen_songs
from builders.corpora.spotify_tables import (
    ReviewEntry,
    read_instrumentalness_table,
    read_review_list,
)
from builders.errors import UserError

from .stub_http import StubServer, spotify_responder

SONGS = [
    RecordedSpotifyTrack("Kevin MacLeod", "Ambient Piano", 45.0, 0.92),
    RecordedSpotifyTrack("The Singers", "Loud Vocal Song", 200.0, 0.02),
    RecordedSpotifyTrack("Obscure Band", "Lost Tape", found=False),
    RecordedSpotifyTrack(
        "Some Artist", "Some Title", spotify_artist="Other Person", spotify_title="Title Live"
    ),
    RecordedSpotifyTrack("Edge Case", "Exactly Half", 30.0, 0.5),
    RecordedSpotifyTrack("Closed Endpoint", "No Features", 60.0, instrumentalness=None),
]
LOCAL = [LocalSong(str(number), s.artist, s.title) for number, s in enumerate(SONGS, start=1)]


def _id(number: int) -> str:
    song = SONGS[number - 1]
    return spotify_id_for(song.spotify_artist or song.artist, song.spotify_title or song.title)


@pytest.fixture
def recorded(tmp_path: Path) -> CallCache:
    path = tmp_path / "recorded.jsonl"
    write_demo_spotify_cache(path, SONGS)
    return CallCache(path)


@pytest.fixture
def server(recorded: CallCache, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("SPOTIPY_CLIENT_ID", raising=False)
    monkeypatch.delenv("SPOTIPY_CLIENT_SECRET", raising=False)
    stub = StubServer(spotify_responder(recorded))
    yield stub
    stub.stop()


def _live(server: StubServer, cache: Path, **options) -> SpotifyReader:
    return SpotifyReader(
        cache,
        client_id="stub-id",
        client_secret="stub-secret",
        api_prefix=f"{server.url}/v1/",
        token_url=f"{server.url}/api/token",
        retries=2,
        backoff_factor=0.01,
        **options,
    )


# --- the real client against the stub -------------------------------------------------------


def test_record_then_replay_offline_gives_the_same_answers(
    server: StubServer, recorded: CallCache, tmp_path: Path
) -> None:
    cache = tmp_path / "calls.jsonl"
    first = screen_songs(LOCAL, spotify=_live(server, cache))
    assert len(server.hits_to("/api/token")) == 1  # spotipy's client-credentials flow
    assert len(server.hits_to("/v1/search")) == len(SONGS)
    server.stop()

    second = screen_songs(LOCAL, spotify=SpotifyReader(cache))  # no credentials, no server
    assert second == first
    with_credentials = screen_songs(LOCAL, spotify=_live(server, cache))  # all cached: no call
    assert with_credentials == first
    # each answer recorded exactly as served (6 searches, features of the 3 matched tracks
    # that have them), plus Spotify's refusal of audio-features for the 4th match
    refused = {"error": {"status": 403, "message": "Forbidden"}}
    refusal = cache_line("audio_features", {"ids": _id(6)}, refused)
    served = set(recorded.path.read_bytes().splitlines(keepends=True))
    lines = cache.read_bytes().splitlines(keepends=True)
    assert len(lines) == 10 and refusal in lines
    assert set(lines) - {refusal} <= served


def test_screening_decisions_and_reasons(server: StubServer, tmp_path: Path) -> None:
    screening = screen_songs(LOCAL, spotify=_live(server, tmp_path / "calls.jsonl"))
    decisions = {d.song_id: d for d in screening.decisions}
    assert screening.kept() == ("1", "5")
    assert decisions["1"].spotify_id == _id(1)
    assert decisions["1"].instrumentalness == 0.92
    assert decisions["1"].instrumentalness_source == "audio-features"
    assert "instrumentalness 0.920 >= 0.50" in decisions["1"].reason
    assert "instrumentalness 0.020 < 0.50" in decisions["2"].reason
    assert decisions["3"].reason == "no Spotify search results"
    assert decisions["4"].overlap == 1 / 3  # {some, artist, title} vs {other, person, title, live}
    assert "no Spotify match with token overlap >= 0.70" in decisions["4"].reason
    assert decisions["5"].instrumentalness == 0.5  # exactly the threshold: kept
    assert "instrumentalness unknown" in decisions["6"].reason and "403" in decisions["6"].reason
    assert {d.decided_by for d in screening.decisions} == {"spotify"}


def test_match_gives_id_and_duration_for_linking(server: StubServer, tmp_path: Path) -> None:
    found = _live(server, tmp_path / "calls.jsonl").match("The Singers", "Loud Vocal Song")
    assert found.matched and found.spotify_id == _id(2) and found.duration_s == 200.0


def test_a_call_missing_from_the_cache_without_credentials_says_how_to_make_it(
    server: StubServer, tmp_path: Path
) -> None:
    server.stop()
    reader = SpotifyReader(tmp_path / "empty.jsonl")
    with pytest.raises(
        UserError,
        match=r"Spotify search .*track:Ambient Piano artist:Kevin MacLeod.* "
        r"is not in the cache .*empty\.jsonl; set SPOTIPY_CLIENT_ID and SPOTIPY_CLIENT_SECRET",
    ):
        reader.match("Kevin MacLeod", "Ambient Piano")
    assert not (tmp_path / "empty.jsonl").exists()


def test_429_then_success_waits_as_told(server: StubServer, tmp_path: Path) -> None:
    server.fail_next(
        1,
        429,
        {"Retry-After": "1"},
        {"error": {"status": 429, "message": "slow"}},
        path="/v1/search",
    )
    found = _live(server, tmp_path / "calls.jsonl").match("Kevin MacLeod", "Ambient Piano")
    assert found.spotify_id == _id(1)
    tries = server.hits_to("/v1/search")
    assert len(tries) == 2
    assert tries[1].at - tries[0].at >= 0.9  # Retry-After honoured (a lower bound only)


def test_5xx_until_retries_run_out_is_a_clear_error(server: StubServer, tmp_path: Path) -> None:
    server.fail_next(50, 503, body={"error": {"status": 503, "message": "down"}}, path="/v1/search")
    cache = tmp_path / "calls.jsonl"
    with pytest.raises(UserError, match=r"Spotify search .* failed after retries: .*503"):
        _live(server, cache).match("Kevin MacLeod", "Ambient Piano")
    assert len(server.hits_to("/v1/search")) == 3  # 1 + retries=2: bounded
    assert not cache.exists()


def test_an_unreachable_api_with_credentials_is_a_clear_error(
    server: StubServer, tmp_path: Path
) -> None:
    server.stop()
    with pytest.raises(UserError, match=r"could not reach Spotify at http://127.0.0.1:\d+/v1/: "):
        _live(server, tmp_path / "calls.jsonl").match("Kevin MacLeod", "Ambient Piano")


def test_refused_credentials_are_a_clear_error(server: StubServer, tmp_path: Path) -> None:
    server.fail_next(
        1,
        400,
        body={"error": "invalid_client", "error_description": "Invalid client"},
        path="/api/token",
    )
    with pytest.raises(UserError, match="Spotify refused the client credentials: .*invalid_client"):
        _live(server, tmp_path / "calls.jsonl").match("Kevin MacLeod", "Ambient Piano")


def test_a_corrupt_cache_line_is_a_user_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    lines = [cache_line(*call) for call in spotify_calls(SONGS[:2])]
    path.write_bytes(lines[0] + b'{"method": "search", "params": {"q": 1}}\n' + lines[1])
    with pytest.raises(UserError, match=r"calls\.jsonl, line 2: corrupt call cache line"):
        SpotifyReader(path)


# --- instrumentalness tables ----------------------------------------------------------------


def test_a_spotify_id_table_gives_instrumentalness_before_the_recorded_features(
    server: StubServer, tmp_path: Path
) -> None:
    table_path = tmp_path / "instrumental.csv"
    table_path.write_text(f"spotify_id,instrumentalness\n{_id(2)},0.8\n{_id(6)},0.7\n", "utf-8")
    table = read_instrumentalness_table(table_path)
    reader = _live(server, tmp_path / "calls.jsonl", instrumentalness_table=table)
    screening = screen_songs(LOCAL, spotify=reader)
    decisions = {d.song_id: d for d in screening.decisions}
    assert screening.kept() == ("1", "2", "5", "6")
    assert (decisions["2"].instrumentalness, decisions["2"].instrumentalness_source) == (
        0.8,
        "table",
    )
    assert decisions["1"].instrumentalness_source == "audio-features"
    assert not server.hits_to("/v1/audio-features/?ids=" + _id(2))
    assert {hit.query["ids"] for hit in server.hits_to("/v1/audio-features")} == {_id(1), _id(5)}


def test_a_song_id_table_needs_no_audio_features_at_all(
    recorded: CallCache, tmp_path: Path
) -> None:
    searches_only = tmp_path / "searches.jsonl"
    searches_only.write_bytes(
        b"".join(
            line
            for line in recorded.path.read_bytes().splitlines(keepends=True)
            if b'"method": "search"' in line
        )
    )
    table_path = tmp_path / "by-song.csv"
    table_path.write_text(
        "\ufeffsong_id,instrumentalness\r\n1,0.1\r\n2,0.6\r\n4,0.9\r\n5,0.5\r\n", "utf-8"
    )
    reader = SpotifyReader(
        searches_only, instrumentalness_table=read_instrumentalness_table(table_path)
    )
    songs = [song for song in LOCAL if song.song_id != "6"]
    assert screen_songs(songs, spotify=reader).kept() == ("2", "5")  # 4 has no match
    with pytest.raises(
        UserError, match="audio_features .* not in the cache .*instrumentalness table"
    ):
        screen_songs(LOCAL, spotify=reader)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,value\nx,0.5\n", "needs the header"),
        ("", "needs the header"),
        (
            "spotify_id,instrumentalness\nx,1.5\n",
            r"line 2: instrumentalness '1.5' is not in \[0, 1\]",
        ),
        ("spotify_id,instrumentalness\nx,high\n", "line 2: instrumentalness 'high'"),
        ("spotify_id,instrumentalness\nx,nan\n", "line 2: instrumentalness 'nan'"),
        ("spotify_id,instrumentalness\nx\n", "line 2: expected an id and an instrumentalness"),
        (
            "spotify_id,instrumentalness\nx,0.5\ny,0.1\nx,0.6\n",
            "line 4: x is given two different values",
        ),
    ],
)
def test_bad_instrumentalness_tables(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "table.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(UserError, match=message):
        read_instrumentalness_table(path)


def test_a_missing_table_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="instrumentalness table not found"):
        read_instrumentalness_table(tmp_path / "nope.csv")


# --- the review list ------------------------------------------------------------------------


def test_screening_with_the_review_list_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--screen`` without Spotify: no cache, no credentials, no network; the list decides."""
    monkeypatch.delenv("SPOTIPY_CLIENT_ID", raising=False)
    path = tmp_path / "screen.csv"
    path.write_text(
        'song_id,keep,note\n1\n2,0,"sung, not instrumental"\n5,yes,\n99,1,gone\n', "utf-8"
    )
    screening = screen_songs(LOCAL, review=read_review_list(path))
    decisions = {d.song_id: d for d in screening.decisions}
    assert screening.kept() == ("1", "5")
    assert decisions["2"].reason == "review list: drop (sung, not instrumental)"
    assert decisions["1"].decided_by == "review"
    assert decisions["3"].decided_by == "unscreened" and not decisions["3"].keep
    assert "not in the review list" in decisions["3"].reason
    assert screening.unknown_review_ids == ("99",)
    assert [d.song_id for d in screening.decisions] == [s.song_id for s in LOCAL]


def test_the_review_list_overrides_spotify(server: StubServer, tmp_path: Path) -> None:
    review = {
        "1": ReviewEntry("1", False, "a vocal version", 2),
        "2": ReviewEntry("2", True, "", 3),
    }
    screening = screen_songs(LOCAL, spotify=_live(server, tmp_path / "calls.jsonl"), review=review)
    assert screening.kept() == ("2", "5")
    searched = {hit.query["q"] for hit in server.hits_to("/v1/search")}
    assert search_params("Kevin MacLeod", "Ambient Piano")["q"] not in searched  # not asked


def test_review_list_without_header_and_keep_words(tmp_path: Path) -> None:
    path = tmp_path / "screen.csv"
    path.write_text("7\n8,drop\n9,KEEP,ok\n7,true\n", "utf-8")
    entries = read_review_list(path)
    assert {k: v.keep for k, v in entries.items()} == {"7": True, "8": False, "9": True}
    assert entries["9"].note == "ok"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("song_id,keep\n1,maybe\n", "line 2: keep must be"),
        ("song_id,keep\n1,1\n1,0\n", "lines 2 and 3 give song 1 different verdicts"),
        ("song_id,keep,note\n1,1,a,b\n", "line 2: expected song_id"),
        ("song_id,keep\n,1\n", "line 2: expected song_id"),
    ],
)
def test_bad_review_lists(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "screen.csv"
    path.write_text(text, "utf-8")
    with pytest.raises(UserError, match=message):
        read_review_list(path)


def test_screening_needs_spotify_or_a_review_list_and_unique_songs() -> None:
    with pytest.raises(UserError, match="screening needs"):
        screen_songs(LOCAL)
    with pytest.raises(UserError, match="song 1 is given twice"):
        screen_songs(LOCAL + LOCAL[:1], review={})
    with pytest.raises(UserError, match="screening needs"):
        screen_songs(LOCAL, review=None)


def test_demo_cache_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    write_demo_spotify_cache(tmp_path / "a.jsonl", SONGS)
    write_demo_spotify_cache(tmp_path / "b.jsonl", SONGS)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    assert len(_id(1)) == 22 and _id(1).isalnum()


def test_missing_metadata_is_reported_and_never_searched(tmp_path: Path) -> None:
    assert search_params(None, "Lone Title")["q"] == "track:Lone Title"
    assert search_params("  An   Artist ", " ")["q"] == "artist:An Artist"
    reader = SpotifyReader(tmp_path / "empty.jsonl")  # any search would be a missing call
    songs = [LocalSong("1", None, None), LocalSong("2", " ", "--")]
    screening = screen_songs(songs, spotify=reader)
    assert [d.reason for d in screening.decisions] == ["no artist or title to search"] * 2
    assert screening.kept() == ()
    assert not reader.match(None, None).matched


# --- one instrumentalness check for every reader (issue 28, defect 4) -----------------------


def _cache_with_instrumentalness(tmp_path: Path, value: object) -> Path:
    """The recorded calls of the first song, its instrumentalness replaced by ``value``."""
    path = tmp_path / "edited.jsonl"
    lines = []
    for method, params, response in spotify_calls(SONGS[:1]):
        if method == "audio_features":
            response["audio_features"][0]["instrumentalness"] = value
        lines.append(cache_line(method, params, response))
    path.write_bytes(b"".join(lines))
    return path


def test_instrumentalness_written_as_text_in_the_cache_is_read_as_the_table_reads_it(
    tmp_path: Path,
) -> None:
    reader = SpotifyReader(_cache_with_instrumentalness(tmp_path, "0.9"))
    (decision,) = screen_songs(LOCAL[:1], spotify=reader).decisions
    assert decision.keep and decision.instrumentalness == 0.9
    assert "instrumentalness 0.900 >= 0.50 (audio-features)" in decision.reason
    table = tmp_path / "table.csv"
    table.write_text(f"spotify_id,instrumentalness\n{_id(1)},0.9\n", "utf-8")
    assert read_instrumentalness_table(table).values[_id(1)] == 0.9


@pytest.mark.parametrize("value", [7.5, -0.5, "high", True, "nan"])
def test_instrumentalness_outside_0_1_in_the_cache_is_refused_as_in_the_table(
    tmp_path: Path, value: object
) -> None:
    cache = _cache_with_instrumentalness(tmp_path, value)
    with pytest.raises(
        UserError,
        match=rf"edited\.jsonl, line 2: Spotify audio_features .*: instrumentalness "
        rf"{re.escape(repr(value))} is not in \[0, 1\]",
    ):
        screen_songs(LOCAL[:1], spotify=SpotifyReader(cache))
    table = tmp_path / "table.csv"
    table.write_text(f"spotify_id,instrumentalness\n{_id(1)},{value}\n", "utf-8")
    with pytest.raises(UserError, match=r"line 2: instrumentalness .* is not in \[0, 1\]"):
        read_instrumentalness_table(table)
