"""The toy recipe: the versioned, validated parameters of a build.

The file layout (``recipe.toml`` beside this module) is the model's layout: ``name``,
``version``, ``seed`` and one table per model below; a build's own
``manifests/recipe.toml`` adds ``[build]`` (tool versions).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field

from builders.common.audio import SAMPLE_RATES, OutputSpec
from builders.common.recipe import DatasetRecipe, StrictModel

NAME = "toy"  # the recipe's `name`, the command word, the card's dataset name
DEFAULT_RECIPE = Path(__file__).with_name("recipe.toml")


class Audio(StrictModel):
    sample_rate: Literal[SAMPLE_RATES] = 16000  # type: ignore[valid-type]
    channels: Literal[1, 2] = 1
    format: Literal["flac", "wav"] = "flac"


class Folds(StrictModel):
    n_folds: int = Field(2, ge=2)


class Clips(StrictModel):
    duration_s: float = Field(0.5, gt=0)


class ToyRecipe(DatasetRecipe):
    """Parameters of the plan and the render."""

    DATASET: ClassVar[str] = NAME
    DEFAULT_FILE: ClassVar[Path] = DEFAULT_RECIPE

    name: str = NAME
    seed: int = 7
    audio: Audio = Audio()
    folds: Folds = Folds()
    clips: Clips = Clips()

    @property
    def output(self) -> OutputSpec:
        return OutputSpec(self.audio.sample_rate, self.audio.channels, self.audio.format)


def load_recipe(path: Path | None = None, *, seed: int | None = None) -> tuple[ToyRecipe, Path]:
    """Read and validate a recipe file (default: v1); ``seed`` overrides the recipe's seed."""
    return ToyRecipe.load(path, seed=seed)


def build_recipe(out: Path) -> ToyRecipe:
    """The recipe the build in ``out`` was planned with."""
    return ToyRecipe.of_build(out)
