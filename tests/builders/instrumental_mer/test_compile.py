"""Mode (b): the dataset compiled from the demo's raw DEAM, Soundtracks and EMOPIA."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from builders.cli import main
from builders.common.call_cache import CallCache
from builders.corpora.deam_dynamic import find_deam_dynamic, read_deam_dynamic
from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_tables import read_review_list
from builders.demo.instrumental_deam import (
    SPOTIFY_NOT_FOUND,
    SPOTIFY_POOR_MATCH,
    SPOTIFY_VOCAL,
    deam_songs,
    kept_songs,
)
from builders.errors import UserError
from builders.instrumental_mer.compile import compile_selection
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import Screening, plan_dataset
from builders.instrumental_mer.recipe import load_recipe
from builders.instrumental_mer.spans import choose_per_song

from ..corpora.stub_http import StubServer, spotify_responder
from .conftest import TEST_SIZE

# Segments the rule must find for each designed pattern (builders.demo.instrumental_deam),
# for songs with 5 and with 4 complete windows.
EXPECTED = {
    (0, 5): [(15.0, 30.0), (30.0, 40.0)],
    (0, 4): [(15.0, 30.0)],
    (1, 5): [(20.0, 35.0)],
    (1, 4): [(20.0, 35.0)],
    (2, 5): [(15.0, 25.0), (25.0, 40.0)],
    (2, 4): [(15.0, 25.0), (25.0, 35.0)],
    (3, 5): [(15.0, 30.0), (30.0, 40.0)],
    (3, 4): [(15.0, 30.0)],
}


@pytest.fixture(scope="module")
def compiled(demo_run):
    build = demo_run["build"]
    clips = pd.read_parquet(build / "manifests" / "clips.parquet")
    audit = json.loads((build / "manifests" / "audit.json").read_text())
    return clips, audit, build


def test_deam_clips_are_exactly_the_segments_of_the_rule(compiled, demo_run):
    clips, _, _ = compiled
    deam = clips[clips["corpus"] == "deam"]
    dynamic = read_deam_dynamic(*find_deam_dynamic(demo_run["sources"]["deam"]))
    for song in kept_songs(deam_songs(0, TEST_SIZE["n_deam"])):
        windows = int((song.duration_s - 15.0) / 0.5 + 1e-9) // 10
        found = deam[deam["song_id"] == str(song.song_id)].sort_values("start_s")
        spans = [(s, round(s + d, 6)) for s, d in zip(found["start_s"], found["duration_s"])]
        assert spans == EXPECTED[(song.pattern, windows)], song
        assert list(found["clip_id"]) == [f"d_{song.song_id}_{n}" for n in range(1, len(spans) + 1)]
        ratings = dynamic.song(str(song.song_id))
        for (start, end), valence, arousal in zip(spans, found["valence"], found["arousal"]):
            inside = (ratings.times_s >= start) & (ratings.times_s < end)
            assert valence == pytest.approx(ratings.valence[inside].mean(), abs=1e-12)
            assert arousal == pytest.approx(ratings.arousal[inside].mean(), abs=1e-12)


def test_screening_spotify_then_the_review_list(compiled):
    _, audit, build = compiled
    songs = deam_songs(0, TEST_SIZE["n_deam"])
    decisions = pd.read_parquet(build / "manifests" / "screening.parquet").set_index("song_id")
    by_index = {i: decisions.loc[str(s.song_id)] for i, s in enumerate(songs)}
    assert (
        not by_index[SPOTIFY_VOCAL]["keep"]
        and "instrumentalness 0.080 < 0.50" in by_index[SPOTIFY_VOCAL]["reason"]
    )
    assert (
        not by_index[SPOTIFY_POOR_MATCH]["keep"]
        and by_index[SPOTIFY_POOR_MATCH]["decided_by"] == "spotify"
    )
    assert (
        by_index[SPOTIFY_NOT_FOUND]["keep"]
        and by_index[SPOTIFY_NOT_FOUND]["decided_by"] == "review"
    )
    assert not by_index[0]["keep"] and by_index[0]["decided_by"] == "review"  # listened: vocals
    assert by_index[1]["keep"] and by_index[1]["instrumentalness"] == 0.9
    assert audit["screening"]["kept"] == len(kept_songs(songs)) == int(decisions["keep"].sum())


def test_soundtracks_keep_one_clip_per_distinct_excerpt(compiled):
    clips, audit, _ = compiled
    pairs = audit["soundtracks_pairs"]
    left_out = [p["left_out"] for p in pairs if p["left_out"]]
    assert len(left_out) == 2 and not set(left_out) & set(clips["clip_id"])
    assert all(p["kept"] in set(clips["clip_id"]) for p in pairs)
    (lonely,) = [p for p in pairs if not p["left_out"]]
    assert "has no audio or rating" in lonely["note"] and lonely["kept"].startswith("s_2_")
    short = [s for s in audit["skipped"] if s["reason"].startswith("shorter than 10 s")]
    assert len(short) == 1 and short[0]["corpus"] == "soundtracks"
    rated = clips[clips["corpus"] != "emopia"]
    assert rated["valence"].between(-1, 1).all() and rated["arousal"].between(-1, 1).all()


def test_emopia_at_most_five_clips_per_video_seeded_and_stored(compiled):
    clips, audit, _ = compiled
    emopia = clips[clips["corpus"] == "emopia"]
    assert emopia["song_id"].value_counts().max() == 5
    (choice,) = audit["emopia_clips_not_chosen"]
    assert len(choice["left_out"]) == 2 and set(choice["kept"]) <= set(emopia["clip_id"])
    assert emopia["valence"].isna().all() and emopia["artist"].isna().all()
    assert (emopia["duration_s"] == 15.0).all()
    (relabel,) = audit["relabelled"]  # an audio file named with another version's quadrant
    assert "found as Q1" in relabel["note"]


def test_choose_per_song_depends_on_seed_and_ids_only():
    rows = [
        {"clip_id": f"e_Q1_abcdefghijk_{n}.mp3", "corpus": "emopia", "song_id": "abcdefghijk"}
        for n in range(9)
    ] + [{"clip_id": "d_1_1", "corpus": "deam", "song_id": "1"}]
    frame = pd.DataFrame(rows)
    kept, report = choose_per_song(frame, "emopia", 5, seed=7)
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again, _ = choose_per_song(shuffled, "emopia", 5, seed=7)
    assert sorted(kept["clip_id"]) == sorted(again["clip_id"])
    assert len(kept) == 6 and "d_1_1" in set(kept["clip_id"])
    other = {
        tuple(sorted(choose_per_song(frame, "emopia", 5, seed=s)[1][0]["kept"])) for s in range(6)
    }
    assert len(other) > 1
    assert report[0]["song_id"] == "abcdefghijk" and len(report[0]["left_out"]) == 4


def test_folds_of_the_compiled_build(compiled):
    clips, audit, _ = compiled
    assert audit["leaks"] == {
        "artists_in_several_folds": 0,
        "songs_in_several_folds": 0,
        "videos_in_several_folds": 0,
    }
    assert sorted(clips["fold"].unique()) == [1, 2, 3, 4, 5, 6]
    groups = clips.groupby("fold_group")["fold"].nunique()
    assert (groups == 1).all()
    # "Björk Demo" and "bjork demo" are one artist
    bjork = clips[clips["artist"].str.lower().str.replace("ö", "o").str.strip() == "bjork demo"]
    assert bjork["artist"].nunique() == 2 and bjork["fold"].nunique() == 1


def test_screen_alone_is_the_selection(demo_run):
    sources = demo_run["sources"]
    selection = compile_selection(
        {"deam": sources["deam"]}, load_recipe()[0], review=read_review_list(sources["screen"])
    )
    songs = deam_songs(0, TEST_SIZE["n_deam"])
    assert set(selection.songs) == {f"deam-{songs[SPOTIFY_NOT_FOUND].song_id}"}
    assert selection.screening["decided_by"].tolist().count("unscreened") == len(songs) - 2
    assert selection.report["screening"]["spotify"] is False


def _deam_copy(demo_run, tmp_path) -> Path:
    root = tmp_path / "DEAM"
    shutil.copytree(demo_run["sources"]["deam"], root)
    return root


def _edit_dynamic(root: Path, name: str, edit) -> Path:
    path = next(root.rglob(name))
    lines = path.read_text().splitlines()
    lines[2] = edit(lines[2])
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda line: line + ",0.1,0.2",
            r"line 3 \(song \d+\): \d+ cells, but the header has \d+ columns",
        ),
        (
            lambda line: line.replace(line.split(",")[3], "1.5", 1),
            r"line 3 \(song \d+\): column sample_16000ms is 1.5, outside \[-1, 1\]",
        ),
    ],
)
def test_bad_dynamic_annotations_are_one_line_errors_and_leave_no_manifests(
    demo_run, tmp_path, capsys, edit, message
):
    root = _deam_copy(demo_run, tmp_path)
    path = _edit_dynamic(root, "valence.csv", edit)
    out = tmp_path / "out"
    assert main(["instrumental-mer", "plan", "--deam", str(root), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(path) in error
    assert re.search(message, error), error
    assert not (out / "manifests").exists()


def test_a_corrupt_spotify_cache_line_is_a_one_line_error(demo_run, tmp_path, capsys):
    cache = tmp_path / "cache.jsonl"
    lines = demo_run["sources"]["spotify_cache"].read_text().splitlines()
    lines[1] = lines[1][: len(lines[1]) // 2]
    cache.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    code = main(
        [
            "instrumental-mer",
            "plan",
            "--deam",
            str(demo_run["sources"]["deam"]),
            "--spotify-cache",
            str(cache),
            "--out",
            str(out),
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert f"{cache}, line 2: corrupt call cache line" in error
    assert not (out / "manifests").exists()


def test_live_screening_with_the_real_spotipy_client_against_recorded_answers(
    demo_run, tmp_path, monkeypatch
):
    """Credentials, an empty cache: spotipy asks the stub, answers are recorded, a replay agrees."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    sources, recipe = demo_run["sources"], load_recipe()[0]
    review = read_review_list(sources["screen"])
    stub = StubServer(spotify_responder(CallCache(sources["spotify_cache"])))
    cache = tmp_path / "fresh.jsonl"
    try:
        reader = SpotifyReader(
            cache,
            client_id="stub-id",
            client_secret="stub-secret",
            api_prefix=f"{stub.url}/v1/",
            token_url=f"{stub.url}/api/token",
            retries=1,
            backoff_factor=0.01,
        )
        live = compile_selection({"deam": sources["deam"]}, recipe, spotify=reader, review=review)
        assert (
            len(stub.hits_to("/v1/search")) == TEST_SIZE["n_deam"] - 2
        )  # reviewed songs are not asked
        assert len(stub.hits_to("/api/token")) == 1
    finally:
        stub.stop()
    replay = compile_selection(
        {"deam": sources["deam"]}, recipe, spotify=SpotifyReader(cache), review=review
    )
    assert live.screening.equals(replay.screening) and set(live.songs) == set(replay.songs)
    assert set(cache.read_bytes().splitlines()) <= set(
        sources["spotify_cache"].read_bytes().splitlines()
    )
    compiled = pd.read_parquet(demo_run["build"] / "manifests" / "screening.parquet")
    assert live.screening.astype(compiled.dtypes.to_dict()).equals(compiled)


