"""Demo sources -> plan (builders.misme) -> render -> datasets.load_dataset, end to end."""

from __future__ import annotations

import io
import json
import shutil

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from builders import cli
from builders.misme.plan import plan_corpus
from builders.misme.recipe import DEFAULT_RECIPE
from builders.misme.render import render_dataset


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def plan(src, out):
    """Plan with K = 2 mixes per speech clip (the small demo has 2 music clips per fold)."""
    recipe = out.parent / "recipe-k2.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    return plan_corpus(
        ravdess=src / "RAVDESS",
        deam=src / "DEAM",
        soundtracks=src / "Soundtracks",
        out=out,
        recipe_path=recipe,
        progress=False,
    )


@pytest.mark.slow
def test_demo_plan_render_load_and_verify(demo_sources, tmp_path, capsys):
    out = tmp_path / "out"
    plan(demo_sources, out)
    summary = render_dataset(out, progress=False)
    mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    assert len(mixes) == 2 * 48
    ds = datasets.load_dataset(str(out), "mixed", cache_dir=str(out) + "-hf-cache")
    assert sorted(ds) == [f"fold{k}" for k in range(1, 7)]
    for k in range(1, 7):
        assert ds[f"fold{k}"].num_rows == sum(m["fold"] == k for m in mixes) > 0
    first = ds["fold1"].with_format("arrow")[:1]
    data, rate = sf.read(
        io.BytesIO(first.column("audio")[0].as_py()["bytes"]), dtype="int16", always_2d=True
    )
    assert rate == 44100 and data.shape == (
        mixes[[m["mix_id"] for m in mixes].index(first.column("id")[0].as_py())]["music_frames"],
        2,
    )
    assert np.abs(data.astype(np.int32)).max() <= 32767
    report = json.loads(
        (out / "build-report.json").read_text()
    )  # planner gains: the recipe's meter
    for view in ("speech", "music"):
        measured = report["loudness"][view]["clips"]
        assert len(measured) == 8 and all(abs(lufs + 23.0) <= 0.5 for lufs in measured.values()), (
            measured
        )
    speech = datasets.load_dataset(str(out), "speech", cache_dir=str(out) + "-hf-cache")
    assert sum(speech[s].num_rows for s in speech) == 48
    # a second build: sources copied elsewhere, 2 workers -> verify says identical
    src2 = tmp_path / "src2"
    shutil.copytree(demo_sources, src2)
    out2 = tmp_path / "out2"
    shutil.copytree(
        out / "manifests", out2 / "manifests"
    )  # the planner's determinism is tested with the planner
    roots2 = {
        "ravdess": src2 / "RAVDESS",
        "deam": src2 / "DEAM",
        "soundtracks": src2 / "Soundtracks",
    }
    assert render_dataset(out2, workers=2, roots=roots2, progress=False).digest == summary.digest
    assert cli.main(["verify", str(out), "--against", str(out2)]) == 0
    assert "identical" in capsys.readouterr().out


@pytest.mark.slow
def test_a_recipe_at_48_khz_with_5_folds_and_wav_is_built_as_asked(demo_sources, tmp_path):
    recipe = tmp_path / "recipe-48k.toml"
    text = DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    text = text.replace("sample_rate = 44100", "sample_rate = 48000").replace(
        'format = "flac"', 'format = "wav"'
    )
    recipe.write_text(text.replace("n_folds = 6", "n_folds = 5"))
    out = tmp_path / "out"
    assert (
        cli.main(
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
    mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    assert {m["fold"] for m in mixes} == {1, 2, 3, 4, 5} and {
        m["window_frames"] for m in mixes
    } == {216000}
    assert sorted(p.name.split("-")[0] for p in (out / "data" / "mixed").glob("*.parquet")) == [
        f"fold{k}" for k in range(1, 6)
    ]
    ds = datasets.load_dataset(str(out), "mixed", cache_dir=str(out) + "-hf-cache")
    assert sorted(ds) == [f"fold{k}" for k in range(1, 6)]
    row = ds["fold1"].with_format("arrow")[:1]
    data, rate = sf.read(
        io.BytesIO(row.column("audio_window")[0].as_py()["bytes"]), dtype="int16", always_2d=True
    )
    assert (rate, data.shape) == (48000, (216000, 2))
    assert row.column("audio")[0].as_py()["path"].endswith(".wav")
    card = (out / "README.md").read_text()
    assert (
        "48 kHz stereo 16-bit WAV; 5 folds" in card
        and "mixed-cv5" in card
        and "mixed-cv6" not in card
    )
    assert cli.main(["verify", str(out)]) == 0
