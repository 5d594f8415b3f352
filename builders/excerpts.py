"""Excerpt clips: a planned span of one source file, resampled and written in the output spec.

The instrumental-MER clips and the MuSe frames are excerpts: ``[start_s, start_s +
duration_s)`` of a source, cut at the source's own rate (frame ``round(start_s * rate)``,
length ``round(duration_s * rate)``), mixed down or up to the output's channel count
(channel mean / duplication), resampled with soxr HQ, scaled by ``1/peak`` only if the
peak exceeds full scale (the gain is recorded), quantised with ``np.rint(x * 32767)``.
Each unit is plain data (:class:`ExcerptUnit`) and resumable (``builders.common.resume``).

:func:`probe_sources` is the plan-time inventory of the source files such clips are cut
from: checksum, length, rate and channels, or the reason a file cannot be used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from builders.common import audio
from builders.common.atomic import atomic_file, remove_stale_temp_files
from builders.common.audio import OutputSpec
from builders.common.build_state import resolve_roots
from builders.common.hashing import file_sha256
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_table
from builders.common.resume import finished_result, save_result, unit_key
from builders.engine import Engine, map_units, resolve_engine
from builders.errors import UserError

RESULT_TYPES = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
# sources.parquet of an excerpt dataset: a source's id, where it is, and what probe_source found
SOURCE_COLUMNS = (
    "source_id",
    "corpus",
    "path",
    "sha256",
    "size_bytes",
    "frames",
    "sample_rate",
    "channels",
    "duration_s",
)


@dataclass(frozen=True)
class ExcerptUnit:
    """One clip to cut: which source span, where the source lives, what to write where."""

    clip_id: str
    corpus: str
    path: str  # relative to the corpus root
    sha256: str
    start_s: float
    duration_s: float
    roots: dict[str, str]
    output: OutputSpec
    clip_path: str
    record_path: str

    @property
    def unit_id(self) -> str:
        return self.clip_id

    @property
    def key(self) -> str:
        return unit_key(
            self.clip_id,
            self.corpus,
            self.path,
            self.sha256,
            self.start_s,
            self.duration_s,
            self.output.sample_rate,
            self.output.channels,
            self.output.audio_format,
        )

    @property
    def source(self) -> Path:
        if self.corpus not in self.roots:
            raise UserError(
                f"no root given for corpus {self.corpus!r} (needed by clip {self.clip_id})"
            )
        return Path(self.roots[self.corpus]) / self.path


def excerpt_span(start_s: float, duration_s: float, rate: int) -> tuple[int, int]:
    """(first frame, frame count) of a span at ``rate``.

    >>> excerpt_span(15.0, 10.0, 44100)
    (661500, 441000)
    """
    return int(round(start_s * rate)), int(round(duration_s * rate))


def render_excerpt(unit: ExcerptUnit) -> dict:
    """Cut, convert and write one clip; ``{"id", "audio_sha256", "frames", "render_gain_db", "resumed"}``."""
    clip, record = Path(unit.clip_path), Path(unit.record_path)
    if (done := finished_result(record, unit.key, [clip], {str(clip): "audio_sha256"})) is not None:
        return {**done, "resumed": True}
    audio.check_source(unit.source, unit.sha256)
    data, rate = audio.read_audio(unit.source)
    start, length = excerpt_span(unit.start_s, unit.duration_s, rate)
    if start < 0 or length <= 0 or start + length > len(data):
        raise UserError(
            f"clip {unit.clip_id}: span {unit.start_s}-{unit.start_s + unit.duration_s} s is outside "
            f"{unit.source} ({len(data) / rate:.3f} s long)"
        )
    if data.shape[1] > 2:
        raise UserError(
            f"clip {unit.clip_id}: {unit.source} has {data.shape[1]} channels (mono or stereo only)"
        )
    part = audio.to_channels(data[start : start + length], unit.output.channels)
    part = audio.resample(part, rate, unit.output.sample_rate)
    part, gain_db = audio.peak_normalise(part)
    pcm = audio.quantise(part)
    result = {
        "id": unit.clip_id,
        "audio_sha256": audio.write_clip(clip, pcm, unit.output),
        "frames": len(pcm),
        "render_gain_db": gain_db,
    }
    save_result(record, unit.key, result, [clip])
    return {**result, "resumed": False}


def render_excerpts(
    units: Sequence[ExcerptUnit],
    *,
    workers: int = 1,
    engine: Engine | None = None,
    progress: bool = True,
    desc: str = "render",
) -> list[dict]:
    """Render every unit through the engine (default: ``workers`` local processes); sorted by clip id."""
    results = map_units(
        render_excerpt,
        list(units),
        workers=workers,
        engine=engine,
        desc=desc,
        unit="clip",
        chunksize=4,
        progress=progress,
    )
    return sorted(results, key=lambda r: r["id"])


def wav_declared_frames(path: str) -> int | None:
    """The frame count a RIFF/WAVE header's ``data`` chunk declares (None if unreadable).

    libsndfile reads a cut-off WAV as a shorter clip without a word; the header still
    says how long it should be.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, block_align = 12, None
    while position + 8 <= len(head):
        chunk, size = (
            head[position : position + 4],
            int.from_bytes(head[position + 4 : position + 8], "little"),
        )
        if chunk == b"fmt " and position + 22 <= len(head):
            block_align = int.from_bytes(head[position + 20 : position + 22], "little")
        if chunk == b"data":
            return size // block_align if block_align else None
        position += 8 + size + (size & 1)
    return None


