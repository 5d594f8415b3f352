"""The MiSME plan: RAVDESS speech mixed into instrumental music (Laugs 2020).

Plan (cheap, deterministic): sources -> inventory -> folds -> mix plan -> manifests.
Render (heavy, parallel): manifests -> audio (``builders.misme.render``).

The mix plan itself (``plan_mixes``) is ``builders.misme.mix_plan``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from builders.common.audio_formats import SOURCE_SUFFIXES
from builders.common.build_state import write_build_state
from builders.common.hashing import lines_sha256
from builders.common.lock import build_lock
from builders.common.loudness import BS1770_METER, LOUDNORM_METER
from builders.common.manifest_folder import write_manifest_folder
from builders.common.versions import lock_sha256, package_versions
from builders.corpora.deam import read_deam
from builders.corpora.ravdess import read_ravdess
from builders.corpora.soundtracks import read_soundtracks
from builders.errors import UserError
from builders.misme.inventory import build_inventory
from builders.misme.mix_plan import Plan, plan_mixes
from builders.misme.recipe import MismeRecipe, load_recipe
from builders.misme.spec import MUSIC_CORPORA

AUDIO_SUFFIXES = (*SOURCE_SUFFIXES, ".mp4")  # files --strict cares about (RAVDESS's videos too)
TOOL_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "soundfile",
    "soxr",
    "ffmpeg-normalize",
    "imageio-ffmpeg",
    "ffmpeg",  # the binary: it measures loudness and decodes M4A/AAC, Ogg, Opus, WebM
)
# what each loudness meter measures with, in place of v1's last two
METER_PACKAGES = {LOUDNORM_METER: ("ffmpeg-normalize", "imageio-ffmpeg"), BS1770_METER: ("scipy",)}


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


def tool_versions(meter: str = LOUDNORM_METER) -> dict[str, str]:
    """Versions of the packages the plan depends on (recorded in the recipe as used)."""
    packages = [p for p in TOOL_PACKAGES if p not in METER_PACKAGES[LOUDNORM_METER]]
    return package_versions(("misme-toolkit", *packages, *METER_PACKAGES[meter]))


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
    force: bool = False,
) -> Plan:
    """Scan the sources, build the inventory and write ``OUT/manifests`` atomically.

    One run at a time per OUT (``builders.common.lock``; ``wait`` waits for the other); a
    changed plan over a rendered build needs ``force`` (which deletes the old outputs).
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
            force,
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
    force: bool,
) -> Plan:
    listing, selection_path = apply_music_selection(listing, recipe, recipe_path)
    inventory, probe_skips = build_inventory(
        listing,
        roots,
        target_lufs=recipe.loudness.target_lufs,
        speech_dual_mono=recipe.loudness.speech_dual_mono,
        activity_floor_db=recipe.mixing.activity_floor_db,
        sample_rate=recipe.audio.sample_rate,
        meter=recipe.loudness.meter,
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
    if not write_plan(plan, out, recipe, selection_path, force=force) and progress:
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
    plan: Plan,
    out: Path,
    recipe: MismeRecipe,
    selection_path: str | None = None,
    *,
    force: bool = False,
) -> bool:
    """Write the manifests folder as a whole (temporary folder, then rename).

    When OUT already holds the same plan, the folder is left untouched, so that what later
    steps added to it (rendered checksums, separation manifests) survives a re-plan; a
    changed plan over a rendered build needs ``force`` (``write_manifest_folder``).
    Returns True when the manifests were (re)written.
    """
    extra = {
        "build": {
            "tool_versions": tool_versions(recipe.loudness.meter),
            "lock_sha256": lock_sha256(),
            "music_selection_file": selection_path or "",
        }
    }
    tables = {"sources.parquet": plan.sources, "mixes.parquet": plan.mixes}
    texts = {
        "audit.json": json.dumps(plan.audit, indent=2, sort_keys=True) + "\n",
        "recipe.toml": recipe.to_toml(extra),
    }
    return write_manifest_folder(Path(out) / "manifests", tables, texts, force=force)


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


# The old name of the plan entry: bench/render.py, engine.py, scale.py and
# tests/builders/misme/test_render_integration.py still call it (left
# alone while the render is reworked on another branch).
plan_corpus = plan_dataset

__all__ = ["Plan", "plan_mixes", "plan_dataset", "write_plan", "summarise"]
