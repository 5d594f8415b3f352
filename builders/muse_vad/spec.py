"""The MuSe-style VAD dataset declared as data: the ``frames`` view and configs, folds, output."""

from __future__ import annotations

from pathlib import Path

from builders.hf.spec import ConfigSpec, DatasetSpec, ManifestLink, ViewSpec
from builders.muse_vad.card_doc import CARD
from builders.muse_vad.recipe import NAME, MuseVadRecipe, build_recipe

FRAMES = "frames"
TRACKS = "tracks"
AUDIO_CORPUS = "audio"  # the --audio folder's name in build-state.json and sources.parquet
VIEWS = (ViewSpec(FRAMES, "music", "`misme-build muse-vad render OUT`"),)
CONFIGS = (
    ConfigSpec(FRAMES, FRAMES, manifest=ManifestLink("frames.parquet", "frame_id")),
    ConfigSpec(TRACKS, metadata_only=True),  # one row per track, no audio
)


def dataset_spec(recipe: MuseVadRecipe) -> DatasetSpec:
    """The MuSe-style VAD build that ``recipe`` describes."""
    return DatasetSpec(
        name=NAME,
        title="MuSe-style VAD: valence, arousal and dominance of soundtracks",
        summary=(
            f"Tracks of the Last.fm tag `{recipe.collection.seed_tag}` (or of a MuSe CSV) labelled "
            "with valence, arousal and dominance from their mood tags through a VAD lexicon, cut "
            f"into non-overlapping {recipe.frames.frame_s:g} s frames that share their track's "
            "labels. "
            "The folds are artist- and track-independent."
        ),
        output=recipe.output,
        n_folds=recipe.folds.n_folds,
        configs=CONFIGS,
        views=VIEWS,
        card=CARD,
    )


def spec_for_build(out: Path) -> DatasetSpec:
    """The spec of the build in ``out``, from its ``manifests/recipe.toml``."""
    return dataset_spec(build_recipe(out))
