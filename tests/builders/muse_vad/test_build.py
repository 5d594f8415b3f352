"""A tags-mode build of the small demo: manifests, frames, folds, dataset, determinism, resume."""

from __future__ import annotations

import io
import json
import shutil

import datasets
import pandas as pd
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from builders.cli import main
from builders.common import audio
from builders.muse_vad.collect import LABELS
from builders.muse_vad.folds import artist_keys
from builders.muse_vad.plan import plan_dataset
from builders.muse_vad.recipe import DEFAULT_RECIPE
from builders.muse_vad.render import render_dataset
from tests.clips import clip_ids, clip_ref, flip_byte

from .conftest import build, tags_mode

MANIFESTS = ("tracks.parquet", "frames.parquet", "sources.parquet", "audit.json", "recipe.toml")


def _manifest(out, name: str) -> pd.DataFrame:
    return pd.read_parquet(out / "manifests" / name)


def test_manifests_have_the_documented_columns(built):
    tracks, frames, sources = (
        _manifest(built, n) for n in ("tracks.parquet", "frames.parquet", "sources.parquet")
    )
    for column in (
        "track_id",
        "track",
        "artist",
        "spotify_id",
        "mbid",
        "duration_s",
        "weighted_mood",
        "n_tags",
        *LABELS,
        "scale",
        "fold",
    ):
        assert column in tracks.columns
    assert list(frames.columns[:6]) == [
        "frame_id",
        "track_id",
        "source_id",
        "start_s",
        "duration_s",
        "fold",
    ]
    assert {*LABELS, "audio_sha256"} <= set(frames.columns) and frames.audio_sha256.str.len().eq(
        64
    ).all()
    assert list(sources.columns) == [
        "source_id",
        "corpus",
        "path",
        "sha256",
        "size_bytes",
        "frames",
        "sample_rate",
        "channels",
        "duration_s",
    ]
    assert not sources.path.str.startswith("/").any() and set(sources.corpus) == {"audio"}
    assert sources.source_id.is_unique and set(sources.source_id) == set(tracks.source_id)


def test_the_audit_counts_every_stage_and_names_every_left_out_track(built):
    audit = json.loads((built / "manifests" / "audit.json").read_text())
    n = len(_manifest(built, "tracks.parquet"))
    # 16 tracks + golden + 5 made to drop: not on Last.fm, genre tags only, not on Spotify,
    # no audio file, shorter than a frame
    assert audit["stages"] == {
        "collected": 22,
        "with_lexicon_tags": 20,
        "linked": 19,
        "with_audio": 18,
        "with_frames": 17,
    }
    assert n == 17 and audit["duplicate_listings"] == 1
    reasons = {(d["track"], d["stage"]): d["reason"] for d in audit["dropped"]}
    assert reasons[("Lost Reel", "tags")] == "Last.fm track.getTopTags: error 6: Track not found"
    assert reasons[("Unreleased Cue", "linking")] == "no Spotify search results"
    assert reasons[("Missing Take", "audio")].startswith("no audio file ")
    assert reasons[("Sting", "frames")] == "audio of 9.50 s is shorter than one 15 s frame"
    assert "Credits Roll" in {track for track, _ in reasons}
    assert audit["leakage"] == {
        "artists_in_several_folds": 0,
        "artist_groups_in_several_folds": 0,
        "audio_files_in_several_folds": 0,
    }


def test_frames_cover_whole_spans_and_share_their_tracks_labels_and_fold(built):
    tracks = _manifest(built, "tracks.parquet").set_index("track_id")
    frames = _manifest(built, "frames.parquet")
    joined = frames.join(tracks, on="track_id", rsuffix="_track")
    for column in (*LABELS, "fold", "scale"):
        assert (joined[column] == joined[f"{column}_track"]).all(), column
    assert (frames.groupby("track_id").size() == tracks.n_frames).all()
    assert (joined.start_s + joined.duration_s <= joined.duration_s_track + 1e-9).all()
    last = joined.groupby("track_id").start_s.max() + 15.0
    assert (
        tracks.duration_s - last < 15.0
    ).all()  # only a remainder shorter than a frame is dropped
    assert set(frames.start_s) <= {0.0, 15.0, 30.0}


def test_no_artist_spans_folds_and_every_fold_is_used(built):
    tracks = _manifest(built, "tracks.parquet")
    credits = [
        (key, fold)
        for artist, fold in zip(tracks.artist, tracks.fold)
        for key in artist_keys(artist)
    ]
    folds_of: dict[str, set] = {}
    for key, fold in credits:
        folds_of.setdefault(key, set()).add(fold)
    assert all(len(f) == 1 for f in folds_of.values())
    assert sorted(tracks.fold.unique()) == [1, 2, 3, 4, 5, 6]
    # the collaboration joins its two artists into one group
    duo = tracks[tracks.artist.str.contains(" & ")].iloc[0]
    assert (
        len(
            set(
                tracks[tracks.artist_group == duo.artist_group].artist.map(
                    lambda a: a.split(" & ")[0]
                )
            )
        )
        >= 2
    )


