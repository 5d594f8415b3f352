"""The MuSe-style VAD Hugging Face export: configs ``frames`` and ``tracks``, the solution of the
benchmark task ``muse-vad``, and the card's own sections (labels, stages).

- ``frames`` (audio): one row per frame, splits ``fold1``..``foldK`` and ``frames-cv<k>``;
  columns ``id`` (the frame id), ``fold``, ``track_id``, ``track``, ``artist``,
  ``spotify_id``, ``start_s``, ``duration_s``, ``valence_tags``, ``arousal_tags``,
  ``dominance_tags``, ``scale``, ``artist_group``, ``audio_sha256`` and ``audio``.
- ``tracks`` (metadata only): one row per track, ``id`` (the track id) and every column of
  ``tracks.parquet``, splits ``fold1``..``foldK``.
- ``OUT/solutions/muse-vad.parquet``: ``id`` (frame id), ``fold``, ``valence``, ``arousal``,
  ``dominance`` (the track's ``*_tags`` labels, on the build's scale), ``scale`` (``[0,1]`` or
  ``1-9``) and ``group`` (the artist group, for a leaderboard's grouped public/private split).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from builders.common.manifest import read_manifest_table
from builders.hf.card import finalize_dataset, read_json
from builders.hf.digest import Digests
from builders.hf.shards import write_table_shards
from builders.hf.solutions import write_solution
from builders.hf.spec import DatasetSpec
from builders.muse_vad.card_doc import card_for_build
from builders.muse_vad.collect import LABELS
from builders.muse_vad.spec import TRACKS

TASK = "muse-vad"
STAGE_COUNTS = ("collected", "with_lexicon_tags", "linked", "with_audio", "with_frames")
TARGETS = {"valence": "valence_tags", "arousal": "arousal_tags", "dominance": "dominance_tags"}
FRAME_COLUMNS = {
    "id": pa.string(),
    "fold": pa.int64(),
    "track_id": pa.string(),
    "track": pa.string(),
    "artist": pa.string(),
    "spotify_id": pa.string(),
    "start_s": pa.float64(),
    "duration_s": pa.float64(),
    **dict.fromkeys(LABELS, pa.float64()),
    "scale": pa.string(),
    "artist_group": pa.string(),
    "audio_sha256": pa.string(),
}


def join_tracks(out: Path, frames: list[dict]) -> list[dict]:
    """Each frame row with its track's ``track``, ``artist`` and ``spotify_id`` (the frame's
    own columns first), from ``tracks.parquet``."""
    tracks = read_manifest_table(Path(out) / "manifests" / "tracks.parquet").to_pylist()
    by_id = {t["track_id"]: t for t in tracks}
    return [
        {**{k: by_id[f["track_id"]][k] for k in ("track", "artist", "spotify_id")}, **f}
        for f in frames
    ]


def frames_table(frames: Sequence[Mapping]) -> pa.Table:
    """The ``frames`` config's columns (all but the audio), from frame rows joined with their
    tracks (:func:`join_tracks`) and their render results."""
    rows = [{**f, "id": f["frame_id"]} for f in frames]
    return pa.table(
        {name: pa.array([r[name] for r in rows], kind) for name, kind in FRAME_COLUMNS.items()}
    )


def tracks_metadata(tracks: pa.Table) -> pa.Table:
    """The ``tracks`` config: ``id`` (the track id) before every column of tracks.parquet."""
    return tracks.add_column(0, "id", tracks.column("track_id"))


def write_solutions(out: Path, frames: Sequence[Mapping]) -> Path:
    """``OUT/solutions/muse-vad.parquet``: frame id, fold, the three targets, scale and group."""
    rows = [
        {
            "frame_id": f["frame_id"],
            "fold": f["fold"],
            "scale": f["scale"],
            "group": f["artist_group"],
            **{target: f[label] for target, label in TARGETS.items()},
        }
        for f in frames
    ]
    return write_solution(
        out,
        TASK,
        rows,
        "frame_id",
        dict.fromkeys(TARGETS, pa.float64()),
        {"scale": pa.string(), "group": pa.string()},
    )


def labels_section(out: Path) -> str:
    """The card's account of the labels and of every stage's count."""
    audit = read_json(Path(out) / "manifests" / "audit.json")
    labels, stages = audit.get("labels", {}), audit.get("stages", {})
    lines = [
        "## Labels",
        "",
        f"- Mode: {audit.get('mode')}; scale: `{labels.get('scale')}`",
        f"- Rule: {labels.get('rule')}",
    ]
    if labels.get("lexicon"):
        lexicon = labels["lexicon"]
        lines += [
            f"- Lexicon: `{lexicon['file']}` ({lexicon['format']}, {lexicon['words']} words, "
            f"scale {lexicon['scale']}), sha256 `{lexicon['sha256']}` (the user's own file, not "
            "included)",
            f"- Blacklisted tags: {', '.join(labels.get('blacklist', []))}",
        ]
    if labels.get("file"):
        lines.append(f"- Imported from `{labels['file']}`")
    lines += ["", "## Stages", "", "| stage | tracks |", "|---|---|"]
    lines += [
        f"| {name.replace('_', ' ')} | {'-' if stages[name] is None else stages[name]} |"
        for name in STAGE_COUNTS
        if name in stages
    ]
    dropped: dict[str, int] = {}
    for entry in audit.get("dropped", []):
        dropped[entry["stage"]] = dropped.get(entry["stage"], 0) + 1
    lines += [
        "",
        "Left out, by stage (every track with its reason in `manifests/audit.json`): "
        + (", ".join(f"{stage} {n}" for stage, n in dropped.items()) or "none"),
        "",
    ]
    return "\n".join(lines)


def export_dataset(out: Path, spec: DatasetSpec, frames: Sequence[Mapping]) -> Digests:
    """Write the ``tracks`` config, the solution, the digest and the card (the ``frames``
    config is the render's); returns the digests."""
    out = Path(out)
    tracks = read_manifest_table(out / "manifests" / "tracks.parquet")
    write_table_shards(out, spec, TRACKS, tracks_metadata(tracks))
    write_solutions(out, frames)
    spec = replace(spec, card=card_for_build(out))  # the lexicon the labels came from
    return finalize_dataset(out, spec, [labels_section(out)])
