"""A config's shards written part by part, by the render workers, then published as one folder.

A render batch encodes its clips in memory and writes them, with their rows, straight into
one *part*: a shard of its config, ``OUT/data/.staged/<config>/fold<k>-<n>-of-<N>.parquet``
(the n-th of the N parts of fold k), with the part's own clip index beside it
(``<part stem>.clips.json``, the entries of ``builders.common.clips``). Each clip's bytes are
so written once, into the file the finished build keeps. The dataset orders a part's rows
and numbers its parts so that a fold's parts, in name order, hold its rows in the order it
documents.

:func:`publish_parts` then checks that the parts hold every row of the config, merges their
indexes into ``.clips.json`` and puts the staged folder in place of ``OUT/data/<config>`` as a
whole: until then, the published config is the previous one (or none).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from builders.common.atomic import atomic_file, temp_sibling
from builders.common.clips import INDEX_NAME, PART_INDEX_SUFFIX, STAGED_DIR, clip_file, staged_dir
from builders.errors import UserError
from builders.hf.shards import Clip, audio_layout, write_shard
from builders.hf.spec import DatasetSpec


def part_name(fold: int, number: int, total: int) -> str:
    """The file name of the ``number``-th (from 0) of the ``total`` parts of ``fold``."""
    return f"fold{fold}-{number:05d}-of-{total:05d}.parquet"


def _part_index(folder: Path, name: str) -> Path:
    return folder / f"{Path(name).stem}{PART_INDEX_SUFFIX}"


def write_part(
    out: Path,
    spec: DatasetSpec,
    config: str,
    name: str,
    table: pa.Table,
    clips: Mapping[str, Sequence[Clip]],
) -> dict[str, dict[str, list]]:
    """Write ``table``'s rows (one fold's, in their order) with their clips as the staged part
    ``name`` of ``config``, then its index; returns the index (``{view: {id: entry}}``).

    ``clips`` gives, per audio column (``audio``, and ``audio_window`` for a config with a
    window view), each row's clip: its bytes, or a :class:`ClipRef` to read them from.
    """
    schema, views = audio_layout(spec, config, table, "audio_window" in clips)
    if len(set(table.column("fold").to_pylist())) > 1:
        raise ValueError(f"part {config}/{name}: rows of more than one fold")
    folder = staged_dir(out, config)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_file(folder / name) as tmp:
        placed = write_shard(
            tmp, schema, table, list(range(table.num_rows)), clips, spec.output.suffix, name
        )
    index = {views[column]: entries for column, entries in placed.items()}
    _write_index(_part_index(folder, name), index)
    return index


def link_part(out: Path, config: str, name: str, index: Mapping[str, Mapping[str, list]]) -> bool:
    """Stage the published part ``name`` of ``config`` as it is (a hard link: no byte copied),
    with ``index`` (its clips' entries); False when it cannot be linked (then write it)."""
    folder = staged_dir(out, config)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_file(folder / name) as tmp:
        try:
            os.link(Path(out) / "data" / config / name, tmp)
        except OSError:
            return False
    _write_index(_part_index(folder, name), index)
    return True


def _write_index(path: Path, index: Mapping) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(index, sort_keys=True))


def publish_parts(
    out: Path, spec: DatasetSpec, config: str, table: pa.Table, names: Sequence[str]
) -> list[Path]:
    """Publish the staged parts ``names`` of ``config`` as ``OUT/data/<config>``; returns the shards.

    ``table`` holds the config's rows (``id``, ``fold``, the columns of the parts): every id
    must be in exactly one part. A fold without a part gets an empty shard. Files of the
    staged folder not in ``names`` (parts of an older plan) are removed, and so are the clip
    files (``OUT/audio/<view>/<id><suffix>``) of the published ids, which the shards now hold.
    """
    out, folder = Path(out), staged_dir(out, config)
    windowed = spec.config(config).window_view is not None
    schema, views = audio_layout(spec, config, table, windowed)
    index: dict[str, dict[str, list]] = {view: {} for view in views.values()}
    for name in names:
        try:
            part = json.loads(_part_index(folder, name).read_text())
        except (OSError, ValueError):
            raise UserError(
                f"the render's part {folder / name} is missing or incomplete: re-run the render"
            ) from None
        for view, entries in part.items():
            index.setdefault(view, {}).update(entries)
    expected = set(table.column("id").to_pylist())
    for view, entries in index.items():
        if set(entries) != expected:
            missing = sorted(expected - set(entries)) or sorted(set(entries) - expected)
            raise UserError(
                f"the render's parts of `{config}` do not match its manifest (view {view}: "
                f"{missing[0]}...): re-run the render"
            )
    folds_with_parts = {int(name[4 : name.index("-")]) for name in names}
    shards = list(names)
    for fold in spec.folds:
        if fold not in folds_with_parts:
            shards.append(part_name(fold, 0, 1))
            empty = schema.empty_table()
            write_shard(
                folder / shards[-1], schema, empty, [], {c: [] for c in views}, spec.output.suffix
            )
    for path in folder.iterdir():
        if path.name not in shards:
            path.unlink()
    _write_index(folder / INDEX_NAME, index)
    target = out / "data" / config
    old = temp_sibling(target, "old")
    if target.exists():
        os.replace(target, old)
    os.replace(folder, target)
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(OSError):
        (out / "data" / STAGED_DIR).rmdir()
    for view, entries in index.items():
        for clip_id in entries:
            clip_file(out, view, clip_id, spec.output.suffix).unlink(missing_ok=True)
    return [target / name for name in sorted(shards)]
