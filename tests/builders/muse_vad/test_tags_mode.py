"""Tags mode: Last.fm answers (the real client against 127.0.0.1, then the cache alone) -> VAD."""

from __future__ import annotations

import json
import math
import tomllib
import warnings
from pathlib import Path

import pandas as pd
import pytest

from builders.cli import main
from builders.common.call_cache import CallCache, TornLineWarning
from builders.corpora.lastfm import LastfmClient
from builders.corpora.recorded import RecordedLastfmTrack, write_demo_lastfm_cache
from builders.corpora.spotify import SpotifyReader
from builders.demo.muse_sources import INVENTED, NRC_DOCUMENTED, demo_tracks
from builders.muse_vad.plan import plan_dataset

from ..corpora.stub_http import LASTFM_KEY, StubServer, lastfm_responder, spotify_responder
from .conftest import SMALL, write_warriner_lexicon

GOLDEN = (0.85695, 0.49845, 0.7594)
GOLDEN_TRACK = ("Ada Quill", "Simple Cue")  # weighted_mood {cool: 56, nice: 12, study: 12}


def _track(out: Path, artist: str, title: str) -> pd.Series:
    tracks = pd.read_parquet(out / "manifests" / "tracks.parquet")
    return tracks[(tracks.artist == artist) & (tracks.track == title)].iloc[0]


def _live_client(server: StubServer, cache: Path, **options) -> LastfmClient:
    return LastfmClient(
        cache,
        api_key=LASTFM_KEY,
        base_url=f"{server.url}/2.0/",
        calls_per_second=1000.0,
        backoff_s=0.01,
        max_backoff_s=0.05,
        **options,
    )


def _plan_live(server: StubServer, cache: Path, sources: dict[str, Path], out: Path) -> None:
    """Plan the tags mode with the real client asking ``server``, recording into ``cache``."""
    plan_dataset(
        out=out, lastfm=_live_client(server, cache), lexicon=sources["lexicon"], progress=False
    )


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.delenv("LASTFM_API_KEY", raising=False)
    monkeypatch.delenv("SPOTIPY_CLIENT_ID", raising=False)


def test_the_golden_value_through_the_real_client_then_from_the_cache_alone(
    muse_sources, tmp_path, offline
):
    recorded = CallCache(muse_sources["lastfm_cache"])
    server = StubServer(lastfm_responder(recorded))
    cache = tmp_path / "calls.jsonl"
    try:
        _plan_live(server, cache, muse_sources, tmp_path / "live")
        assert len(server.hits) == len(recorded) and {h.query["format"] for h in server.hits} == {
            "json"
        }
    finally:
        server.stop()
    golden = _track(tmp_path / "live", *GOLDEN_TRACK)
    assert [golden.valence_tags, golden.arousal_tags, golden.dominance_tags] == pytest.approx(
        GOLDEN, abs=1e-9
    )
    assert (
        json.loads(golden.weighted_mood) == {"cool": 56, "nice": 12, "study": 12}
        and golden.n_tags == 3
    )
    assert set(cache.read_bytes().splitlines()) == set(
        muse_sources["lastfm_cache"].read_bytes().splitlines()
    )
    assert LASTFM_KEY not in cache.read_text()

    plan_dataset(
        out=tmp_path / "replay", lastfm_cache=cache, lexicon=muse_sources["lexicon"], progress=False
    )
    for name in ("tracks.parquet", "audit.json", "recipe.toml"):
        assert (tmp_path / "replay" / "manifests" / name).read_bytes() == (
            tmp_path / "live" / "manifests" / name
        ).read_bytes()


def _lexicon(tmp_path: Path, extra: dict[str, tuple[float, float, float]]) -> Path:
    words = {**NRC_DOCUMENTED, **INVENTED, **extra}
    path = tmp_path / "lexicon.txt"
    path.write_text(
        "Word\tValence\tArousal\tDominance\n"
        + "".join(f"{w}\t{v}\t{a}\t{d}\n" for w, (v, a, d) in sorted(words.items()))
    )
    return path


