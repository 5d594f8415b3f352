"""The MuSe-style VAD recipe: the versioned, validated parameters of a build (docs/spec.md section 6).

The file layout (``manifests/muse-vad-v1/recipe.toml``) is the model's layout: top-level
``name``, ``version``, ``seed`` and the tables ``[collection]``, ``[tags]``, ``[linking]``,
``[sources]``, ``[frames]``, ``[audio]``, ``[folds]``; a build's own ``manifests/recipe.toml``
adds ``[build]`` (mode, lexicon, formula, tool versions). Every value is honoured or refused
with its key named; the command line may override ``seed``, ``collection.seed_tag`` and
``frames.frame_s``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from builders.common.audio import SAMPLE_RATES, OutputSpec
from builders.common.recipe import DatasetRecipe, StrictModel
from builders.corpora.lexicons import THESIS_BLACKLIST

NAME = "muse-vad"
DEFAULT_RECIPE = Path(__file__).resolve().parents[2] / "manifests" / "muse-vad-v1" / "recipe.toml"


def _text(value: str, what: str) -> str:
    if not value.strip():
        raise ValueError(f"{what} must not be empty")
    return value


class Collection(StrictModel):
    seed_tag: str = "soundtrack"  # Last.fm tag.getTopTracks, every page

    @field_validator("seed_tag")
    @classmethod
    def _tag(cls, tag: str) -> str:
        return _text(tag, "the seed tag")


class Tags(StrictModel):
    blacklist: list[str] = Field(default_factory=lambda: sorted(THESIS_BLACKLIST))

    @field_validator("blacklist")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        return [_text(tag, "a blacklisted tag") for tag in tags]


class Linking(StrictModel):
    overlap_threshold: float = Field(0.7, ge=0, le=1)  # Spotify search: token overlap to match


class Sources(StrictModel):
    max_file_mb: float = Field(0.0, ge=0)  # 0 = no limit; the thesis dropped files over 28 MB


MIN_FRAME_S = 1.0  # --frame-s 0.001 would plan millions of frames
MAX_FRAME_S = 600.0  # ten minutes: longer than most tracks, which would then have no frame


class Frames(StrictModel):
    frame_s: float = 15.0

    @field_validator("frame_s")
    @classmethod
    def _bounded(cls, frame_s: float) -> float:
        if not MIN_FRAME_S <= frame_s <= MAX_FRAME_S:
            raise ValueError(
                f"a frame is {MIN_FRAME_S:g} to {MAX_FRAME_S:g} s long, not {frame_s:g} "
                "(the thesis: 15 or 30)"
            )
        return frame_s


class Audio(StrictModel):
    sample_rate: Literal[SAMPLE_RATES] = 16000  # type: ignore[valid-type]
    channels: Literal[1, 2] = 1
    format: Literal["flac", "wav"] = "flac"


class Folds(StrictModel):
    n_folds: int = Field(6, ge=2)
    valence_bins: int = Field(3, ge=1)  # quantile bins of the tracks' valence (3 = terciles)
    arousal_bins: int = Field(3, ge=1)


class MuseVadRecipe(DatasetRecipe):
    """Parameters of the MuSe-style VAD plan and render."""

    DATASET: ClassVar[str] = NAME
    DEFAULT_FILE: ClassVar[Path] = DEFAULT_RECIPE

    name: str = NAME
    version: str = "1"
    seed: int = 20210901
    collection: Collection = Collection()
    tags: Tags = Tags()
    linking: Linking = Linking()
    sources: Sources = Sources()
    frames: Frames = Frames()
    audio: Audio = Audio()
    folds: Folds = Folds()

    @property
    def output(self) -> OutputSpec:
        return OutputSpec(self.audio.sample_rate, self.audio.channels, self.audio.format)


def load_recipe(
    path: Path | None = None,
    *,
    seed: int | None = None,
    seed_tag: str | None = None,
    frame_s: float | None = None,
) -> tuple[MuseVadRecipe, Path]:
    """Read and validate a recipe file (default: v1), with the command line's overrides."""
    recipe, path = MuseVadRecipe.load(path, seed=seed)
    for key, value in (("collection.seed_tag", seed_tag), ("frames.frame_s", frame_s)):
        if value is not None:
            recipe = recipe.with_value(key, value)
    return recipe, path


def build_recipe(out: Path) -> MuseVadRecipe:
    """The recipe the build in ``out`` was planned with."""
    return MuseVadRecipe.of_build(out)
