"""Mode (a): the thesis's dataset from its tracklists (the real ones and the demo's)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from builders.errors import UserError
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import plan_dataset
from builders.instrumental_mer.tracklists import select_from_tracklists

from .conftest import demo_roots

TABLE_4_3 = {"Q1": 437, "Q2": 384, "Q3": 385, "Q4": 404}
PER_CORPUS = {"deam": 377, "emopia": 868, "soundtracks": 365}


@pytest.fixture(scope="module")
def thesis_plan(thesis_audio, tmp_path_factory):
    roots = SourceRoots(thesis_audio["deam"], thesis_audio["soundtracks"], thesis_audio["emopia"])
    out = tmp_path_factory.mktemp("thesis-build")
    return plan_dataset(
        roots=roots, out=out, tracklists=thesis_audio["tracklists"], workers=2, progress=False
    ), out


def test_reference_tracklists_reproduce_table_4_3(thesis_plan):
    plan, out = thesis_plan
    clips = plan.clips
    assert len(clips) == 1610
    assert clips["quadrant"].value_counts().to_dict() == TABLE_4_3
    assert clips["corpus"].value_counts().to_dict() == PER_CORPUS
    counts = json.loads((out / "manifests" / "audit.json").read_text())["counts"]
    assert counts["by_quadrant"] == TABLE_4_3
    assert {c: sum(q.values()) for c, q in counts["by_corpus_quadrant"].items()} == PER_CORPUS
    assert counts["by_corpus_quadrant"]["deam"] == {"Q1": 176, "Q2": 37, "Q3": 101, "Q4": 63}


def test_clip_d_4_1_is_the_thesis_slice_and_label(thesis_plan):
    clip = thesis_plan[0].clips.set_index("clip_id").loc["d_4_1"]
    assert (clip["start_s"], clip["duration_s"]) == (15.0, 10.0)
    assert (clip["valence"], clip["arousal"], clip["quadrant"]) == (0.1188, 0.1766, "Q1")
    assert clip["source_path"] == "MEMD_audio/4.wav" and clip["artist"] == "Kevin MacLeod"


def test_ids_are_the_split_files_and_middles_are_at_most_15_s(thesis_plan):
    plan, _ = thesis_plan
    assert plan.audit["thesis_split"]["n_only_in_tracklists"] == 0
    assert plan.audit["thesis_split"]["n_only_in_split_file"] == 0
    middles = plan.clips[plan.clips["corpus"] != "deam"]
    sources = plan.sources.set_index("source_id")["duration_s"]
    length = middles["source_id"].map(sources)
    assert (middles["duration_s"] == length.clip(upper=15.0)).all()  # 16 s -> 15 s, 14 s -> 14 s
    assert ((middles["start_s"] - (length - middles["duration_s"]) / 2).abs() <= 1e-3).all()


def test_emopia_relabelled_clips_are_found_and_reported(thesis_plan):
    plan, _ = thesis_plan
    relabelled = plan.audit["relabelled"]
    assert len(relabelled) == 19
    assert all("wanted as Q4, found as Q3" in r["note"] for r in relabelled)
    clip = plan.clips.set_index("clip_id").loc[relabelled[0]["clip_id"]]
    assert clip["quadrant"] == "Q4" and clip["source_id"].startswith(
        "emopia-Q3_"
    )  # the thesis's label


def test_folds_are_artist_song_and_video_independent_and_stratified(thesis_plan):
    plan, _ = thesis_plan
    assert plan.audit["leaks"] == {
        "artists_in_several_folds": 0,
        "songs_in_several_folds": 0,
        "videos_in_several_folds": 0,
    }
    clips = plan.clips
    assert (clips.groupby("artist")["fold"].nunique() == 1).all()
    assert (clips.groupby(["corpus", "song_id"])["fold"].nunique() == 1).all()
    overall = clips["quadrant"].value_counts(normalize=True)
    per_fold = clips.groupby("fold")["quadrant"].value_counts(normalize=True).unstack()
    assert ((per_fold - overall).abs() <= 0.03).all().all()
    sizes = clips["fold"].value_counts()
    assert sorted(sizes.index) == [1, 2, 3, 4, 5, 6] and sizes.max() / sizes.min() < 1.25


def test_linked_soundtracks_pairs_share_a_fold(thesis_plan):
    plan, _ = thesis_plan
    pairs = plan.audit["soundtracks_pairs"]
    assert len(pairs) == 5
    fold = plan.clips.set_index("clip_id")["fold"]
    assert all(fold[p["set1"]] == fold[p["set2"]] for p in pairs)


def test_possible_cross_corpus_duplicates_are_flagged(thesis_plan):
    flagged = thesis_plan[0].audit["possible_duplicates"]
    assert flagged and all(f["a"].split(":")[0] != f["b"].split(":")[0] for f in flagged)
    assert all(f["overlap"] >= 0.66 for f in flagged)


# --- the demo's tracklists -------------------------------------------------------------------


def test_demo_tracklists_give_the_compiled_deam_clips(demo_run):
    """The demo's DEAM tracklist was made with the rule: mode (a) and (b) agree on DEAM."""
    root = demo_run["root"]
    tracklists = pd.read_parquet(
        root / "instrumental-build-tracklists" / "manifests" / "clips.parquet"
    )
    compiled = pd.read_parquet(demo_run["build"] / "manifests" / "clips.parquet")
    columns = ["clip_id", "start_s", "duration_s"]
    a = tracklists.loc[tracklists["corpus"] == "deam", columns].reset_index(drop=True)
    b = compiled.loc[compiled["corpus"] == "deam", columns].reset_index(drop=True)
    assert len(a) >= 10 and a.equals(b)
    labels = compiled.set_index("clip_id").loc[a["clip_id"], ["valence", "arousal"]].to_numpy()
    assert (
        abs(
            tracklists.set_index("clip_id").loc[a["clip_id"], ["valence", "arousal"]].to_numpy()
            - labels
        ).max()
        <= 5e-5
    )  # the tracklist has 4 decimals


