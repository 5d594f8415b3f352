"""The recipe names its loudness meter: v2 (the default) BS.1770-4, v1 ffmpeg loudnorm, and v1's
recipe as used is written as it always was (no `meter` key)."""

import tomllib

import pytest

from builders.common.loudness import BS1770_METER, LOUDNORM_METER
from builders.errors import UserError
from builders.misme.inventory import ProbeJob, probe_file
from builders.misme.recipe import DEFAULT_RECIPE, RECIPE_V1, load_recipe
from tests.builders.ebu_signals import write_ebu_signal


def test_default_recipe_is_v2_with_the_conformant_meter():
    recipe, path = load_recipe()
    assert path == DEFAULT_RECIPE and recipe.version == "2"
    assert recipe.loudness.meter == BS1770_METER
    assert tomllib.loads(recipe.to_toml())["loudness"]["meter"] == BS1770_METER


def test_v1_keeps_its_meter_and_its_recipe_as_used():
    recipe, _ = load_recipe(RECIPE_V1)
    assert recipe.version == "1" and recipe.loudness.meter == LOUDNORM_METER
    as_used = recipe.to_toml()
    assert "meter" not in as_used
    assert "[loudness]\ntarget_lufs = -23.0\nspeech_dual_mono = true\n\n[audio]" in as_used
    v2, _ = load_recipe()
    assert v2.model_dump(exclude={"version", "loudness"}) == recipe.model_dump(
        exclude={"version", "loudness"}
    )  # v2 differs from v1 in its version and meter only


def test_unknown_meter_is_refused_with_the_key_named(tmp_path):
    path = tmp_path / "recipe.toml"
    path.write_text(DEFAULT_RECIPE.read_text().replace('"bs1770"', '"vu-meter"'))
    with pytest.raises(UserError, match="loudness.meter"):
        load_recipe(path)


@pytest.mark.parametrize("meter, lufs", [(BS1770_METER, -23.0), (LOUDNORM_METER, -23.14)])
def test_the_probe_measures_with_the_recipes_meter(tmp_path, meter, lufs):
    path = write_ebu_signal(tmp_path, 5)
    job = ProbeJob(str(path), False, False, -35.0, -23.0, meter)
    assert probe_file(job)["loudness_lufs"] == pytest.approx(lufs, abs=0.05)
