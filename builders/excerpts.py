"""Excerpt clips: a planned span of one source file, resampled and written in the output spec.

The instrumental-MER clips and the MuSe frames are excerpts: ``[start_s, start_s +
duration_s)`` of a source, cut at the source's own rate (frame ``round(start_s * rate)``,
length ``round(duration_s * rate)``), mixed down or up to the output's channel count
(channel mean / duplication), resampled with soxr HQ, scaled by ``1/peak`` only if the
peak exceeds full scale (the gain is recorded), quantised with ``np.rint(x * 32767)``.

The shared render helper of an excerpt dataset (the one render path, ``builders.hf.batches``):

- :class:`ExcerptView` says where the excerpts are planned (``OUT/manifests/<manifest>``,
  keyed by ``id_column``; each row names its ``source_id`` in ``sources.parquet``, its
  ``start_s``, ``duration_s`` and ``fold``), which view and config they render
  (``OUT/audio/<view>/`` names the clips and holds the resume records; the config's parts
  hold the clips) and the config's columns (``table``: rows with their render results ->
  the part's table, without the audio).
- :func:`render_view` renders every row of a build folder: batches of up to
  :data:`MAX_EXCERPTS` rows of one fold, in id order, each written straight into one part
  (``fold<k>-<n>-of-<N>.parquet``: the fold's rows in id order, cut into runs), resumed
  from intact records; then it writes the checksums (``audio_sha256``, ``render_gain_db``)
  back into the manifest, publishes the config, and calls ``publish(rows) -> digest`` for
  the dataset's own rest (other configs, solutions, digest, card).
- :class:`ExcerptUnit` and :func:`render_excerpt` are one clip, plain data and resumable
  (``builders.common.resume``).

:func:`probe_sources` is the plan-time inventory of the source files such clips are cut
from: checksum, length, rate and channels, or the reason a file cannot be used.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.common.build_state import resolve_roots
from builders.common.decode import DecodeProblem, decode_source
from builders.common.hashing import file_sha256
from builders.common.manifest import read_manifest_table
from builders.common.resume import unit_key
from builders.engine import Engine, map_units, resolve_engine
from builders.errors import UserError
from builders.hf import batches as render_path
from builders.hf.batches import MANIFEST_PARQUET, Unit
from builders.hf.digest import Digests
from builders.hf.parts import publish_parts
from builders.hf.spec import DatasetSpec

RESULT_TYPES = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
MAX_EXCERPTS = 32  # rows per batch, i.e. per part
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
    clip_path: str  # OUT/audio/<view>/<id><suffix>: the clip's name (its bytes go in a part)
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


class SourceReader:
    """Decoded sources of one batch: the last one is kept (a batch's rows are in id order,
    so a source's excerpts mostly follow each other), each checked against its sha256."""

    def __init__(self) -> None:
        self.last: tuple[tuple[Path, str], tuple[np.ndarray, int]] | None = None

    def read(self, unit: ExcerptUnit) -> tuple[np.ndarray, int]:
        key = (unit.source, unit.sha256)
        if self.last is None or self.last[0] != key:
            audio.check_source(unit.source, unit.sha256)
            self.last = (key, audio.read_audio(unit.source))
        return self.last[1]


def cut_excerpt(unit: ExcerptUnit, sources: SourceReader | None = None) -> tuple[np.ndarray, float]:
    """The clip's int16 PCM and the gain (dB, <= 0) that kept it within full scale."""
    data, rate = (sources or SourceReader()).read(unit)
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
    return audio.quantise(part), gain_db


def render_excerpt(unit: ExcerptUnit, sources: SourceReader | None = None) -> Unit:
    """The clip encoded in memory with its result (``id``, ``audio_sha256``, ``frames``,
    ``render_gain_db``, ``resumed``), or the finished unit when its record and clip are
    intact where they lie."""
    clip, record = Path(unit.clip_path), Path(unit.record_path)
    checked = {str(clip): "audio_sha256"}
    if (done := render_path.resumed_unit(record, unit.key, [clip], checked)) is not None:
        return done
    pcm, gain_db = cut_excerpt(unit, sources)
    result = {
        "id": unit.clip_id,
        "audio_sha256": audio.pcm_sha256(pcm),
        "frames": len(pcm),
        "render_gain_db": gain_db,
        "resumed": False,
    }
    return Unit(result, {"audio": audio.encode_clip(pcm, unit.output, clip.name)}, record, unit.key)


def probe_source(path: str) -> dict | str:
    """``{sha256, size_bytes, frames, sample_rate, channels, duration_s}`` of a decodable audio
    file, else the reason it cannot be used (undecodable, empty, silent, truncated: see
    :func:`builders.common.decode.decode_source`)."""
    try:
        data, rate = decode_source(path)
    except DecodeProblem as error:
        return str(error)
    if data.shape[1] > 2:
        return f"unsupported channel count {data.shape[1]} (mono or stereo sources only)"
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
    by ``id_column`` (each names its ``source_id`` in ``sources.parquet``, ``start_s``,
    ``duration_s`` and ``fold``), named ``OUT/audio/<view>/<id><suffix>`` and stored in the
    parts of ``config`` (default: the view's name).

    ``table(rows)`` gives a part's columns (all but the audio: ``id``, ``fold`` and
    ``audio_sha256`` at least, each with a fixed Arrow type) from manifest rows merged with
    their render results; ``join(out, rows)``, run before the batches are cut, adds to each
    manifest row what ``table`` needs from other manifests (default: nothing). Both must be
    module-level functions: the batches carry them to the workers.
    """

    manifest: str
    id_column: str
    view: str
    noun: str  # "clip", "frame": how the summary counts them
    hint: str  # how to make the manifests, for "not found" messages
    config: str = ""
    table: Callable[[Sequence[Mapping]], pa.Table] = field(kw_only=True)
    join: Callable[[Path, list[dict]], list[dict]] | None = None

    @property
    def config_name(self) -> str:
        return self.config or self.view


@dataclass(frozen=True)
class ExcerptBatch:
    """A unit of work: up to :data:`MAX_EXCERPTS` rows of one fold (in id order) with their
    units, written as one part of the view's config."""

    rows: tuple[dict, ...]
    units: tuple[ExcerptUnit, ...]
    where: ExcerptView
    spec: DatasetSpec
    out: str
    parts: tuple[tuple[str, str], ...] = ()


def render_excerpt_batch(batch: ExcerptBatch) -> list[dict]:
    """Render a batch's clips into its part (or keep / link the part that holds them
    already); one result per row."""
    sources = SourceReader()
    config = batch.where.config_name
    done = [
        (config, row, render_excerpt(unit, sources))
        for row, unit in zip(batch.rows, batch.units, strict=True)
    ]
    render_path.write_batch_parts(
        Path(batch.out),
        batch.spec,
        batch.parts,
        done,
        lambda _, rows: batch.where.table(rows),
    )
    return [unit.result for _, _, unit in done]


def plan_excerpt_batches(
    out: Path,
    where: ExcerptView,
    spec: DatasetSpec,
    rows: Sequence[dict],
    units: Sequence[ExcerptUnit],
) -> list[ExcerptBatch]:
    """Each fold's rows in id order, cut into runs of :data:`MAX_EXCERPTS`: one batch (and
    part) each."""
    order = sorted(
        range(len(rows)), key=lambda i: (render_path.fold_of(rows[i]), rows[i][where.id_column])
    )
    runs: list[tuple[int, list[int]]] = []
    for i in order:
        fold = render_path.fold_of(rows[i])
        if runs and runs[-1][0] == fold and len(runs[-1][1]) < MAX_EXCERPTS:
            runs[-1][1].append(i)
        else:
            runs.append((fold, [i]))
    names = render_path.part_names([(fold, [where.config_name]) for fold, _ in runs])
    return [
        ExcerptBatch(
            tuple(rows[i] for i in run),
            tuple(units[i] for i in run),
            where,
            spec,
            str(out),
            parts,
        )
        for (_, run), parts in zip(runs, names, strict=True)
    ]


@dataclass(frozen=True)
class RenderSummary:
    """What rendering a view of excerpts did."""

    out: Path
    noun: str
    count: int
    rendered: int
    resumed: int
    attenuated: int
    digests: Digests

    @property
    def digest(self) -> str:
        """The dataset digest."""
        return self.digests.dataset

    @property
    def text(self) -> str:
        return (
            f"rendered {self.rendered} {self.noun}(s), resumed {self.resumed}; {self.noun}s: {self.count}; "
            f"scaled down to full scale: {self.attenuated}\n"
            f"{self.digests.text}"
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


def render_view(
    out: Path,
    where: ExcerptView,
    spec: DatasetSpec,
    publish: Callable[[list[dict]], Digests],
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: Mapping[str, Path | str] | None = None,
    progress: bool = True,
    wait: bool = False,
) -> RenderSummary:
    """Render every planned excerpt of OUT into the parts of ``where``'s config of ``spec``,
    write the results back into the manifest, publish the config, then ``publish(rows) ->
    digest`` (the manifest rows with their results: the dataset's other configs, solutions,
    digest and card).

    Holds OUT's lock; resumes finished clips; removes clips a re-plan dropped; the roots come
    from ``roots`` or OUT/build-state.json (checked here only for the local engine).
    """
    out, engine = Path(out), resolve_engine(engine, workers)
    read_manifest_table(out / "manifests" / where.manifest, hint=where.hint)
    with render_path.render_lock(out, wait):
        return _render_view(out, where, spec, publish, engine, roots, progress)


def _render_view(
    out: Path,
    where: ExcerptView,
    spec: DatasetSpec,
    publish: Callable[[list[dict]], Digests],
    engine: Engine,
    roots: Mapping[str, Path | str] | None,
    progress: bool,
) -> RenderSummary:
    started = time.time()
    manifest = out / "manifests" / where.manifest
    table = read_manifest_table(manifest, hint=where.hint)
    if table.num_rows == 0:
        raise UserError(
            f"{manifest} has no {where.noun}s: the plan was made without audio; {where.hint}"
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
    folder = render_path.prepare_audio_dir(out, started, out / "audio" / where.view)
    rows = _joined(out, where, table.to_pylist())
    remove_unplanned(folder, {row[where.id_column] for row in rows})
    units = excerpt_units(rows, where, sources, resolved, folder, spec.output)
    batches = plan_excerpt_batches(out, where, spec, rows, units)
    results = render_path.run_batches(
        render_excerpt_batch, batches, engine, progress=progress, desc=f"render {where.noun}s"
    )
    rows = render_path.write_back(
        manifest, table, where.id_column, results, RESULT_TYPES, MANIFEST_PARQUET
    ).to_pylist()
    names = render_path.part_layout(batch.parts for batch in batches)[where.config_name]
    table = where.table(_joined(out, where, rows))
    publish_parts(out, spec, where.config_name, table, names)
    digests = publish(rows)
    return RenderSummary(
        out,
        where.noun,
        len(results),
        sum(not r["resumed"] for r in results),
        sum(r["resumed"] for r in results),
        sum(r["render_gain_db"] < 0 for r in results),
        digests,
    )


def _joined(out: Path, where: ExcerptView, rows: list[dict]) -> list[dict]:
    return where.join(out, rows) if where.join else rows
