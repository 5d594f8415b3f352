"""The MiSME plan: RAVDESS speech mixed into instrumental music (Laugs 2020).

Plan (cheap, deterministic): sources -> inventory -> folds -> mix plan -> manifests.
Render (heavy, parallel): manifests -> audio (``builders.misme.render``).

``plan_mixes`` is a pure function of the inventory table, so a full-size plan can be
computed without audio (``bench/plan.py``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_dir
from builders.common.build_state import write_build_state
from builders.common.folds import quadrant
from builders.common.hashing import lines_sha256
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_frame, write_manifest
from builders.common.seeding import rng_for, seeded_order
from builders.common.versions import lock_sha256, package_versions
from builders.corpora.deam import read_deam
from builders.corpora.ravdess import read_ravdess
from builders.corpora.soundtracks import read_soundtracks
from builders.errors import UserError
from builders.misme import folds as fold_rules
from builders.misme.inventory import build_inventory
from builders.misme.recipe import MismeRecipe, load_recipe
from builders.misme.spec import MUSIC_CORPORA, SPEECH_CORPORA

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".mp4")
TOOL_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "soundfile",
    "soxr",
    "ffmpeg-normalize",
    "imageio-ffmpeg",
)


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


# ---------------------------------------------------------------- sources -> inventory


def read_sources(
    ravdess: Path, deam: Path | None, soundtracks: Path | None
) -> tuple[pd.DataFrame, dict[str, Path], list]:
    """Run the corpus readers; returns the joint listing, the roots and every skipped file."""
    if deam is None and soundtracks is None:
        raise UserError("give at least one music corpus: --deam and/or --soundtracks")
    listings = [read_ravdess(Path(ravdess))]
    if deam is not None:
        listings.append(read_deam(Path(deam)))
    if soundtracks is not None:
        listings.append(read_soundtracks(Path(soundtracks)))
    frames = [listing.files for listing in listings]
    roots = {listing.corpus: Path(listing.root).resolve() for listing in listings}
    skipped = [
        (listing.corpus, item, reason) for listing in listings for item, reason in listing.skipped
    ]
    return pd.concat(frames, ignore_index=True), roots, skipped


def apply_music_selection(
    listing: pd.DataFrame, recipe: MismeRecipe, recipe_path: Path
) -> tuple[pd.DataFrame, str | None]:
    """Keep only the music clips named in the recipe's selection CSV (columns corpus,id)."""
    if not recipe.music.selection:
        return listing, None
    path = (recipe_path.parent / recipe.music.selection).resolve()
    if not path.is_file():
        raise UserError(f"music selection list named by the recipe not found: {path}")
    selection = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    if not {"corpus", "id"} <= set(selection.columns):
        raise UserError(f"music selection {path} needs the columns corpus,id")
    wanted = set(selection["corpus"].str.strip() + "-" + selection["id"].str.strip())
    is_music = listing["corpus"].isin(MUSIC_CORPORA)
    return listing[~is_music | listing["source_id"].isin(wanted)].reset_index(drop=True), str(path)


def tool_versions() -> dict[str, str]:
    """Versions of the packages the plan depends on (recorded in the recipe as used)."""
    return package_versions(("misme-toolkit", *TOOL_PACKAGES))


def plan_dataset(
    *,
    ravdess: Path,
    deam: Path | None,
    soundtracks: Path | None,
    out: Path,
    recipe_path: Path | None = None,
    seed: int | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
    cache_dir: Path | None = None,
    wait: bool = False,
) -> Plan:
    """Scan the sources, build the inventory and write ``OUT/manifests`` atomically.

    One run at a time per OUT (``builders.common.lock``; ``wait`` waits for the other).
    """
    recipe, recipe_path = load_recipe(recipe_path, seed=seed)
    out = Path(out)
    listing, roots, reader_skips = read_sources(ravdess, deam, soundtracks)
    if strict:
        _refuse_unusable_files(reader_skips)
    _check_writable(out)
    with build_lock(out, "plan", wait=wait):
        return _plan_locked(
            out,
            recipe,
            recipe_path,
            listing,
            roots,
            reader_skips,
            workers,
            strict,
            progress,
            cache_dir,
        )


def _refuse_unusable_files(reader_skips: list) -> None:
    """--strict: an audio file a reader could not use is fatal (a malformed RAVDESS name, a
    DEAM file without annotation...); files left out by design ("not used") are not."""
    unusable = [
        (c, i, r)
        for c, i, r in sorted(reader_skips)
        if Path(i).suffix.lower() in AUDIO_SUFFIXES and not r.endswith("not used")
    ]
    if unusable:
        corpus, item, reason = unusable[0]
        raise UserError(
            f"{len(unusable)} source file(s) unusable (--strict), first: {corpus} {item}: {reason}"
        )


