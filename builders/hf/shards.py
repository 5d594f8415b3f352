"""Parquet shards with audio bytes: ``OUT/data/<config>/fold<k>-0000i-of-0000N.parquet``.

One folder per config, written once (atomically, as a whole); rows sorted by id within a
fold; a fold over ``max_shard_bytes`` of audio is cut into several shards. Audio columns
are ``datasets.Audio`` features stored as ``{bytes, path}`` structs (never decoded by
``datasets`` here: decode with soundfile). The shards are written with pyarrow alone: the
schema and its ``huggingface`` metadata are the ones ``datasets.Features`` gives
(:func:`hf_schema`), and each clip is read once, straight into its Arrow buffer. The
audio bytes are stored PLAIN and uncompressed, without dictionary or statistics (the other
columns keep both): the dataset digest covers the clips' PCM checksums, not the shards'
bytes. So each clip's bytes lie unchanged inside its shard: the folder's index
(``builders.common.clips``) records where, and the clip files are then deleted, so that a
finished build stores each audio byte once (:func:`write_config_shards`: the separated
``bss`` configs). :func:`write_shard` also takes clips as bytes: ``builders.hf.parts`` writes
a config part by part from a render's encoded clips (every dataset's render,
``builders.hf.batches``).
"""

from __future__ import annotations

import hashlib
import json
import mmap
import struct
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_dir
from builders.common.clips import INDEX_NAME, ClipRef, locate_all
from builders.errors import UserError
from builders.hf.spec import DatasetSpec

MAX_SHARD_BYTES = 500_000_000
ROWS_PER_GROUP = 64
AUDIO_TYPE = pa.struct({"bytes": pa.binary(), "path": pa.string()})  # datasets.Audio's storage
_MAX_BINARY_BYTES = 2**31 - 1  # int32 offsets of pa.binary()
_MARK_BYTES = 60  # the first / last bytes of a clip that, with its length, find it in its shard
# arrow type -> datasets.Value dtype, for the plain columns hf_schema describes itself
VALUE_DTYPES = {
    pa.bool_(): "bool",
    pa.int8(): "int8",
    pa.int16(): "int16",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.uint8(): "uint8",
    pa.uint16(): "uint16",
    pa.uint32(): "uint32",
    pa.uint64(): "uint64",
    pa.float32(): "float32",
    pa.float64(): "float64",
    pa.string(): "string",
    pa.large_string(): "large_string",
    pa.binary(): "binary",
    pa.large_binary(): "large_binary",
}


def shard_files(out: Path, config: str) -> list[Path]:
    """The config's shards (``<split>-<n>-of-<N>.parquet``) in canonical order."""
    return sorted((Path(out) / "data" / config).glob("*-?????-of-?????.parquet"))


def write_config_shards(
    out: Path,
    spec: DatasetSpec,
    config: str,
    table: pa.Table,
    audio_paths: Sequence[Path],
    window_paths: Sequence[Path] | None = None,
    *,
    max_shard_bytes: int = MAX_SHARD_BYTES,
) -> list[Path]:
    """Write the shards of one config of ``spec`` and their clip index; returns their paths.

    ``table``: one row per clip with ``id`` (string), ``fold`` (1..n_folds), label columns
    and ``audio_sha256`` (plus ``audio_window_sha256`` when ``window_paths`` is given),
    each the sha256 of the clip's int16 PCM. ``audio_paths[i]`` / ``window_paths[i]`` are
    row i's rendered clips (``OUT/audio/<view>/<id><suffix>``); their bytes become the
    ``audio`` / ``audio_window`` columns. A clip whose file is gone is read from where the
    config's current shards hold it. Once the new shards and their index are in place, the
    clip files are deleted: the shards hold their bytes.
    """
    schema, views = audio_layout(spec, config, table, window_paths is not None)
    clips = {"audio": _clip_refs(audio_paths)}
    if window_paths is not None:
        clips["audio_window"] = _clip_refs(window_paths)
    ids, folds = table.column("id").to_pylist(), table.column("fold").to_pylist()
    written, index = [], {view: {} for view in views.values()}
    with atomic_dir(Path(out) / "data" / config) as tmp:
        for fold in spec.folds:
            rows = sorted((i for i, f in enumerate(folds) if f == fold), key=lambda i: ids[i])
            ranges = shard_ranges([clips["audio"][i].size() for i in rows], max_shard_bytes)
            for n, (start, stop) in enumerate(ranges):
                name = f"fold{fold}-{n:05d}-of-{len(ranges):05d}.parquet"
                placed = write_shard(
                    tmp / name, schema, table, rows[start:stop], clips, spec.output.suffix
                )
                for column, entries in placed.items():
                    index[views[column]].update(entries)
                written.append(Path(out) / "data" / config / name)
        (tmp / INDEX_NAME).write_text(json.dumps(index, sort_keys=True))
    for refs in clips.values():
        for ref in refs:
            if ref.is_file:
                Path(ref.path).unlink(missing_ok=True)
    return written


