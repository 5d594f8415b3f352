"""Issue 15, defect 7: a challenge's secret test folds cannot be unmasked by a standard build."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from builders.cli import main
from builders.common import audio
from builders.misme.recipe import DEFAULT_RECIPE
from builders.misme.secret import secret_variant
from leaderboard.challenge.export_challenge import export_challenge
from tests.clips import clip_bytes, clip_ids, clip_pcm

TEST_FOLD = 6


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def builds(demo_sources, tmp_path_factory):
    """(standard build, its secret variant with fold 6 hidden, an independent standard build)."""
    base = tmp_path_factory.mktemp("secret")
    recipe = base / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    standard, independent = base / "standard", base / "independent"
    for out in (standard, independent):
        assert (
            main(
                [
                    "misme",
                    "build",
                    "--ravdess",
                    str(demo_sources / "RAVDESS"),
                    "--deam",
                    str(demo_sources / "DEAM"),
                    "--soundtracks",
                    str(demo_sources / "Soundtracks"),
                    "--out",
                    str(out),
                    "--recipe",
                    str(recipe),
                    "--workers",
                    "2",
                ]
            )
            == 0
        )
    secret = base / "secret"
    assert (
        main(
            [
                "misme",
                "secret-variant",
                str(standard),
                "--secret-seed",
                "424242",
                "--test-folds",
                str(TEST_FOLD),
                "--to",
                str(secret),
                "--workers",
                "2",
            ]
        )
        == 0
    )
    return standard, secret, independent


def test_the_variant_inherits_the_clips_as_files_and_no_shards(builds, tmp_path):
    standard = builds[0]
    dest = tmp_path / "variant"
    secret_variant(standard, dest, secret_seed=7, test_folds=[TEST_FOLD])
    assert not (dest / "data").exists()  # the standard build's shards would count in its digest
    ids = clip_ids(standard, "mixed")
    assert ids and all(
        (dest / "audio" / "mixed" / f"{i}.flac").read_bytes()
        == clip_bytes(standard / "audio" / "mixed" / f"{i}.flac")
        for i in ids
    )


def rows(out, name):
    return pq.read_table(out / "manifests" / f"{name}.parquet").to_pylist()


def clips_of_fold(out, fold):
    """(view, id, int16 PCM) of every clip of ``fold`` in OUT."""
    found = []
    for source in rows(out, "sources"):
        if source["fold"] == fold:
            view = "speech" if source["corpus"] == "ravdess" else "music"
            found.append(
                (
                    view,
                    source["source_id"],
                    clip_pcm(out / "audio" / view / f"{source['source_id']}.flac")[0],
                )
            )
    for mix in rows(out, "mixes"):
        if mix["fold"] == fold:
            for view in ("mixed", "mixed-window"):
                found.append(
                    (
                        view,
                        mix["mix_id"],
                        clip_pcm(out / "audio" / view / f"{mix['mix_id']}.flac")[0],
                    )
                )
    return found


def window_found(window: np.ndarray, clip: np.ndarray) -> bool:
    """Whether ``window`` (frames x channels) occurs in ``clip`` at any frame offset."""
    n = len(window)
    starts = np.flatnonzero(clip[: len(clip) - n + 1, 0] == window[0, 0])
    for start in starts:
        if np.array_equal(clip[start : start + 64], window[:64]) and np.array_equal(
            clip[start : start + n], window
        ):
            return True
    return False


def test_no_hidden_clip_or_second_of_it_equals_a_standard_build(builds):
    _, secret, independent = builds
    standard_clips = clips_of_fold(independent, TEST_FOLD)
    standard_sums = {audio.pcm_sha256(pcm) for _, _, pcm in standard_clips}
    hidden = clips_of_fold(secret, TEST_FOLD)
    assert len(hidden) >= 8 + 2 + 2 * 16
    second = 44100
    for view, clip_id, pcm in hidden:
        assert audio.pcm_sha256(pcm) not in standard_sums, (
            f"{view}/{clip_id} equals a standard clip"
        )
        for start in range(0, max(1, len(pcm) - second), second // 2):
            window = pcm[start : start + second]
            assert not any(window_found(window, other) for _, _, other in standard_clips), (
                f"a second of {view}/{clip_id} at {start} occurs in the standard build"
            )


def test_labels_stay_true_and_other_folds_are_untouched(builds):
    standard, secret, _ = builds
    sources = {s["source_id"]: s for s in rows(secret, "sources")}
    for mix in rows(secret, "mixes"):
        speech, music = sources[mix["speech_id"]], sources[mix["music_id"]]
        assert (mix["emotion"], mix["actor"]) == (speech["emotion"], speech["actor"])
        assert (mix["valence"], mix["arousal"]) == (music["valence"], music["arousal"])
        assert speech["fold"] == music["fold"] == mix["fold"]
        assert 0 <= mix["speech_offset_frame"] <= mix["window_frames"] - mix["speech_frames"]
    keep = [m for m in rows(standard, "mixes") if m["fold"] != TEST_FOLD]
    assert [m for m in rows(secret, "mixes") if m["fold"] != TEST_FOLD] == keep
    assert main(["verify", str(secret)]) == 0
    note = json.loads((secret / "manifests" / "secret.json").read_text())
    assert note["secret_seed"] == 424242 and note["test_folds"] == [TEST_FOLD]


def test_the_secret_variant_exports_as_a_challenge(builds, tmp_path):
    _, secret, independent = builds
    export_challenge(secret, tmp_path / "challenge", (TEST_FOLD,))
    solution = pq.read_table(
        tmp_path / "challenge" / "organizer" / "solutions" / "misme-ser.parquet"
    ).to_pylist()
    assert solution and {r["fold"] for r in solution} == {TEST_FOLD}
    hidden = pq.read_table(
        next((tmp_path / "challenge" / "participant" / "data").glob("mixed-test/*.parquet"))
    )
    standard = {
        audio.clip_sha256(r["audio"]["bytes"])
        for s in (independent / "data" / "mixed").glob("*.parquet")
        for r in pq.read_table(s, columns=["audio"]).to_pylist()
    }
    assert all(audio.clip_sha256(r["audio"]["bytes"]) not in standard for r in hidden.to_pylist())


def test_secret_variant_mistakes_are_one_line_errors(builds, tmp_path, capsys):
    standard = builds[0]
    assert (
        main(
            [
                "misme",
                "secret-variant",
                str(standard),
                "--secret-seed",
                "1",
                "--test-folds",
                "9",
                "--to",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "test fold(s) [9]" in capsys.readouterr().err
    assert (
        main(
            [
                "misme",
                "secret-variant",
                str(standard),
                "--secret-seed",
                "1",
                "--test-folds",
                "six",
                "--to",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "misme",
                "secret-variant",
                str(standard),
                "--secret-seed",
                "1",
                "--test-folds",
                "6",
                "--to",
                str(builds[1]),
            ]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err
