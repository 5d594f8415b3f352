"""The MiSME plan as a pure function of the inventory (no audio)."""

import pandas as pd
import pytest

from builders.errors import UserError
from builders.misme.inventory import synthetic_inventory
from builders.misme.mix_plan import plan_mixes
from builders.misme.recipe import load_recipe


@pytest.fixture(scope="module")
def recipe():
    return load_recipe()[0]


@pytest.fixture(scope="module")
def inventory():
    return synthetic_inventory(n_deam=120, n_soundtracks=60)


@pytest.fixture(scope="module")
def plan(inventory, recipe):
    return plan_mixes(inventory, recipe)


def test_every_actor_and_music_clip_in_exactly_one_fold(plan):
    speech = plan.sources[plan.sources["corpus"] == "ravdess"]
    music = plan.sources[plan.sources["corpus"] != "ravdess"]
    assert (speech.groupby("actor")["fold"].nunique() == 1).all()
    assert music["source_id"].is_unique
    per_fold = speech.drop_duplicates("actor").groupby(["fold", "gender"]).size().unstack()
    assert (per_fold == 2).all().all()
    assert plan.audit["leakage"]["actors_in_several_folds"] == 0


def test_mixes_stay_in_the_speech_fold_with_five_distinct_music(plan, recipe):
    fold_of = plan.sources.set_index("source_id")["fold"]
    mixes = plan.mixes
    assert (mixes["speech_id"].map(fold_of) == mixes["fold"]).all()
    assert (mixes["music_id"].map(fold_of) == mixes["fold"]).all()
    per_speech = mixes.groupby("speech_id")["music_id"].agg(["count", "nunique"])
    assert (per_speech["count"] == recipe.mixing.mixes_per_speech).all()
    assert (per_speech["nunique"] == recipe.mixing.mixes_per_speech).all()
    assert len(mixes) == 1440 * 5


def test_placements_windows_and_crops(plan, recipe):
    m = plan.mixes
    assert (m["n_placements"] == (m["music_duration_s"] // 4.5).astype(int)).all()
    assert (m["n_placements"] == m["music_frames"] // recipe.window_frames).all()
    assert ((m["window_index"] >= 0) & (m["window_index"] < m["n_placements"])).all()
    assert (m["window_start_frame"] == m["window_index"] * 198450).all()
    assert (m["speech_frames"] <= 198450).all()
    assert (m["speech_offset_frame"] * 2 + m["speech_frames"] >= 198449).all()
    assert (m["speech_offset_frame"] >= 0).all()
    assert m["window_index"].nunique() > 3, "SER windows should vary"


def test_music_shorter_than_the_window_is_excluded_and_reported(plan):
    excluded = {e["id"] for e in plan.audit["excluded"]}
    assert excluded, "the synthetic inventory has Soundtracks clips shorter than 4.5 s"
    assert excluded.isdisjoint(set(plan.mixes["music_id"]))
    assert excluded.isdisjoint(set(plan.sources["source_id"]))


def test_balanced_pairing_uses_music_evenly(plan):
    for _, fold in plan.mixes.groupby("fold"):
        usage = fold.groupby("music_id").size()
        assert usage.max() - usage.min() <= 1


def test_random_pairing_differs_but_keeps_the_rules(inventory, recipe, plan):
    random_plan = plan_mixes(inventory, recipe.with_value("mixing.pairing", "random"))
    assert not random_plan.mixes["mix_id"].equals(plan.mixes["mix_id"])
    assert (random_plan.mixes.groupby("speech_id")["music_id"].nunique() == 5).all()


def test_plan_ignores_inventory_order_and_depends_on_seed(inventory, recipe, plan):
    shuffled = inventory.sample(frac=1, random_state=5).reset_index(drop=True)
    again = plan_mixes(shuffled, recipe)
    pd.testing.assert_frame_equal(again.mixes, plan.mixes)
    other = plan_mixes(inventory, recipe.with_value("seed", recipe.seed + 1))
    assert not other.sources.set_index("source_id")["fold"].equals(
        plan.sources.set_index("source_id")["fold"]
    )


def test_long_speech_is_cropped_around_its_active_part(recipe):
    inventory = synthetic_inventory(n_deam=30, n_soundtracks=0)
    long_id = inventory.loc[inventory["corpus"] == "ravdess", "source_id"].iloc[0]
    row = inventory["source_id"] == long_id
    inventory.loc[row, ["frames_44k", "active_start_s", "active_end_s"]] = [441000, 6.0, 8.0]
    plan = plan_mixes(inventory, recipe)
    crop = plan.mixes[plan.mixes["speech_id"] == long_id].iloc[0]
    assert crop["speech_frames"] == 198450
    centre = (crop["speech_crop_start_frame"] + 198450 / 2) / 44100
    assert abs(centre - 7.0) < 1e-3


def test_too_few_music_clips_per_fold_is_a_user_error(recipe):
    inventory = synthetic_inventory(n_deam=12, n_soundtracks=0)
    with pytest.raises(UserError, match="distinct"):
        plan_mixes(inventory, recipe)