def audio_layout(
    spec: DatasetSpec, config: str, table: pa.Table, windowed: bool
) -> tuple[pa.Schema, dict[str, str]]:
    """The shard schema of an audio config's ``table`` (its columns, then the audio columns)
    and each audio column's view; ValueError when the table or window clips do not fit it."""
    config_spec = spec.config(config)
    if config_spec.metadata_only:
        raise ValueError(f"config {config!r} is metadata-only: write it with write_table_shards")
    if windowed != (config_spec.window_view is not None):
        raise ValueError(f"config {config!r}: window clips given iff it has a window view")
    needed = {"id", "fold", "audio_sha256"} | ({"audio_window_sha256"} if windowed else set())
    if missing := needed - set(table.column_names):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    audio_columns = ("audio", "audio_window") if windowed else ("audio",)
    schema = hf_schema(table.schema, dict.fromkeys(audio_columns, spec.output.sample_rate))
    return schema, dict(zip(audio_columns, config_spec.views, strict=True))


def _clip_refs(paths: Sequence[Path]) -> list[ClipRef]:
    """Where each rendered clip is: its file, else its range in the shards that published it."""
    refs = locate_all(paths)
    if None in refs:
        raise UserError(f"rendered clip missing: {paths[refs.index(None)]} (re-run the render)")
    return refs


def write_table_shards(out: Path, spec: DatasetSpec, config: str, table: pa.Table) -> list[Path]:
    """Write a metadata-only config of ``spec`` (no audio): one shard per fold, rows by id.

    ``table`` has ``id`` (string), ``fold`` (1..n_folds) and any other columns; the shards
    are ``OUT/data/<config>/fold<k>-00000-of-00001.parquet``, written as one folder. A config
    with its own splits takes a ``split`` column instead (not written: the shard names it).
    """
    config_spec = spec.config(config)
    if not config_spec.metadata_only:
        raise ValueError(f"config {config!r} has audio: write it with write_config_shards")
    key = "split" if config_spec.splits else "fold"
    if missing := {"id", key} - set(table.column_names):
        raise ValueError(f"table lacks columns {sorted(missing)}")
    ids, keys = table.column("id").to_pylist(), table.column(key).to_pylist()
    if config_spec.splits:
        table = table.drop_columns(["split"])
    schema = hf_schema(table.schema)
    wanted = config_spec.splits or tuple(spec.folds)
    if unknown := set(keys) - set(wanted):
        raise ValueError(f"config {config!r}: rows of unknown {key} {sorted(map(str, unknown))}")
    written = []
    with atomic_dir(Path(out) / "data" / config) as tmp:
        for part in wanted:
            rows = sorted((i for i, k in enumerate(keys) if k == part), key=lambda i: ids[i])
            name = f"{part if config_spec.splits else f'fold{part}'}-00000-of-00001.parquet"
            chunk = table.take(pa.array(rows, pa.int64())).cast(schema)
            pq.write_table(chunk, tmp / name, compression="none")
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


def hf_schema(schema: pa.Schema, audio: Mapping[str, int] | None = None) -> pa.Schema:
    """``schema`` plus ``audio`` columns (name -> sampling rate, appended as ``datasets.Audio``
    features), with the ``huggingface`` metadata: the schema ``datasets.Features`` gives
    (``Features.from_arrow_schema(schema)`` plus the Audio features, ``.arrow_schema``).

    Plain columns (:data:`VALUE_DTYPES`) are described here, without importing ``datasets``
    (about a second per export); any other column, or features in ``schema``'s own metadata
    other than those plain ones, goes through ``datasets`` itself.
    """
    audio = dict(audio or {})
    if clash := set(audio) & set(schema.names):
        raise ValueError(f"the table already has columns {sorted(clash)}")
    dtypes = [VALUE_DTYPES.get(f.type) for f in schema]
    if None in dtypes or not _plain_metadata(schema, dtypes):
        return _datasets_schema(schema, audio)
    features = {
        f.name: {"dtype": dtype, "_type": "Value"} for f, dtype in zip(schema, dtypes, strict=True)
    }
    features.update(
        {name: {"sampling_rate": rate, "_type": "Audio"} for name, rate in audio.items()}
    )
    fields = [pa.field(f.name, f.type) for f in schema] + [
        pa.field(name, AUDIO_TYPE) for name in audio
    ]
    return pa.schema(fields, metadata={"huggingface": json.dumps({"info": {"features": features}})})


