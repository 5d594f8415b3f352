"""What a build's tables say, as digests that ignore how they are stored, and their differences.

The tables are every config's shards (``OUT/data/<config>/fold<k>-*.parquet``, metadata-only
configs too) and every solution file (``OUT/solutions/<task>.parquet``). A row is written as
canonical JSON, ``{"row": {column: value}, "split": "fold<k>"}`` (``split`` null for a solution
file) with sorted keys and Python's shortest float repr, of every column but the audio
columns' bytes (``audio``, ``audio_window``: the audio digest covers them by their PCM
checksums). A table's digest is the sha256 over the sorted sha256s (32 raw bytes each) of
its rows: the same whatever the row order, the cut into shards, the Parquet encoding or the
integer width, and different when any id, fold, label or other value is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow.parquet as pq

from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec

TableKey = tuple[str, str]  # ("config", name) or ("solution", task)
Source = tuple[Path, str | None]  # a Parquet file and its split
AUDIO_COLUMNS = ("audio", "audio_window")
SHOWN_ROWS = 3  # differing rows named per table


def table_sources(out: Path, spec: DatasetSpec) -> dict[TableKey, list[Source]]:
    """Every table of OUT with its files: the configs that have shards, then the solutions."""
    tables: dict[TableKey, list[Source]] = {}
    for config in spec.configs:
        shards = shard_files(out, config.name)
        if shards:
            tables[("config", config.name)] = [(s, s.name.split("-")[0]) for s in shards]
    for path in sorted((Path(out) / "solutions").glob("*.parquet")):
        tables[("solution", path.stem)] = [(path, None)]
    return tables


def table_name(key: TableKey) -> str:
    return f"{key[0]} {key[1]}"


def _plain(value: object) -> object:
    """JSON for what json does not write itself (bytes, dates, decimals)."""
    return value.hex() if isinstance(value, bytes) else str(value)


def canonical(row: Mapping, split: str | None) -> str:
    return json.dumps(
        {"row": row, "split": split},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=_plain,
    )


def table_rows(sources: list[Source]) -> Iterator[tuple[str | None, dict]]:
    """(split, row without the audio columns) of every row of the files."""
    for path, split in sources:
        with pq.ParquetFile(path) as parquet:
            columns = [n for n in parquet.schema_arrow.names if n not in AUDIO_COLUMNS]
            for batch in parquet.iter_batches(batch_size=4096, columns=columns):
                for row in batch.to_pylist():
                    yield split, row


def table_digest(sources: list[Source]) -> str:
    """sha256 over the sorted sha256s of the rows' canonical JSON."""
    rows = sorted(
        hashlib.sha256(canonical(row, split).encode()).digest()
        for split, row in table_rows(sources)
    )
    return hashlib.sha256(b"".join(rows)).hexdigest()


def table_digests(out: Path, spec: DatasetSpec) -> dict[TableKey, str]:
    """The digest of every table of OUT."""
    return {key: table_digest(files) for key, files in table_sources(out, spec).items()}


def keyed_rows(sources: list[Source]) -> dict[str, tuple[str | None, dict]]:
    """Rows by id (by their canonical JSON when ids are missing or repeated)."""
    rows = list(table_rows(sources))
    ids = [row.get("id") for _, row in rows]
    if None in ids or len(set(ids)) != len(ids):
        return {canonical(row, split): (split, row) for split, row in rows}
    return {str(i): value for i, value in zip(ids, rows, strict=True)}


def row_changes(ours: tuple[str | None, dict], theirs: tuple[str | None, dict]) -> list[str]:
    """``column a != b`` for each value that differs (the split first)."""
    changes = [f"split {ours[0]} != {theirs[0]}"] if ours[0] != theirs[0] else []
    for column in sorted(ours[1].keys() | theirs[1].keys()):
        a, b = ours[1].get(column, "(none)"), theirs[1].get(column, "(none)")
        if canonical(a, None) != canonical(b, None):  # as the table digest sees them: NaN is NaN
            changes.append(f"{column} {a} != {b}")
    return changes


def table_differences(
    key: TableKey, ours: list[Source] | None, theirs: list[Source] | None
) -> tuple[str, list[str]]:
    """A summary of how one table differs between two builds, and its first differing rows."""
    if ours is None or theirs is None:
        return f"{table_name(key)}: only in the {'second' if ours is None else 'first'} build", []
    first, second = keyed_rows(ours), keyed_rows(theirs)
    changed = {k: row_changes(first[k], second[k]) for k in sorted(first.keys() & second.keys())}
    changed = {k: v for k, v in changed.items() if v}
    columns = sorted({c.split(" ")[0] for v in changed.values() for c in v})
    only = (len(first.keys() - second.keys()), len(second.keys() - first.keys()))
    summary = (
        f"{table_name(key)}: {len(changed)} of {len(first)} rows differ"
        + (f" (in {', '.join(columns)})" if columns else "")
        + f"; {only[0]} only in the first build, {only[1]} only in the second"
    )
    examples = [f"{key[1]}/{k}: {'; '.join(v)}" for k, v in list(changed.items())[:SHOWN_ROWS]]
    examples += [
        f"{key[1]}/{k}: only in the first build"
        for k in sorted(first.keys() - second.keys())[:SHOWN_ROWS]
    ]
    examples += [
        f"{key[1]}/{k}: only in the second build"
        for k in sorted(second.keys() - first.keys())[:SHOWN_ROWS]
    ]
    return summary, examples
