"""The recipe: v1's numbers, every value honoured or refused with the key named."""

from __future__ import annotations

import pandas as pd
import pytest
import soundfile as sf

from builders.errors import UserError
from builders.instrumental_mer.recipe import DEFAULT_RECIPE, load_recipe
from tests.clips import clip_ref

from .conftest import compile_build


def test_v1_numbers():
    recipe, path = load_recipe()
    assert path == DEFAULT_RECIPE
    assert (recipe.audio.sample_rate, recipe.audio.channels, recipe.audio.format) == (
        16000,
        1,
        "flac",
    )
    assert recipe.folds.n_folds == 6 and recipe.folds.max_size_deviation == 0.25
    assert (recipe.deam.window_s, recipe.deam.max_change, recipe.deam.max_segments_per_song) == (
        5.0,
        0.05,
        5,
    )
    assert recipe.deam.samples_per_window == 10
    assert (recipe.excerpts.min_duration_s, recipe.excerpts.max_duration_s) == (10.0, 15.0)
    assert recipe.emopia.max_clips_per_song == 5
    assert (recipe.screening.overlap_threshold, recipe.screening.instrumentalness_threshold) == (
        0.7,
        0.5,
    )
    assert recipe.duplicates.artist_token_overlap == 0.66
    assert load_recipe(seed=3)[0].seed == 3


def _recipe(tmp_path, old: str, new: str):
    text = DEFAULT_RECIPE.read_text()
    assert old in text
    path = tmp_path / "recipe.toml"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("window_s = 5.0", "window_s = 4.75", r"`deam.window_s`: must be a multiple of 0.5 s"),
        (
            "min_duration_s = 10.0",
            "min_duration_s = 16.0",
            r"excerpts.min_duration_s \(16.0\) is above",
        ),
        (
            "sample_rate = 16000",
            "sample_rate = 8000",
            r"`audio.sample_rate`: unsupported sample rate 8000",
        ),
        ("channels = 1", "channels = 3", r"`audio.channels`"),
        ("n_folds = 6", "n_folds = 1", r"`folds.n_folds`"),
        (
            "max_clips_per_song = 5",
            "max_clips_per_song = 5\nmax_clip = 2",
            r"unknown key\(s\) emopia.max_clip",
        ),
        ('name = "instrumental-mer"', 'name = "misme"', r"this is the instrumental-mer builder"),
        ("overlap_threshold = 0.7", "overlap_threshold = 70", r"`screening.overlap_threshold`"),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path, old, new, message):
    with pytest.raises(UserError, match=message):
        load_recipe(_recipe(tmp_path, old, new))


def test_rate_channels_format_folds_and_clip_length_are_honoured(demo_run, tmp_path):
    path = _recipe(tmp_path, "sample_rate = 16000", "sample_rate = 22050")
    text = (
        path.read_text()
        .replace("channels = 1", "channels = 2")
        .replace('format = "flac"', 'format = "wav"')
        .replace("n_folds = 6", "n_folds = 3")
        .replace("max_duration_s = 15.0", "max_duration_s = 12.0")
    )
    path.write_text(text)
    out = compile_build(demo_run["sources"], tmp_path / "build", workers=2, recipe_path=path)
    clips = pd.read_parquet(out / "manifests" / "clips.parquet")
    assert sorted(clips["fold"].unique()) == [1, 2, 3]
    assert (clips.loc[clips["corpus"] != "deam", "duration_s"] <= 12.0).all()
    info = sf.info(clip_ref(out / "audio" / "clips" / f"{clips['clip_id'].iloc[0]}.wav").open())
    assert (info.samplerate, info.channels, info.subtype) == (22050, 2, "PCM_16")
    assert sorted(p.name.split("-")[0] for p in (out / "data" / "clips").glob("*.parquet")) == [
        "fold1",
        "fold2",
        "fold3",
    ]
    assert "channels = 2" in (out / "manifests" / "recipe.toml").read_text()
