"""Protocols beside the folds (recipe ``[protocols]``, from ``manifests/instrumental-mer-v2``).

- Leave one corpus out (seed 003's cross-dataset set-up): config ``loco-<corpus>`` has
  ``train`` = the clips of the two other corpora and ``test`` = those of ``<corpus>``.
  Solutions ``mer-quadrant-loco`` (every clip) and ``mer-va-loco`` (the rated clips, so
  DEAM and Soundtracks only) give each clip ``fold`` = its corpus's number (deam 1,
  soundtracks 2, emopia 3): a prediction file predicts every clip with the model trained
  without its corpus, and ``misme-score`` reports each held-out corpus as a fold.
- The thesis's own song-level 65/15/20 split (seed 001's ``MER-stratified-splits.json``,
  found below ``--tracklists``; ids ``d_<clipId>``, ``s_<Filename>``, ``e_<clipname>``):
  config ``thesis-split`` with ``train``, ``validation`` and ``test``; solutions
  ``mer-quadrant-thesis`` and ``mer-va-thesis`` hold the test clips (``fold`` 1).

The protocol configs are metadata-only (no audio column: a clip's audio is the ``clips``
row of the same ``id``; ``audio_sha256`` links them), so they add no byte of audio and
nothing to the dataset digest. A v1 recipe has no ``[protocols]``: its build is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa

from builders.corpora.mer_tracklists import find_thesis_files, read_thesis_splits
from builders.errors import UserError
from builders.hf.card_meta import present_configs
from builders.hf.shards import write_table_shards
from builders.hf.solutions import write_solution
from builders.hf.spec import ConfigSpec, DatasetSpec

CORPORA = ("deam", "soundtracks", "emopia")
CORPUS_FOLD = {corpus: k for k, corpus in enumerate(CORPORA, start=1)}
LOCO_SPLITS = ("train", "test")
THESIS_CONFIG = "thesis-split"
THESIS_SPLITS = ("train", "validation", "test")
THESIS_FILE = "thesis-split.parquet"  # manifests/: clip_id, partition (the plan's copy)


def loco_config(corpus: str) -> str:
    return f"loco-{corpus}"


LOCO_CONFIGS = tuple(loco_config(c) for c in CORPORA)
PROTOCOL_CONFIGS = (*LOCO_CONFIGS, THESIS_CONFIG)


def protocol_configs(loco: bool, thesis_split: bool) -> tuple[ConfigSpec, ...]:
    """The metadata-only configs of the protocols a recipe asks for."""
    configs = [ConfigSpec(c, metadata_only=True, splits=LOCO_SPLITS) for c in LOCO_CONFIGS]
    thesis = ConfigSpec(THESIS_CONFIG, metadata_only=True, splits=THESIS_SPLITS)
    return (*(configs if loco else ()), *((thesis,) if thesis_split else ()))


def thesis_partitions(clip_ids: Sequence[str], tracklists: Path | None) -> tuple[pd.DataFrame, str]:
    """``clip_id, partition`` of the planned clips found in the thesis's split file below
    ``tracklists`` (empty when there is none), and a note for the audit."""
    found = find_thesis_files(Path(tracklists)) if tracklists is not None else {}
    if "splits" not in found:
        empty = pd.DataFrame({"clip_id": pd.Series([], dtype=str), "partition": []})
        return empty.astype(
            str
        ), "no MER-stratified-splits.json below --tracklists: no thesis-split"
    splits = read_thesis_splits(found["splits"])
    kept = splits[splits["clip_id"].isin(set(clip_ids))].reset_index(drop=True)
    return kept, f"{len(kept)} of {len(splits)} clips of {found['splits'].name} are in the build"


def write_protocols(out: Path, spec: DatasetSpec, clips: Sequence[Mapping], table_of) -> list[Path]:
    """The protocol configs of ``spec`` and their solutions; ``table_of(rows)`` gives a
    config's columns (those of ``clips``). Returns the solution files written."""
    names = {c.name for c in spec.configs}
    written = []
    present = [c for c in CORPORA if any(row["corpus"] == c for row in clips)]
    if set(LOCO_CONFIGS) <= names and len(present) > 1:  # a config per corpus of the build
        for corpus in present:
            splits = ["test" if row["corpus"] == corpus else "train" for row in clips]
            write_table_shards(out, spec, loco_config(corpus), _with_split(table_of(clips), splits))
        folds = [{**row, "fold": CORPUS_FOLD[row["corpus"]]} for row in clips]
        written += _solutions(out, "loco", folds)
    partition = _read_partitions(out) if THESIS_CONFIG in names else {}
    if partition:  # mode (a) with the split file
        rows = [row for row in clips if row["clip_id"] in partition]
        splits = [partition[row["clip_id"]] for row in rows]
        write_table_shards(out, spec, THESIS_CONFIG, _with_split(table_of(rows), splits))
        test = [{**row, "fold": 1} for row, split in zip(rows, splits) if split == "test"]
        written += _solutions(out, "thesis", test)
    return written


