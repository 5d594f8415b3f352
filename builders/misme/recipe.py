"""The MiSME recipe: the versioned, validated parameters of a build (SPEC section 4).

The file layout (``manifests/misme-v1/recipe.toml``) is the model's layout: top-level
``name``, ``version``, ``seed`` and the tables ``[loudness]``, ``[audio]``, ``[folds]``,
``[mixing]``, ``[music]``; a build's own ``manifests/recipe.toml`` adds ``[build]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from builders.common.audio import SAMPLE_RATES, OutputSpec
from builders.common.recipe import StrictModel, load_recipe_file, recipe_toml
from builders.errors import UserError

DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "manifests" / "misme-v1" / "recipe.toml"
OUTPUT_CHANNELS = 2  # mixes are stereo; mono speech plays on both channels


class Loudness(StrictModel):
    target_lufs: float = -23.0
    speech_dual_mono: bool = True


class Audio(StrictModel):
    sample_rate: int = 44100
    format: Literal["flac", "wav"] = "flac"

    @field_validator("sample_rate")
    @classmethod
    def _supported_rate(cls, rate: int) -> int:
        if rate not in SAMPLE_RATES:
            raise ValueError(f"unsupported sample rate {rate} (supported: {', '.join(map(str, SAMPLE_RATES))})")
        return rate


class Folds(StrictModel):
    n_folds: int = Field(6, ge=2)


class Mixing(StrictModel):
    window_s: float = Field(4.5, gt=0)
    mixes_per_speech: int = Field(5, ge=1)
    pairing: Literal["balanced", "random"] = "balanced"
    activity_floor_db: float = -35.0

    @field_validator("activity_floor_db")
    @classmethod
    def _below_zero(cls, floor: float) -> float:
        if floor >= 0:
            raise ValueError(f"must be below 0 dB (a floor under the loudest frame), got {floor}")
        return floor


class Music(StrictModel):
    selection: str = ""


class MismeRecipe(StrictModel):
    """Parameters of the MiSME mix plan and render."""

    name: str = "misme"
    version: str = "1"
    seed: int = 20200830
    loudness: Loudness = Loudness()
    audio: Audio = Audio()
    folds: Folds = Folds()
    mixing: Mixing = Mixing()
    music: Music = Music()
    build: dict[str, Any] | None = None  # written by a build; not a parameter

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, version: object) -> str:
        return str(version)

    @property
    def output(self) -> OutputSpec:
        return OutputSpec(self.audio.sample_rate, OUTPUT_CHANNELS, self.audio.format)

    @property
    def window_frames(self) -> int:
        return int(round(self.mixing.window_s * self.audio.sample_rate))

    def to_toml(self, extra: dict | None = None) -> str:
        """The recipe as used, in the layout of the recipe files (plus ``extra`` tables)."""
        return recipe_toml(self.model_copy(update={"build": None}), extra)


def load_recipe(path: Path | None = None, *, seed: int | None = None) -> tuple[MismeRecipe, Path]:
    """Read and validate a recipe file; ``seed`` overrides the recipe's seed."""
    path = Path(path) if path else DEFAULT_RECIPE
    recipe = load_recipe_file(MismeRecipe, path)
    if seed is not None:
        recipe = recipe.model_copy(update={"seed": int(seed)})
    return recipe, path


def build_recipe(out: Path) -> MismeRecipe:
    """The recipe a build was planned with (``OUT/manifests/recipe.toml``).

    A missing or unreadable recipe is a user error: silently falling back to defaults
    could render a planned non-default corpus differently.
    """
    path = Path(out) / "manifests" / "recipe.toml"
    if not path.is_file():
        raise UserError(f"{path} not found: the plan is incomplete (re-run `misme-build misme plan`)")
    try:
        return load_recipe_file(MismeRecipe, path)
    except UserError as error:
        raise UserError(f"cannot read {path}: {error}") from None
