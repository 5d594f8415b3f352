"""Recipes: the versioned, validated parameters of a corpus build."""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import tomli_w

from builders.errors import UserError

DEFAULT_RECIPE = Path(__file__).resolve().parent.parent / "manifests" / "misme-v1" / "recipe.toml"
PAIRINGS = ("balanced", "random")
# The keys a recipe file may hold (a build's manifests/recipe.toml adds the [build] table).
KNOWN_KEYS = {
    "": {"name", "version", "seed", "loudness", "audio", "folds", "mixing", "music", "build"},
    "loudness": {"target_lufs", "speech_dual_mono"},
    "audio": {"sample_rate", "format"},
    "folds": {"n_folds"},
    "mixing": {"window_s", "mixes_per_speech", "pairing", "activity_floor_db"},
    "music": {"selection"},
}


@dataclass(frozen=True)
class MismeRecipe:
    """Parameters of the MiSME mix plan (SPEC section 4)."""

    name: str = "misme"
    version: str = "1"
    seed: int = 20200830
    target_lufs: float = -23.0
    speech_dual_mono: bool = True
    sample_rate: int = 44100
    audio_format: str = "flac"
    n_folds: int = 6
    window_s: float = 4.5
    mixes_per_speech: int = 5
    pairing: str = "balanced"
    activity_floor_db: float = -35.0
    music_selection: str = ""

    @property
    def window_frames(self) -> int:
        return int(round(self.window_s * self.sample_rate))

    def to_toml(self, extra: dict | None = None) -> str:
        """The recipe as used, in the same layout as the recipe files (plus ``extra`` tables)."""
        document = {
            "name": self.name,
            "version": self.version,
            "seed": self.seed,
            "loudness": {"target_lufs": self.target_lufs, "speech_dual_mono": self.speech_dual_mono},
            "audio": {"sample_rate": self.sample_rate, "format": self.audio_format},
            "folds": {"n_folds": self.n_folds},
            "mixing": {
                "window_s": self.window_s,
                "mixes_per_speech": self.mixes_per_speech,
                "pairing": self.pairing,
                "activity_floor_db": self.activity_floor_db,
            },
            "music": {"selection": self.music_selection},
        }
        document.update(extra or {})
        return tomli_w.dumps(document)

    def as_dict(self) -> dict:
        return asdict(self)


def _get(table: dict, key: str, kind: type, default, where: str):
    value = table.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise UserError(f"recipe: `{where}{key}` must be {kind.__name__}, got {value!r}")
    if kind is float and not math.isfinite(value):
        raise UserError(f"recipe: `{where}{key}` must be a finite number, got {value!r}")
    return value


def _reject_unknown(data: dict) -> None:
    """A misspelt key would silently fall back to its default: name it instead."""
    for table, known in KNOWN_KEYS.items():
        scope = data.get(table, {}) if table else data
        if not isinstance(scope, dict):
            raise UserError(f"recipe: `{table}` must be a table, got {scope!r}")
        unknown = sorted(set(scope) - known)
        if unknown:
            prefix = f"{table}." if table else ""
            raise UserError(f"recipe: unknown key(s) {', '.join(prefix + k for k in unknown)}; "
                            f"allowed: {', '.join(prefix + k for k in sorted(known))}")


def load_recipe(path: Path | None = None, *, seed: int | None = None) -> tuple[MismeRecipe, Path]:
    """Read and validate a recipe file; ``seed`` overrides the recipe's seed."""
    path = Path(path) if path else DEFAULT_RECIPE
    if path.is_dir():
        raise UserError(f"recipe is a folder, not a TOML file: {path}")
    if not path.is_file():
        raise UserError(f"recipe file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"recipe {path} is not valid TOML: {error}") from error
    except OSError as error:
        raise UserError(f"cannot read recipe {path}: {error.strerror or error}") from error
    _reject_unknown(data)
    loud, audio, folds = data.get("loudness", {}), data.get("audio", {}), data.get("folds", {})
    mixing, music = data.get("mixing", {}), data.get("music", {})
    recipe = MismeRecipe(
        name=_get(data, "name", str, "misme", ""),
        version=str(data.get("version", "1")),
        seed=_get(data, "seed", int, 20200830, ""),
        target_lufs=_get(loud, "target_lufs", float, -23.0, "loudness."),
        speech_dual_mono=_get(loud, "speech_dual_mono", bool, True, "loudness."),
        sample_rate=_get(audio, "sample_rate", int, 44100, "audio."),
        audio_format=_get(audio, "format", str, "flac", "audio."),
        n_folds=_get(folds, "n_folds", int, 6, "folds."),
        window_s=_get(mixing, "window_s", float, 4.5, "mixing."),
        mixes_per_speech=_get(mixing, "mixes_per_speech", int, 5, "mixing."),
        pairing=_get(mixing, "pairing", str, "balanced", "mixing."),
        activity_floor_db=_get(mixing, "activity_floor_db", float, -35.0, "mixing."),
        music_selection=_get(music, "selection", str, "", "music."),
    )
    if seed is not None:
        recipe = replace(recipe, seed=int(seed))
    _validate(recipe)
    return recipe, path


def _validate(recipe: MismeRecipe) -> None:
    if recipe.pairing not in PAIRINGS:
        raise UserError(f"recipe: mixing.pairing must be one of {PAIRINGS}, got {recipe.pairing!r}")
    if recipe.audio_format not in ("flac", "wav"):
        raise UserError(f"recipe: audio.format must be 'flac' or 'wav', got {recipe.audio_format!r}")
    if recipe.n_folds < 2:
        raise UserError("recipe: folds.n_folds must be at least 2")
    if recipe.window_s <= 0 or recipe.mixes_per_speech < 1:
        raise UserError("recipe: mixing.window_s must be > 0 and mixing.mixes_per_speech >= 1")
    if recipe.activity_floor_db >= 0:
        raise UserError(f"recipe: mixing.activity_floor_db must be below 0 dB (a floor under the loudest "
                        f"frame), got {recipe.activity_floor_db}")
    if recipe.sample_rate not in (16000, 22050, 44100, 48000):
        raise UserError(f"recipe: unsupported audio.sample_rate {recipe.sample_rate}")