def test_no_corpus_and_screening_without_deam_are_user_errors(demo_run, tmp_path):
    sources = demo_run["sources"]
    with pytest.raises(UserError, match="give at least one corpus"):
        plan_dataset(roots=SourceRoots(), out=tmp_path / "a", progress=False)
    with pytest.raises(UserError, match="screen DEAM songs: give --deam"):
        plan_dataset(
            roots=SourceRoots(emopia=sources["emopia"]),
            out=tmp_path / "b",
            screening=Screening(review=read_review_list(sources["screen"])),
            progress=False,
        )


# --- no silent drops (issue 28, defect 4) ----------------------------------------------------


def _with_demo_corpora(demo_run, deam: Path) -> SourceRoots:
    """``deam`` with the demo's Soundtracks and EMOPIA (DEAM alone is too few for 6 folds)."""
    sources = demo_run["sources"]
    return SourceRoots(deam, sources["soundtracks"], sources["emopia"])


def _kept_deam_song(demo_run) -> int:
    return kept_songs(deam_songs(0, TEST_SIZE["n_deam"]))[0].song_id


def test_a_deam_song_whose_audio_ends_before_its_first_window_is_in_the_audit(demo_run, tmp_path):
    """Audio 18 s, annotations from 15 s: no complete 5-s window pair, the song is reported."""
    root = _deam_copy(demo_run, tmp_path)
    song = _kept_deam_song(demo_run)
    (audio,) = (root / "MEMD_audio").glob(f"{song}.*")
    audio.unlink()
    noise = np.random.default_rng(0).standard_normal(18 * 1000).astype("float32") * 0.1
    sf.write(root / "MEMD_audio" / f"{song}.wav", noise, 1000)
    roots = _with_demo_corpora(demo_run, root)
    plan = plan_dataset(roots=roots, out=tmp_path / "out", progress=False)
    assert not plan.clips["song_id"].eq(str(song)).any()
    (skip,) = [s for s in plan.audit["skipped"] if s["item"] == f"song {song}"]
    assert skip["corpus"] == "deam"
    assert "0 complete 5-s window(s) of ratings from 15 s end within the audio" in skip["reason"]
    assert "18.000 s long" in skip["reason"]


