"""The dataset declared as data: its configs, views, folds and output. FILL IN (2 of 5)."""

from __future__ import annotations

from pathlib import Path

from builders.hf.card_doc import CardDoc, ColumnDoc, TaskDoc
from builders.hf.spec import ConfigSpec, DatasetSpec, ManifestLink, ViewSpec
from builders.template.recipe import NAME, TemplateRecipe, build_recipe

VIEW = "clips"  # OUT/audio/clips/: the rendered clips
VIEWS = (ViewSpec(VIEW, "music", f"`misme-build {NAME} render OUT`"),)
CONFIGS = (ConfigSpec("clips", VIEW, manifest=ManifestLink("clips.parquet", "clip_id")),)
# what the card says: every column of the shards (id, fold, audio and checksums have common
# docs), the sources (keys of builders.hf.sources.SOURCES: add yours there), the tasks
CARD = CardDoc(
    pretty_name="Template: labelled audio clips",
    columns=(
        ColumnDoc("label", "The source file's label (labels.csv)."),
        ColumnDoc("audio", "The clip: the start of its source file."),
    ),
    tasks=(TaskDoc(f"{NAME}-label", ("clips",), "label"),),
)


def dataset_spec(recipe: TemplateRecipe) -> DatasetSpec:
    """The build that ``recipe`` describes."""
    return DatasetSpec(
        name=NAME,
        title="Template: labelled audio clips",
        summary="One clip from the start of each labelled audio file, in stratified folds.",
        output=recipe.output,
        n_folds=recipe.folds.n_folds,
        configs=CONFIGS,
        views=VIEWS,
        card=CARD,
    )


def spec_for_build(out: Path) -> DatasetSpec:
    """The spec of the build in ``out``, from its ``manifests/recipe.toml``."""
    return dataset_spec(build_recipe(out))
