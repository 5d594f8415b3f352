"""The Last.fm client (requests) against recorded Last.fm answers served on 127.0.0.1."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from builders.common.call_cache import CallCache, cache_line, write_call_cache
from builders.corpora.lastfm import (
    TOP_TAGS,
    TOP_TRACKS,
    LastfmClient,
    LastfmTrack,
    parse_top_tags,
    parse_top_tracks,
    top_tags_params,
    top_tracks_params,
)
from builders.corpora.recorded import (
    RecordedLastfmTrack,
    lastfm_top_tags_response,
    write_demo_lastfm_cache,
)
from builders.errors import UserError

from .stub_http import LASTFM_KEY, StubServer, lastfm_responder

GOLDEN = {"cool": 56, "nice": 12, "study": 12}
TRACKS = [
    RecordedLastfmTrack(f"Composer {n % 7}", f"Theme {n}", {"sad": n + 1, "soundtrack": 100})
    for n in range(118)
]
TRACKS[3] = RecordedLastfmTrack("Composer 3", "Theme 3", GOLDEN, mbid="0b1c2d3e")
TRACKS[5] = RecordedLastfmTrack("Composer 5", "Theme 5", None)  # Last.fm: "Track not found"
TRACKS[6] = RecordedLastfmTrack("Composer 6", "Theme 6", {})  # found, no tags


class Sleeps:
    """Real sleeping that also remembers how long each wait was."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)

    def backoffs(self) -> list[float]:
        return [wait for wait in self.waits if wait >= 0.01]  # throttle waits are < 1 ms here


@pytest.fixture
def recorded(tmp_path: Path) -> CallCache:
    path = tmp_path / "recorded.jsonl"
    write_demo_lastfm_cache(path, TRACKS, tag="soundtrack", per_page=50)
    return CallCache(path)