def test_load_dataset_frames_and_tracks(built):
    cache = str(built) + "-hf-cache"
    frames = datasets.load_dataset(str(built), "frames", cache_dir=cache)
    assert sorted(frames) == [f"fold{k}" for k in range(1, 7)]
    manifest = _manifest(built, "frames.parquet").set_index("frame_id")
    fold = frames["fold1"].with_format("arrow")[:]
    assert fold.column("id").to_pylist() == sorted(manifest.index[manifest.fold == 1])
    clip = fold.column("audio")[0].as_py()
    pcm, rate = sf.read(io.BytesIO(clip["bytes"]), dtype="int16", always_2d=True)
    assert (rate, pcm.shape) == (16000, (15 * 16000, 1))
    assert audio.pcm_sha256(pcm) == manifest.loc[fold.column("id")[0].as_py(), "audio_sha256"]
    tracks = datasets.load_dataset(str(built), "tracks", cache_dir=cache)
    assert sum(tracks[s].num_rows for s in tracks) == len(_manifest(built, "tracks.parquet"))
    assert "audio" not in tracks["fold1"].column_names
    cv = datasets.load_dataset(str(built), "frames-cv2", cache_dir=cache)
    assert cv["test"].num_rows == int((manifest.fold == 2).sum())


def test_one_or_two_workers_give_byte_identical_manifests_and_the_same_digest(built, built_twice):
    for name in MANIFESTS:
        assert (built / "manifests" / name).read_bytes() == (
            built_twice / "manifests" / name
        ).read_bytes(), name
    assert (built / "digest.txt").read_text() == (built_twice / "digest.txt").read_text()
    assert main(["verify", str(built), "--against", str(built_twice)]) == 0


def test_the_card_records_lexicon_scale_blacklist_formula_and_counts(built):
    card = (built / "README.md").read_text()
    audit = json.loads((built / "manifests" / "audit.json").read_text())
    assert audit["labels"]["lexicon"]["sha256"] in card
    assert "scale: `[0,1]`" in card and "VAD = sum_t count_t * lex(t) / sum_t count_t" in card
    assert "Blacklisted tags: alternative, blue, composer" in card
    assert "| with lexicon tags | 20 |" in card and "| frames |" in card and "| tracks |" in card


def test_the_solution_matches_the_benchmark_task(built):
    from benchmark.io import read_solution
    from benchmark.tasks import get_task

    solution = read_solution(built / "solutions" / "muse-vad.parquet", get_task("muse-vad"))
    frames = _manifest(built, "frames.parquet").set_index("frame_id")
    assert list(solution.id) == sorted(frames.index) and set(solution.scale) == {"[0,1]"}
    assert (solution.set_index("id").valence == frames.valence_tags).all()
    assert set(pq.read_schema(built / "solutions" / "muse-vad.parquet").names) == {
        "id",
        "fold",
        "valence",
        "arousal",
        "dominance",
        "scale",
        "group",
    }


def test_a_replan_keeps_the_checksums_and_a_render_resumes(built, muse_sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    before = (out / "manifests" / "frames.parquet").read_bytes()
    plan_dataset(out=out, **tags_mode(muse_sources))
    assert (out / "manifests" / "frames.parquet").read_bytes() == before
    for frame_id in clip_ids(out, "frames")[:3]:
        flip_byte(out / "audio" / "frames" / f"{frame_id}.flac")
    summary = render_dataset(out, progress=False)
    assert (summary.rendered, summary.resumed) == (3, summary.count - 3)
    assert summary.digests.text == (built / "digest.txt").read_text()


def test_recipe_values_are_honoured(muse_sources, tmp_path):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text()
        .replace("sample_rate = 16000", "sample_rate = 22050")
        .replace("channels = 1", "channels = 2")
        .replace('format = "flac"', 'format = "wav"')
        .replace("n_folds = 6", "n_folds = 3")
        .replace("frame_s = 15.0", "frame_s = 20.0")
    )
    out = tmp_path / "out"
    plan_dataset(out=out, recipe_path=recipe, **tags_mode(muse_sources))
    render_dataset(out, progress=False)
    frames = _manifest(out, "frames.parquet")
    assert set(frames.duration_s) == {20.0} and set(frames.fold) == {1, 2, 3}
    clip = clip_ref(out / "audio" / "frames" / f"{clip_ids(out, 'frames', '.wav')[0]}.wav")
    info = sf.info(clip.open())
    assert (info.samplerate, info.channels, info.frames) == (22050, 2, 20 * 22050)
    assert "22.05 kHz stereo 16-bit WAV; 3 folds" in (out / "README.md").read_text()