def test_genre_tags_and_words_outside_the_lexicon_do_not_count(muse_sources, tmp_path, offline):
    # the golden track is also tagged soundtrack: 100, film: 30 (blacklisted) and "orchestral
    # score": 12 (no lexicon word); here the blacklisted tags are in the lexicon, at the extremes
    lexicon = _lexicon(tmp_path, {"soundtrack": (0.0, 0.0, 0.0), "film": (1.0, 1.0, 1.0)})
    plan_dataset(
        out=tmp_path / "out",
        lastfm_cache=muse_sources["lastfm_cache"],
        lexicon=lexicon,
        progress=False,
    )
    golden = _track(tmp_path / "out", *GOLDEN_TRACK)
    assert [golden.valence_tags, golden.arousal_tags, golden.dominance_tags] == pytest.approx(
        GOLDEN, abs=1e-9
    )
    audit = json.loads((tmp_path / "out" / "manifests" / "audit.json").read_text())
    genre_only = next(d for d in audit["dropped"] if d["track"] == "Credits Roll")
    assert (
        genre_only["stage"] == "tags"
        and "2 blacklisted, 1 not in the lexicon" in genre_only["reason"]
    )
    assert (
        audit["labels"]["blacklist"] == sorted(audit["labels"]["blacklist"])
        and "film" in audit["labels"]["blacklist"]
    )

    recipe = tmp_path / "recipe.toml"  # without the blacklist the genre tags count
    recipe.write_text(
        (Path(__file__).parents[3] / "manifests" / "muse-vad-v1" / "recipe.toml")
        .read_text()
        .replace('"film",', "")
        .replace('"soundtrack",', "")
    )
    plan_dataset(
        out=tmp_path / "counted",
        lastfm_cache=muse_sources["lastfm_cache"],
        lexicon=lexicon,
        recipe_path=recipe,
        progress=False,
    )
    counted = _track(tmp_path / "counted", *GOLDEN_TRACK)
    expected = (0.885 * 56 + 0.930 * 12 + 0.653 * 12 + 30) / (56 + 12 + 12 + 100 + 30)
    assert counted.valence_tags == pytest.approx(expected, abs=1e-12)


def test_a_warriner_lexicon_gives_labels_on_its_1_9_scale_and_records_it(
    muse_sources, tmp_path, offline
):
    path = write_warriner_lexicon(tmp_path / "Warriner.csv")
    out = tmp_path / "out"
    plan_dataset(out=out, lastfm_cache=muse_sources["lastfm_cache"], lexicon=path, progress=False)
    tracks = pd.read_parquet(out / "manifests" / "tracks.parquet")
    assert set(tracks.scale) == {"1-9"} and tracks.valence_tags.between(1, 9).all()
    golden = _track(out, *GOLDEN_TRACK)
    assert golden.valence_tags == pytest.approx(1 + 8 * GOLDEN[0], abs=1e-9)
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert audit["labels"]["scale"] == "1-9" and audit["labels"]["lexicon"]["format"] == "warriner"
    recipe = tomllib.loads((out / "manifests" / "recipe.toml").read_text())
    assert recipe["build"]["labels"]["lexicon"]["scale"] == "1-9"
    assert recipe["build"]["labels"]["lexicon"]["sha256"] == audit["labels"]["lexicon"]["sha256"]


def test_an_interrupted_collection_leaves_whole_lines_and_a_rerun_makes_only_the_missing_calls(
    muse_sources, tmp_path, offline
):
    recorded = CallCache(muse_sources["lastfm_cache"])
    answer = lastfm_responder(recorded)
    served = []

    def flaky(verb, path, query):  # the 7th call fails with 503 until the run is interrupted
        served.append(query)
        return (
            (503, {}, {"error": 16, "message": "try later"})
            if len(served) == 7
            else answer(verb, path, query)
        )

    def interrupt(seconds: float) -> None:
        if seconds >= 0.01:  # a backoff wait, not the rate limit's
            raise KeyboardInterrupt

    cache = tmp_path / "calls.jsonl"
    server = StubServer(flaky)
    try:
        with pytest.raises(KeyboardInterrupt):
            plan_dataset(
                out=tmp_path / "out",
                lastfm=_live_client(server, cache, sleep=interrupt),
                lexicon=muse_sources["lexicon"],
                progress=False,
            )
    finally:
        server.stop()
    data = cache.read_bytes()
    assert data.endswith(b"\n") and len(data.splitlines()) == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error", TornLineWarning)
        assert len(CallCache(cache)) == 6  # every line complete and well-formed
    assert not (tmp_path / "out" / "manifests").exists()  # nothing that looks like a plan

    server = StubServer(answer)
    try:
        plan_dataset(
            out=tmp_path / "out",
            lastfm=_live_client(server, cache),
            lexicon=muse_sources["lexicon"],
            progress=False,
        )
        assert len(server.hits) == len(recorded) - 6
    finally:
        server.stop()
    golden = _track(tmp_path / "out", *GOLDEN_TRACK)
    assert math.isclose(golden.valence_tags, GOLDEN[0], abs_tol=1e-9)


