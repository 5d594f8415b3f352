"""The demo runs for any seed: its default size gives every fold the music the recipe needs."""

from __future__ import annotations

import pandas as pd
import pytest

from builders.demo.run import DEMO_SIZE, default_size
from builders.demo.sources import write_demo_sources
from builders.misme.plan import plan_dataset
from builders.misme.recipe import load_recipe


def test_seed_0_keeps_the_published_demo_size():
    assert default_size(0) == DEMO_SIZE


@pytest.mark.slow
def test_a_seed_whose_draws_fall_short_gets_more_soundtracks_and_plans(tmp_path):
    recipe, _ = load_recipe()
    needed = recipe.mixing.mixes_per_speech
    size = default_size(1)
    assert size["n_soundtracks"] > DEMO_SIZE["n_soundtracks"]  # seed 1 needs more
    src = tmp_path / "sources"
    write_demo_sources(src, seed=1, **size)
    out = tmp_path / "build"
    plan_dataset(
        ravdess=src / "RAVDESS", deam=src / "DEAM", soundtracks=src / "Soundtracks", out=out
    )
    sources = pd.read_parquet(out / "manifests" / "sources.parquet")
    music = sources[sources["corpus"] != "ravdess"]
    per_fold = music.groupby("fold").size()
    assert len(per_fold) == recipe.folds.n_folds
    assert per_fold.min() >= needed