def probe_source(path: str) -> dict | str:
    """``{sha256, size_bytes, frames, sample_rate, channels, duration_s}`` of a decodable audio
    file, else the reason it cannot be used (undecodable, empty, silent, truncated)."""
    try:
        info = sf.info(path)
        data, rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        return f"cannot decode audio ({str(error).strip() or type(error).__name__})"
    if len(data) == 0:
        return "audio file has no samples"
    if data.shape[1] > 2:
        return f"unsupported channel count {data.shape[1]} (mono or stereo sources only)"
    declared = wav_declared_frames(path) if info.format in ("WAV", "WAVEX") else None
    if declared is not None and declared > len(data):
        return (
            f"truncated: the WAV header announces {declared} frames, {len(data)} could be decoded"
        )
    if not np.any(data):
        return "audio is silent"
    return {
        "sha256": file_sha256(path),
        "size_bytes": Path(path).stat().st_size,
        "frames": int(len(data)),
        "sample_rate": int(rate),
        "channels": int(data.shape[1]),
        "duration_s": round(len(data) / rate, 6),
    }


def probe_sources(
    paths: Sequence[str], *, workers: int = 1, progress: bool = True
) -> list[dict | str]:
    """:func:`probe_source` for every path, in order (a dict per usable file, else a reason)."""
    return map_units(
        probe_source,
        list(paths),
        workers=workers,
        desc="probing sources",
        unit="file",
        chunksize=4,
        progress=progress,
    )


# ---------------------------------------------------------------- a whole view of excerpts


@dataclass(frozen=True)
class ExcerptView:
    """Where a dataset's excerpts are planned and go: ``OUT/manifests/<manifest>`` rows keyed
    by ``id_column`` (each names its ``source_id`` in ``sources.parquet``, ``start_s`` and
    ``duration_s``) rendered into ``OUT/audio/<view>/``."""

    manifest: str
    id_column: str
    view: str
    noun: str  # "clip", "frame": how the summary counts them
    hint: str  # how to make the manifests, for "not found" messages


@dataclass(frozen=True)
class RenderSummary:
    """What rendering a view of excerpts did."""

    out: Path
    noun: str
    count: int
    rendered: int
    resumed: int
    attenuated: int
    digest: str

    @property
    def text(self) -> str:
        return (
            f"rendered {self.rendered} {self.noun}(s), resumed {self.resumed}; {self.noun}s: {self.count}; "
            f"scaled down to full scale: {self.attenuated}\n"
            f"dataset digest: {self.digest}\n"
            f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})"
        )


