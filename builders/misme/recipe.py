"""The MiSME recipe: the versioned, validated parameters of a build (docs/spec.md section 4).

The file layout (``manifests/misme-v2/recipe.toml``, the default; v1 has no
``loudness.meter``) is the model's layout: top-level ``name``, ``version``, ``seed`` and the
tables ``[loudness]``, ``[audio]``, ``[folds]``, ``[mixing]``, ``[music]``; a build's own
``manifests/recipe.toml`` adds ``[build]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_serializer

from builders.common.audio import SAMPLE_RATES, OutputSpec
from builders.common.loudness import LOUDNORM_METER
from builders.common.recipe import DatasetRecipe, StrictModel

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
DEFAULT_RECIPE = MANIFESTS / "misme-v2" / "recipe.toml"
RECIPE_V1 = MANIFESTS / "misme-v1" / "recipe.toml"
OUTPUT_CHANNELS = 2  # mixes are stereo; mono speech plays on both channels


class Loudness(StrictModel):
    target_lufs: float = -23.0
    speech_dual_mono: bool = True
    # a recipe without `meter` (v1) keeps v1's meter
    meter: Literal["ffmpeg-loudnorm", "bs1770"] = LOUDNORM_METER

    @model_serializer(mode="wrap")
    def _v1_layout(self, handler):
        """v1's meter is left out of the recipe as used, which v1 builds published without it."""
        table = handler(self)
        if table.get("meter") == LOUDNORM_METER:
            del table["meter"]
        return table


class Audio(StrictModel):
    sample_rate: int = 44100
    format: Literal["flac", "wav"] = "flac"

    @field_validator("sample_rate")
    @classmethod
    def _supported_rate(cls, rate: int) -> int:
        if rate not in SAMPLE_RATES:
            raise ValueError(
                f"unsupported sample rate {rate} (supported: {', '.join(map(str, SAMPLE_RATES))})"
            )
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


class MismeRecipe(DatasetRecipe):
    """Parameters of the MiSME mix plan and render."""

    DATASET: ClassVar[str] = "misme"
    DEFAULT_FILE: ClassVar[Path] = DEFAULT_RECIPE

    name: str = "misme"
    version: str = "1"
    seed: int = 20200830
    loudness: Loudness = Loudness()
    audio: Audio = Audio()
    folds: Folds = Folds()
    mixing: Mixing = Mixing()
    music: Music = Music()

    @property
    def output(self) -> OutputSpec:
        return OutputSpec(self.audio.sample_rate, OUTPUT_CHANNELS, self.audio.format)

    @property
    def window_frames(self) -> int:
        return int(round(self.mixing.window_s * self.audio.sample_rate))


def load_recipe(path: Path | None = None, *, seed: int | None = None) -> tuple[MismeRecipe, Path]:
    """Read and validate a recipe file (default: v2); ``seed`` overrides the recipe's seed."""
    return MismeRecipe.load(path, seed=seed)


def build_recipe(out: Path) -> MismeRecipe:
    """The recipe the build in ``out`` was planned with."""
    return MismeRecipe.of_build(out)
