"""Render phase: every output clip is a pure function of its manifest row and the source files.

``render_batch`` is the unit of work (a :class:`RenderBatch` of manifest rows + source roots
+ the output spec -> its parts of the shards, and the clips' checksums); its only state is
the worker's decoded-speech cache, which never changes an output, so the same function runs
in this process, a local process pool or a distributed engine (``builders.engine``).
A batch encodes its clips in memory and writes them straight into its parts of the
``speech``, ``music`` and ``mixed`` configs (``builders.hf.parts``; the ``mixed`` config
holds the ``mixed`` and ``mixed-window`` views), so each clip's bytes are written once,
into the file the finished build keeps. Batches run fold by fold: the fold's speech by id,
then its music clips by id, each with its mixes (by id), so a fold's parts hold the speech
and music rows sorted by id and the mixed rows sorted by music clip, then id.
``render_dataset`` drives a whole build folder; ``export_rendered`` then writes the
checksums back into the manifests, publishes the parts, and writes the solutions, build
report, digest and card.

Resuming (``builders.common.resume``): a finished unit (one source, or one mix with its SER
window) leaves ``OUT/audio/<view>/<id>.json`` with its results, a key of its inputs and the
sha256 of its clips' bytes, written after its part was renamed into place; a re-run skips
units whose record matches and whose clips are intact where they lie (a staged or published
part). A part that already holds exactly its batch's intact clips is kept (staged) or
hard-linked (published) rather than written again.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from builders.common import audio
from builders.common.atomic import atomic_file, remove_stale_temp_files
from builders.common.audio import OutputSpec
from builders.common.build_state import resolve_roots
from builders.common.clips import ClipRef, locate_all, staged_dir
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_table
from builders.common.resume import finished_result, save_result, unit_key
from builders.engine import Engine, map_units, resolve_engine
from builders.errors import UserError
from builders.hf.parts import link_part, part_name, publish_parts, write_part
from builders.hf.spec import DatasetSpec
from builders.misme import build_report, export
from builders.misme.recipe import build_recipe
from builders.misme.spec import SPEECH_CORPORA, dataset_spec

MIX_RESULTS = ("mix_gain_db", "overlap", "audio_sha256", "audio_window_sha256")
SOURCE_RESULTS = ("audio_sha256", "render_gain_db")
ACTIVITY_BLOCK_S = 0.02
DEFAULT_ACTIVITY_FLOOR_DB = -35.0
ABSOLUTE_FLOOR_DB = -70.0
MAX_BATCH = 16  # speech clips per batch
MAX_BATCH_MIXES = 32  # mixes per batch (whole music groups while they fit)
DEFAULT_SPEECH_CACHE_MB = 256


@dataclass(frozen=True)
class RenderBatch:
    """A self-contained unit of work: (kind, row) items, the source rows they use, roots, output.

    kind is "speech" or "music" (a source row -> one clip of that view) or "mix" (a mix
    row -> the ``mixed`` and ``mixed-window`` clips). A music clip is batched with its
    mixes so that it is decoded once for all of them. ``roots`` maps corpus names to the
    folders on the machine that runs the batch. The batch writes its clips, in memory, into
    one part per config it renders (``parts``, see ``builders.hf.parts``).
    """

    rows: tuple[tuple[str, dict], ...]
    roots: dict[str, str]
    audio_dir: str
    output: OutputSpec
    sources: dict[str, dict] = field(default_factory=dict)
    activity_floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB
    parts: tuple[tuple[str, str], ...] = ()  # (config, part name): where the batch writes its clips
    spec: DatasetSpec | None = None

    @property
    def unit_id(self) -> str:
        kind, row = self.rows[0]
        return f"{kind} {row.get('mix_id') or row['source_id']}" + (
            f" (+{len(self.rows) - 1})" if len(self.rows) > 1 else ""
        )


@dataclass(frozen=True)
class RenderSummary:
    """What ``render_dataset`` did."""

    out: Path
    counts: dict[str, int]
    rendered: int
    resumed: int
    attenuated: int
    digest: str

    @property
    def text(self) -> str:
        """A few lines for the command line."""
        counts = ", ".join(f"{view} {n}" for view, n in self.counts.items())
        return (
            f"rendered {self.rendered} unit(s), resumed {self.resumed}; clips: {counts}\n"
            f"attenuated mixes: {self.attenuated}\n"
            f"dataset digest: {self.digest}\n"
            f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})"
        )


# ---------------------------------------------------------------- sources and stems


def source_path(row: Mapping, roots: Mapping[str, Path | str]) -> Path:
    """Absolute path of a source row (``path`` is relative to its corpus root)."""
    corpus = row["corpus"]
    if corpus not in roots or roots[corpus] is None:
        raise UserError(f"no root given for corpus {corpus!r} (needed by {row['source_id']})")
    return Path(roots[corpus]) / row["path"]


def load_source(row: Mapping, roots: Mapping[str, Path | str], sample_rate: int) -> np.ndarray:
    """Decode a source after checking its sha256, resample to ``sample_rate`` (the recipe's),
    fit to ``frames_44k`` (its planned length at that rate; the name is v1's).

    No gain is applied; channels are kept (mono stays ``[frames, 1]``).
    """
    path = source_path(row, roots)
    audio.check_source(path, row["sha256"])
    data, rate = audio.read_audio(path)
    if data.shape[1] > 2:
        raise UserError(
            f"{path} ({row['source_id']}): unsupported channel count {data.shape[1]} "
            "(mono or stereo sources only); re-plan to leave it out"
        )
    return audio.fit_length(audio.resample(data, rate, sample_rate), int(row["frames_44k"]))


def normalised_source(source: np.ndarray, gain_db: float) -> np.ndarray:
    """Loudness-normalised stereo float32 clip (stored gain applied, mono duplicated)."""
    return audio.to_stereo(source * audio.db_to_gain(gain_db))


def _placements(mix_row: Mapping) -> list[tuple[int, int]]:
    """(start, stop) frames of every speech placement inside the music."""
    frames, length = int(mix_row["music_frames"]), int(mix_row["speech_frames"])
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    starts = (k * window + offset for k in range(int(mix_row["n_placements"])))
    return [(start, min(start + length, frames)) for start in starts if start < frames]


def _normalised_parts(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(normalised music stem, float32 stereo; normalised speech segment, float32 in the source's channels).

    Mono speech stays ``[frames, 1]`` and is broadcast to both channels where it is added:
    the same values as duplicating it first, without the copy.
    """
    music = normalised_source(
        audio.fit_length(music_source, int(mix_row["music_frames"])), mix_row["music_gain_db"]
    )
    crop, length = int(mix_row["speech_crop_start_frame"]), int(mix_row["speech_frames"])
    segment = audio.fit_length(speech_source[crop : crop + length], length)
    if segment.shape[1] > 2:
        audio.to_stereo(segment)  # raises the user-facing channel-count error
    return music, segment * audio.db_to_gain(mix_row["speech_gain_db"])


def place_stems(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unattenuated (music_stem, speech_stem, speech_segment) of one mix, float32 (stems stereo).

    The speech segment is frames ``[speech_crop_start_frame, +speech_frames)`` of the
    normalised speech, placed at ``k * window_frames + speech_offset_frame`` for every
    window k < n_placements.
    """
    music, segment = _normalised_parts(mix_row, speech_source, music_source)
    speech = np.zeros_like(music)
    for start, stop in _placements(mix_row):
        speech[start:stop] = segment[: stop - start]
    return music, speech, segment


def _peak(x: np.ndarray) -> float:
    return max(float(x.max()), -float(x.min())) if x.size else 0.0


def attenuate_stems(music: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Scale both stems by 1/peak of their sum when it exceeds full scale; return gain in dB."""
    peak = _peak(music + speech)
    if peak <= 1.0:
        return music, speech, 0.0
    gain = np.float32(1.0 / peak)
    return music * gain, speech * gain, float(20.0 * np.log10(float(gain)))


def render_mix_signal(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """(mix, mix_gain_db, speech_segment): the mix equals the sum of :func:`mix_stems`' stems.

    Fast path: the speech is added into the music in place (adding 0 elsewhere changes
    nothing); a mix that needs attenuation is rebuilt from the scaled stems.
    """
    music, segment = _normalised_parts(mix_row, speech_source, music_source)
    mix = music  # a new array (gain applied), never the cached source
    for start, stop in _placements(mix_row):
        mix[start:stop] += segment[: stop - start]
    if _peak(mix) <= 1.0:
        return mix, 0.0, segment
    music_stem, speech_stem, _ = place_stems(mix_row, speech_source, music_source)
    music_stem, speech_stem, gain_db = attenuate_stems(music_stem, speech_stem)
    return music_stem + speech_stem, gain_db, segment


def mix_stems(
    mix_row: Mapping,
    speech_row: Mapping,
    music_row: Mapping,
    roots: Mapping[str, Path | str],
    sample_rate: int,
) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``[frames, 2]`` (music_stem, speech_stem) exactly as summed into the mix.

    The mix attenuation is applied, so the rendered mix is ``quantise(music + speech)``.
    """
    speech, music = (load_source(row, roots, sample_rate) for row in (speech_row, music_row))
    music, speech, _ = place_stems(mix_row, speech, music)
    music, speech, _ = attenuate_stems(music, speech)
    return music, speech


def activity_block(sample_rate: int) -> int:
    """Frames in one 20 ms activity block (882 at 44.1 kHz)."""
    return int(round(ACTIVITY_BLOCK_S * sample_rate))


def speech_activity(
    segment: np.ndarray, sample_rate: int, floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB
) -> np.ndarray:
    """Per-frame boolean activity of a placed speech segment.

    Energy-based: mean power over channels in 20 ms blocks (mono and dual-mono give the
    same result); a block is active when its level is within ``floor_db`` of the loudest
    block and above -70 dBFS. Every sample frame of a block takes the block's decision.
    """
    n, block = len(segment), activity_block(sample_rate)
    if n == 0:
        return np.zeros(0, dtype=bool)
    blocks = -(-n // block)
    squares = np.square(segment.astype(np.float64))
    power = np.zeros(blocks * block, dtype=np.float64)
    for channel in range(
        squares.shape[1]
    ):  # the mean over channels, summed in order (np.mean(axis=1) is slow)
        power[:n] += squares[:, channel]
    power[:n] /= squares.shape[1]
    level = 10.0 * np.log10(power.reshape(blocks, block).mean(axis=1) + 1e-20)
    active = (level >= level.max() + floor_db) & (level > ABSOLUTE_FLOOR_DB)
    return np.repeat(active, block)[:n]


def measured_overlap(
    mix_row: Mapping,
    segment: np.ndarray,
    sample_rate: int,
    floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB,
) -> float:
    """Fraction of the music duration covered by active placed speech."""
    frames = int(mix_row["music_frames"])
    if frames <= 0:
        return 0.0
    active = speech_activity(segment, sample_rate, floor_db)
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    covered = 0
    for k in range(int(mix_row["n_placements"])):
        start = k * window + offset
        covered += int(active[: max(0, min(len(active), frames - start))].sum())
    return covered / frames


# ---------------------------------------------------------------- units of work


def clip_path(audio_dir: Path | str, view: str, clip_id: str, output: OutputSpec) -> Path:
    """``OUT/audio/<view>/<id>.<ext>``."""
    return Path(audio_dir) / view / f"{clip_id}{output.suffix}"


def record_path(audio_dir: Path | str, view: str, clip_id: str) -> Path:
    """The unit's resume record ``OUT/audio/<view>/<id>.json``."""
    return Path(audio_dir) / view / f"{clip_id}.json"


def _unit_key(row: Mapping, sources: Iterable[Mapping], output: OutputSpec) -> str:
    """Hash of everything a unit's output depends on (planned row, sources, output spec)."""
    planned = {k: v for k, v in row.items() if k not in MIX_RESULTS + SOURCE_RESULTS}
    inputs = [(s["source_id"], s["sha256"], s["frames_44k"]) for s in sources]
    # v1 keys held the format only; the rate is in the planned row (frames), the channels are fixed
    return unit_key(planned, inputs, output.audio_format)


@dataclass
class Unit:
    """One rendered (or resumed) unit: its result, its clips by audio column (bytes, or where
    they lie), and the resume record to write once they are in their part."""

    result: dict
    clips: dict[str, bytes | ClipRef]
    record: Path
    key: str


def _resumed(record: Path, key: str, clips: list[Path], checked: dict[str, str]) -> Unit | None:
    """A finished unit with its clips where they lie, else None."""
    if (done := finished_result(record, key, clips, checked)) is None:
        return None
    refs = locate_all(clips)
    if None in refs:
        return None
    return Unit(
        {**done, "resumed": True},
        dict(zip(("audio", "audio_window"), refs, strict=False)),
        record,
        key,
    )


def _render_source(batch: RenderBatch, view: str, row: dict, sources: SourceCache) -> Unit:
    sid, output = row["source_id"], batch.output
    clip = clip_path(batch.audio_dir, view, sid, output)
    record, key = record_path(batch.audio_dir, view, sid), _unit_key(row, [row], output)
    if (done := _resumed(record, key, [clip], {str(clip): "audio_sha256"})) is not None:
        return done
    x = normalised_source(sources.get(row, batch.roots, output.sample_rate), row["gain_db"])
    x, gain_db = audio.peak_normalise(x)
    pcm = audio.quantise(x, overwrite=True)  # x is a new array: the gain was applied to a copy
    data = audio.encode_clip(pcm, output, clip.name)
    result = {
        "id": sid,
        "audio_sha256": audio.pcm_sha256(pcm),
        "render_gain_db": gain_db,
        "resumed": False,
    }
    return Unit(result, {"audio": data}, record, key)


def _render_mix(batch: RenderBatch, row: dict, sources: SourceCache) -> Unit:
    mid, output = row["mix_id"], batch.output
    speech_row, music_row = batch.sources[row["speech_id"]], batch.sources[row["music_id"]]
    clips = [clip_path(batch.audio_dir, v, mid, output) for v in ("mixed", "mixed-window")]
    record, key = (
        record_path(batch.audio_dir, "mixed", mid),
        _unit_key(row, [speech_row, music_row], output),
    )
    checked = {str(clips[0]): "audio_sha256", str(clips[1]): "audio_window_sha256"}
    if (done := _resumed(record, key, clips, checked)) is not None:
        return done
    mix, gain_db, segment = render_mix_signal(
        row,
        sources.get(speech_row, batch.roots, output.sample_rate),
        sources.get(music_row, batch.roots, output.sample_rate),
    )
    pcm = audio.quantise(mix, overwrite=True)  # the mix is a fresh array (see render_mix_signal)
    start, window = int(row["window_start_frame"]), int(row["window_frames"])
    window_pcm = audio.fit_length(pcm[start : start + window], window)
    result = {
        "id": mid,
        "audio_sha256": audio.pcm_sha256(pcm),
        "audio_window_sha256": audio.pcm_sha256(window_pcm),
        "mix_gain_db": gain_db,
        "overlap": measured_overlap(row, segment, output.sample_rate, batch.activity_floor_db),
        "resumed": False,
    }
    encoded = {
        "audio": audio.encode_clip(pcm, output, clips[0].name),
        "audio_window": audio.encode_clip(window_pcm, output, clips[1].name),
    }
    return Unit(result, encoded, record, key)


class SpeechCache:
    """Decoded speech kept across batches in one worker, least recently used first out.

    A speech clip is used by its own clip and by K mixes in other batches of its fold;
    batches run fold by fold, so a cache of about one fold's speech decodes each clip
    about once per worker. The key includes the file's size and mtime, so a file changed
    during the build is decoded (and its sha256 checked) again. Bounded in bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.used = max_bytes, 0
        self.entries: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def get(self, row: Mapping, roots: Mapping[str, str], sample_rate: int) -> np.ndarray:
        try:
            stat = source_path(row, roots).stat()
        except OSError:
            return load_source(
                row, roots, sample_rate
            )  # raises the user-facing "source file missing"
        key = (
            row["source_id"],
            row["sha256"],
            int(row["frames_44k"]),
            sample_rate,
            stat.st_size,
            stat.st_mtime_ns,
        )
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        data = load_source(row, roots, sample_rate)
        data.flags.writeable = False  # shared by every mix that uses it
        self.entries[key] = data
        self.used += data.nbytes
        while self.used > self.max_bytes and len(self.entries) > 1:
            self.used -= self.entries.popitem(last=False)[1].nbytes
        return data


@dataclass(frozen=True)
class SpeechCacheFactory:
    """The per-worker state of a render: a :class:`SpeechCache` of ``megabytes`` MB."""

    megabytes: float = DEFAULT_SPEECH_CACHE_MB

    def __call__(self) -> SpeechCache:
        return SpeechCache(int(self.megabytes * 2**20))


class SourceCache:
    """One batch's view of the sources: speech through the worker's cache, music decoded once."""

    def __init__(self, speech: SpeechCache) -> None:
        self.speech, self.music = speech, {}

    def get(self, row: Mapping, roots: Mapping[str, str], sample_rate: int) -> np.ndarray:
        if row["corpus"] in SPEECH_CORPORA:
            return self.speech.get(row, roots, sample_rate)
        if row["source_id"] not in self.music:
            self.music[row["source_id"]] = load_source(row, roots, sample_rate)
        return self.music[row["source_id"]]


CONFIG_OF_KIND = {"speech": "speech", "music": "music", "mix": "mixed"}


def render_batch(speech_cache: SpeechCache, batch: RenderBatch) -> list[dict]:
    """Render one batch into its parts; returns one result per item (``kind``, ``id``,
    checksums, gains, ``resumed``).

    Pure apart from the files it writes: music is decoded once per batch; speech goes
    through the worker's bounded :class:`SpeechCache` (it never changes an output). A unit
    whose record and clips are intact is not rendered again; its clips are copied into the
    part from where they lie, unless the part that holds them already is this one.
    """
    sources = SourceCache(speech_cache)
    done = [
        (
            kind,
            row,
            _render_mix(batch, row, sources)
            if kind == "mix"
            else _render_source(batch, kind, row, sources),
        )
        for kind, row in batch.rows
    ]
    for config, name in batch.parts:
        _write_batch_part(
            batch,
            config,
            name,
            [(row, unit) for kind, row, unit in done if CONFIG_OF_KIND[kind] == config],
        )
    return [{"kind": kind, **unit.result} for kind, _, unit in done]


def _write_batch_part(
    batch: RenderBatch, config: str, name: str, units: list[tuple[dict, Unit]]
) -> None:
    """Write the part ``name`` of ``config`` (or keep or link the one that holds exactly its
    clips already), then the records of the units rendered afresh."""
    out, views = Path(batch.audio_dir).parent, batch.spec.config(config).views
    index = _whole_part(out, views, config, name, [unit for _, unit in units])
    if index is None:
        table = export.config_table(config, [{**row, **unit.result} for row, unit in units])
        clips = {column: [unit.clips[column] for _, unit in units] for column in units[0][1].clips}
        index = write_part(out, batch.spec, config, name, table, clips)
    for _, unit in units:
        if unit.result["resumed"]:
            continue
        clip_id = unit.result["id"]
        digests = {
            clip_path(batch.audio_dir, view, clip_id, batch.output): index[view][clip_id][3]
            for view in views
        }
        saved = {k: v for k, v in unit.result.items() if k != "resumed"}
        save_result(unit.record, unit.key, saved, digests=digests)


def _whole_part(
    out: Path, views: tuple[str, ...], config: str, name: str, units: list[Unit]
) -> dict | None:
    """The index of part ``name`` when it holds exactly the ``units``' clips and nothing else:
    as the staged part (kept as it is) or as the published one (linked into the staged
    folder); else None."""
    staged, published_part = (
        str(staged_dir(out, config) / name),
        str(Path(out) / "data" / config / name),
    )
    refs = [clip for unit in units for clip in unit.clips.values()]
    places = {
        clip.path if isinstance(clip, ClipRef) and not clip.is_file else None for clip in refs
    }
    if places not in ({staged}, {published_part}) or pq.ParquetFile(
        next(iter(places))
    ).metadata.num_rows != len(units):
        return None
    index: dict[str, dict[str, list]] = {view: {} for view in views}
    for unit in units:
        for view, clip in zip(views, unit.clips.values(), strict=True):
            index[view][unit.result["id"]] = [name, clip.offset, clip.length, clip.sha256]
    if places == {staged} or link_part(out, config, name, index):
        return index
    return None


# ---------------------------------------------------------------- the whole build


def _batch_items(
    sources: list[dict], mixes: list[dict]
) -> list[tuple[int, list[tuple[str, dict]]]]:
    """The batches' (fold, items), fold by fold: the fold's speech by id in runs of
    MAX_BATCH, then its music clips by id, each with its mixes by id, whole groups while a
    batch holds at most MAX_BATCH_MIXES mixes (a larger group is cut into such runs)."""
    by_id = {s["source_id"]: s for s in sources}
    groups: dict[str, list[dict]] = {
        s["source_id"]: [] for s in sources if s["corpus"] not in SPEECH_CORPORA
    }
    for row in sorted(mixes, key=lambda m: m["mix_id"]):
        groups.setdefault(row["music_id"], []).append(row)
    batches = []
    for fold in sorted({_fold_of(s) for s in sources} | {_fold_of(m) for m in mixes}):
        speech = sorted(
            (s for s in sources if s["corpus"] in SPEECH_CORPORA and _fold_of(s) == fold),
            key=lambda s: s["source_id"],
        )
        for i in range(0, len(speech), MAX_BATCH):
            batches.append((fold, [("speech", s) for s in speech[i : i + MAX_BATCH]]))
        current: list[tuple[str, dict]] = []
        for music_id in sorted(groups):
            group = groups[music_id]
            if _fold_of(by_id.get(music_id) or group[0]) != fold:
                continue
            for i in range(0, max(len(group), 1), MAX_BATCH_MIXES):
                run = [("mix", r) for r in group[i : i + MAX_BATCH_MIXES]]
                if i == 0 and music_id in by_id:
                    run.insert(0, ("music", by_id[music_id]))
                if sum(kind == "mix" for kind, _ in current + run) > MAX_BATCH_MIXES:
                    batches.append((fold, current))
                    current = []
                current += run
        if current:
            batches.append((fold, current))
    return batches


def _part_names(
    batches: list[tuple[int, list[tuple[str, dict]]]],
) -> list[tuple[tuple[str, str], ...]]:
    """Per batch, the (config, part name) of each config it renders: the n-th of the N
    batches of a fold that render a config write its part n of N."""
    used = [(fold, sorted({CONFIG_OF_KIND[kind] for kind, _ in items})) for fold, items in batches]
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


def part_layout(sources: list[dict], mixes: list[dict]) -> dict[str, list[str]]:
    """Every part a render of these manifest rows writes, by config."""
    layout: dict[str, list[str]] = {config: [] for config in CONFIG_OF_KIND.values()}
    for parts in _part_names(_batch_items(sources, mixes)):
        for config, name in parts:
            layout[config].append(name)
    return {config: sorted(names) for config, names in layout.items()}


def plan_batches(
    sources: list[dict],
    mixes: list[dict],
    roots: dict[str, str],
    audio_dir: Path,
    output: OutputSpec,
    floor_db: float,
    spec: DatasetSpec,
) -> list[RenderBatch]:
    """Cut the work into batches (:func:`_batch_items`), each writing its own parts. Fold order
    keeps a worker's speech cache warm; a music clip is decoded once for all its mixes."""
    by_id = {s["source_id"]: s for s in sources}
    items = _batch_items(sources, mixes)
    batches = []
    for (_, rows), parts in zip(items, _part_names(items), strict=True):
        used = {
            sid: by_id[sid]
            for kind, r in rows
            if kind == "mix"
            for sid in (r["speech_id"], r["music_id"])
        }
        batches.append(
            RenderBatch(tuple(rows), roots, str(audio_dir), output, used, floor_db, parts, spec)
        )
    return batches


def _fold_of(row: Mapping) -> int:
    fold = row.get("fold")
    return -1 if fold is None else int(fold)


def run_batches(
    batches: list[RenderBatch],
    engine: Engine,
    progress: bool,
    speech_cache_mb: float = DEFAULT_SPEECH_CACHE_MB,
) -> dict[str, list[dict]]:
    """Run batches through the engine; results per kind, sorted by id."""
    results: dict[str, list[dict]] = {"speech": [], "music": [], "mix": []}
    done = map_units(
        render_batch,
        batches,
        engine=engine,
        desc="render",
        unit="clip",
        weights=[len(b.rows) for b in batches],
        state=SpeechCacheFactory(speech_cache_mb),
        progress=progress,
    )
    for result in (r for batch in done for r in batch):
        results[result.pop("kind")].append(result)
    for kind in results:
        results[kind].sort(key=lambda r: r["id"])
    return results


def write_back(
    path: Path,
    table: pa.Table,
    id_column: str,
    results: list[dict],
    columns: tuple[str, ...],
    types: dict[str, pa.DataType],
) -> pa.Table:
    """Replace the render-result ``columns`` of a manifest with ``results`` (atomically)."""
    by_id = {r["id"]: r for r in results}
    table = table.drop_columns([c for c in columns if c in table.column_names])
    ids = table.column(id_column).to_pylist()
    for column in columns:
        values = [by_id[i].get(column) if i in by_id else None for i in ids]
        table = table.append_column(
            pa.field(column, types[column]), pa.array(values, type=types[column])
        )
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)
    return table


def export_rendered(out: Path, results: Mapping[str, list[dict]]) -> str:
    """Everything after the clips: write ``results`` (:func:`run_batches`') back into the
    manifests, then the shards, solutions, build report, digest and card; returns the digest."""
    out, manifests = Path(out), Path(out) / "manifests"
    recipe = build_recipe(out)
    spec = dataset_spec(recipe)
    sources_table = read_manifest_table(manifests / "sources.parquet")
    mixes_table = read_manifest_table(manifests / "mixes.parquet")
    source_results = sorted(results["speech"] + results["music"], key=lambda r: r["id"])
    sources_table = write_back(
        manifests / "sources.parquet",
        sources_table,
        "source_id",
        source_results,
        SOURCE_RESULTS,
        {"audio_sha256": pa.string(), "render_gain_db": pa.float64()},
    )
    mixes_table = write_back(
        manifests / "mixes.parquet",
        mixes_table,
        "mix_id",
        results["mix"],
        MIX_RESULTS,
        {
            "mix_gain_db": pa.float64(),
            "overlap": pa.float64(),
            "audio_sha256": pa.string(),
            "audio_window_sha256": pa.string(),
        },
    )
    sources, mixes = sources_table.to_pylist(), mixes_table.to_pylist()
    for config, names in part_layout(sources, mixes).items():
        publish_parts(
            out,
            spec,
            config,
            export.config_table(config, export.config_rows(config, sources, mixes)),
            names,
        )
    export.write_solutions(out, sources, mixes)
    build_report.write_build_report(out, seed=recipe.seed)
    return export.finalize_build(out, spec)


def check_speech_cache_mb(megabytes: object) -> float:
    """The decoded-speech cache size in MB (>= 0), else a UserError."""
    try:
        value = float(megabytes)
    except (TypeError, ValueError):
        value = math.nan
    if not 0 <= value < math.inf:
        raise UserError(
            f"--speech-cache-mb (or MISME_SPEECH_CACHE_MB) must be a number of megabytes >= 0, "
            f"got {megabytes!r}"
        )
    return value


def render_dataset(
    out: Path,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    roots: dict[str, Path] | None = None,
    progress: bool = True,
    speech_cache_mb: float = DEFAULT_SPEECH_CACHE_MB,
    wait: bool = False,
) -> RenderSummary:
    """Render every view of OUT from OUT/manifests, then shards, solutions, report, digest, card.

    The rate, channels and format come from the build's recipe (``manifests/recipe.toml``);
    the clips are rendered by ``engine`` (default: ``workers`` local processes).
    """
    out = Path(out)
    engine = resolve_engine(engine, workers)
    speech_cache_mb = check_speech_cache_mb(speech_cache_mb)
    read_manifest_table(
        out / "manifests" / "sources.parquet", hint="run `misme-build misme plan` first"
    )
    try:
        with build_lock(out, "render", wait=wait):
            return _render_dataset(out, engine, roots, progress, speech_cache_mb)
    except OSError as error:
        where = error.filename or out
        raise UserError(
            f"cannot write the build under {out}: {where}: {error.strerror or error}"
        ) from error


def _render_dataset(
    out: Path, engine: Engine, roots: dict[str, Path] | None, progress: bool, speech_cache_mb: float
) -> RenderSummary:
    started = time.time()
    manifests = out / "manifests"
    hint = "run `misme-build misme plan` first"
    sources_table = read_manifest_table(manifests / "sources.parquet", hint=hint)
    mixes_table = read_manifest_table(manifests / "mixes.parquet", hint=hint)
    sources, mixes = sources_table.to_pylist(), mixes_table.to_pylist()
    resolved = resolve_roots(
        out, roots, (s["corpus"] for s in sources), check=engine.backend == "local"
    )
    recipe = build_recipe(out)
    spec = dataset_spec(recipe)
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(audio_dir, os.W_OK):
        raise UserError(f"output folder is not writable: {audio_dir}")
    remove_stale_temp_files(audio_dir, started)
    remove_stale_temp_files(out / "data", started)  # parts of a killed render
    batches = plan_batches(
        sources, mixes, resolved, audio_dir, spec.output, recipe.mixing.activity_floor_db, spec
    )
    results = run_batches(batches, engine, progress, speech_cache_mb)
    digest = export_rendered(out, results)
    all_results = results["speech"] + results["music"] + results["mix"]
    return RenderSummary(
        out=out,
        counts={
            "speech": len(results["speech"]),
            "music": len(results["music"]),
            "mixed": len(results["mix"]),
            "mixed-window": len(results["mix"]),
        },
        rendered=sum(not r["resumed"] for r in all_results),
        resumed=sum(r["resumed"] for r in all_results),
        attenuated=sum(r["mix_gain_db"] < 0 for r in results["mix"]),
        digest=digest,
    )
