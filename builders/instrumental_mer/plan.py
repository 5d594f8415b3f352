"""The instrumental-MER plan: sources -> candidate clips -> spans -> folds -> manifests.

Mode (a), ``tracklists`` (``builders.instrumental_mer.tracklists``): the thesis's 1,610
clips from its published tracklists. Mode (b), ``compile``
(``builders.instrumental_mer.compile``): clips compiled from the raw corpora. Both then:
probe the source files (``builders.excerpts.probe_sources``), place each clip in its
source (``builders.instrumental_mer.spans``), choose at most N EMOPIA clips per video
(mode b), deal artist/song/video-independent folds stratified by quadrant
(``builders.instrumental_mer.folds``), and write ``OUT/manifests/`` as a whole:
``clips.parquet``, ``sources.parquet``, ``audit.json``, ``recipe.toml`` (as used, with a
``[build]`` table) and, when DEAM songs were screened, ``screening.parquet``.
Same sources + recipe + seed: byte-identical manifests, whatever the worker count.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from builders.common.build_state import write_build_state
from builders.common.hashing import lines_sha256
from builders.common.lock import build_lock
from builders.common.manifest_folder import write_manifest_folder
from builders.common.versions import lock_sha256, package_versions
from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_tables import ReviewEntry
from builders.errors import UserError
from builders.instrumental_mer import folds as fold_rules
from builders.instrumental_mer.compile import compile_selection
from builders.instrumental_mer.inventory import SourceRoots, probe
from builders.instrumental_mer.protocols import THESIS_FILE, thesis_partitions
from builders.instrumental_mer.recipe import InstrumentalMerRecipe, load_recipe
from builders.instrumental_mer.selection import Selection
from builders.instrumental_mer.spans import choose_per_song, place_clips
from builders.instrumental_mer.tracklists import select_from_tracklists

TOOL_PACKAGES = ("numpy", "pandas", "pyarrow", "soundfile", "soxr", "spotipy", "ffmpeg")
CLIP_COLUMNS = [
    "clip_id",
    "corpus",
    "source_id",
    "song_id",
    "linked_song",
    "artist",
    "title",
    "source_path",
    "start_s",
    "duration_s",
    "valence",
    "arousal",
    "quadrant",
    "fold",
    "fold_group",
]


@dataclass(frozen=True)
class Plan:
    """Everything the plan decides: the manifests' content."""

    clips: pd.DataFrame
    sources: pd.DataFrame
    audit: dict
    screening: pd.DataFrame | None = None
    thesis_split: pd.DataFrame | None = None  # clip_id, partition (recipe protocols.thesis_split)


@dataclass(frozen=True)
class Screening:
    """How DEAM songs are screened in mode (b): a Spotify reader and/or a review list."""

    spotify: SpotifyReader | None = None
    review: Mapping[str, ReviewEntry] | None = None


def select(
    roots: Mapping[str, Path],
    recipe: InstrumentalMerRecipe,
    tracklists: Path | None,
    screening: Screening,
) -> Selection:
    """The mode's candidate clips: from the tracklists (mode a) or compiled (mode b)."""
    if tracklists is None:
        return compile_selection(roots, recipe, spotify=screening.spotify, review=screening.review)
    if screening.spotify is not None or screening.review is not None:
        raise UserError(
            "--spotify-cache, --screen and --instrumentalness belong to compiling (mode b); "
            "the tracklists (--tracklists) already fix the clips"
        )
    return select_from_tracklists(tracklists, roots)


def make_plan(
    selection: Selection, sources: pd.DataFrame, unusable: list, recipe: InstrumentalMerRecipe
) -> Plan:
    """Spans, the EMOPIA choice, folds and the audit from probed sources (no audio is read)."""
    clips, left_out, shortened = place_clips(selection, sources, recipe)
    not_chosen: list[dict] = []
    if selection.mode == "compile":
        clips, not_chosen = choose_per_song(
            clips, "emopia", recipe.emopia.max_clips_per_song, recipe.seed
        )
    if clips.empty:
        raise UserError(f"no usable clip: {_first_problem(selection, unusable, left_out)}")
    clips = fold_rules.assign_folds(
        clips, recipe.folds.n_folds, recipe.seed, recipe.folds.max_size_deviation
    )
    clips = clips[CLIP_COLUMNS].sort_values("clip_id", kind="stable").reset_index(drop=True)
    used = sources[sources["source_id"].isin(set(clips["source_id"]))].reset_index(drop=True)
    skipped = sorted(selection.missing + selection.skipped + unusable + left_out)
    audit = {
        "mode": selection.mode,
        "counts": fold_rules.counts(clips, recipe.folds.n_folds),
        "leaks": fold_rules.leaks(clips),
        "relabelled": selection.report.get("relabelled", []),
        "soundtracks_pairs": selection.report.get("soundtracks_pairs", []),
        "possible_duplicates": fold_rules.possible_duplicates(
            clips, recipe.duplicates.artist_token_overlap
        ),
        "emopia_clips_not_chosen": not_chosen,
        "shortened": shortened,
        "skipped": [{"corpus": c, "item": i, "reason": r} for c, i, r in skipped],
        "sources_digest": sources_digest(used),
        **{
            key: value
            for key, value in selection.report.items()
            if key not in ("relabelled", "soundtracks_pairs")
        },
    }
    return Plan(clips, used, audit, selection.screening)


def with_thesis_split(plan: Plan, tracklists: Path | None) -> Plan:
    """``plan`` with the thesis's partition of its clips (and a note in the audit)."""
    partitions, note = thesis_partitions(list(plan.clips["clip_id"]), tracklists)
    audit = {**plan.audit, "thesis_split_config": note}
    return replace(plan, audit=audit, thesis_split=partitions if len(partitions) else None)