def _plain_metadata(schema: pa.Schema, dtypes: Sequence[str]) -> bool:
    """True when ``schema``'s own ``huggingface`` features (if any) name its columns as the
    plain Values their types give, so that ``datasets`` would describe them the same way."""
    try:
        features = json.loads((schema.metadata or {})[b"huggingface"])["info"]["features"] or {}
    except KeyError:
        return True
    except (ValueError, TypeError):
        return False
    return all(
        features.get(f.name, {"dtype": dtype, "_type": "Value"})
        == {"dtype": dtype, "_type": "Value"}
        for f, dtype in zip(schema, dtypes, strict=True)
    )


def _datasets_schema(schema: pa.Schema, audio: Mapping[str, int]) -> pa.Schema:
    import datasets

    features = datasets.Features.from_arrow_schema(schema)
    for name, rate in audio.items():
        features[name] = datasets.Audio(sampling_rate=rate, decode=True)
    return features.arrow_schema


Clip = ClipRef | bytes  # a clip where it lies (a file, a shard range), or its bytes in memory


def _clip_bytes(refs: Sequence[Clip]) -> tuple[pa.BinaryArray, list[tuple[int, bytes, bytes, str]]]:
    """The clips' bytes as one binary array, each clip read (or copied) once straight into
    its buffer, and per clip its (length, first bytes, last bytes, sha256): what
    :func:`_clip_ranges` finds it by."""
    sizes = []
    for ref in refs:
        try:
            sizes.append(len(ref) if isinstance(ref, bytes) else ref.size())
        except FileNotFoundError:
            raise UserError(f"rendered clip missing: {ref} (re-run the render)") from None
    ends = np.cumsum(sizes, dtype=np.int64)
    total = int(ends[-1]) if len(ends) else 0
    if total > _MAX_BINARY_BYTES:
        raise UserError(
            f"the {len(refs)} clips of one row group (from {refs[0]}) hold {total} bytes, "
            f"more than a binary column can ({_MAX_BINARY_BYTES})"
        )
    offsets = np.concatenate([[0], ends]).astype(np.int32)
    data = pa.allocate_buffer(total)
    view = memoryview(data).cast("B")
    marks = []
    for ref, start, stop in zip(refs, offsets[:-1].tolist(), offsets[1:].tolist(), strict=True):
        if isinstance(ref, bytes):
            view[start:stop] = ref
        else:
            _read_into(ref, view[start:stop])
        digest = hashlib.sha256(view[start:stop]).hexdigest()
        if not isinstance(ref, bytes) and ref.sha256 is not None and digest != ref.sha256:
            raise UserError(
                f"published clip {ref} is damaged (its bytes do not match the shard index): "
                "re-run the render"
            )
        marks.append(
            (
                stop - start,
                bytes(view[start : min(stop, start + _MARK_BYTES)]),
                bytes(view[max(start, stop - _MARK_BYTES) : stop]),
                digest,
            )
        )
    return pa.Array.from_buffers(
        pa.binary(), len(sizes), [None, pa.py_buffer(offsets), data]
    ), marks


def _read_into(ref: ClipRef, target: memoryview) -> None:
    with open(ref.path, "rb", buffering=0) as handle:
        if not ref.is_file:
            handle.seek(ref.offset)
        got = 0
        while got < len(target) and (n := handle.readinto(target[got:])):
            got += n
        if got != len(target) or (ref.is_file and handle.read(1)):
            raise UserError(
                f"rendered clip changed while the shards were written: {ref} (re-run the render)"
            )


def _audio_array(
    ids: Sequence[str], refs: Sequence[Clip], suffix: str
) -> tuple[pa.StructArray, list]:
    """The audio column of ``ids``; a clip's ``path`` is ``<id><suffix>`` (a clip file's own
    suffix)."""
    names = [
        f"{i}{suffix if isinstance(ref, bytes) else Path(ref.name).suffix}"
        for i, ref in zip(ids, refs, strict=True)
    ]
    data, marks = _clip_bytes(refs)
    return pa.StructArray.from_arrays(
        [data, pa.array(names, pa.string())], names=["bytes", "path"]
    ), marks


