"""The documented sets keep their values: tables equal to the extraction as it was before
issue 16 (the extractor on the clip file, one fresh call each), and extractors stay warm per worker."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import soundfile as sf

from builders.common import audio
from builders.features import extract as features
from builders.features import extractors
from builders.hf.shards import write_config_shards
from builders.misme.recipe import DEFAULT_RECIPE, MismeRecipe
from builders.misme.spec import dataset_spec
from tests.builders.features import counting
from tests.builders.features.test_features import harmonic, write_clip

SPEC = dataset_spec(MismeRecipe())

# sha256 (16 hex) of each set's settings but the library version: the definition of the set's
# columns and values. A change here changes every value: give the set a new name instead.
SETTINGS = {
    "speech-is10": "1d1afb58f9b244b3",
    "speech-egemaps": "e606709d479c8cec",
    "music-essentia": "9548bad97963b4c3",
}


def settings_digest(set_name: str) -> str:
    info = {k: v for k, v in extractors.settings(set_name).items() if k != "version"}
    return hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()[:16]


def reference_row(set_name: str, path: Path) -> dict[str, float]:
    """One clip as the code before issue 16 extracted it: new extractor, the file as it is."""

    def finite(v) -> float:
        return float(v) if math.isfinite(float(v)) else math.nan

    if set_name == "music-essentia":
        import essentia.standard

        pool, _ = essentia.standard.MusicExtractor(**extractors.ESSENTIA_SETTINGS)(str(path))
        return extractors.flatten_pool(pool)
    import opensmile
    import soxr

    signal, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = signal.mean(axis=1)
    if rate != 16000:
        mono = soxr.resample(mono, rate, 16000, quality="HQ").astype(np.float32)
    smile = opensmile.Smile(
        feature_set=getattr(opensmile.FeatureSet, extractors.FEATURE_SETS[set_name].extractor),
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    return {str(k): finite(v) for k, v in smile.process_signal(mono, 16000).iloc[0].items()}


def resampled(signal: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    return soxr.resample(signal, 44100, rate, quality="HQ").astype(np.float32)


@pytest.fixture()
def build(tmp_path: Path) -> Path:
    """Speech clips; music at 44.1 kHz stereo (MiSME), 16 kHz mono (instrumental-MER, MuSe), 16 kHz stereo."""
    out = tmp_path / "OUT"
    (out / "manifests").mkdir(parents=True)
    (out / "manifests" / "recipe.toml").write_text(DEFAULT_RECIPE.read_text())
    write_clip(out, "speech", "ravdess-a", harmonic(110.0, 2.0, 2))
    write_clip(out, "speech", "ravdess-b", harmonic(220.0, 2.0, 1))
    write_clip(out, "music", "deam-2", harmonic(330.0, 5.0, 3, vibrato=0.0))
    for clip_id, f0, channels in (("d_10_1", 165.0, 1), ("d_11_1", 247.0, 2)):
        path = out / "audio" / "music" / f"{clip_id}.flac"
        signal = resampled(harmonic(f0, 5.0, 4, vibrato=0.2), 16000)
        sf.write(path, signal[:, 0] if channels == 1 else signal, 16000, subtype="PCM_16")
    return out


@pytest.mark.parametrize("set_name", ["speech-is10", "speech-egemaps", "music-essentia"])
def test_tables_equal_the_extraction_before_issue_16(build: Path, set_name: str) -> None:
    assert settings_digest(set_name) == SETTINGS[set_name]
    [path] = features.extract_features(
        build, SPEC, set_name, [extractors.FEATURE_SETS[set_name].content], progress=False
    )
    table = features.read_table(path)
    clips = features.view_clips(build, SPEC, extractors.FEATURE_SETS[set_name].content)
    expected = features.to_table(
        {clip.clip_id: reference_row(set_name, Path(clip.path)) for clip in clips}
    )
    expected["id"] = expected["id"].astype(str)
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


@pytest.mark.parametrize("set_name", ["speech-is10", "music-essentia"])
def test_published_clips_give_the_features_of_their_files(
    build: Path, tmp_path: Path, set_name: str
) -> None:
    """Once the shards hold the clips (and the files are gone), the extraction reads their ranges."""
    view = extractors.FEATURE_SETS[set_name].content
    [from_files] = features.extract_features(build, SPEC, set_name, [view], progress=False)
    expected = features.read_table(from_files)
    published = tmp_path / "PUBLISHED"
    shutil.copytree(build, published, ignore=shutil.ignore_patterns("features"))
    paths = sorted((published / "audio" / view).glob("*.flac"))
    table = pa.table(
        {
            "id": [p.stem for p in paths],
            "fold": [1] * len(paths),
            "audio_sha256": [audio.clip_sha256(p) for p in paths],
        }
    )
    write_config_shards(published, SPEC, view, table, paths)
    assert not any(p.exists() for p in paths)
    [path] = features.extract_features(published, SPEC, set_name, [view], progress=False)
    pd.testing.assert_frame_equal(features.read_table(path), expected, check_exact=True)


def test_a_16khz_mono_clip_reads_a_scratch_copy_that_is_removed(build: Path) -> None:
    warm = extractors.Extractors()
    clip = build / "audio" / "music" / "d_10_1.flac"
    source, scratch = extractors.essentia_input(clip, warm)
    assert scratch and source.parent == warm.scratch() and sf.info(source).samplerate == 44100
    source.unlink()
    for name in ("deam-2", "d_11_1"):  # at the analysis rate, or stereo: the file itself
        assert extractors.essentia_input(build / "audio" / "music" / f"{name}.flac", warm) == (
            build / "audio" / "music" / f"{name}.flac",
            False,
        )
    row = extractors.extract_clip("music-essentia", clip, warm)
    pd.testing.assert_frame_equal(
        features.to_table({"x": row}),
        features.to_table({"x": reference_row("music-essentia", clip)}),
        check_exact=True,
    )
    folder = warm.scratch()
    assert list(folder.iterdir()) == []  # the copy is gone after its clip
    warm.close()
    assert not folder.exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_each_worker_builds_its_extractor_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    out = tmp_path / "OUT"
    (out / "manifests").mkdir(parents=True)
    for i in range(6):
        write_clip(out, "speech", f"ravdess-{i}", harmonic(110.0 + 20 * i, 1.0, i))
    closed = tmp_path / "closed"
    closed.mkdir()
    monkeypatch.setenv("FEATURES_TEST_CLOSED", str(closed))
    monkeypatch.setattr(features, "Extractors", counting.CountingExtractors)
    features.extract_features(out, SPEC, "speech-egemaps", workers=workers, progress=False)
    report = {p.name: tuple(map(int, p.read_text().split())) for p in closed.iterdir()}
    busy = [(built, calls) for built, calls in report.values() if calls]
    assert 1 <= len(report) <= workers and len(busy) >= 1
    assert all(built == 1 for built, _ in busy)  # one Smile per worker, however many clips it ran
    assert sum(calls for _, calls in busy) == 6
