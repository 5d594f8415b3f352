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
from builders.misme import plan_corpus
from builders.recipe import DEFAULT_RECIPE
from builders.render import render_dataset


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def plan(src, out):
    """Plan with K = 2 mixes per speech clip (the small demo has 2 music clips per fold)."""
    recipe = out.parent / "recipe-k2.toml"
    recipe.write_text(DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2"))
    return plan_corpus(ravdess=src / "RAVDESS", deam=src / "DEAM", soundtracks=src / "Soundtracks", out=out,
                       recipe_path=recipe, progress=False)


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
    data, rate = sf.read(io.BytesIO(first.column("audio")[0].as_py()["bytes"]), dtype="int16", always_2d=True)
    assert rate == 44100 and data.shape == (mixes[[m["mix_id"] for m in mixes].index(first.column("id")[0].as_py())]["music_frames"], 2)
    assert np.abs(data.astype(np.int32)).max() <= 32767
    report = json.loads((out / "build-report.json").read_text())  # planner gains: ffmpeg loudnorm
    for view in ("speech", "music"):
        measured = report["loudness"][view]["clips"]
        assert len(measured) == 8 and all(abs(lufs + 23.0) <= 0.5 for lufs in measured.values()), measured
    speech = datasets.load_dataset(str(out), "speech", cache_dir=str(out) + "-hf-cache")
    assert sum(speech[s].num_rows for s in speech) == 48
    # a second build: sources copied elsewhere, 2 workers -> verify says identical
    src2 = tmp_path / "src2"
    shutil.copytree(demo_sources, src2)
    out2 = tmp_path / "out2"
    shutil.copytree(out / "manifests", out2 / "manifests")  # the planner's determinism is tested with the planner
    roots2 = {"ravdess": src2 / "RAVDESS", "deam": src2 / "DEAM", "soundtracks": src2 / "Soundtracks"}
    assert render_dataset(out2, workers=2, roots=roots2, progress=False).digest == summary.digest
    assert cli.main(["verify", str(out), "--against", str(out2)]) == 0
    assert "identical" in capsys.readouterr().out
