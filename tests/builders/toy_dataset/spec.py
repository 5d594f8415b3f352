"""The toy dataset declared as data: one config ``clips`` of tones."""

from __future__ import annotations

from pathlib import Path

from builders.hf.card_doc import CardDoc, ColumnDoc, TaskDoc
from builders.hf.spec import ConfigSpec, DatasetSpec, ManifestLink, ViewSpec
from tests.builders.toy_dataset.recipe import NAME, ToyRecipe, build_recipe

VIEW = "clips"  # OUT/audio/clips/: the rendered clips
VIEWS = (ViewSpec(VIEW, "music", f"`misme-build {NAME} render OUT`"),)
CONFIGS = (ConfigSpec("clips", VIEW, manifest=ManifestLink("clips.parquet", "clip_id")),)
CARD = CardDoc(
    pretty_name="Toy: mood-labelled tones",
    columns=(
        ColumnDoc("mood", "The tone's mood.", codes=(("calm", "low tone"), ("tense", "high tone"))),
        ColumnDoc("energy", "The tone's energy (labels.csv).", "0..1"),
        ColumnDoc("audio", "Half a second from the start of the tone."),
    ),
    tasks=(
        TaskDoc(f"{NAME}-mood", ("clips",), "mood"),
        TaskDoc(f"{NAME}-energy", ("clips",), "energy"),
    ),
)


def dataset_spec(recipe: ToyRecipe) -> DatasetSpec:
    """The build that ``recipe`` describes."""
    return DatasetSpec(
        name=NAME,
        title="Toy: mood-labelled tones",
        summary="Half a second of each synthetic tone, with its mood and energy.",
        output=recipe.output,
        n_folds=recipe.folds.n_folds,
        configs=CONFIGS,
        views=VIEWS,
        card=CARD,
    )


def spec_for_build(out: Path) -> DatasetSpec:
    """The spec of the build in ``out``, from its ``manifests/recipe.toml``."""
    return dataset_spec(build_recipe(out))