def _plan_locked(
    out: Path,
    recipe: MismeRecipe,
    recipe_path: Path,
    listing: pd.DataFrame,
    roots: dict,
    reader_skips: list,
    workers: int,
    strict: bool,
    progress: bool,
    cache_dir: Path | None,
) -> Plan:
    listing, selection_path = apply_music_selection(listing, recipe, recipe_path)
    inventory, probe_skips = build_inventory(
        listing,
        roots,
        target_lufs=recipe.loudness.target_lufs,
        speech_dual_mono=recipe.loudness.speech_dual_mono,
        activity_floor_db=recipe.mixing.activity_floor_db,
        sample_rate=recipe.audio.sample_rate,
        workers=max(1, workers),
        cache_path=Path(cache_dir or out / ".cache") / "probe-cache.json",
        progress=progress,
    )
    if strict and probe_skips:
        first_id, first_reason = probe_skips[0]
        raise UserError(
            f"{len(probe_skips)} source file(s) unusable (--strict), first: {first_id}: {first_reason}"
        )
    try:
        plan = plan_mixes(inventory, recipe)
    except UserError as error:
        if probe_skips:
            first_id, first_reason = probe_skips[0]
            raise UserError(
                f"{error} ({len(probe_skips)} source file(s) were unusable, first: "
                f"{first_id}: {first_reason})"
            ) from error
        raise
    plan.audit["skipped"] = [
        {"corpus": c, "item": i, "reason": r} for c, i, r in sorted(reader_skips)
    ] + [{"corpus": sid.split("-", 1)[0], "item": sid, "reason": r} for sid, r in probe_skips]
    plan.audit["sources_digest"] = _sources_digest(plan.sources)
    if not write_plan(plan, out, recipe, selection_path) and progress:
        print(f"plan unchanged: kept {out / 'manifests'} (and what later steps added to it)")
    write_build_state(out, roots)
    return plan


def _sources_digest(sources: pd.DataFrame) -> str:
    return lines_sha256(
        f"{sid}\t{sha}\n" for sid, sha in zip(sources["source_id"], sources["sha256"])
    )


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise UserError(
            f"cannot write to output folder {out}: {error.strerror or error}"
        ) from error


def write_plan(
    plan: Plan, out: Path, recipe: MismeRecipe, selection_path: str | None = None
) -> bool:
    """Write the manifests folder as a whole (temporary folder, then rename).

    When OUT already holds the same plan, the folder is left untouched, so that what later
    steps added to it (rendered checksums, separation manifests) survives a re-plan.
    Returns True when the manifests were (re)written.
    """
    extra = {
        "build": {
            "tool_versions": tool_versions(),
            "lock_sha256": lock_sha256(),
            "music_selection_file": selection_path or "",
        }
    }
    manifests = Path(out) / "manifests"
    try:
        with atomic_dir(manifests) as tmp:
            write_manifest(plan.sources, tmp / "sources.parquet")
            write_manifest(plan.mixes, tmp / "mixes.parquet")
            (tmp / "audit.json").write_text(json.dumps(plan.audit, indent=2, sort_keys=True) + "\n")
            (tmp / "recipe.toml").write_text(recipe.to_toml(extra))
            if _same_plan(tmp, manifests):
                raise _PlanUnchanged
    except _PlanUnchanged:
        return False
    except OSError as error:
        raise UserError(f"cannot write manifests under {out}: {error.strerror or error}") from error
    return True


class _PlanUnchanged(Exception):
    """Raised inside ``atomic_dir`` to discard a freshly written plan equal to the existing one."""


def _same_plan(new: Path, existing: Path) -> bool:
    """True when ``existing`` holds ``new``'s plan (later steps may have added columns and files)."""
    for name in ("audit.json", "recipe.toml"):
        if (
            not (existing / name).is_file()
            or (existing / name).read_bytes() != (new / name).read_bytes()
        ):
            return False
    for name in ("sources.parquet", "mixes.parquet"):
        if not (existing / name).is_file():
            return False
        planned = read_manifest_frame(new / name)
        present = read_manifest_frame(existing / name)
        if not set(planned.columns) <= set(present.columns):
            return False
        if not present[list(planned.columns)].equals(planned):
            return False
    return True


def summarise(plan: Plan) -> str:
    """A short, human-readable summary of a plan: counts and the fold audit table."""
    counts = plan.audit["counts"]
    lines = [
        f"speech clips {counts['speech']} ({counts['actors']} actors), music clips {counts['music']}, "
        f"mixes {counts['mixes']}; music reuse min/mean/max "
        f"{plan.audit['music_usage']['min']}/{plan.audit['music_usage']['mean']}/{plan.audit['music_usage']['max']}",
        f"{'fold':<6}{'actors (M/F)':<16}{'speech':>7}{'music':>7}  music per quadrant",
    ]
    for name, fold in plan.audit["folds"].items():
        genders = fold["genders"]
        quads = " ".join(f"{q}:{n}" for q, n in fold["music_per_quadrant"].items())
        lines.append(
            f"{name:<6}{len(fold['actors']):>2} ({genders.get('male', 0)}/{genders.get('female', 0)}){'':<8}"
            f"{fold['speech_clips']:>7}{fold['music_clips']:>7}  {quads}"
        )
    leak = plan.audit["leakage"]
    lines.append("leakage audit: " + ", ".join(f"{k}={v}" for k, v in leak.items()))
    if plan.audit["excluded"]:
        lines.append(f"excluded music: {len(plan.audit['excluded'])} (see audit.json)")
    if plan.audit.get("skipped"):
        lines.append(
            f"skipped files: {len(plan.audit['skipped'])} (see audit.json), e.g. "
            f"{plan.audit['skipped'][0]['item']}: {plan.audit['skipped'][0]['reason']}"
        )
    return "\n".join(lines)


# The old name of the plan entry, for code written before the dataset protocol named it.
plan_corpus = plan_dataset

__all__ = ["Plan", "plan_mixes", "plan_dataset", "write_plan", "summarise"]
