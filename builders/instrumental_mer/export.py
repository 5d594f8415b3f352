"""The instrumental-MER Hugging Face export: the ``clips`` config's columns (the render writes
its parts, ``builders.instrumental_mer.render``), solutions, the card's sections.

Layout, digest and card: ``builders.hf``. The ``clips`` config has splits ``fold1``..``foldK``
(and ``clips-cv<k>``); each row carries the clip's labels and ``audio_sha256``.
Solutions (``OUT/solutions/``): ``mer-quadrant`` (every clip: ``id, fold, quadrant``) and
``mer-va`` (the clips rated on valence/arousal, i.e. not EMOPIA: ``id, fold, valence,
arousal`` in [-1, 1]); both add ``group`` (the clip's artist/song fold group) so that a
challenge's public/private split keeps a group on one side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from builders.hf.card import finalize_dataset, read_json
from builders.hf.digest import Digests
from builders.hf.solutions import write_solution
from builders.hf.spec import DatasetSpec
from builders.instrumental_mer import protocols

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
CONFIG_COLUMNS: dict[str, pa.DataType] = {
    "fold": pa.int64(),
    "corpus": pa.string(),
    "song_id": pa.string(),
    "artist": pa.string(),
    "title": pa.string(),
    "start_s": pa.float64(),
    "duration_s": pa.float64(),
    "valence": pa.float64(),
    "arousal": pa.float64(),
    "quadrant": pa.string(),
    "audio_sha256": pa.string(),
}


def _finite(value: object) -> object:
    return None if isinstance(value, float) and value != value else value


def clips_table(clips: Sequence[Mapping]) -> pa.Table:
    """The ``clips`` config's columns (all but the audio) of manifest rows with their render
    results, in their order."""
    data = {"id": pa.array([row["clip_id"] for row in clips], pa.string())}
    for column, kind in CONFIG_COLUMNS.items():
        data[column] = pa.array([_finite(row.get(column)) for row in clips], kind)
    return pa.table(data)


def write_solutions(
    out: Path, clips: Sequence[Mapping], spec: DatasetSpec | None = None
) -> list[Path]:
    """``mer-quadrant`` (all clips) and ``mer-va`` (clips with valence and arousal); with a
    ``spec`` that has protocol configs, those configs and their solutions too
    (``builders.instrumental_mer.protocols``)."""
    paths = _fold_solutions(out, clips)
    if spec is not None:
        paths += protocols.write_protocols(out, spec, clips, clips_table)
    return paths


def _fold_solutions(out: Path, clips: Sequence[Mapping]) -> list[Path]:
    rows = [{**row, "group": row["fold_group"]} for row in clips]
    rated = [
        row
        for row in rows
        if _finite(row["valence"]) is not None and _finite(row["arousal"]) is not None
    ]
    group = {"group": pa.string(), "corpus": pa.string()}  # corpus: per-corpus scores
    paths = [write_solution(out, "mer-quadrant", rows, "clip_id", {"quadrant": pa.string()}, group)]
    if rated:
        paths.append(
            write_solution(
                out,
                "mer-va",
                rated,
                "clip_id",
                {"valence": pa.float64(), "arousal": pa.float64()},
                group,
            )
        )
    return paths


def counts_section(out: Path, n_folds: int) -> str:
    """Markdown: clips per corpus and quadrant, per fold and in total (from audit.json)."""
    counts = read_json(Path(out) / "manifests" / "audit.json").get("counts", {})
    if not counts:
        return ""
    lines = [
        "## Clips per corpus, quadrant and fold",
        "",
        "| fold | corpus | " + " | ".join(QUADRANTS) + " | total |",
        "|---|---|" + "---|" * (len(QUADRANTS) + 1),
    ]
    folds = [(name, fold["by_corpus_quadrant"]) for name, fold in counts.get("by_fold", {}).items()]
    for name, table in [*folds, ("all", counts["by_corpus_quadrant"])]:
        for corpus, quadrants in table.items():
            values = [quadrants.get(q, 0) for q in QUADRANTS]
            lines.append(
                f"| {name} | {corpus} | " + " | ".join(map(str, values)) + f" | {sum(values)} |"
            )
        totals = [sum(t.get(q, 0) for t in table.values()) for q in QUADRANTS]
        lines.append(
            f"| {name} | **all** | " + " | ".join(map(str, totals)) + f" | {sum(totals)} |"
        )
    return "\n".join(lines) + "\n"


def notes_section(out: Path) -> str:
    """Markdown: the mode, leaks, relabellings, pairs and possible duplicates (from audit.json,
    linked for everything else)."""
    audit = read_json(Path(out) / "manifests" / "audit.json")
    notes = {
        "mode": audit.get("mode"),
        "leaks": audit.get("leaks"),
        "relabelled EMOPIA clips": len(audit.get("relabelled", [])),
        "Soundtracks pairs": audit.get("soundtracks_pairs"),
        "possible cross-corpus duplicates": len(audit.get("possible_duplicates", [])),
        "skipped": len(audit.get("skipped", [])),
    }
    lines = [f"- {name}: {_brief(value)}" for name, value in notes.items()]
    return "\n".join(
        [
            "## Build notes",
            "",
            *lines,
            "- Everything else: [manifests/audit.json](manifests/audit.json)",
            "",
        ]
    )


def _brief(value: object) -> str:
    """A value in a few words: counts for lists and mappings."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_brief(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return str(len(value))
    return str(value)


def finalize_build(out: Path, spec: DatasetSpec) -> Digests:
    """Digest and card of the build (with the counts table and the build notes)."""
    protocol_lines = protocols.card_section(out, spec)  # "" for a v1 recipe: its card unchanged
    sections = [counts_section(out, spec.n_folds), *([protocol_lines] if protocol_lines else [])]
    return finalize_dataset(out, spec, [*sections, notes_section(out)])
