"""The one render path: a dataset's clips written in batches straight into its shard parts.

Every dataset renders the same way (MiSME, instrumental-MER, MuSe-VAD, and a new one):

1. **Plan the batches.** The dataset cuts its manifest rows into batches, fold by fold, each
   a list of ``(kind, row)`` items in the order its part keeps them; ``kind`` names what an
   item renders and the dataset maps it to the config whose part holds it. :func:`part_names`
   gives each batch its part of each config it renders (the n-th of the N batches of a
   fold that render a config writes ``fold<k>-<n>-of-<N>.parquet``, ``builders.hf.parts``);
   :func:`part_layout` lists them all for the export.
2. **Render a batch** (a module-level function of plain data, so that any engine runs it):
   for each item, :func:`resumed_unit` gives the finished :class:`Unit` when its resume
   record and clips are intact, else the dataset renders it into a :class:`Unit` (its
   result, its encoded clips in memory, its record). :func:`write_batch_parts` then writes
   the batch's parts (or keeps the staged part / hard-links the published one that holds
   exactly its clips already) and, only then, the records of the units rendered afresh.
   :func:`run_batches` runs the batches through an engine and returns their results.
3. **Export.** :func:`write_back` puts the results' checksum columns into a manifest (the
   one write-back every dataset uses); ``builders.hf.parts.publish_parts`` checks that a
   config's parts hold every row, merges their indexes and publishes the staged folder.

:func:`render_lock` wraps a whole render (one per build folder at a time, OS errors named)
and :func:`prepare_audio_dir` readies ``OUT/audio`` (writable, stale temporary files of a
killed run removed). A dataset whose clips are excerpts of source files needs none of this by
hand: ``builders.excerpts.render_view`` is the whole path for one config (instrumental-MER,
MuSe-VAD); MiSME's own batches (speech, music, mixes) are ``builders.misme.batches``.

A killed render leaves staged parts (complete ones only: each is renamed into place, then
indexed) and resume records; nothing in ``OUT/data/<config>`` changes until the export, so
nothing looks finished that is not.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_file, remove_stale_temp_files
from builders.common.clips import ClipRef, clip_file, locate_all, staged_dir
from builders.common.lock import build_lock
from builders.common.resume import finished_result, save_result
from builders.engine import Engine, StateFactory, map_units
from builders.errors import UserError
from builders.hf.parts import link_part, part_name, write_part
from builders.hf.shards import Clip
from builders.hf.spec import DatasetSpec

AUDIO_COLUMNS = ("audio", "audio_window")  # a config's audio columns, in its views' order
# How a write-back stores a manifest: MiSME's manifests keep pyarrow's defaults, the others
# the settings of ``builders.common.manifest.write_manifest`` (their plan's own).
PYARROW_DEFAULTS: dict[str, Any] = {}
MANIFEST_PARQUET: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 9,
    "use_dictionary": False,
}

Item = tuple[str, dict]  # (kind, manifest row)
Part = tuple[str, str]  # (config, part name)
T = TypeVar("T")


@dataclass
class Unit:
    """One rendered (or resumed) item: its ``result`` (``id``, checksums, ... and
    ``resumed``), its clips by audio column (encoded bytes, or a :class:`ClipRef` to where
    they lie), and the resume ``record`` (with its ``key``) to write once they are in their
    part."""

    result: dict
    clips: dict[str, Clip]
    record: Path
    key: str


def record_file(out: Path | str, view: str, clip_id: str) -> Path:
    """A unit's resume record ``OUT/audio/<view>/<id>.json``."""
    return Path(out) / "audio" / view / f"{clip_id}.json"


def resumed_unit(
    record: Path, key: str, clips: Sequence[Path], checked: Mapping[str, str]
) -> Unit | None:
    """The finished unit whose ``record`` holds ``key`` and whose ``clips`` (one per audio
    column, named ``OUT/audio/<view>/<id><suffix>``) are intact where they lie, else None.
    ``checked`` maps clip paths to the result field of their PCM checksum."""
    if (done := finished_result(record, key, clips, checked)) is None:
        return None
    refs = locate_all(clips)
    if None in refs:
        return None
    return Unit(
        {**done, "resumed": True}, dict(zip(AUDIO_COLUMNS, refs, strict=False)), record, key
    )


def fold_of(row: Mapping) -> int:
    """A row's fold (-1 for none)."""
    fold = row.get("fold")
    return -1 if fold is None else int(fold)


def runs(items: Sequence[T], size: int) -> list[list[T]]:
    """``items`` in consecutive runs of at most ``size``."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def part_names(batches: Sequence[tuple[int, Iterable[str]]]) -> list[tuple[Part, ...]]:
    """Per batch (its fold, the configs it renders), the (config, part name) of each config:
    the n-th of the N batches of a fold that render a config write its part n of N."""
    used = [(fold, sorted(set(configs))) for fold, configs in batches]
    totals: dict[tuple[str, int], int] = {}
    for fold, configs in used:
        for config in configs:
            totals[config, fold] = totals.get((config, fold), 0) + 1
    seen: dict[tuple[str, int], int] = {}
    names = []
    for fold, configs in used:
        parts = []
        for config in configs:
            number = seen.get((config, fold), 0)
            seen[config, fold] = number + 1
            parts.append((config, part_name(fold, number, totals[config, fold])))
        names.append(tuple(parts))
    return names


def part_layout(
    names: Iterable[tuple[Part, ...]], configs: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Every part of :func:`part_names`' answer by config (``configs`` listed even when
    empty), sorted."""
    layout: dict[str, list[str]] = {config: [] for config in configs}
    for parts in names:
        for config, name in parts:
            layout.setdefault(config, []).append(name)
    return {config: sorted(found) for config, found in layout.items()}


