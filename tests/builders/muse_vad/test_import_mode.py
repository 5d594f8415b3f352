"""Import mode: a MuSe CSV's rows with their labels as given (Warriner 1-9)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import soundfile as sf

from builders.cli import main
from builders.corpora.muse import MUSE_COLUMNS
from builders.corpora.recorded import RecordedSpotifyTrack, spotify_id_for, write_demo_spotify_cache
from builders.muse_vad.collect import LABELS
from builders.muse_vad.plan import plan_dataset
from builders.muse_vad.render import render_dataset


def _reference_rows(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write_tone(path, seconds: float, pitch: float) -> None:
    t = np.arange(int(seconds * 16000)) / 16000
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(
        path, (0.3 * np.sin(2 * np.pi * pitch * t)).astype(np.float32), 16000, subtype="PCM_16"
    )


def test_the_reference_rows_import_with_their_labels_unchanged(muse_reference, tmp_path):
    out = tmp_path / "out"
    assert main(["muse-vad", "plan", "--muse-csv", str(muse_reference), "--out", str(out)]) == 0
    tracks = pd.read_parquet(out / "manifests" / "tracks.parquet").set_index(["artist", "track"])
    rows = _reference_rows(muse_reference)
    assert len(tracks) == len(rows) == 20 and set(tracks.scale) == {"1-9"}
    for row in rows:
        track = tracks.loc[(row["artist"], row["track"])]
        assert [track.valence_tags, track.arousal_tags, track.dominance_tags] == [
            float(row["valence_tags"]),
            float(row["arousal_tags"]),
            float(row["dominance_tags"]),
        ]
        assert track.spotify_id == row["spotify_id"] and track.n_tags == int(
            row["number_of_emotion_tags"]
        )
        assert json.loads(track.seeds)[0] == "aggressive" and track.genre == row["genre"]
    assert pd.isna(tracks.loc[("Rick Ross", "Speedin'")].mbid)
    assert ("Eminem", "'Till I Collapse") in tracks.index
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert (
        audit["mode"] == "import" and audit["labels"]["scale"] == "1-9" and audit["dropped"] == []
    )
    assert audit["stages"]["collected"] == audit["stages"]["linked"] == 20


def test_imported_frames_carry_the_labels_as_given(muse_reference, tmp_path):
    rows = _reference_rows(muse_reference)
    for i, row in enumerate(rows[:-3]):  # the last three rows have no audio
        _write_tone(
            tmp_path / "audio" / f"{i % 3}" / f"{row['spotify_id']}.wav", 31.0, 200 + 20 * i
        )
    out = tmp_path / "out"
    plan_dataset(out=out, muse_csv=muse_reference, audio=tmp_path / "audio", progress=False)
    render_dataset(out, progress=False)
    frames = pd.read_parquet(out / "manifests" / "frames.parquet")
    by_id = {row["spotify_id"]: row for row in rows}
    assert frames.source_id.nunique() == 17 and len(frames) == 34
    for frame in frames.itertuples():
        row = by_id[frame.source_id]
        assert [frame.valence_tags, frame.arousal_tags, frame.dominance_tags] == [
            float(row[c]) for c in LABELS
        ]
    solution = pd.read_parquet(out / "solutions" / "muse-vad.parquet")
    assert set(solution.scale) == {"1-9"} and solution.valence.between(1, 9).all()
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert [d["stage"] for d in audit["dropped"]] == ["audio"] * 3


def _muse_csv(tmp_path, rows: list[list[str]]):
    path = tmp_path / "muse.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MUSE_COLUMNS)
        writer.writerows(rows)
    return path


def test_rows_without_a_spotify_id_are_linked_by_search_and_repeats_left_out(tmp_path):
    rows = [
        [
            f"Cue {i}",
            f"Artist {i % 7}",
            "['calm']",
            "3",
            f"{2 + i / 10:.2f}",
            "4.5",
            "5.0",
            "",
            spotify_id_for(f"Artist {i % 7}", f"Cue {i}") if i % 4 else "",
            "score",
        ]
        for i in range(14)
    ]
    rows.append(
        ["Cue 5", "Artist 5", "['sad']", "2", "3.0", "3.0", "3.0", "", "", "score"]
    )  # a repeat
    remaster = ["Cue 1 (Remastered)", "Artist 1", "['calm']", "3", "2.0", "4.0", "5.0", ""]
    rows.append([*remaster, spotify_id_for("Artist 1", "Cue 1"), "score"])  # the same recording
    csv_path = _muse_csv(tmp_path, rows)
    spotify = tmp_path / "spotify.jsonl"
    write_demo_spotify_cache(
        spotify,
        [
            RecordedSpotifyTrack(f"Artist {i % 7}", f"Cue {i}", 40.0, None, i != 8)
            for i in range(0, 14, 4)
        ],
    )
    out = tmp_path / "out"
    plan_dataset(out=out, muse_csv=csv_path, spotify_cache=spotify, progress=False)
    tracks = pd.read_parquet(out / "manifests" / "tracks.parquet").set_index("track")
    assert tracks.loc["Cue 4", "spotify_id"] == spotify_id_for("Artist 4", "Cue 4")
    assert (
        tracks.loc["Cue 4", "spotify_duration_s"] == 40.0
        and tracks.loc["Cue 5", "valence_tags"] == 2.5
    )
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    reasons = {(d["track"], d["stage"]): d["reason"] for d in audit["dropped"]}
    pair = {"Cue 1", "Cue 1 (Remastered)"}  # one recording: one is kept, the other named
    same = [track for (track, _), reason in reasons.items() if reason.startswith("same Spotify")]
    assert len(same) == 1 and same[0] in pair and set(tracks.index) & pair == pair - {same[0]}
    del reasons[(same[0], "linking")]
    assert reasons == {
        ("Cue 5", "collection"): "same artist and track as line 7",
        ("Cue 8", "linking"): "no Spotify search results",
    }
    plan_dataset(out=tmp_path / "unlinked", muse_csv=csv_path, progress=False)
    audit = json.loads((tmp_path / "unlinked" / "manifests" / "audit.json").read_text())
    assert sum(d["stage"] == "linking" for d in audit["dropped"]) == 4 + 1  # no id; the remaster
    assert "no spotify_id in the CSV" in audit["dropped"][-1]["reason"]
