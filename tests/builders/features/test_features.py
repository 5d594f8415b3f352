"""Feature tables: real openSMILE / Essentia on small synthetic clips laid out as OUT/audio/<view>/."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from builders.cli import main as cli_main
from builders.errors import UserError
from builders.features import extract as features
from builders.misme.recipe import DEFAULT_RECIPE, MismeRecipe
from builders.misme.spec import dataset_spec
from tests.console import message_lines

RATE = 44100
SPEC = dataset_spec(MismeRecipe())


def harmonic(f0: float, seconds: float, seed: int, vibrato: float = 0.05) -> np.ndarray:
    """A speech-like harmonic tone (stereo, dual mono) with syllable-rate amplitude modulation."""
    t = np.arange(int(seconds * RATE)) / RATE
    f = f0 * (1 + vibrato * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(f) / RATE
    x = sum(np.sin(k * phase) / k for k in range(1, 6)) * (0.55 + 0.45 * np.sin(2 * np.pi * 4 * t))
    x = 0.2 * x + 0.003 * np.random.default_rng(seed).standard_normal(t.size)
    return np.stack([x, x], axis=1).astype(np.float32)


def write_clip(out: Path, view: str, clip_id: str, signal: np.ndarray) -> Path:
    path = out / "audio" / view / f"{clip_id}.flac"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, signal, RATE, subtype="PCM_16")
    return path


@pytest.fixture()
def build(tmp_path: Path) -> Path:
    out = tmp_path / "OUT"
    (out / "manifests").mkdir(parents=True)
    (out / "manifests" / "recipe.toml").write_text(DEFAULT_RECIPE.read_text())
    write_clip(out, "speech", "ravdess-b", harmonic(220.0, 3.0, 1))
    write_clip(out, "speech", "ravdess-a", harmonic(110.0, 3.0, 2))
    write_clip(out, "music", "deam-2", harmonic(330.0, 6.0, 3, vibrato=0.0))
    write_clip(out, "music", "deam-10", harmonic(165.0, 6.0, 4, vibrato=0.2))
    return out


def test_egemaps_table_layout(build: Path) -> None:
    [path] = features.extract_features(build, SPEC, "speech-egemaps")
    assert path == build / "features" / "speech-egemaps" / "speech.parquet"
    table = features.read_table(path)
    assert list(table["id"]) == ["ravdess-a", "ravdess-b"]
    columns = list(table.columns[1:])
    assert len(columns) == 88 and columns == sorted(columns)
    assert "F0semitoneFrom27.5Hz_sma3nz_amean" in columns
    assert all(table[c].dtype == np.float64 for c in columns)
    f0 = table.set_index("id")["F0semitoneFrom27.5Hz_sma3nz_amean"]
    # 220 Hz is one octave (12 semitones) above 110 Hz
    assert f0["ravdess-b"] - f0["ravdess-a"] == pytest.approx(12.0, abs=1.0)
    info = features.table_info(path)
    assert info["set"] == "speech-egemaps" and info["view"] == "speech" and info["n_clips"] == 2


def test_is10_has_1582_functionals(build: Path) -> None:
    [path] = features.extract_features(build, SPEC, "speech-is10", ["speech"])
    table = features.read_table(path)
    assert table.shape == (2, 1 + 1582)
    assert "pcm_loudness_sma_amean" in table.columns
    assert table.iloc[:, 1:].notna().all().all()


def test_essentia_flattened_global_descriptors(build: Path) -> None:
    [path] = features.extract_features(build, SPEC, "music-essentia")
    table = features.read_table(path)
    assert list(table["id"]) == ["deam-10", "deam-2"]
    columns = list(table.columns[1:])
    assert columns == sorted(columns)
    for name in (
        "lowlevel.spectral_centroid.mean",
        "rhythm.bpm",
        "tonal.hpcp.mean.0",
        "tonal.hpcp.mean.35",
    ):
        assert name in columns
    assert not [
        c for c in columns if c.startswith("metadata.") or "beats_position" in c or ".cov" in c
    ]
    assert not [c for c in columns if c.endswith(".var") or c.endswith(".median")]
    centroid = table.set_index("id")["lowlevel.spectral_centroid.mean"]
    assert (
        centroid["deam-2"] > centroid["deam-10"]
    )  # the 330 Hz tone is brighter than the 165 Hz one
    info = features.table_info(path)
    assert info["settings"]["lowlevelStats"] == ["mean", "stdev"]
    assert info["version"] != "unknown"


def test_cache_is_used_and_shared_by_identical_audio(build: Path) -> None:
    same = (build / "audio" / "speech" / "ravdess-a.flac").read_bytes()
    (build / "audio" / "speech" / "ravdess-c.flac").write_bytes(same)
    [path] = features.extract_features(build, SPEC, "speech-egemaps")
    entries = sorted((build / "features" / ".cache" / "speech-egemaps").rglob("*.json"))
    assert len(entries) == 2  # three clips, two distinct audio files
    # tamper with a cache entry: a re-run must read it instead of re-extracting
    target = features.cache_path(build, "speech-egemaps", hashlib.sha256(same).hexdigest())
    row = json.loads(target.read_text())
    row["F0semitoneFrom27.5Hz_sma3nz_amean"] = -999.0
    target.write_text(json.dumps(row))
    features.extract_features(build, SPEC, "speech-egemaps")
    table = features.read_table(path).set_index("id")
    assert table.loc["ravdess-a", "F0semitoneFrom27.5Hz_sma3nz_amean"] == -999.0
    assert table.loc["ravdess-c", "F0semitoneFrom27.5Hz_sma3nz_amean"] == -999.0
    assert table.loc["ravdess-b", "F0semitoneFrom27.5Hz_sma3nz_amean"] != -999.0


def test_parallel_equals_serial(build: Path, tmp_path: Path) -> None:
    serial = features.read_table(features.extract_features(build, SPEC, "speech-egemaps")[0])
    other = tmp_path / "OTHER"
    (other / "manifests").mkdir(parents=True)
    for clip in (build / "audio" / "speech").glob("*.flac"):
        write_clip(other, "speech", clip.stem, sf.read(clip, dtype="float32")[0])
    parallel = features.read_table(
        features.extract_features(other, SPEC, "speech-egemaps", workers=2)[0]
    )
    pd.testing.assert_frame_equal(serial, parallel)


def test_missing_view_names_the_build_step(build: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(UserError, match="misme-build misme separate"):
        features.extract_features(build, SPEC, "music-essentia", ["bss-music"])
    with pytest.raises(UserError, match="applies to the views"):
        features.extract_features(build, SPEC, "music-essentia", ["speech"])
    code = cli_main(["features", str(build), "--set", "speech-is10", "--views", "bss-speech"])
    err = capsys.readouterr().err
    assert (
        code == 2
        and "bss-speech" in err
        and "Traceback" not in err
        and len(message_lines(err)) == 1
    )


def test_cli_writes_table(build: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli_main(["features", str(build), "--set", "speech-egemaps", "--views", "speech"])
    assert code == 0
    assert "2 clips x 88 features" in capsys.readouterr().out


def test_missing_dependency_is_a_user_error(build: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "essentia", None)  # `import essentia` now raises ImportError
    with pytest.raises(UserError, match="'essentia'"):
        features.extract_features(build, SPEC, "music-essentia")


def test_a_missing_later_view_writes_no_table(build: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli_main(
        ["features", str(build), "--set", "speech-egemaps", "--views", "speech,bss-speech"]
    )
    assert code == 2 and "bss-speech" in capsys.readouterr().err
    assert not features.table_path(build, "speech-egemaps", "speech").exists()
    assert cli_main(["features", str(build), "--set", "speech-egemaps", "--views", ","]) == 2
    assert "--views names no view" in capsys.readouterr().err


def test_a_folder_that_is_not_a_build_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert cli_main(["features", str(tmp_path), "--set", "speech-egemaps"]) == 2
    assert "is not a build folder" in capsys.readouterr().err


def test_compare_2016_for_speech_and_music(build: Path) -> None:
    [speech] = features.extract_features(build, SPEC, "speech-compare", ["speech"])
    [music] = features.extract_features(build, SPEC, "music-compare", ["music"])
    for path, ids in ((speech, ["ravdess-a", "ravdess-b"]), (music, ["deam-10", "deam-2"])):
        table = features.read_table(path)
        assert list(table["id"]) == ids
        assert table.shape == (2, 1 + 6373)
        assert "audspec_lengthL1norm_sma_range" in table.columns
    assert features.table_info(music)["extractor"] == "ComParE_2016"
