"""The MiSME dataset declared as data: corpora, views, configs, folds, output spec."""

from __future__ import annotations

from pathlib import Path

from builders.common.loudness import meter_card_text
from builders.hf.spec import ConfigSpec, DatasetSpec, ManifestLink, ViewSpec
from builders.misme.card_doc import CARD
from builders.misme.recipe import MismeRecipe, build_recipe

SPEECH_CORPORA = ("ravdess",)
MUSIC_CORPORA = ("deam", "soundtracks")

RENDER = "`misme-build misme render OUT`"
SPLEETER = "`misme-build misme separate OUT` (Spleeter)"
ORACLE = "`misme-build misme separate OUT --backend oracle`"
VIEWS = (
    ViewSpec("speech", "speech", RENDER),
    ViewSpec("mixed-window", "speech", RENDER),
    ViewSpec("bss-speech", "speech", SPLEETER),
    ViewSpec("bss-oracle-speech", "speech", ORACLE),
    ViewSpec("music", "music", RENDER),
    ViewSpec("mixed", "music", RENDER),
    ViewSpec("bss-music", "music", SPLEETER),
    ViewSpec("bss-oracle-music", "music", ORACLE),
)
CONFIGS = (
    ConfigSpec(
        "speech",
        "speech",
        manifest=ManifestLink("sources.parquet", "source_id", ("corpus", SPEECH_CORPORA)),
    ),
    ConfigSpec(
        "music",
        "music",
        manifest=ManifestLink("sources.parquet", "source_id", ("corpus", MUSIC_CORPORA)),
    ),
    ConfigSpec("mixed", "mixed", "mixed-window", manifest=ManifestLink("mixes.parquet", "mix_id")),
    # written by the separation step: audio = accompaniment, audio_window = vocals in the SER window
    ConfigSpec("bss", "bss-music", "bss-speech", identity_file="separation-spleeter.json"),
    ConfigSpec(
        "bss-oracle",
        "bss-oracle-music",
        "bss-oracle-speech",
        identity_file="separation-oracle.json",
    ),
)


def made_by(view: str) -> str:
    """The build step that writes ``view``."""
    return next(v.made_by for v in VIEWS if v.name == view)


def dataset_spec(recipe: MismeRecipe) -> DatasetSpec:
    """The MiSME build that ``recipe`` describes."""
    meter = meter_card_text(recipe.loudness.meter)  # empty for v1, whose cards stay as published
    return DatasetSpec(
        name="misme",
        title="MiSME: mixed speech and music emotion recognition",
        summary=(
            f"Speech (RAVDESS) mixed with instrumental music (DEAM, Soundtracks), both normalised to "
            f"{recipe.loudness.target_lufs:g} LUFS (EBU R128). The folds are speaker- and "
            "music-independent." + (f" {meter}" if meter else "")
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