@pytest.fixture
def server(recorded: CallCache, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("LASTFM_API_KEY", raising=False)
    stub = StubServer(lastfm_responder(recorded))
    yield stub
    stub.stop()


def _live(server: StubServer, cache: Path, **options) -> LastfmClient:
    settings = {"calls_per_second": 1000.0, "backoff_s": 0.01, "max_backoff_s": 0.2}
    settings.update(options)
    return LastfmClient(cache, api_key=LASTFM_KEY, base_url=f"{server.url}/2.0/", **settings)


def _collect(client: LastfmClient) -> tuple[list[LastfmTrack], dict]:
    tracks = client.top_tracks("soundtrack")
    return tracks, {(t.artist, t.name): client.track_top_tags(t.artist, t.name) for t in tracks}


def test_record_then_replay_offline_gives_the_same_answers(
    server: StubServer, recorded: CallCache, tmp_path: Path
) -> None:
    cache = tmp_path / "calls.jsonl"
    tracks, tags = _collect(_live(server, cache))
    assert len(server.hits) == 3 + len(TRACKS)  # pages of 50, 50, 18, then one call per track
    assert {hit.query["format"] for hit in server.hits} == {"json"}
    server.stop()

    assert _collect(LastfmClient(cache)) == (tracks, tags)  # no key, no server
    assert set(cache.read_bytes().splitlines()) == set(recorded.path.read_bytes().splitlines())
    assert LASTFM_KEY not in cache.read_text("utf-8")  # the key is never recorded

    assert [t.rank for t in tracks] == list(range(1, 119))
    assert tracks[3] == LastfmTrack(
        "Theme 3", "Composer 3", "0b1c2d3e", "https://www.last.fm/music/Composer+3/_/Theme+3", 4
    )
    golden = tags[("Composer 3", "Theme 3")]
    assert golden.found and golden.tags == GOLDEN
    missing = tags[("Composer 5", "Theme 5")]
    assert (
        not missing.found and missing.tags == {} and missing.message == "error 6: Track not found"
    )
    empty = tags[("Composer 6", "Theme 6")]
    assert empty.found and empty.tags == {}


def test_a_call_missing_from_the_cache_without_a_key_says_how_to_make_it(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.delenv("LASTFM_API_KEY", raising=False)
    with pytest.raises(
        UserError,
        match=r"Last\.fm track\.getTopTags \{'artist': 'A', 'track': 'T'\} is not in the cache "
        r".*empty\.jsonl; set LASTFM_API_KEY",
    ):
        LastfmClient(tmp_path / "empty.jsonl").track_top_tags("A", "T")


def test_the_key_comes_from_the_environment(
    server: StubServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LASTFM_API_KEY", LASTFM_KEY)
    client = LastfmClient(tmp_path / "calls.jsonl", base_url=f"{server.url}/2.0/")
    assert client.track_top_tags("Composer 3", "Theme 3").tags == GOLDEN
    assert server.hits[0].query["api_key"] == LASTFM_KEY


def test_429_then_success_backs_off_as_told_within_the_bound(
    server: StubServer, tmp_path: Path
) -> None:
    server.fail_next(1, 429, {"Retry-After": "0.05"}, {"error": 29, "message": "Rate limit"})
    server.fail_next(1, 429, {"Retry-After": "3600"}, {"error": 29, "message": "Rate limit"})
    sleeps = Sleeps()
    client = _live(server, tmp_path / "calls.jsonl", sleep=sleeps)
    assert client.track_top_tags("Composer 3", "Theme 3").tags == GOLDEN
    assert len(server.hits) == 3
    # Retry-After 0.05 s beats the 0.01 s backoff; 3600 s is cut to max_backoff_s = 0.2 s
    assert sleeps.backoffs() == [0.05, 0.2]


def test_transient_error_codes_in_a_200_answer_are_retried(
    server: StubServer, tmp_path: Path
) -> None:
    server.fail_next(1, 200, body={"error": 16, "message": "temporary error"})
    sleeps = Sleeps()
    client = _live(server, tmp_path / "calls.jsonl", sleep=sleeps)
    assert client.track_top_tags("Composer 3", "Theme 3").tags == GOLDEN
    assert sleeps.backoffs() == [0.01]  # backoff_s * 2**0


def test_5xx_until_the_retries_run_out_is_a_clear_error(server: StubServer, tmp_path: Path) -> None:
    server.fail_next(50, 503, body=b"<html>Service Unavailable</html>")
    sleeps = Sleeps()
    cache = tmp_path / "calls.jsonl"
    client = _live(server, cache, sleep=sleeps, max_retries=3)
    with pytest.raises(UserError, match=r"track\.getTopTags .* failed after 4 tries: HTTP 503"):
        client.track_top_tags("Composer 3", "Theme 3")
    assert len(server.hits) == 4  # bounded
    assert sleeps.backoffs() == [0.01, 0.02, 0.04]  # exponential
    assert not cache.exists()  # failures are never recorded


def test_an_unreachable_api_is_a_clear_error_without_the_key(
    server: StubServer, tmp_path: Path
) -> None:
    server.stop()
    client = _live(server, tmp_path / "calls.jsonl", max_retries=1)
    with pytest.raises(
        UserError, match=r"failed after 2 tries: could not reach http://127"
    ) as error:
        client.track_top_tags("Composer 3", "Theme 3")
    assert LASTFM_KEY not in str(error.value)


def test_a_refused_key_is_a_clear_error_and_not_recorded(
    server: StubServer, tmp_path: Path
) -> None:
    cache = tmp_path / "calls.jsonl"
    client = LastfmClient(cache, api_key="wrong-key", base_url=f"{server.url}/2.0/")
    with pytest.raises(UserError, match=r"Last\.fm refused the API key \(error 10: Invalid API"):
        client.top_tracks("soundtrack")
    assert len(server.hits) == 1 and not cache.exists()


def test_the_rate_limit_spaces_live_calls(server: StubServer, tmp_path: Path) -> None:
    client = _live(server, tmp_path / "calls.jsonl", calls_per_second=20.0)
    started = time.monotonic()
    for track in TRACKS[:5]:
        client.track_top_tags(track.artist, track.name)
    assert time.monotonic() - started >= 4 * 0.05  # a lower bound: 5 calls, >= 50 ms apart
    sleeps = Sleeps()
    replay = LastfmClient(tmp_path / "calls.jsonl", calls_per_second=0.001, sleep=sleeps)
    for track in TRACKS[:5]:
        replay.track_top_tags(track.artist, track.name)
    assert len(server.hits) == 5
    assert sleeps.waits == []  # cached answers are never throttled


def test_single_objects_instead_of_lists(tmp_path: Path) -> None:
    """Last.fm's JSON gives a lone track or tag as an object, not a one-item list."""
    path = tmp_path / "calls.jsonl"
    lone = {
        "name": "Lone",
        "artist": {"name": "Solo"},
        "mbid": "",
        "url": "u",
        "@attr": {"rank": "1"},
    }
    page = {"tracks": {"track": lone, "@attr": {"tag": "rare", "page": "1", "totalPages": "1"}}}
    tags = {"toptags": {"tag": {"name": "calm", "count": "7"}, "@attr": {}}}
    write_call_cache(
        path,
        [
            (TOP_TRACKS, top_tracks_params("rare", 1), page),
            (TOP_TAGS, top_tags_params("Solo", "Lone"), tags),
        ],
    )
    client = LastfmClient(path)
    assert client.top_tracks("rare") == [LastfmTrack("Lone", "Solo", "", "u", 1)]
    assert client.track_top_tags("Solo", "Lone").tags == {"calm": 7}


def test_paging_stops_at_an_empty_page_and_at_max_pages(tmp_path: Path) -> None:
    """Last.fm announces more pages than it serves: reading stops at the first empty page."""
    path = tmp_path / "calls.jsonl"
    first = [
        {"name": name, "artist": {"name": "A"}, "@attr": {"rank": str(rank)}}
        for rank, name in enumerate(["One", "Two"], start=1)
    ]
    pages = [
        {"tracks": {"track": first, "@attr": {"page": "1", "totalPages": "40"}}},
        {"tracks": {"track": [], "@attr": {"page": "2", "totalPages": "40"}}},
    ]
    write_call_cache(
        path, [(TOP_TRACKS, top_tracks_params("t", n), page) for n, page in enumerate(pages, 1)]
    )
    client = LastfmClient(path)  # page 3 is not recorded: asking for it would be an error
    assert [t.name for t in client.top_tracks("t")] == ["One", "Two"]
    path.write_bytes(path.read_bytes().splitlines(keepends=True)[0])  # page 1 only
    assert [t.name for t in LastfmClient(path).top_tracks("t", max_pages=1)] == ["One", "Two"]


def test_an_error_answer_for_a_tag_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    write_call_cache(
        path,
        [(TOP_TRACKS, top_tracks_params("nonsense", 1), {"error": 6, "message": "Tag not found"})],
    )
    with pytest.raises(UserError, match=r"tag\.getTopTracks .*error 6: Tag not found"):
        LastfmClient(path).top_tracks("nonsense")


def test_an_answer_of_the_wrong_shape_is_a_user_error_naming_the_cache(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(
        cache_line(TOP_TAGS, top_tags_params("A", "T"), {"toptags": {"tag": [{"count": 3}]}})
    )
    with pytest.raises(UserError, match=r"calls\.jsonl: Last\.fm track\.getTopTags .*not a track"):
        LastfmClient(path).track_top_tags("A", "T")


def test_a_corrupt_cache_line_is_a_user_error_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(cache_line(TOP_TAGS, top_tags_params("A", "T"), {}) + b"not json\n")
    with pytest.raises(UserError, match=r"calls\.jsonl, line 2: corrupt call cache line"):
        LastfmClient(path)


def test_an_interrupted_append_is_made_again(server: StubServer, tmp_path: Path) -> None:
    """A torn last line (a run killed mid-append) is ignored; the call is made again."""
    cache = tmp_path / "calls.jsonl"
    whole = cache_line(
        TOP_TAGS,
        top_tags_params("Composer 3", "Theme 3"),
        lastfm_top_tags_response("Composer 3", "Theme 3", GOLDEN),
    )
    cache.write_bytes(whole[: len(whole) // 2])
    with pytest.warns(UserWarning, match="incomplete last line"):
        client = _live(server, cache)
    assert client.track_top_tags("Composer 3", "Theme 3").tags == GOLDEN
    assert len(server.hits) == 1
    assert cache.read_bytes() == whole


def test_parsers_accept_counts_as_text_and_add_repeated_tags() -> None:
    answer = {"toptags": {"tag": [{"name": "sad", "count": "3"}, {"name": "sad", "count": 2}]}}
    assert parse_top_tags(answer) == {"sad": 5}
    assert parse_top_tags({"toptags": {"@attr": {}}}) == {}
    assert parse_top_tracks({"tracks": {"track": []}}) == ([], 1)
    with pytest.raises(ValueError, match="not a tag.getTopTracks answer"):
        parse_top_tracks({"toptags": {}})


@pytest.mark.parametrize(
    "options",
    [
        {"calls_per_second": 0},
        {"calls_per_second": float("nan")},
        {"max_retries": -1},
        {"backoff_s": -1.0},
        {"timeout_s": 0},
    ],
)
def test_senseless_settings_are_user_errors(tmp_path: Path, options: dict) -> None:
    with pytest.raises(UserError, match="must be"):
        LastfmClient(tmp_path / "calls.jsonl", **options)


def test_demo_cache_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    write_demo_lastfm_cache(tmp_path / "a.jsonl", TRACKS)
    write_demo_lastfm_cache(tmp_path / "b.jsonl", TRACKS)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


# --- counts and recorded errors (issue 28, defect 5) ---------------------------------------


@pytest.mark.parametrize("count", [1e308, -1, 2.5, True, "1e3", 1_000_001, None])
def test_a_count_that_is_not_a_sane_whole_number_is_an_error_naming_the_cache_line(
    tmp_path: Path, count: object
) -> None:
    path = tmp_path / "calls.jsonl"
    other = cache_line(TOP_TAGS, top_tags_params("B", "U"), {"toptags": {"tag": []}})
    answer = {"toptags": {"tag": [{"name": "sad", "count": count}]}}
    path.write_bytes(other + cache_line(TOP_TAGS, top_tags_params("A", "T"), answer))
    with pytest.raises(
        UserError,
        match=rf"calls\.jsonl: Last\.fm track\.getTopTags .* \(cache line 2\): tag 'sad': count "
        rf"{re.escape(repr(count))} is not a whole number from 0 to 1,000,000",
    ):
        LastfmClient(path).track_top_tags("A", "T")
    assert parse_top_tags({"toptags": {"tag": [{"name": "sad", "count": 1_000_000.0}]}}) == {
        "sad": 1_000_000
    }


@pytest.mark.parametrize("code", [29, 8, 11, 16])
def test_a_recorded_transient_error_is_not_an_answer(
    server: StubServer, tmp_path: Path, code: int
) -> None:
    cache = tmp_path / "calls.jsonl"
    params = top_tags_params("Composer 3", "Theme 3")
    cache.write_bytes(cache_line(TOP_TAGS, params, {"error": code, "message": "try later"}))
    offline = LastfmClient(cache).track_top_tags("Composer 3", "Theme 3")
    assert not offline.answered and not offline.found
    assert offline.message.startswith(f"error {code}: try later recorded ({cache}, line 1)")
    assert _live(server, cache).track_top_tags("Composer 3", "Theme 3").tags == GOLDEN
    assert len(server.hits) == 1
    replay = LastfmClient(cache).track_top_tags("Composer 3", "Theme 3")  # both lines, no conflict
    assert replay.answered and replay.tags == GOLDEN


def test_a_recorded_track_not_found_is_an_answer(server: StubServer, tmp_path: Path) -> None:
    cache = tmp_path / "calls.jsonl"
    params = top_tags_params("Composer 3", "Theme 3")
    cache.write_bytes(cache_line(TOP_TAGS, params, {"error": 6, "message": "Track not found"}))
    tags = _live(server, cache).track_top_tags("Composer 3", "Theme 3")
    assert tags.answered and not tags.found and tags.message == "error 6: Track not found"
    assert not server.hits  # never asked again