def write_batch_parts(
    out: Path,
    spec: DatasetSpec,
    parts: Sequence[Part],
    done: Sequence[tuple[str, dict, Unit]],
    config_table: Callable[[str, list[dict]], pa.Table],
) -> None:
    """Write a batch's ``parts``: each holds the ``done`` (config, row, unit) of its config,
    in their order, with the columns ``config_table(config, rows with their results)``
    gives; then write the records of the units rendered afresh."""
    for config, name in parts:
        units = [(row, unit) for of, row, unit in done if of == config]
        _write_part(Path(out), spec, config, name, units, config_table)


def _write_part(
    out: Path,
    spec: DatasetSpec,
    config: str,
    name: str,
    units: list[tuple[dict, Unit]],
    config_table: Callable[[str, list[dict]], pa.Table],
) -> None:
    views = spec.config(config).views
    table = config_table(config, [{**row, **unit.result} for row, unit in units])
    index = _whole_part(out, views, config, name, [unit for _, unit in units], table)
    if index is None:
        clips = {column: [unit.clips[column] for _, unit in units] for column in units[0][1].clips}
        index = write_part(out, spec, config, name, table, clips)
    for _, unit in units:
        if unit.result["resumed"]:
            continue
        clip_id = unit.result["id"]
        digests = {
            clip_file(out, view, clip_id, spec.output.suffix): index[view][clip_id][3]
            for view in views
        }
        saved = {k: v for k, v in unit.result.items() if k != "resumed"}
        save_result(unit.record, unit.key, saved, digests=digests)


def _whole_part(
    out: Path, views: tuple[str, ...], config: str, name: str, units: list[Unit], table: pa.Table
) -> dict | None:
    """The index of part ``name`` when it holds exactly the ``units``' clips and nothing else,
    with ``table``'s column values (a re-plan may change a label and not a clip): as the
    staged part (kept as it is) or as the published one (linked into the staged folder);
    else None."""
    staged = str(staged_dir(out, config) / name)
    published_part = str(Path(out) / "data" / config / name)
    refs = [clip for unit in units for clip in unit.clips.values()]
    places = {
        clip.path if isinstance(clip, ClipRef) and not clip.is_file else None for clip in refs
    }
    if places not in ({staged}, {published_part}) or pq.ParquetFile(
        next(iter(places))
    ).metadata.num_rows != len(units):
        return None
    if not _same_rows(next(iter(places)), table):
        return None
    index: dict[str, dict[str, list]] = {view: {} for view in views}
    for unit in units:
        for view, clip in zip(views, unit.clips.values(), strict=True):
            index[view][unit.result["id"]] = [name, clip.offset, clip.length, clip.sha256]
    if places == {staged} or link_part(out, config, name, index):
        return index
    return None


def _same_rows(part: str, table: pa.Table) -> bool:
    """True when the part's columns of ``table`` hold ``table``'s values, in its order."""
    try:
        stored = pq.read_table(part, columns=table.column_names)
    except (OSError, pa.ArrowInvalid, KeyError):
        return False
    return _comparable(stored.to_pylist()) == _comparable(table.to_pylist())


def _comparable(rows: list[dict]) -> list[dict]:
    """Rows with NaN (never equal to itself) as a marker that is."""
    return [
        {k: "NaN" if isinstance(v, float) and v != v else v for k, v in row.items()} for row in rows
    ]


def run_batches(
    render_batch: Callable[..., list[dict]],
    batches: Sequence[Any],
    engine: Engine,
    *,
    progress: bool,
    desc: str = "render",
    unit: str = "clip",
    state: StateFactory | None = None,
) -> list[dict]:
    """Every batch's results (``render_batch(batch)``, or ``render_batch(state, batch)``
    with a worker ``state``), in batch order; the progress bar counts each batch's
    ``rows``."""
    done = map_units(
        render_batch,
        list(batches),
        engine=engine,
        desc=desc,
        unit=unit,
        weights=[len(batch.rows) for batch in batches],
        state=state,
        progress=progress,
    )
    return [result for batch in done for result in batch]


def write_back(
    path: Path,
    table: pa.Table,
    id_column: str,
    results: Sequence[Mapping],
    types: Mapping[str, pa.DataType],
    parquet: Mapping[str, Any] = PYARROW_DEFAULTS,
) -> pa.Table:
    """The manifest ``table`` with its render-result columns (``types``: name -> type,
    appended in that order) replaced by ``results``' (by ``id``; None for an id without
    one), written atomically to ``path`` with the Parquet options ``parquet``."""
    by_id = {r["id"]: r for r in results}
    table = table.drop_columns([c for c in types if c in table.column_names])
    ids = table.column(id_column).to_pylist()
    for column, kind in types.items():
        values = [by_id[i].get(column) if i in by_id else None for i in ids]
        table = table.append_column(pa.field(column, kind), pa.array(values, type=kind))
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, **parquet)
    return table


@contextmanager
def render_lock(out: Path, wait: bool):
    """Hold OUT's render lock (``wait``: for another run to end); an OS error while writing
    becomes a UserError naming the file."""
    try:
        with build_lock(out, "render", wait=wait):
            yield
    except OSError as error:
        where = error.filename or out
        raise UserError(
            f"cannot write the build under {out}: {where}: {error.strerror or error}"
        ) from error


def prepare_audio_dir(out: Path, started: float, folder: Path | None = None) -> Path:
    """Make ``folder`` (default ``OUT/audio``), check it is writable, and remove the temporary
    files a killed run left there and under ``OUT/data`` (those older than ``started``)."""
    folder = Path(folder or Path(out) / "audio")
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise UserError(f"output folder is not writable: {folder}")
    remove_stale_temp_files(folder, started)
    remove_stale_temp_files(Path(out) / "data", started)  # parts of a killed render
    return folder