def test_deam_audio_without_annotations_is_in_the_audit(demo_run, tmp_path):
    root = _deam_copy(demo_run, tmp_path)
    sf.write(root / "MEMD_audio" / "77777.wav", np.zeros(60 * 1000, "float32"), 1000)
    selection = compile_selection({"deam": root}, load_recipe()[0])
    assert (
        "deam",
        "audio",
        "1 audio files have no dynamic annotations (e.g. MEMD_audio/77777.wav)",
    ) in (selection.skipped)


def test_strict_makes_missing_audio_fatal_in_compile_mode(demo_run, tmp_path):
    root = _deam_copy(demo_run, tmp_path)
    song = _kept_deam_song(demo_run)
    (audio,) = (root / "MEMD_audio").glob(f"{song}.*")
    audio.unlink()
    roots = _with_demo_corpora(demo_run, root)
    plan = plan_dataset(roots=roots, out=tmp_path / "lenient", progress=False)
    (skip,) = [s for s in plan.audit["skipped"] if s["item"] == "dynamic annotations"]
    assert f"annotated songs have no audio file (e.g. {song}" in skip["reason"]
    with pytest.raises(UserError, match=r"missing or unusable \(--strict\), first: deam dynamic"):
        plan_dataset(roots=roots, out=tmp_path / "strict", strict=True, progress=False)
    assert not (tmp_path / "strict" / "manifests").exists()
