"""The MiSME mix plan, a pure function of the inventory table: folds, pairs, windows, gains.

Computed without audio, so a full-size plan can be timed alone (``bench/plan.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from builders.common.folds import quadrant
from builders.common.seeding import rng_for, seeded_order
from builders.errors import UserError
from builders.misme import folds as fold_rules
from builders.misme.recipe import MismeRecipe
from builders.misme.spec import MUSIC_CORPORA, SPEECH_CORPORA


@dataclass(frozen=True)
class Plan:
    """Everything the plan phase decides: the manifests' content."""

    sources: pd.DataFrame
    mixes: pd.DataFrame
    audit: dict


# ---------------------------------------------------------------- planning (pure)


def _speech_crop(
    frames: int, active_start_s: float, active_end_s: float, window_frames: int, sample_rate: int
) -> tuple[int, int]:
    """(crop start, used length) in frames: speech longer than W is cut to W around its active part."""
    if frames <= window_frames:
        return 0, frames
    if not (math.isfinite(active_start_s) and math.isfinite(active_end_s)):
        active_start_s, active_end_s = 0.0, frames / sample_rate
    centre = (active_start_s + active_end_s) / 2.0 * sample_rate
    start = int(round(centre - window_frames / 2.0))
    return min(max(start, 0), frames - window_frames), window_frames


def pair_balanced(
    speech_ids: list[str], music_ids: list[str], k: int, seed: int, fold: int
) -> dict[str, list[str]]:
    """K distinct music clips per speech clip; every music clip used floor or ceil of the mean.

    Music is put in a seeded cyclic order and speech clip i takes positions
    i*K .. i*K+K-1 of that cycle (distinct because K <= number of music clips).
    """
    music_order = seeded_order(music_ids, seed, f"pairing-music-fold{fold}")
    speech_order = seeded_order(speech_ids, seed, f"pairing-speech-fold{fold}")
    n = len(music_order)
    return {
        sid: [music_order[(i * k + j) % n] for j in range(k)] for i, sid in enumerate(speech_order)
    }


def _pair_random(
    speech_ids: list[str], music_ids: list[str], k: int, seed: int
) -> dict[str, list[str]]:
    """The thesis's pairing: K music clips uniformly without replacement, per speech clip."""
    pairs = {}
    for sid in speech_ids:
        chosen = rng_for(seed, "pairing-random", sid).choice(len(music_ids), size=k, replace=False)
        pairs[sid] = [music_ids[int(i)] for i in chosen]
    return pairs


def _split_inventory(
    inventory: pd.DataFrame, recipe: MismeRecipe
) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    speech = inventory[inventory["corpus"].isin(SPEECH_CORPORA)].copy()
    music = inventory[inventory["corpus"].isin(MUSIC_CORPORA)].copy()
    short = music["frames_44k"] < recipe.window_frames
    excluded = [
        (sid, f"music shorter than the {recipe.mixing.window_s} s window ({d:.2f} s)")
        for sid, d in zip(music.loc[short, "source_id"], music.loc[short, "duration_s"])
    ]
    music = music[~short].copy()
    if speech.empty:
        raise UserError("no usable RAVDESS speech in the inventory")
    if music.empty:
        raise UserError(
            f"no usable music clip of at least {recipe.mixing.window_s} s in the inventory"
        )
    music["quadrant"] = [quadrant(v, a) for v, a in zip(music["valence"], music["arousal"])]
    return speech, music, excluded


def _assign_folds(speech: pd.DataFrame, music: pd.DataFrame, recipe: MismeRecipe) -> None:
    n_folds = recipe.folds.n_folds
    actor_folds = fold_rules.assign_actor_folds(
        speech[["actor", "gender"]].drop_duplicates(), n_folds, recipe.seed
    )
    speech["fold"] = speech["actor"].astype(str).map(actor_folds).astype("int64")
    music_folds = fold_rules.assign_music_folds(music, n_folds, recipe.seed)
    music["fold"] = music["source_id"].astype(str).map(music_folds).astype("int64")
    fold_rules.check_folds(speech, music, n_folds)


def _mix_rows(speech: pd.DataFrame, music: pd.DataFrame, recipe: MismeRecipe) -> pd.DataFrame:
    music_by_id = music.set_index("source_id")
    rows, k = [], recipe.mixing.mixes_per_speech
    for fold in range(1, recipe.folds.n_folds + 1):
        fold_speech = sorted(speech.loc[speech["fold"] == fold, "source_id"].astype(str))
        fold_music = sorted(music.loc[music["fold"] == fold, "source_id"].astype(str))
        if len(fold_music) < k:
            raise UserError(
                f"fold {fold} has {len(fold_music)} usable music clips; the recipe needs at least "
                f"{k} distinct clips per speech clip (mixing.mixes_per_speech)"
            )
        if recipe.mixing.pairing == "balanced":
            pairs = pair_balanced(fold_speech, fold_music, k, recipe.seed, fold)
        else:
            pairs = _pair_random(fold_speech, fold_music, k, recipe.seed)
        for sid in fold_speech:
            for pair_index, mid in enumerate(pairs[sid]):
                rows.append(
                    {
                        "speech_id": sid,
                        "music_id": mid,
                        "pair_index": pair_index,
                        "fold": fold,
                        "music_frames": int(music_by_id.at[mid, "frames_44k"]),
                    }
                )
    return pd.DataFrame(rows)


