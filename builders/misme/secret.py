"""A challenge's secret variant of a MiSME build: test folds that a standard build cannot unmask.

Everyone this toolkit serves can build the standard corpus, so hidden test clips copied
from it could be matched back to their ids (and labels) by checksum. The secret variant
re-plans the test folds' rows from the same sources with draws from a *secret* seed, within
the recipe's rules, so that the labels stay valid and no clip or 1-second stretch of PCM
equals one of a standard build:

- every test-fold source gets a gain offset uniform in ``±gain_spread_db`` (its loudness stays
  within that of the recipe's target), and so every clip of it (speech, music) changes;
- the test folds' speech/music pairs are dealt afresh (balanced, within the fold, as the
  recipe's pairing does), each mix's SER window is drawn again, and the speech is placed at
  a random offset inside each window instead of centred;
- the other folds are left exactly as they are (their clips are reused, byte for byte).

The variant is a normal build folder (render it, separate it, export it with
``misme-leaderboard export-challenge``); ``manifests/secret.json`` keeps the secret seed and
the rules, so the organizer can re-render and verify it. It is the organizer's, never the
participants'.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_dir, atomic_file
from builders.common.build_state import read_roots, write_build_state
from builders.common.clips import write_published_clips
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_frame, write_manifest
from builders.common.seeding import rng_for
from builders.errors import UserError
from builders.hf.plan_match import check_plan_matches_shards
from builders.misme.mix_plan import pair_balanced
from builders.misme.recipe import build_recipe
from builders.misme.render import MIX_RESULTS, SOURCE_RESULTS
from builders.misme.spec import SPEECH_CORPORA, dataset_spec

GAIN_SPREAD_DB = 1.5


def perturb_sources(
    sources: pd.DataFrame, test_folds: set[int], seed: int, spread_db: float
) -> pd.DataFrame:
    """Test-fold sources with their gain moved by a secret draw in [-spread, +spread] dB."""
    sources = sources.copy()
    for index, row in sources.iterrows():
        if int(row["fold"]) in test_folds:
            offset = float(
                rng_for(seed, "secret-gain", str(row["source_id"])).uniform(-spread_db, spread_db)
            )
            sources.at[index, "gain_db"] = round(float(row["gain_db"]) + offset, 4)
    return sources


def repair_mixes(
    mixes: pd.DataFrame, sources: pd.DataFrame, test_folds: set[int], seed: int, rate: int
) -> pd.DataFrame:
    """The test folds' mixes paired, windowed and placed afresh from the secret seed."""
    keep = mixes[~mixes["fold"].astype(int).isin(test_folds)]
    by_id = sources.set_index("source_id")
    fresh = [keep]
    for fold in sorted(test_folds):
        rows = mixes[mixes["fold"].astype(int) == fold]
        if rows.empty:
            continue
        k = int(rows.groupby("speech_id").size().max())
        speech = sorted(rows["speech_id"].unique())
        music = sorted(
            sources.loc[
                (sources["fold"].astype(int) == fold) & ~sources["corpus"].isin(SPEECH_CORPORA),
                "source_id",
            ]
        )
        pairs = pair_balanced(speech, music, k, seed, fold)
        template = rows.iloc[0]
        fresh.append(
            pd.DataFrame(
                [
                    _secret_mix(template, by_id, s, m, i, fold, seed, rate)
                    for s in speech
                    for i, m in enumerate(pairs[s])
                ]
            )
        )
    return (
        pd.concat(fresh, ignore_index=True)
        .sort_values("mix_id", kind="stable")
        .reset_index(drop=True)
    )


def _secret_mix(
    template: pd.Series,
    sources: pd.DataFrame,
    speech_id: str,
    music_id: str,
    pair_index: int,
    fold: int,
    seed: int,
    rate: int,
) -> dict:
    """One mix row with the recipe's geometry, the secret pairing, window and placement."""
    s, m = sources.loc[speech_id], sources.loc[music_id]
    window = int(template["window_frames"])
    mix_id = f"{speech_id}__{music_id}"
    music_frames = int(m["frames_44k"])
    placements = music_frames // window
    rng = rng_for(seed, "secret-mix", mix_id)
    crop_start, used = _crop(int(s["frames_44k"]), window, rng)
    offset = int(rng.integers(0, window - used + 1))
    index = int(rng.integers(placements))
    row = template.to_dict()
    row.update(
        {
            "mix_id": mix_id,
            "fold": fold,
            "speech_id": speech_id,
            "music_id": music_id,
            "pair_index": pair_index,
            "music_frames": music_frames,
            "music_duration_s": round(music_frames / rate, 6),
            "n_placements": placements,
            "window_index": index,
            "window_start_frame": index * window,
            "window_start_s": round(index * window / rate, 6),
            "speech_crop_start_frame": crop_start,
            "speech_crop_start_s": round(crop_start / rate, 6),
            "speech_frames": used,
            "speech_offset_frame": offset,
            "speech_offset_s": round(offset / rate, 6),
            "speech_gain_db": float(s["gain_db"]),
            "music_gain_db": float(m["gain_db"]),
        }
    )
    for column in ("emotion", "emotion_name", "intensity", "statement", "actor", "gender"):
        row[column] = s[column]
    for column in ("valence", "arousal"):
        row[column] = float(m[column])
        row[f"{column}_norm"] = round((float(m[column]) - 5.0) / 4.0, 6)
    return {k: v for k, v in row.items() if k not in MIX_RESULTS}


