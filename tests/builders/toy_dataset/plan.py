"""The toy plan: labelled tones -> one clip each -> folds by mood -> ``OUT/manifests``.

The sources: audio files below an ``--audio`` folder and ``labels.csv`` there (``file``,
relative to the folder, and the targets). Fill in :func:`read_labels` and
:func:`plan_clips` for your corpus; the rest (probing, folds, manifests) stays as it is.
Same sources + recipe + seed: byte-identical manifests, whatever the worker count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.common.build_state import write_build_state
from builders.common.folds import deal_round_robin, require_every_fold
from builders.common.lock import build_lock
from builders.common.manifest_folder import write_manifest_folder
from builders.common.versions import lock_sha256, package_versions
from builders.errors import UserError
from builders.excerpts import SOURCE_COLUMNS, probe_sources
from tests.builders.toy_dataset.recipe import ToyRecipe, load_recipe

LABELS_FILE = "labels.csv"
TARGETS = ("mood", "energy")  # the label columns every clip carries into the dataset and solutions
CORPUS = "audio"  # the sources' root in build-state.json (`--root audio=PATH`)
CLIP_COLUMNS = ("clip_id", "source_id", "start_s", "duration_s", *TARGETS, "fold")


@dataclass(frozen=True)
class Plan:
    """Everything the plan decides: the manifests' content."""

    clips: pd.DataFrame
    sources: pd.DataFrame
    audit: dict


def read_labels(audio: Path) -> pd.DataFrame:
    """One row per source file: ``file`` (posix, relative to ``audio``) and the targets."""
    path = Path(audio) / LABELS_FILE
    if not path.is_file():
        raise UserError(f"{LABELS_FILE} not found in {audio}")
    labels = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = sorted({"file", *TARGETS} - set(labels.columns))
    if missing:
        raise UserError(f"{path} lacks the column(s) {', '.join(missing)}")
    labels["energy"] = labels["energy"].astype("float64")
    return labels.sort_values("file", kind="stable").reset_index(drop=True)


def plan_clips(
    labels: pd.DataFrame, probes: list[dict | str], recipe: ToyRecipe
) -> tuple[list[dict], list[dict], list[dict]]:
    """The clip rows (one per usable file), their source rows, and the files left out."""
    clips, sources, skipped = [], [], []
    for row, probe in zip(labels.to_dict("records"), probes, strict=True):
        if isinstance(probe, str):
            skipped.append({"file": row["file"], "reason": probe})
            continue
        source_id = Path(row["file"]).with_suffix("").as_posix().replace("/", "-")
        duration_s = min(recipe.clips.duration_s, probe["duration_s"])
        clips.append(
            {"clip_id": source_id, "source_id": source_id, "start_s": 0.0, "duration_s": duration_s}
            | {target: row[target] for target in TARGETS}
        )
        sources.append({"source_id": source_id, "corpus": CORPUS, "path": row["file"], **probe})
    return clips, sources, skipped


def deal_folds(clips: pd.DataFrame, recipe: ToyRecipe) -> pd.Series:
    """Folds 1..K dealt round-robin within each value of the first target (stratified)."""
    strata = [
        (str(value), group["clip_id"].tolist())
        for value, group in clips.groupby(TARGETS[0], sort=True)
    ]
    folds = deal_round_robin(strata, recipe.folds.n_folds, recipe.seed, f"{recipe.name}-folds")
    return clips["clip_id"].map(folds).astype("int64")


def plan_dataset(
    *,
    audio: Path,
    out: Path,
    recipe_path: Path | None = None,
    seed: int | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
    wait: bool = False,
    force: bool = False,
) -> Plan:
    """Read the sources, plan every clip and write ``OUT/manifests`` as a whole.

    One run at a time per OUT (``wait`` waits for the other); a changed plan over a rendered
    build needs ``force`` (which deletes the old outputs).
    """
    recipe, _ = load_recipe(recipe_path, seed=seed)
    audio, out = Path(audio).resolve(), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with build_lock(out, "plan", wait=wait):
        plan = _plan(audio, recipe, workers, strict, progress)
        write_plan(plan, out, recipe, force=force)
        write_build_state(out, {CORPUS: audio})
    return plan


def _plan(audio: Path, recipe: ToyRecipe, workers: int, strict: bool, progress: bool) -> Plan:
    labels = read_labels(audio)
    paths = [str(audio / file) for file in labels["file"]]
    probes = probe_sources(paths, workers=workers, progress=progress)
    rows, source_rows, skipped = plan_clips(labels, probes, recipe)
    if strict and skipped:
        raise UserError(f"{len(skipped)} unusable file(s) (--strict), first: {skipped[0]}")
    clips = pd.DataFrame(rows, columns=list(CLIP_COLUMNS[:-1]))
    clips = clips.sort_values("clip_id", kind="stable").reset_index(drop=True)
    if clips["clip_id"].duplicated().any():
        raise UserError(
            f"two files give the clip id {clips['clip_id'][clips['clip_id'].duplicated()].iloc[0]}"
        )
    clips["fold"] = deal_folds(clips, recipe)
    require_every_fold(clips, recipe.folds.n_folds, "usable")
    sources = pd.DataFrame(source_rows, columns=list(SOURCE_COLUMNS))
    sources = sources.sort_values("source_id", kind="stable").reset_index(drop=True)
    counts = {"clips": len(clips), "by_fold": clips["fold"].value_counts().sort_index().to_dict()}
    return Plan(clips, sources, {"counts": counts, "skipped": skipped})


def write_plan(plan: Plan, out: Path, recipe: ToyRecipe, *, force: bool = False) -> bool:
    """Write the manifests folder as a whole; an unchanged plan keeps the existing folder (a
    changed one over a rendered build needs ``force``)."""
    build = {"tool_versions": package_versions(("misme-toolkit",)), "lock_sha256": lock_sha256()}
    texts = {
        "audit.json": json.dumps(plan.audit, indent=2, sort_keys=True, default=str) + "\n",
        "recipe.toml": recipe.to_toml({"build": build}),
    }
    tables = {"clips.parquet": plan.clips, "sources.parquet": plan.sources}
    return write_manifest_folder(Path(out) / "manifests", tables, texts, force=force)


def summarise(plan: Plan) -> str:
    """A few lines for the command line."""
    folds = ", ".join(f"fold{k} {n}" for k, n in plan.audit["counts"]["by_fold"].items())
    lines = [f"{len(plan.clips)} clips from {len(plan.sources)} files; {folds}"]
    if plan.audit["skipped"]:
        first = plan.audit["skipped"][0]
        lines.append(
            f"skipped: {len(plan.audit['skipped'])}, e.g. {first['file']}: {first['reason']}"
        )
    return "\n".join(lines)
