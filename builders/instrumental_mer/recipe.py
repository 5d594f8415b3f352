"""The instrumental-MER recipe: the versioned, validated parameters of a build (docs/spec.md section 5).

The file layout (``manifests/instrumental-mer-v1/recipe.toml``) is the model's layout:
top-level ``name``, ``version``, ``seed`` and the tables ``[audio]``, ``[folds]``,
``[deam]``, ``[excerpts]``, ``[emopia]``, ``[screening]``, ``[duplicates]`` and, from v2,
``[protocols]``; a build's own
``manifests/recipe.toml`` adds ``[build]`` (mode, tool versions).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from builders.common.audio import SAMPLE_RATES, OutputSpec
from builders.common.recipe import DatasetRecipe, StrictModel

DEFAULT_RECIPE = (
    Path(__file__).resolve().parents[2] / "manifests" / "instrumental-mer-v1" / "recipe.toml"
)
DEAM_SAMPLE_STEP_S = 0.5  # DEAM's dynamic annotations are at 2 Hz


class Audio(StrictModel):
    sample_rate: int = 16000
    channels: Literal[1, 2] = 1
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
    max_size_deviation: float = Field(0.25, gt=0, le=1)


class Deam(StrictModel):
    window_s: float = Field(5.0, gt=0)
    max_change: float = Field(0.05, ge=0, le=2)
    max_segments_per_song: int = Field(5, ge=1)
    end_tolerance_s: float = Field(0.5, ge=0, le=5)

    @field_validator("window_s")
    @classmethod
    def _whole_samples(cls, window_s: float) -> float:
        samples = window_s / DEAM_SAMPLE_STEP_S
        if abs(samples - round(samples)) > 1e-9:
            raise ValueError(
                f"must be a multiple of {DEAM_SAMPLE_STEP_S} s (the annotations are "
                f"at 2 Hz), got {window_s}"
            )
        return window_s

    @property
    def samples_per_window(self) -> int:
        return int(round(self.window_s / DEAM_SAMPLE_STEP_S))


class Excerpts(StrictModel):
    max_duration_s: float = Field(15.0, gt=0)
    min_duration_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Excerpts:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError(
                f"excerpts.min_duration_s ({self.min_duration_s}) is above "
                f"excerpts.max_duration_s ({self.max_duration_s})"
            )
        return self


class Emopia(StrictModel):
    max_clips_per_song: int = Field(5, ge=1)


class Screening(StrictModel):
    overlap_threshold: float = Field(0.7, ge=0, le=1)
    instrumentalness_threshold: float = Field(0.5, ge=0, le=1)


class Duplicates(StrictModel):
    artist_token_overlap: float = Field(0.66, gt=0, le=1)


class Protocols(StrictModel):
    """Configs beside the folds (``builders.instrumental_mer.protocols``); recipe v2 on."""

    loco: bool = False  # leave-one-corpus-out configs loco-<corpus> and their solutions
    thesis_split: bool = False  # the thesis's 65/15/20 split (its split file) as thesis-split


class InstrumentalMerRecipe(DatasetRecipe):
    """Parameters of the instrumental-MER plan and render."""

    DATASET: ClassVar[str] = "instrumental-mer"
    DEFAULT_FILE: ClassVar[Path] = DEFAULT_RECIPE

    name: str = "instrumental-mer"
    version: str = "1"
    seed: int = 20220601
    audio: Audio = Audio()
    folds: Folds = Folds()
    deam: Deam = Deam()
    excerpts: Excerpts = Excerpts()
    emopia: Emopia = Emopia()
    screening: Screening = Screening()
    duplicates: Duplicates = Duplicates()
    protocols: Protocols | None = None  # absent in v1 (so its recipe.toml is unchanged)

    @property
    def output(self) -> OutputSpec:
        return OutputSpec(self.audio.sample_rate, self.audio.channels, self.audio.format)


def load_recipe(
    path: Path | None = None, *, seed: int | None = None
) -> tuple[InstrumentalMerRecipe, Path]:
    """Read and validate a recipe file (default: v1); ``seed`` overrides the recipe's seed."""
    return InstrumentalMerRecipe.load(path, seed=seed)


def build_recipe(out: Path) -> InstrumentalMerRecipe:
    """The recipe the build in ``out`` was planned with."""
    return InstrumentalMerRecipe.of_build(out)