def plan_mixes(inventory: pd.DataFrame, recipe: MismeRecipe) -> Plan:
    """The complete MiSME plan from an inventory table (no audio is read).

    ``inventory`` needs: source_id, corpus, actor, gender, emotion, emotion_name,
    intensity, statement, valence, arousal, frames_44k, duration_s, gain_db,
    active_start_s, active_end_s.
    """
    speech, music, excluded = _split_inventory(inventory, recipe)
    _assign_folds(speech, music, recipe)
    mixes = _mix_rows(speech, music, recipe)
    wf, sr = recipe.window_frames, recipe.audio.sample_rate
    speech_by_id = speech.set_index("source_id")
    music_by_id = music.set_index("source_id")
    s = speech_by_id.loc[mixes["speech_id"]].reset_index()
    m = music_by_id.loc[mixes["music_id"]].reset_index()

    mixes["mix_id"] = mixes["speech_id"] + "__" + mixes["music_id"]
    mixes["music_duration_s"] = (mixes["music_frames"] / sr).round(6)
    mixes["n_placements"] = mixes["music_frames"] // wf
    mixes["window_frames"] = wf
    mixes["window_s"] = recipe.mixing.window_s
    mixes["window_index"] = [
        int(rng_for(recipe.seed, "ser-window", mid).integers(p))
        for mid, p in zip(mixes["mix_id"], mixes["n_placements"])
    ]
    mixes["window_start_frame"] = mixes["window_index"] * wf
    mixes["window_start_s"] = (mixes["window_start_frame"] / sr).round(6)
    crops = [
        _speech_crop(int(f), float(a), float(b), wf, sr)
        for f, a, b in zip(s["frames_44k"], s["active_start_s"], s["active_end_s"])
    ]
    mixes["speech_crop_start_frame"] = [c[0] for c in crops]
    mixes["speech_frames"] = [c[1] for c in crops]
    mixes["speech_crop_start_s"] = (mixes["speech_crop_start_frame"] / sr).round(6)
    mixes["speech_offset_frame"] = (wf - mixes["speech_frames"]) // 2
    mixes["speech_offset_s"] = (mixes["speech_offset_frame"] / sr).round(6)
    mixes["speech_gain_db"] = s["gain_db"].to_numpy()
    mixes["music_gain_db"] = m["gain_db"].to_numpy()
    for column in ("emotion", "emotion_name", "intensity", "statement", "actor", "gender"):
        mixes[column] = s[column].to_numpy()
    for column in ("valence", "arousal"):
        mixes[column] = m[column].to_numpy().astype("float64")
        mixes[f"{column}_norm"] = ((mixes[column] - 5.0) / 4.0).round(6)
    mixes = mixes[MIX_COLUMNS].sort_values("mix_id", kind="stable").reset_index(drop=True)

    sources = pd.concat([speech, music], ignore_index=True)
    sources = sources.sort_values("source_id", kind="stable").reset_index(drop=True)
    sources = sources[[c for c in SOURCE_COLUMNS if c in sources.columns]]
    audit = {
        "folds": fold_rules.fold_audit(speech, music, recipe.folds.n_folds),
        "leakage": fold_rules.leakage_check(speech, music),
        "counts": {
            "speech": int(len(speech)),
            "music": int(len(music)),
            "mixes": int(len(mixes)),
            "actors": int(speech["actor"].nunique()),
        },
        "music_usage": _music_usage(mixes),
        "excluded": [{"id": i, "reason": r} for i, r in sorted(excluded)],
    }
    return Plan(sources=sources, mixes=mixes, audit=audit)


def _music_usage(mixes: pd.DataFrame) -> dict:
    usage = mixes.groupby("music_id").size()
    return {"min": int(usage.min()), "max": int(usage.max()), "mean": round(float(usage.mean()), 4)}


SOURCE_COLUMNS = [
    "source_id",
    "corpus",
    "path",
    "sha256",
    "size_bytes",
    "frames",
    "duration_s",
    "sample_rate",
    "channels",
    "actor",
    "gender",
    "emotion",
    "emotion_name",
    "intensity",
    "statement",
    "repetition",
    "valence",
    "arousal",
    "quadrant",
    "artist",
    "title",
    "loudness_lufs",
    "gain_db",
    "active_start_s",
    "active_end_s",
    "frames_44k",
    "fold",
]
MIX_COLUMNS = [
    "mix_id",
    "fold",
    "speech_id",
    "music_id",
    "pair_index",
    "music_frames",
    "music_duration_s",
    "n_placements",
    "window_s",
    "window_frames",
    "window_index",
    "window_start_s",
    "window_start_frame",
    "speech_crop_start_frame",
    "speech_crop_start_s",
    "speech_frames",
    "speech_offset_frame",
    "speech_offset_s",
    "speech_gain_db",
    "music_gain_db",
    "emotion",
    "emotion_name",
    "intensity",
    "statement",
    "actor",
    "gender",
    "valence",
    "arousal",
    "valence_norm",
    "arousal_norm",
]
