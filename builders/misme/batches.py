"""MiSME's render batches: the unit of work, its units, and how a build is cut into batches.

``render_batch`` is the unit of work (a :class:`RenderBatch` of manifest rows + source roots
+ the output spec -> its parts of the shards, and the clips' checksums); its only state is
the worker's decoded-speech cache, which never changes an output, so the same function runs
in this process, a local process pool or a distributed engine (``builders.engine``).
A batch encodes its clips in memory and writes them straight into its parts of the
``speech``, ``music`` and ``mixed`` configs through the one render path
(``builders.hf.batches``; the ``mixed`` config holds the ``mixed`` and ``mixed-window``
views), so each clip's bytes are written once, into the file the finished build keeps.
Batches run fold by fold: the fold's speech by id, then its music clips by id, each with its
mixes (by id), so a fold's parts hold the speech and music rows sorted by id and the mixed
rows sorted by music clip, then id.

A finished unit (one source, or one mix with its SER window) leaves its resume record
``OUT/audio/<view>/<id>.json``; a re-run resumes it while its clips are intact where they lie.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.common.resume import unit_key
from builders.hf.batches import (
    Unit,
    fold_of,
    part_names,
    resumed_unit,
    write_batch_parts,
)
from builders.hf.batches import (
    part_layout as layout_of,
)
from builders.hf.spec import DatasetSpec
from builders.misme import export
from builders.misme.mixing import (
    DEFAULT_ACTIVITY_FLOOR_DB,
    load_source,
    measured_overlap,
    normalised_source,
    render_mix_signal,
    source_path,
)
from builders.misme.spec import SPEECH_CORPORA

MIX_RESULTS = ("mix_gain_db", "overlap", "audio_sha256", "audio_window_sha256")
SOURCE_RESULTS = ("audio_sha256", "render_gain_db")
MAX_BATCH = 16  # speech clips per batch
MAX_BATCH_MIXES = 32  # mixes per batch (whole music groups while they fit)
DEFAULT_SPEECH_CACHE_MB = 256
CONFIG_OF_KIND = {"speech": "speech", "music": "music", "mix": "mixed"}


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


def _render_source(batch: RenderBatch, view: str, row: dict, sources: SourceCache) -> Unit:
    sid, output = row["source_id"], batch.output
    clip = clip_path(batch.audio_dir, view, sid, output)
    record, key = record_path(batch.audio_dir, view, sid), _unit_key(row, [row], output)
    if (done := resumed_unit(record, key, [clip], {str(clip): "audio_sha256"})) is not None:
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
    if (done := resumed_unit(record, key, clips, checked)) is not None:
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
    write_batch_parts(
        Path(batch.audio_dir).parent,
        batch.spec,
        batch.parts,
        [(CONFIG_OF_KIND[kind], row, unit) for kind, row, unit in done],
        export.config_table,
    )
    return [{"kind": kind, **unit.result} for kind, _, unit in done]


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
    for fold in sorted({fold_of(s) for s in sources} | {fold_of(m) for m in mixes}):
        speech = sorted(
            (s for s in sources if s["corpus"] in SPEECH_CORPORA and fold_of(s) == fold),
            key=lambda s: s["source_id"],
        )
        for i in range(0, len(speech), MAX_BATCH):
            batches.append((fold, [("speech", s) for s in speech[i : i + MAX_BATCH]]))
        current: list[tuple[str, dict]] = []
        for music_id in sorted(groups):
            group = groups[music_id]
            if fold_of(by_id.get(music_id) or group[0]) != fold:
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
    items: list[tuple[int, list[tuple[str, dict]]]],
) -> list[tuple[tuple[str, str], ...]]:
    return part_names([(fold, (CONFIG_OF_KIND[kind] for kind, _ in rows)) for fold, rows in items])


def part_layout(sources: list[dict], mixes: list[dict]) -> dict[str, list[str]]:
    """Every part a render of these manifest rows writes, by config."""
    return layout_of(_part_names(_batch_items(sources, mixes)), CONFIG_OF_KIND.values())


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