@pytest.mark.parametrize("frame_s", ["30"])
def test_the_command_line_frame_length_overrides_the_recipe(muse_sources, tmp_path, frame_s):
    out = tmp_path / "out"
    assert (
        main(
            [
                "muse-vad",
                "plan",
                "--lastfm-cache",
                str(muse_sources["lastfm_cache"]),
                "--lexicon",
                str(muse_sources["lexicon"]),
                "--spotify-cache",
                str(muse_sources["spotify_cache"]),
                "--audio",
                str(muse_sources["audio"]),
                "--out",
                str(out),
                "--frame-s",
                frame_s,
            ]
        )
        == 0
    )
    frames = _manifest(out, "frames.parquet")
    assert set(frames.start_s) == {0.0} and set(frames.duration_s) == {30.0}
    assert "frame_s = 30.0" in (out / "manifests" / "recipe.toml").read_text()


def test_a_plan_without_audio_has_tracks_and_folds_but_nothing_to_render(
    muse_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    plan_dataset(out=out, **tags_mode(muse_sources, audio=None))
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert audit["stages"]["with_audio"] is None and audit["stages"]["linked"] == 19
    assert (
        len(_manifest(out, "frames.parquet")) == 0
        and _manifest(out, "tracks.parquet").fold.notna().all()
    )
    assert main(["muse-vad", "render", str(out)]) == 2
    assert "made without audio" in capsys.readouterr().err


def test_rendering_a_finished_build_again_renders_nothing(built, muse_sources, tmp_path):
    out = build(muse_sources, tmp_path / "out", 1)
    summary = render_dataset(out, progress=False)
    assert summary.rendered == 0 and summary.digests.text == (built / "digest.txt").read_text()


def test_render_finds_moved_audio_through_root(built, muse_sources, tmp_path):
    out, moved = tmp_path / "out", tmp_path / "elsewhere"
    shutil.copytree(built, out)
    shutil.copytree(muse_sources["audio"], moved)
    (out / "build-state.json").write_text('{"roots": {"audio": "%s"}}' % (tmp_path / "gone"))
    flip_byte(out / "audio" / "frames" / f"{clip_ids(out, 'frames')[0]}.flac")
    assert main(["muse-vad", "render", str(out), "--root", f"audio={moved}"]) == 0
    assert (out / "digest.txt").read_text() == (built / "digest.txt").read_text()


def test_a_replan_with_another_frame_length_leaves_only_its_frames(built, muse_sources, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    # another plan over a rendered build: refused without force (issue 28, defect 2)
    plan_dataset(out=out, frame_s=30.0, force=True, **tags_mode(muse_sources))
    render_dataset(out, progress=False)
    frames = _manifest(out, "frames.parquet")
    clips = clip_ids(out, "frames")
    assert clips == sorted(frames.frame_id) and set(frames.duration_s) == {30.0}
    assert not list((out / "audio" / "frames").glob("*.flac"))
    assert sorted(p.stem for p in (out / "audio" / "frames").glob("*.json")) == clips


def test_a_render_on_ray_gives_the_local_engine_s_bytes(built, ray_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")
    out = tmp_path / "out"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("audio", "data", "digest.txt"))
    assert main(["muse-vad", "render", str(out), "--engine", "ray", "--workers", "2"]) == 0
    assert (out / "digest.txt").read_text() == (built / "digest.txt").read_text()
    for name in ("frames.parquet", "tracks.parquet"):
        assert (out / "manifests" / name).read_bytes() == (built / "manifests" / name).read_bytes()


def test_an_interrupted_render_leaves_only_staged_parts_and_resumes_from_them(
    built, muse_sources, tmp_path, monkeypatch
):
    from builders import excerpts
    from builders.errors import UserError

    monkeypatch.setattr(excerpts, "MAX_EXCERPTS", 2)  # many parts: some finish before the failure
    out = tmp_path / "out"
    plan_dataset(out=out, **tags_mode(muse_sources))
    frames = sorted(_manifest(out, "frames.parquet").frame_id)
    victim = frames[len(frames) // 2]
    real = excerpts.cut_excerpt

    def failing(unit, sources=None):
        if unit.clip_id == victim:
            raise OSError(5, "Input/output error", "interrupted")
        return real(unit, sources)

    monkeypatch.setattr(excerpts, "cut_excerpt", failing)
    with pytest.raises(UserError, match="Input/output error"):
        render_dataset(out, progress=False)
    staged = [json.loads(p.read_text()) for p in (out / "data" / ".staged").glob("*/*.clips.json")]
    done = sum(len(index["frames"]) for index in staged)
    assert 0 < done < len(frames) and not (out / "digest.txt").exists()
    assert [p.name for p in (out / "data").iterdir()] == [".staged"]  # no config published
    assert "audio_sha256" not in pq.read_schema(out / "manifests" / "frames.parquet").names
    monkeypatch.setattr(excerpts, "cut_excerpt", real)
    summary = render_dataset(out, progress=False)
    assert (summary.resumed, summary.rendered) == (done, len(frames) - done)
    assert summary.digests.text == (built / "digest.txt").read_text()
    assert not (out / "data" / ".staged").exists()
