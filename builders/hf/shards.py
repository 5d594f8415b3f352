"""Parquet shards with audio bytes: ``OUT/data/<config>/fold<k>-0000i-of-0000N.parquet``.

One folder per config, written once (atomically, as a whole); rows sorted by id within a
fold; a fold over ``max_shard_bytes`` of audio is cut into several shards. Audio columns
are ``datasets.Audio`` features stored as ``{bytes, path}`` structs (never decoded by
``datasets`` here: decode with soundfile).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_dir
from builders.errors import UserError
from builders.hf.spec import DatasetSpec

MAX_SHARD_BYTES = 500_000_000
ROWS_PER_GROUP = 64


def shard_files(out: Path, config: str) -> list[Path]:
    """The config's shards in canonical order."""
    return sorted((Path(out) / "data" / config).glob("fold*-*.parquet"))


def write_config_shards(out: Path, spec: DatasetSpec, config: str, table: pa.Table,
                        audio_paths: Sequence[Path], window_paths: Sequence[Path] | None = None, *,
                        max_shard_bytes: int = MAX_SHARD_BYTES) -> list[Path]:
    """Write the shards of one config of ``spec``; returns their paths.

    ``table``: one row per clip with ``id`` (string), ``fold`` (1..n_folds), label columns
    and ``audio_sha256`` (plus ``audio_window_sha256`` when ``window_paths`` is given),
    each the sha256 of the clip's int16 PCM. ``audio_paths[i]`` / ``window_paths[i]`` are
    row i's encoded clips; their bytes become the ``audio`` / ``audio_window`` columns.
    """
    config_spec = spec.config(config)
    if config_spec.metadata_only:
        raise ValueError(f"config {config!r} is metadata-only: write it with write_table_shards")
    if (window_paths is not None) != (config_spec.window_view is not None):
        raise ValueError(f"config {config!r}: window clips given iff it has a window view")
    needed = {"id", "fold", "audio_sha256"} | ({"audio_window_sha256"} if window_paths is not None else set())
    if missing := needed - set(table.column_names):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    schema = _features(table, spec.output.sample_rate, window_paths is not None).arrow_schema
    ids, folds = table.column("id").to_pylist(), table.column("fold").to_pylist()
    written = []
    with atomic_dir(Path(out) / "data" / config) as tmp:
        for fold in spec.folds:
            rows = sorted((i for i, f in enumerate(folds) if f == fold), key=lambda i: ids[i])
            sizes = [Path(audio_paths[i]).stat().st_size if Path(audio_paths[i]).exists() else 0 for i in rows]
            ranges = shard_ranges(sizes, max_shard_bytes)
            for n, (start, stop) in enumerate(ranges):
                name = f"fold{fold}-{n:05d}-of-{len(ranges):05d}.parquet"
                _write_shard(tmp / name, schema, table, rows[start:stop], audio_paths, window_paths)
                written.append(Path(out) / "data" / config / name)
    return written


def write_table_shards(out: Path, spec: DatasetSpec, config: str, table: pa.Table) -> list[Path]:
    """Write a metadata-only config of ``spec`` (no audio): one shard per fold, rows by id.

    ``table`` has ``id`` (string), ``fold`` (1..n_folds) and any other columns; the shards
    are ``OUT/data/<config>/fold<k>-00000-of-00001.parquet``, written as one folder.
    """
    if not spec.config(config).metadata_only:
        raise ValueError(f"config {config!r} has audio: write it with write_config_shards")
    if missing := {"id", "fold"} - set(table.column_names):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    import datasets

    schema = datasets.Features.from_arrow_schema(table.schema).arrow_schema
    ids, folds = table.column("id").to_pylist(), table.column("fold").to_pylist()
    written = []
    with atomic_dir(Path(out) / "data" / config) as tmp:
        for fold in spec.folds:
            rows = sorted((i for i, f in enumerate(folds) if f == fold), key=lambda i: ids[i])
            name = f"fold{fold}-00000-of-00001.parquet"
            part = table.take(pa.array(rows, pa.int64())).cast(schema)
            pq.write_table(part, tmp / name, compression="none")
            written.append(Path(out) / "data" / config / name)
    return written


def shard_ranges(sizes: list[int], max_bytes: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) row ranges whose audio bytes stay under ``max_bytes``."""
    ranges, start, total = [], 0, 0
    for i, size in enumerate(sizes):
        if i > start and total + size > max_bytes:
            ranges.append((start, i))
            start, total = i, 0
        total += size
    ranges.append((start, len(sizes)))
    return ranges


def _features(table: pa.Table, sample_rate: int, with_window: bool):
    import datasets

    features = datasets.Features.from_arrow_schema(table.schema)
    features["audio"] = datasets.Audio(sampling_rate=sample_rate, decode=True)
    if with_window:
        features["audio_window"] = datasets.Audio(sampling_rate=sample_rate, decode=True)
    return features


def _audio_array(ids: Sequence[str], paths: Sequence[Path]) -> pa.StructArray:
    blobs = []
    for path in paths:
        try:
            blobs.append(Path(path).read_bytes())
        except FileNotFoundError:
            raise UserError(f"rendered clip missing: {path} (re-run the render)") from None
    names = [f"{i}{Path(p).suffix}" for i, p in zip(ids, paths, strict=True)]
    return pa.StructArray.from_arrays([pa.array(blobs, pa.binary()), pa.array(names, pa.string())],
                                      names=["bytes", "path"])


def _write_shard(path: Path, schema: pa.Schema, table: pa.Table, rows: list[int],
                 audio_paths: Sequence[Path], window_paths: Sequence[Path] | None) -> None:
    with pq.ParquetWriter(path, schema, compression="none") as writer:
        if not rows:
            writer.write_table(schema.empty_table())
        for start in range(0, len(rows), ROWS_PER_GROUP):
            chunk = rows[start : start + ROWS_PER_GROUP]
            part = table.take(pa.array(chunk, pa.int64()))
            ids = part.column("id").to_pylist()
            part = part.append_column("audio", _audio_array(ids, [audio_paths[i] for i in chunk]))
            if window_paths is not None:
                part = part.append_column("audio_window", _audio_array(ids, [window_paths[i] for i in chunk]))
            writer.write_table(part.select(schema.names).cast(schema))


def config_metadata(out: Path, config: str) -> pa.Table:
    """A config's non-audio columns (ids, folds, labels, checksums) from its shards."""
    shards = shard_files(out, config)
    if not shards:
        raise UserError(f"no `{config}` config under {Path(out) / 'data'}")
    names = [n for n in pq.read_schema(shards[0]).names if n not in ("audio", "audio_window")]
    return pa.concat_tables([pq.read_table(s, columns=names) for s in shards])