def test_spotify_linking_through_spotipy_on_127_0_0_1_records_what_a_replay_reads(
    muse_sources, tmp_path, offline
):
    server = StubServer(spotify_responder(CallCache(muse_sources["spotify_cache"])))
    cache = tmp_path / "spotify.jsonl"
    live = SpotifyReader(
        cache,
        client_id="stub-id",
        client_secret="stub-secret",
        api_prefix=f"{server.url}/v1/",
        token_url=f"{server.url}/api/token",
        retries=0,
    )
    common = {
        "lastfm_cache": muse_sources["lastfm_cache"],
        "lexicon": muse_sources["lexicon"],
        "audio": muse_sources["audio"],
        "progress": False,
    }
    try:
        plan_dataset(out=tmp_path / "live", spotify=live, **common)
        assert len(server.hits_to("/v1/search")) == 20  # every labelled track searched once
    finally:
        server.stop()
    plan_dataset(out=tmp_path / "replay", spotify_cache=cache, **common)
    for name in ("tracks.parquet", "frames.parquet", "audit.json"):
        assert (tmp_path / "replay" / "manifests" / name).read_bytes() == (
            tmp_path / "live" / "manifests" / name
        ).read_bytes()
    audit = json.loads((tmp_path / "live" / "manifests" / "audit.json").read_text())
    assert audit["stages"]["linked"] == 19


def test_the_order_last_fm_lists_the_tracks_in_changes_no_manifest_byte(
    muse_sources, tmp_path, offline
):
    tracks = [RecordedLastfmTrack(t.artist, t.title, t.tags) for t in demo_tracks(0, **SMALL)]
    outs = []
    for name, listing in (("listed", tracks), ("reversed", tracks[::-1])):
        cache = tmp_path / f"{name}.jsonl"
        write_demo_lastfm_cache(cache, listing, "soundtrack", per_page=7)
        outs.append(tmp_path / name)
        plan_dataset(
            out=outs[-1],
            lastfm_cache=cache,
            lexicon=muse_sources["lexicon"],
            spotify_cache=muse_sources["spotify_cache"],
            audio=muse_sources["audio"],
            progress=False,
        )
    for name in (
        "tracks.parquet",
        "frames.parquet",
        "sources.parquet",
        "audit.json",
        "recipe.toml",
    ):
        assert (outs[0] / "manifests" / name).read_bytes() == (
            outs[1] / "manifests" / name
        ).read_bytes()


# --- a recorded Last.fm error is no answer (issue 28, defect 5) ------------------------------


def _rate_limited(sources: dict[str, Path], cache: Path) -> None:
    """The cache with the golden track's top tags recorded as Last.fm's rate-limit error."""
    lines = []
    for line in sources["lastfm_cache"].read_text().splitlines(keepends=True):
        record = json.loads(line)
        if record["params"] == {"artist": GOLDEN_TRACK[0], "track": GOLDEN_TRACK[1]}:
            record["response"] = {"error": 29, "message": "Rate Limit Exceeded"}
            line = json.dumps(record) + "\n"
        lines.append(line)
    cache.write_text("".join(lines))


def test_a_recorded_rate_limit_without_a_key_is_reported_as_not_answered(
    muse_sources, tmp_path, offline, capsys
):
    cache = tmp_path / "calls.jsonl"
    _rate_limited(muse_sources, cache)
    out = tmp_path / "out"
    args = ["--lastfm-cache", str(cache), "--lexicon", str(muse_sources["lexicon"])]
    assert main(["muse-vad", "plan", *args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "not answered: 1 track(s)" in printed and "LASTFM_API_KEY" in printed
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert audit["not_answered"] == 1
    (dropped,) = [d for d in audit["dropped"] if d["track"] == GOLDEN_TRACK[1]]
    assert dropped["reason"].startswith("not answered by Last.fm track.getTopTags: error 29")
    assert "set LASTFM_API_KEY to ask again" in dropped["reason"]
    found = next(d for d in audit["dropped"] if "Track not found" in d["reason"])
    assert found["reason"] == "Last.fm track.getTopTags: error 6: Track not found"  # an answer


def test_a_recorded_rate_limit_is_asked_again_with_a_key_and_the_answer_recorded(
    muse_sources, tmp_path, offline
):
    cache = tmp_path / "calls.jsonl"
    _rate_limited(muse_sources, cache)
    server = StubServer(lastfm_responder(CallCache(muse_sources["lastfm_cache"])))
    try:
        _plan_live(server, cache, muse_sources, tmp_path / "live")
        assert [h.query["track"] for h in server.hits] == [GOLDEN_TRACK[1]]
    finally:
        server.stop()
    golden = _track(tmp_path / "live", *GOLDEN_TRACK)
    assert golden.valence_tags == pytest.approx(GOLDEN[0], abs=1e-9)
    plan_dataset(
        out=tmp_path / "replay", lastfm_cache=cache, lexicon=muse_sources["lexicon"], progress=False
    )
    for name in ("tracks.parquet", "audit.json"):
        assert (tmp_path / "replay" / "manifests" / name).read_bytes() == (
            tmp_path / "live" / "manifests" / name
        ).read_bytes()