def _with_split(table: pa.Table, splits: Sequence[str]) -> pa.Table:
    return table.append_column("split", pa.array(splits, pa.string()))


def _read_partitions(out: Path) -> dict[str, str]:
    path = Path(out) / "manifests" / THESIS_FILE
    if not path.is_file():
        return {}
    frame = pd.read_parquet(path)
    return dict(zip(frame["clip_id"].astype(str), frame["partition"].astype(str)))


def _rated(row: Mapping) -> bool:
    """Whether the clip has a valence and an arousal (EMOPIA's are empty: None or NaN)."""
    return all(row[t] is not None and row[t] == row[t] for t in ("valence", "arousal"))


def _solutions(out: Path, protocol: str, rows: Sequence[Mapping]) -> list[Path]:
    """``mer-quadrant-<protocol>`` (every row) and ``mer-va-<protocol>`` (the rated rows)."""
    if not rows:
        return []
    rows = [{**row, "group": row["fold_group"]} for row in rows]
    extra = {"group": pa.string(), "corpus": pa.string()}
    quadrant = {"quadrant": pa.string()}
    paths = [write_solution(out, f"mer-quadrant-{protocol}", rows, "clip_id", quadrant, extra)]
    rated = [row for row in rows if _rated(row)]
    if rated:
        va = {"valence": pa.float64(), "arousal": pa.float64()}
        paths.append(write_solution(out, f"mer-va-{protocol}", rated, "clip_id", va, extra))
    return paths


def protocol_folds(out: Path, clips: pd.DataFrame, protocol: str) -> pd.Series:
    """Each clip's fold under ``protocol`` (NaN: not used): ``folds`` its own, ``loco`` its
    corpus's number, ``thesis`` 0 for the train partition (trains only), 1 for test (the
    validation partition is left out, as the thesis kept it for model selection)."""
    if protocol == "folds":
        return clips["fold"]
    if protocol == "loco":
        return clips["corpus"].map(CORPUS_FOLD)
    partition = _read_partitions(out)
    if not partition:
        raise UserError(
            f"{Path(out) / 'manifests' / THESIS_FILE} not found: plan the build with recipe "
            "v2 and --tracklists (the thesis's split file)"
        )
    return clips["clip_id"].map(partition).map({"train": 0, "test": 1})


def card_section(out: Path, spec: DatasetSpec) -> str:
    """Markdown: the protocol configs the build holds and how to use them ("" without any)."""
    names = [c for c in present_configs(out, spec) if c in PROTOCOL_CONFIGS]
    if not names:
        return ""
    lines = ["## Protocols beside the folds", ""]
    if set(LOCO_CONFIGS) & set(names):
        lines.append(
            "- Leave one corpus out: `loco-<corpus>` has `train` = the clips of the two other "
            "corpora and `test` = those of `<corpus>`. Score every clip, each predicted by the "
            "model trained without its corpus, with `mer-quadrant-loco` / `mer-va-loco` (fold "
            "= held-out corpus: " + ", ".join(f"{c} {k}" for c, k in CORPUS_FOLD.items()) + ")."
        )
    if THESIS_CONFIG in names:
        lines.append(
            "- The thesis's own 65/15/20 split (`MER-stratified-splits.json`): `thesis-split` "
            "with `train`, `validation`, `test`; `mer-quadrant-thesis` / `mer-va-thesis` score "
            "the test clips. It keeps songs, not artists, apart."
        )
    lines += [
        "",
        "These configs hold no audio: join a row to the `clips` row of the same `id` (its "
        "`audio_sha256` is that clip's).",
        "",
    ]
    return "\n".join(lines)