def excerpt_units(
    rows: Sequence[Mapping],
    where: ExcerptView,
    sources: Mapping[str, Mapping],
    roots: Mapping[str, str],
    folder: Path,
    output: OutputSpec,
) -> list[ExcerptUnit]:
    """One work unit per manifest row, its source from ``sources`` (by source id)."""
    units = []
    for row in rows:
        clip_id, source = row[where.id_column], sources.get(row["source_id"])
        if source is None:
            raise UserError(
                f"{where.manifest} names source {row['source_id']} ({where.noun} {clip_id}), which is "
                f"not in sources.parquet: re-plan"
            )
        units.append(
            ExcerptUnit(
                clip_id,
                source["corpus"],
                source["path"],
                source["sha256"],
                float(row["start_s"]),
                float(row["duration_s"]),
                dict(roots),
                output,
                str(folder / f"{clip_id}{output.suffix}"),
                str(folder / f"{clip_id}.json"),
            )
        )
    return units


def remove_unplanned(folder: Path, planned_ids: set[str]) -> list[Path]:
    """Delete the clips and records of ``folder`` the manifest no longer names (after a re-plan)."""
    stale = [
        p
        for p in (sorted(folder.glob("*")) if folder.is_dir() else [])
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix in (".flac", ".wav", ".json")
        and p.stem not in planned_ids
    ]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def write_back_results(
    path: Path, table: pa.Table, id_column: str, results: Sequence[Mapping]
) -> pa.Table:
    """The manifest with its render columns (``audio_sha256``, ``render_gain_db``) replaced, atomically."""
    by_id = {r["id"]: r for r in results}
    table = table.drop_columns([c for c in RESULT_TYPES if c in table.column_names])
    ids = table.column(id_column).to_pylist()
    for column, kind in RESULT_TYPES.items():
        table = table.append_column(
            pa.field(column, kind), pa.array([by_id[i][column] for i in ids], kind)
        )
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, compression="zstd", compression_level=9, use_dictionary=False)
    return table


def render_view(
    out: Path,
    where: ExcerptView,
    output: OutputSpec,
    publish,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: Mapping[str, Path | str] | None = None,
    progress: bool = True,
    wait: bool = False,
) -> RenderSummary:
    """Render every planned excerpt of OUT, write the results back, then ``publish(rows) -> digest``.

    Holds OUT's lock; resumes finished clips; removes clips a re-plan dropped; the roots come
    from ``roots`` or OUT/build-state.json (checked here only for the local engine).
    """
    out, engine = Path(out), resolve_engine(engine, workers)
    manifest = out / "manifests" / where.manifest
    read_manifest_table(manifest, hint=where.hint)
    try:
        with build_lock(out, "render", wait=wait):
            return _render_view(out, where, output, publish, engine, roots, progress)
    except OSError as error:
        raise UserError(
            f"cannot write the build under {out}: {error.filename or out}: "
            f"{error.strerror or error}"
        ) from error


def _render_view(
    out: Path,
    where: ExcerptView,
    output: OutputSpec,
    publish,
    engine: Engine,
    roots: Mapping[str, Path | str] | None,
    progress: bool,
) -> RenderSummary:
    started = time.time()
    table = read_manifest_table(out / "manifests" / where.manifest, hint=where.hint)
    if table.num_rows == 0:
        raise UserError(
            f"{out / 'manifests' / where.manifest} has no {where.noun}s: the plan was made without "
            f"audio; {where.hint}"
        )
    sources = {
        s["source_id"]: s
        for s in read_manifest_table(
            out / "manifests" / "sources.parquet", hint=where.hint
        ).to_pylist()
    }
    resolved = resolve_roots(
        out, roots, {s["corpus"] for s in sources.values()}, check=engine.backend == "local"
    )
    folder = out / "audio" / where.view
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise UserError(f"output folder is not writable: {folder}")
    remove_stale_temp_files(folder, started)
    rows = table.to_pylist()
    remove_unplanned(folder, {row[where.id_column] for row in rows})
    results = render_excerpts(
        excerpt_units(rows, where, sources, resolved, folder, output),
        engine=engine,
        progress=progress,
        desc=f"render {where.noun}s",
    )
    rows = write_back_results(
        out / "manifests" / where.manifest, table, where.id_column, results
    ).to_pylist()
    digest = publish(rows)
    return RenderSummary(
        out,
        where.noun,
        len(results),
        sum(not r["resumed"] for r in results),
        sum(r["resumed"] for r in results),
        sum(r["render_gain_db"] < 0 for r in results),
        digest,
    )