def _first_problem(selection: Selection, unusable: list, left_out: list) -> str:
    problems = selection.missing + unusable + left_out + selection.skipped
    if not problems:
        return "the sources give no candidate clip"
    corpus, item, reason = sorted(problems)[0]
    return f"{len(problems)} problem(s), first: {corpus} {item}: {reason}"


def sources_digest(sources: pd.DataFrame) -> str:
    """sha256 over the sorted ``<source_id>\\t<sha256>\\n`` lines (as the card's)."""
    return lines_sha256(
        f"{sid}\t{sha}\n" for sid, sha in sorted(zip(sources["source_id"], sources["sha256"]))
    )


def tool_versions() -> dict[str, str]:
    """Versions of the packages the plan depends on (recorded in the recipe as used)."""
    return package_versions(("misme-toolkit", *TOOL_PACKAGES))


def plan_dataset(
    *,
    roots: SourceRoots,
    out: Path,
    tracklists: Path | None = None,
    recipe_path: Path | None = None,
    seed: int | None = None,
    screening: Screening | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
    wait: bool = False,
    force: bool = False,
) -> Plan:
    """Read the sources, plan every clip and write ``OUT/manifests`` atomically.

    One run at a time per OUT (``builders.common.lock``; ``wait`` waits for the other); a
    changed plan over a rendered build needs ``force`` (which deletes the old outputs).
    """
    recipe, recipe_path = load_recipe(recipe_path, seed=seed)
    given = roots.given()
    out = Path(out)
    _check_writable(out)
    with build_lock(out, "plan", wait=wait):
        selection = select(given, recipe, tracklists, screening or Screening())
        sources, unusable = probe(selection.files, given, workers=workers, progress=progress)
        if strict and (selection.missing or unusable):
            corpus, item, reason = sorted(selection.missing + unusable)[0]
            count = len(selection.missing) + len(unusable)
            raise UserError(
                f"{count} source file(s) missing or unusable (--strict), first: "
                f"{corpus} {item}: {reason}"
            )
        plan = make_plan(selection, sources, unusable, recipe)
        if recipe.protocols is not None and recipe.protocols.thesis_split:
            plan = with_thesis_split(plan, tracklists)
        written = write_plan(
            plan, out, recipe, mode=selection.mode, tracklists=tracklists, force=force
        )
        if not written and progress:
            print(f"plan unchanged: kept {out / 'manifests'} (and what later steps added to it)")
        write_build_state(out, given)
    return plan


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe_file = out / ".write-test"
        probe_file.write_bytes(b"")
        probe_file.unlink()
    except OSError as error:
        raise UserError(
            f"cannot write to output folder {out}: {error.strerror or error}"
        ) from error


def write_plan(
    plan: Plan,
    out: Path,
    recipe: InstrumentalMerRecipe,
    *,
    mode: str,
    tracklists: Path | None = None,
    force: bool = False,
) -> bool:
    """Write the manifests folder as a whole; an unchanged plan keeps the existing folder (a
    changed one over a rendered build needs ``force``)."""
    build = {"mode": mode, "tool_versions": tool_versions(), "lock_sha256": lock_sha256()}
    tables = {"clips.parquet": plan.clips, "sources.parquet": plan.sources}
    if plan.screening is not None:
        tables["screening.parquet"] = plan.screening
    if plan.thesis_split is not None:
        tables[THESIS_FILE] = plan.thesis_split
    texts = {
        "audit.json": json.dumps(plan.audit, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "recipe.toml": recipe.to_toml({"build": build}),
    }
    return write_manifest_folder(Path(out) / "manifests", tables, texts, force=force)


def summarise(plan: Plan) -> str:
    """A few lines for the command line: counts per corpus and quadrant, folds, leaks."""
    counts = plan.audit["counts"]
    lines = [
        f"mode {plan.audit['mode']}: {counts['clips']} clips from {len(plan.sources)} source files",
        f"{'corpus':<13}{'Q1':>6}{'Q2':>6}{'Q3':>6}{'Q4':>6}{'total':>7}",
    ]
    for corpus, quadrants in counts["by_corpus_quadrant"].items():
        lines.append(
            f"{corpus:<13}"
            + "".join(f"{n:>6}" for n in quadrants.values())
            + f"{sum(quadrants.values()):>7}"
        )
    lines.append(
        f"{'total':<13}"
        + "".join(f"{n:>6}" for n in counts["by_quadrant"].values())
        + f"{counts['clips']:>7}"
    )
    folds = ", ".join(f"{name} {fold['clips']}" for name, fold in counts["by_fold"].items())
    lines.append(f"folds: {folds}")
    lines.append("leaks: " + ", ".join(f"{k}={v}" for k, v in plan.audit["leaks"].items()))
    for key, label in (
        ("relabelled", "relabelled EMOPIA clips"),
        ("possible_duplicates", "possible cross-corpus duplicates"),
    ):
        if plan.audit[key]:
            lines.append(f"{label}: {len(plan.audit[key])} (see audit.json)")
    if plan.audit.get("screening"):
        screening = plan.audit["screening"]
        kept = f"{screening['kept']} of {screening.get('songs')} songs kept"
        lines.append(f"DEAM screening: {screening.get('note') or kept}")
    if plan.audit["skipped"]:
        first = plan.audit["skipped"][0]
        lines.append(
            f"skipped: {len(plan.audit['skipped'])} (see audit.json), e.g. {first['corpus']} "
            f"{first['item']}: {first['reason']}"
        )
    return "\n".join(lines)