def _tracklists_with_extra_row(demo_run, tmp_path) -> Path:
    folder = tmp_path / "tracklists"
    shutil.copytree(demo_run["sources"]["tracklists"], folder)
    with open(folder / "deam-final-tracklist.csv", "a", encoding="utf-8") as handle:
        handle.write("999,999_1,1,Nobody,Missing,15.0-25.0,10.0,0.1,0.01,0.2,0.01\n")
    return folder


def test_a_tracklist_row_naming_a_missing_file_is_reported_and_skipped(demo_run, tmp_path):
    folder = _tracklists_with_extra_row(demo_run, tmp_path)
    plan = plan_dataset(
        roots=demo_roots(demo_run["sources"]),
        out=tmp_path / "out",
        tracklists=folder,
        progress=False,
    )
    assert "d_999_1" not in set(plan.clips["clip_id"])
    (skip,) = [s for s in plan.audit["skipped"] if s["item"] == "d_999_1"]
    assert "no DEAM file 999.mp3/.wav/.flac" in skip["reason"]


def test_strict_makes_a_missing_file_fatal_and_writes_no_manifests(demo_run, tmp_path):
    folder = _tracklists_with_extra_row(demo_run, tmp_path)
    with pytest.raises(UserError, match=r"missing or unusable \(--strict\), first: deam d_999_1"):
        plan_dataset(
            roots=demo_roots(demo_run["sources"]),
            out=tmp_path / "out",
            tracklists=folder,
            strict=True,
            progress=False,
        )
    assert not (tmp_path / "out" / "manifests").exists()


def test_only_the_tracklists_of_the_given_corpora_are_read(demo_run):
    sources = demo_run["sources"]
    selection = select_from_tracklists(
        sources["tracklists"], {"soundtracks": sources["soundtracks"]}
    )
    assert set(selection.clips["corpus"]) == {"soundtracks"}
    assert selection.report["thesis_split"]["n_only_in_split_file"] == 0
    with pytest.raises(UserError, match="give the audio of at least one corpus"):
        select_from_tracklists(sources["tracklists"], {})


def test_a_tracklist_emopia_clip_without_audio_is_reported_not_a_crash(demo_run, tmp_path):
    sources = demo_run["sources"]
    root = tmp_path / "EMOPIA"
    shutil.copytree(sources["emopia"], root)
    before = select_from_tracklists(sources["tracklists"], {"emopia": root})
    relabelled = {r["clip_id"] for r in before.report["relabelled"]}
    clip = next(c for c in before.clips.itertuples() if c.clip_id not in relabelled)
    (root / before.files[clip.source_id][1]).unlink()
    after = select_from_tracklists(sources["tracklists"], {"emopia": root})
    assert clip.clip_id not in set(after.clips["clip_id"])
    (missing,) = [m for m in after.missing if m[1] == clip.clip_id]
    assert missing[0] == "emopia" and missing[2].startswith("tracklist clip without audio: no clip")
    assert len(after.clips) == len(before.clips) - 1
    assert after.report["relabelled"] == before.report["relabelled"]
