"""The baselines' experiments, models, random-forest presets and recognition domains."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

EXPERIMENTS: dict[str, tuple[str, str]] = {
    "A": ("single", "single"),
    "B": ("single", "mixed"),
    "C": ("single", "bss"),
    "D": ("mixed", "mixed"),
    "E": ("mixed", "bss"),
    "F": ("bss", "bss"),
}
MODELS = ("rf", "dummy")


@dataclass(frozen=True)
class RandomForestSettings:
    """Random-forest sizes: SER classifier and (per target) MER regressor."""

    ser_trees: int = 1000
    ser_max_features: str | float = "sqrt"
    mer_trees: int = 100
    mer_max_features: str | float = 0.333


# "thesis" = the thesis's settings (default). "demo" = a documented deviation for the
# 2-core demo: 300 SER trees, and MER splits over sqrt(n_features) instead of a third of
# them (a 1,100-column Essentia table makes max_features=0.333 ~10x slower).
PRESETS = {
    "thesis": RandomForestSettings(),
    "demo": RandomForestSettings(ser_trees=300, mer_max_features="sqrt"),
}


@dataclass(frozen=True)
class Domain:
    """One recognition problem: SER on speech or MER on music."""

    name: str  # "ser" | "mer"
    feature_set: str
    views: dict[str, str]  # role ("single", "mixed", "bss", "bss-oracle") -> view
    targets: tuple[str, ...]
    mix_task: str
    single_task: str
    source_column: str  # column of mixes.parquet naming the single source

    @property
    def classification(self) -> bool:
        return self.name == "ser"


def make_domains(
    speech_set: str = "speech-is10", music_set: str = "music-essentia"
) -> dict[str, Domain]:
    return {
        "ser": Domain(
            "ser",
            speech_set,
            {
                "single": "speech",
                "mixed": "mixed-window",
                "bss": "bss-speech",
                "bss-oracle": "bss-oracle-speech",
            },
            ("emotion",),
            "misme-ser",
            "misme-ser-speech",
            "speech_id",
        ),
        "mer": Domain(
            "mer",
            music_set,
            {
                "single": "music",
                "mixed": "mixed",
                "bss": "bss-music",
                "bss-oracle": "bss-oracle-music",
            },
            ("valence", "arousal"),
            "misme-mer",
            "misme-mer-music",
            "music_id",
        ),
    }


def add_feature_arguments(parser: argparse.ArgumentParser) -> None:
    """``--speech-features`` and ``--music-features``: the feature sets (or combinations)
    the SER and MER models fit on, for the baselines and the study alike."""
    parser.add_argument(
        "--speech-features",
        default="speech-is10",
        choices=(
            "speech-is10",
            "speech-egemaps",
            "speech-compare",
            "speech-is10+speech-compare",
        ),
        help="the SER models' features (default speech-is10; run misme-build features first)",
    )
    parser.add_argument(
        "--music-features",
        default="music-essentia",
        choices=("music-essentia", "music-compare", "music-essentia+music-compare"),
        help="the MER models' features (default music-essentia)",
    )