def _clip_ranges(
    path: Path,
    column: str,
    ids: Sequence[str],
    marks: Sequence[tuple[int, bytes, bytes, str]],
    name: str | None = None,
) -> dict[str, list]:
    """Where each clip's bytes lie in the written shard: ``{id: [shard, offset, length, sha256]}``.

    A PLAIN binary value is its 4-byte little-endian length and then its bytes, and values
    never span pages, so the clips are found in order in the column's chunks by length and
    first bytes, each confirmed by its last bytes. (The sha256, of the bytes as they were
    read in, is checked by every later read of the range: resume, re-export.)
    """
    metadata = pq.ParquetFile(path).metadata
    chunks = []
    for group in range(metadata.num_row_groups):
        for j in range(metadata.num_columns):
            chunk = metadata.row_group(group).column(j)
            if chunk.path_in_schema == f"{column}.bytes":
                first = chunk.dictionary_page_offset or chunk.data_page_offset
                chunks.append((first, first + chunk.total_compressed_size))
    entries: dict[str, list] = {}
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        current, cursor = 0, chunks[0][0] if chunks else 0
        for clip_id, (length, head, tail, digest) in zip(ids, marks, strict=True):
            needle = struct.pack("<I", length) + head
            while True:
                found = (
                    data.find(needle, cursor, chunks[current][1]) if current < len(chunks) else -1
                )
                if found < 0:
                    current += 1
                    if current >= len(chunks):
                        raise RuntimeError(f"{path}: clip {clip_id} not found in its column chunks")
                    cursor = chunks[current][0]
                    continue
                start = found + 4
                if data[start + length - len(tail) : start + length] == tail:
                    break
                cursor = found + 1
            entries[clip_id] = [name or path.name, start, length, digest]
            cursor = start + length
    return entries


def _encoded_columns(schema: pa.Schema) -> list[str]:
    """The leaf columns given dictionary encoding and statistics: all but the audio bytes
    (unique encoded clips: a dictionary of them is a copy that is thrown away, min/max are
    meaningless)."""
    leaves = []
    for field in schema:
        if field.type == AUDIO_TYPE:
            leaves += [
                f"{field.name}.{child.name}" for child in field.type if child.name != "bytes"
            ]
        else:
            leaves.append(field.name)
    return leaves


def write_shard(
    path: Path,
    schema: pa.Schema,
    table: pa.Table,
    rows: list[int],
    clips: Mapping[str, Sequence[Clip]],
    suffix: str,
    name: str | None = None,
) -> dict[str, dict[str, list]]:
    """Write ``rows`` of ``table`` with their clips (per audio column of ``schema``, indexed
    like ``table``) as one shard at ``path``; returns, per audio column, where its clips lie
    (:func:`_clip_ranges`, under the shard's final file ``name``, default ``path``'s)."""
    encoded = _encoded_columns(schema)
    all_ids, all_marks = [], {column: [] for column in clips}
    # write_batch_size=1: the writer closes a page once it passes data_page_size, i.e. after
    # about one clip, instead of growing one page buffer to a whole row group's audio (by
    # doubling: hundreds of MB of fresh memory per shard, mostly page-fault time)
    with pq.ParquetWriter(
        path,
        schema,
        compression="none",
        use_dictionary=encoded,
        write_statistics=encoded,
        write_batch_size=1,
    ) as writer:
        if not rows:
            writer.write_table(schema.empty_table())
        for start in range(0, len(rows), ROWS_PER_GROUP):
            chunk = rows[start : start + ROWS_PER_GROUP]
            part = table.take(pa.array(chunk, pa.int64()))
            ids = part.column("id").to_pylist()
            all_ids += ids
            for column, refs in clips.items():
                array, marks = _audio_array(ids, [refs[i] for i in chunk], suffix)
                part = part.append_column(column, array)
                all_marks[column] += marks
            writer.write_table(part.select(schema.names).cast(schema))
    return {
        column: _clip_ranges(path, column, all_ids, marks, name)
        for column, marks in all_marks.items()
    }


def config_metadata(out: Path, config: str) -> pa.Table:
    """A config's non-audio columns (ids, folds, labels, checksums) from its shards."""
    shards = shard_files(out, config)
    if not shards:
        raise UserError(f"no `{config}` config under {Path(out) / 'data'}")
    with naming_the_shard(shards[0]):
        names = [n for n in pq.read_schema(shards[0]).names if n not in ("audio", "audio_window")]
    tables = []
    for shard in shards:
        with naming_the_shard(shard):
            tables.append(pq.read_table(shard, columns=names))
    return pa.concat_tables(tables)


@contextmanager
def naming_the_shard(path: Path | str) -> Iterator[None]:
    """Put ``path`` into an Arrow error raised while reading it (a truncated shard says only
    "Parquet magic bytes not found in footer"); the error keeps its type."""
    try:
        yield
    except pa.ArrowException as error:
        if str(path) in str(error):
            raise
        try:
            named = type(error)(f"{path}: {error}")
        except TypeError:  # an Arrow error type that takes other arguments
            raise error from None
        raise named from error
