"""The instrumental-MER dataset declared as data: one config ``clips`` of music excerpts."""

from __future__ import annotations

from pathlib import Path

from builders.hf.spec import ConfigSpec, DatasetSpec, ManifestLink, ViewSpec
from builders.instrumental_mer.card_doc import CARD
from builders.instrumental_mer.protocols import protocol_configs
from builders.instrumental_mer.recipe import InstrumentalMerRecipe, build_recipe

CORPORA = ("deam", "soundtracks", "emopia")
VIEW = "clips"
RENDER = "`misme-build instrumental-mer render OUT`"
VIEWS = (ViewSpec(VIEW, "music", RENDER),)
CONFIGS = (ConfigSpec("clips", VIEW, manifest=ManifestLink("clips.parquet", "clip_id")),)


def dataset_spec(recipe: InstrumentalMerRecipe) -> DatasetSpec:
    """The instrumental-MER build that ``recipe`` describes."""
    return DatasetSpec(
        name="instrumental-mer",
        title="Instrumental MER: DEAM, Soundtracks and EMOPIA clips with valence/arousal quadrants",
        summary=(
            "Instrumental music clips of 10-15 s from DEAM (segments of stable dynamic "
            "ratings), the film Soundtracks set and EMOPIA (piano; quadrant labels only), "
            "with valence/arousal in [-1, 1] where rated and the Russell quadrant Q1-Q4. "
            "The folds are artist-, song- and video-independent and stratified by "
            f"quadrant (Rødningen 2022, recipe `manifests/instrumental-mer-v{recipe.version}`)."
        ),
        output=recipe.output,
        n_folds=recipe.folds.n_folds,
        configs=CONFIGS + _protocols(recipe),
        views=VIEWS,
        card=CARD,
    )


def _protocols(recipe: InstrumentalMerRecipe) -> tuple:
    wanted = recipe.protocols
    return protocol_configs(wanted.loco, wanted.thesis_split) if wanted else ()


def spec_for_build(out: Path) -> DatasetSpec:
    """The spec of the build in ``out``, from its ``manifests/recipe.toml``."""
    return dataset_spec(build_recipe(out))