def _crop(frames: int, window: int, rng) -> tuple[int, int]:
    """A secret crop of speech longer than the window (the standard one centres its activity)."""
    if frames <= window:
        return 0, frames
    return int(rng.integers(0, frames - window + 1)), window


def secret_variant(
    out: Path,
    dest: Path,
    *,
    secret_seed: int,
    test_folds: Iterable[int],
    gain_spread_db: float = GAIN_SPREAD_DB,
) -> dict:
    """Write DEST: OUT's plan with secret test folds (see the module doc), ready to render.

    OUT's rendered clips are copied; rendering DEST keeps those whose inputs are unchanged
    (the other folds) and renders the test folds afresh. Returns what was changed.
    """
    out, dest = Path(out), Path(dest)
    test_folds = {int(f) for f in test_folds}
    if not test_folds:
        raise UserError("--test-folds names no fold")
    if dest.exists():
        raise UserError(f"{dest} already exists; choose a new folder for the secret variant")
    build_recipe(out)  # OUT is a planned build (before its lock would make the folder)
    with build_lock(out, "secret-variant"):  # DEST's is taken once its plan is known
        return _write_variant(out, dest, secret_seed, test_folds, gain_spread_db)


def _write_variant(
    out: Path, dest: Path, secret_seed: int, test_folds: set[int], gain_spread_db: float
) -> dict:
    recipe = build_recipe(out)
    if (out / "data").is_dir():
        check_plan_matches_shards(out, dataset_spec(recipe))
    sources = read_manifest_frame(
        out / "manifests" / "sources.parquet", hint="run `misme-build misme plan` first"
    )
    mixes = read_manifest_frame(
        out / "manifests" / "mixes.parquet", hint="run `misme-build misme plan` first"
    )
    unknown = sorted(test_folds - set(sources["fold"].astype(int)))
    if unknown:
        raise UserError(f"test fold(s) {unknown} are not folds of {out}")
    plan_sources = sources.drop(columns=[c for c in SOURCE_RESULTS if c in sources.columns])
    secret_sources = perturb_sources(plan_sources, test_folds, secret_seed, gain_spread_db)
    secret_mixes = repair_mixes(
        mixes.drop(columns=[c for c in MIX_RESULTS if c in mixes.columns]),
        secret_sources,
        test_folds,
        secret_seed,
        recipe.audio.sample_rate,
    )
    with build_lock(dest, "secret-variant"):
        with atomic_dir(dest / "manifests") as tmp:
            write_manifest(secret_sources, tmp / "sources.parquet")
            write_manifest(secret_mixes, tmp / "mixes.parquet")
            shutil.copy(out / "manifests" / "recipe.toml", tmp / "recipe.toml")
            shutil.copy(out / "manifests" / "audit.json", tmp / "audit.json")
            (tmp / "secret.json").write_text(
                json.dumps(
                    {
                        "from": str(out.resolve()),
                        "secret_seed": int(secret_seed),
                        "test_folds": sorted(test_folds),
                        "gain_spread_db": gain_spread_db,
                        "recipe_seed": recipe.seed,
                        "rules": "test-fold source gains moved by U(-spread, +spread) dB; test-fold mixes re-paired "
                        "(balanced, within the fold), windows re-drawn, speech crop and placement drawn "
                        "inside the window; other folds unchanged",
                        "keep_private": True,
                    },
                    indent=2,
                )
                + "\n"
            )
        write_build_state(dest, read_roots(out))
        _reuse_unchanged_clips(out, dest, dataset_spec(recipe).output.suffix)
    changed = int((secret_mixes["fold"].astype(int).isin(test_folds)).sum())
    return {
        "dest": dest,
        "test_folds": sorted(test_folds),
        "secret_mixes": changed,
        "secret_sources": int(secret_sources["fold"].astype(int).isin(test_folds).sum()),
    }


def _reuse_unchanged_clips(out: Path, dest: Path, suffix: str) -> None:
    """Copy OUT's resume records and rendered clips, the published ones as files (DEST gets
    no shards: OUT's would leak into DEST's digest until DEST's own export replaced them);
    DEST's render and separation keep the clips whose inputs are unchanged."""
    if (out / "audio").is_dir():
        shutil.copytree(out / "audio", dest / "audio", ignore=shutil.ignore_patterns(".*"))
    write_published_clips(out, dest, suffix)


def write_secret_note(dest: Path) -> Path:
    """A README for the organizer beside the secret build."""
    path = Path(dest) / "SECRET-README.md"
    with atomic_file(path) as tmp:
        tmp.write_text(
            "This build's test folds were drawn from a secret seed (manifests/secret.json).\n"
            "Keep manifests/ and this folder private; give participants only what\n"
            "`misme-leaderboard export-challenge` writes into its participant folder.\n"
        )
    return path
