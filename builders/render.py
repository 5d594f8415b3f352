"""Render phase: every output clip is a pure function of its manifest row and the source files.

``render_batch`` is the unit of work (a batch of manifest rows + source roots -> clip files
and their checksums); it has no global state, so the same function can run in a local
process pool (``--workers N``) or a distributed engine. ``render_dataset`` drives a whole
build folder: it renders the views ``speech``, ``music``, ``mixed`` and ``mixed-window``
under ``OUT/audio/<view>/``, writes the checksums back into the manifests, then the
Hugging Face shards, solutions, build report, digest and dataset card.

Resuming: a finished unit (one source, or one mix with its SER window) leaves
``OUT/audio/<view>/<id>.json`` with its results and a key of its inputs, written after
its clips were renamed into place; a re-run skips units whose record and clips exist
and whose key still matches the manifest row.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from builders import audio_io
from builders.atomic import atomic_file
from builders.errors import UserError

SPEECH_CORPORA = ("ravdess",)
MIX_RESULTS = ("mix_gain_db", "overlap", "audio_sha256", "audio_window_sha256")
SOURCE_RESULTS = ("audio_sha256", "render_gain_db")
ACTIVITY_FRAME = 882  # 20 ms at 44.1 kHz
DEFAULT_ACTIVITY_FLOOR_DB = -35.0
ABSOLUTE_FLOOR_DB = -70.0
MAX_BATCH = 16


@dataclass(frozen=True)
class RenderBatch:
    """A self-contained unit of work: (kind, row) items, the source rows they use, and roots.

    kind is "speech" or "music" (a source row -> one clip of that view) or "mix" (a mix
    row -> the ``mixed`` and ``mixed-window`` clips). A music clip is batched with its
    mixes so that it is decoded once for all of them.
    """

    rows: tuple[tuple[str, dict], ...]
    roots: dict[str, str]
    audio_dir: str
    audio_format: str = "flac"
    sources: dict[str, dict] = field(default_factory=dict)
    activity_floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB


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
        return (f"rendered {self.rendered} unit(s), resumed {self.resumed}; clips: {counts}\n"
                f"attenuated mixes: {self.attenuated}\n"
                f"dataset digest: {self.digest}\n"
                f"dataset written to {self.out / 'data'} (card {self.out / 'README.md'})")


# ---------------------------------------------------------------- sources and stems


def source_path(row: Mapping, roots: Mapping[str, Path | str]) -> Path:
    """Absolute path of a source row (``path`` is relative to its corpus root)."""
    corpus = row["corpus"]
    if corpus not in roots or roots[corpus] is None:
        raise UserError(f"no root given for corpus {corpus!r} (needed by {row['source_id']})")
    return Path(roots[corpus]) / row["path"]


def load_source_44k(row: Mapping, roots: Mapping[str, Path | str]) -> np.ndarray:
    """Decode a source after checking its sha256, resample to 44.1 kHz, fit to ``frames_44k``.

    No gain is applied; channels are kept (mono stays ``[frames, 1]``).
    """
    path = source_path(row, roots)
    audio_io.check_source(path, row["sha256"])
    data, rate = audio_io.read_audio(path)
    return audio_io.fit_length(audio_io.resample(data, rate), int(row["frames_44k"]))


def normalised_source(source_44k: np.ndarray, gain_db: float) -> np.ndarray:
    """Loudness-normalised stereo float32 clip (stored gain applied, mono duplicated)."""
    return audio_io.to_stereo(source_44k * audio_io.db_to_gain(gain_db))


def _placements(mix_row: Mapping) -> list[tuple[int, int]]:
    """(start, stop) frames of every speech placement inside the music."""
    frames, length = int(mix_row["music_frames"]), int(mix_row["speech_frames"])
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    starts = (k * window + offset for k in range(int(mix_row["n_placements"])))
    return [(start, min(start + length, frames)) for start in starts if start < frames]


def _normalised_parts(mix_row: Mapping, speech_44k: np.ndarray, music_44k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(normalised music stem, float32 stereo; normalised speech segment, float32 in the source's channels).

    Mono speech stays ``[frames, 1]`` and is broadcast to both channels where it is added:
    the same values as duplicating it first, without the copy.
    """
    music = normalised_source(audio_io.fit_length(music_44k, int(mix_row["music_frames"])), mix_row["music_gain_db"])
    crop, length = int(mix_row["speech_crop_start_frame"]), int(mix_row["speech_frames"])
    segment = audio_io.fit_length(speech_44k[crop : crop + length], length)
    if segment.shape[1] > 2:
        audio_io.to_stereo(segment)  # raises the user-facing channel-count error
    return music, segment * audio_io.db_to_gain(mix_row["speech_gain_db"])


def place_stems(mix_row: Mapping, speech_44k: np.ndarray, music_44k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unattenuated (music_stem, speech_stem, speech_segment) of one mix, float32 (stems stereo).

    The speech segment is frames ``[speech_crop_start_frame, +speech_frames)`` of the
    normalised speech, placed at ``k * window_frames + speech_offset_frame`` for every
    window k < n_placements.
    """
    music, segment = _normalised_parts(mix_row, speech_44k, music_44k)
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


def render_mix_signal(mix_row: Mapping, speech_44k: np.ndarray, music_44k: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """(mix, mix_gain_db, speech_segment): the mix equals the sum of :func:`mix_stems`' stems.

    Fast path: the speech is added into the music in place (adding 0 elsewhere changes
    nothing); a mix that needs attenuation is rebuilt from the scaled stems.
    """
    music, segment = _normalised_parts(mix_row, speech_44k, music_44k)
    mix = music  # a new array (gain applied), never the cached source
    for start, stop in _placements(mix_row):
        mix[start:stop] += segment[: stop - start]
    if _peak(mix) <= 1.0:
        return mix, 0.0, segment
    music_stem, speech_stem, _ = place_stems(mix_row, speech_44k, music_44k)
    music_stem, speech_stem, gain_db = attenuate_stems(music_stem, speech_stem)
    return music_stem + speech_stem, gain_db, segment


def mix_stems(mix_row: Mapping, speech_row: Mapping, music_row: Mapping, roots: Mapping[str, Path]) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``[frames, 2]`` (music_stem, speech_stem) exactly as summed into the mix.

    The mix attenuation is applied, so the rendered mix is ``quantise(music + speech)``.
    """
    music, speech, _ = place_stems(mix_row, load_source_44k(speech_row, roots), load_source_44k(music_row, roots))
    music, speech, _ = attenuate_stems(music, speech)
    return music, speech


def speech_activity(segment: np.ndarray, floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB) -> np.ndarray:
    """Per-frame boolean activity of a placed speech segment.

    Energy-based: mean power over channels in 20 ms blocks (mono and dual-mono give the
    same result); a block is active when its level is within ``floor_db`` of the loudest
    block and above -70 dBFS. Every sample frame of a block takes the block's decision.
    """
    n = len(segment)
    if n == 0:
        return np.zeros(0, dtype=bool)
    blocks = -(-n // ACTIVITY_FRAME)
    squares = np.square(segment.astype(np.float64))
    power = np.zeros(blocks * ACTIVITY_FRAME, dtype=np.float64)
    for channel in range(squares.shape[1]):  # the mean over channels, summed in order (np.mean(axis=1) is slow)
        power[:n] += squares[:, channel]
    power[:n] /= squares.shape[1]
    level = 10.0 * np.log10(power.reshape(blocks, ACTIVITY_FRAME).mean(axis=1) + 1e-20)
    active = (level >= level.max() + floor_db) & (level > ABSOLUTE_FLOOR_DB)
    return np.repeat(active, ACTIVITY_FRAME)[:n]


def measured_overlap(mix_row: Mapping, segment: np.ndarray, floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB) -> float:
    """Fraction of the music duration covered by active placed speech."""
    frames = int(mix_row["music_frames"])
    if frames <= 0:
        return 0.0
    active = speech_activity(segment, floor_db)
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    covered = 0
    for k in range(int(mix_row["n_placements"])):
        start = k * window + offset
        covered += int(active[: max(0, min(len(active), frames - start))].sum())
    return covered / frames


# ---------------------------------------------------------------- units of work


def clip_path(audio_dir: Path | str, view: str, clip_id: str, audio_format: str) -> Path:
    """``OUT/audio/<view>/<id>.<ext>``."""
    return Path(audio_dir) / view / f"{clip_id}.{audio_format}"


def _record_path(audio_dir: Path | str, view: str, clip_id: str) -> Path:
    return Path(audio_dir) / view / f"{clip_id}.json"


def _unit_key(row: Mapping, sources: Iterable[Mapping], audio_format: str) -> str:
    """Hash of everything a unit's output depends on (planned row, sources, format)."""
    planned = {k: v for k, v in row.items() if k not in MIX_RESULTS + SOURCE_RESULTS}
    payload = [planned, [(s["source_id"], s["sha256"], s["frames_44k"]) for s in sources], audio_format]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=repr).encode()).hexdigest()


def _finished(record: Path, key: str, clips: Iterable[Path]) -> dict | None:
    try:
        saved = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("key") != key or not all(p.is_file() for p in clips):
        return None
    return saved["result"]


def _save_record(record: Path, key: str, result: dict) -> None:
    # Written in place after the unit's clips were renamed into place: a torn record does
    # not parse, and :func:`_finished` then renders the unit again.
    record.write_text(json.dumps({"key": key, "result": result}, sort_keys=True))


def _render_source(batch: RenderBatch, view: str, row: dict, cache: dict) -> dict:
    sid = row["source_id"]
    clip = clip_path(batch.audio_dir, view, sid, batch.audio_format)
    record, key = _record_path(batch.audio_dir, view, sid), _unit_key(row, [row], batch.audio_format)
    if (done := _finished(record, key, [clip])) is not None:
        return {**done, "resumed": True}
    x = normalised_source(_cached(cache, row, batch.roots), row["gain_db"])
    x, gain_db = audio_io.peak_normalise(x)
    pcm = audio_io.quantise(x, overwrite=True)  # x is a new array: the gain was applied to a copy
    result = {"id": sid, "audio_sha256": audio_io.write_clip(clip, pcm, batch.audio_format),
              "render_gain_db": gain_db}
    _save_record(record, key, result)
    return {**result, "resumed": False}


def _render_mix(batch: RenderBatch, row: dict, cache: dict) -> dict:
    mid = row["mix_id"]
    speech_row, music_row = batch.sources[row["speech_id"]], batch.sources[row["music_id"]]
    clips = [clip_path(batch.audio_dir, v, mid, batch.audio_format) for v in ("mixed", "mixed-window")]
    record, key = _record_path(batch.audio_dir, "mixed", mid), _unit_key(row, [speech_row, music_row], batch.audio_format)
    if (done := _finished(record, key, clips)) is not None:
        return {**done, "resumed": True}
    mix, gain_db, segment = render_mix_signal(row, _cached(cache, speech_row, batch.roots),
                                              _cached(cache, music_row, batch.roots))
    pcm = audio_io.quantise(mix, overwrite=True)  # the mix is a fresh array (see render_mix_signal)
    start, window = int(row["window_start_frame"]), int(row["window_frames"])
    window_pcm = audio_io.fit_length(pcm[start : start + window], window)
    result = {
        "id": mid,
        "audio_sha256": audio_io.write_clip(clips[0], pcm, batch.audio_format),
        "audio_window_sha256": audio_io.write_clip(clips[1], window_pcm, batch.audio_format),
        "mix_gain_db": gain_db,
        "overlap": measured_overlap(row, segment, batch.activity_floor_db),
    }
    _save_record(record, key, result)
    return {**result, "resumed": False}


class SpeechCache:
    """Decoded 44.1 kHz speech kept across batches in one process, least recently used first out.

    A speech clip is used by its own clip and by K mixes in other batches of its fold;
    batches run fold by fold, so a cache of about one fold's speech decodes each clip
    about once per worker. The key includes the file's size and mtime, so a file changed
    during the build is decoded (and its sha256 checked) again. Bounded in bytes.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.used = max_bytes, 0
        self.entries: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def get(self, row: Mapping, roots: Mapping[str, str]) -> np.ndarray:
        try:
            stat = source_path(row, roots).stat()
        except OSError:
            return load_source_44k(row, roots)  # raises the user-facing "source file missing"
        key = (row["source_id"], row["sha256"], int(row["frames_44k"]), stat.st_size, stat.st_mtime_ns)
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        data = load_source_44k(row, roots)
        data.flags.writeable = False  # shared by every mix that uses it
        self.entries[key] = data
        self.used += data.nbytes
        while self.used > self.max_bytes and len(self.entries) > 1:
            self.used -= self.entries.popitem(last=False)[1].nbytes
        return data


_speech_cache: SpeechCache | None = None


def speech_cache() -> SpeechCache:
    """This process's speech cache, sized by ``MISME_SPEECH_CACHE_MB`` (default 256) on first use."""
    global _speech_cache
    if _speech_cache is None:
        raw = os.environ.get("MISME_SPEECH_CACHE_MB", "256")
        try:
            megabytes = float(raw)
        except ValueError:
            megabytes = math.nan
        if not 0 <= megabytes < math.inf:
            raise UserError(f"MISME_SPEECH_CACHE_MB must be a number of megabytes >= 0, got {raw!r}")
        _speech_cache = SpeechCache(int(megabytes * 2**20))
    return _speech_cache


def _cached(cache: dict, row: Mapping, roots: Mapping[str, str]) -> np.ndarray:
    if row["corpus"] in SPEECH_CORPORA:
        return speech_cache().get(row, roots)
    sid = row["source_id"]
    if sid not in cache:
        cache[sid] = load_source_44k(row, roots)
    return cache[sid]


def render_batch(batch: RenderBatch) -> list[dict]:
    """Render one batch; returns one result per item (``kind``, ``id``, checksums, gains, ``resumed``).

    Pure apart from the files it writes: music is decoded once per batch; speech goes
    through the process's bounded :class:`SpeechCache` (it never changes an output).
    """
    cache: dict[str, np.ndarray] = {}
    return [{"kind": kind, **(_render_mix(batch, row, cache) if kind == "mix" else _render_source(batch, kind, row, cache))}
            for kind, row in batch.rows]


# ---------------------------------------------------------------- the whole build


def read_manifest(path: Path) -> pa.Table:
    """Read a manifest Parquet file; UserError when it is missing or unreadable."""
    if not path.is_file():
        raise UserError(f"manifest not found: {path} (run `misme-build misme plan` first)")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise UserError(f"cannot read manifest {path}: {error}") from error


def resolve_roots(out: Path, roots: Mapping[str, Path] | None, corpora: Iterable[str]) -> dict[str, str]:
    """Source roots from the argument or OUT/build-state.json, checked to exist."""
    if roots is None:
        state = out / "build-state.json"
        try:
            roots = json.loads(state.read_text())["roots"]
        except FileNotFoundError:
            raise UserError(f"{state} not found: give the source roots (--ravdess/--deam/--soundtracks)") from None
        except (ValueError, KeyError, TypeError) as error:
            raise UserError(f"{state} is not valid build state: {error}") from error
    resolved = {}
    for corpus in sorted(set(corpora)):
        root = roots.get(corpus)
        if not root or not Path(root).is_dir():
            raise UserError(f"source root for {corpus!r} not found: {root}")
        resolved[corpus] = str(Path(root).resolve())
    return resolved


def recipe_value(out: Path, key: str, default: Any, table: str | None = None) -> Any:
    """A value from OUT/manifests/recipe.toml (top level or ``[table]``), or ``default`` when
    the recipe does not set it. A missing or unreadable recipe is a user error: silently
    falling back to defaults could render a planned non-default corpus differently."""
    path = out / "manifests" / "recipe.toml"
    try:
        recipe = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} not found: the plan is incomplete (re-run `misme-build misme plan`)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"cannot read {path}: {error}") from None
    scope = recipe.get(table, {}) if table else recipe
    return scope.get(key, default) if isinstance(scope, dict) else default


def plan_batches(sources: list[dict], mixes: list[dict], roots: dict[str, str], audio_dir: Path,
                 audio_format: str, floor_db: float) -> list[RenderBatch]:
    """Cut the work into batches, fold by fold: the fold's speech in runs, then each music clip
    with its mixes (<= MAX_BATCH). Fold order keeps a worker's speech cache warm."""
    by_id = {s["source_id"]: s for s in sources}
    groups: dict[str, list[dict]] = {s["source_id"]: [] for s in sources if s["corpus"] not in SPEECH_CORPORA}
    for row in mixes:
        groups.setdefault(row["music_id"], []).append(row)
    batches = []
    for fold in sorted({_fold_of(s) for s in sources} | {_fold_of(m) for m in mixes}):
        speech = [s for s in sources if s["corpus"] in SPEECH_CORPORA and _fold_of(s) == fold]
        for i in range(0, len(speech), MAX_BATCH):
            items = tuple(("speech", s) for s in speech[i : i + MAX_BATCH])
            batches.append(RenderBatch(items, roots, str(audio_dir), audio_format))
        for music_id in sorted(groups):
            group = groups[music_id]
            if _fold_of(by_id.get(music_id) or group[0]) != fold:
                continue
            for i in range(0, max(len(group), 1), MAX_BATCH):
                items = [("mix", r) for r in group[i : i + MAX_BATCH]]
                if i == 0 and music_id in by_id:
                    items.insert(0, ("music", by_id[music_id]))
                used = {sid: by_id[sid] for _, r in items if "mix_id" in r for sid in (r["speech_id"], r["music_id"])}
                batches.append(RenderBatch(tuple(items), roots, str(audio_dir), audio_format, used, floor_db))
    return batches


def _fold_of(row: Mapping) -> int:
    fold = row.get("fold")
    return -1 if fold is None else int(fold)


def run_batches(batches: list[RenderBatch], workers: int, progress: bool) -> dict[str, list[dict]]:
    """Run batches (in-process for 1 worker, else a process pool); results per kind, sorted by id."""
    results: dict[str, list[dict]] = {"speech": [], "music": [], "mix": []}
    total = sum(len(b.rows) for b in batches)
    disable = not progress or os.environ.get("MISME_NO_PROGRESS") == "1"
    with tqdm(total=total, desc="render", unit="clip", disable=disable, file=None) as bar:
        if workers <= 1:
            for batch in batches:
                for result in render_batch(batch):
                    results[result.pop("kind")].append(result)
                bar.update(len(batch.rows))
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(render_batch, b): b for b in batches}
                try:
                    for future in as_completed(futures):
                        for result in future.result():
                            results[result.pop("kind")].append(result)
                        bar.update(len(futures[future].rows))
                except BaseException:  # a user error or Ctrl-C: stop at once, finished clips stay
                    pool.shutdown(wait=True, cancel_futures=True)
                    raise
    for kind in results:
        results[kind].sort(key=lambda r: r["id"])
    return results


def write_back(path: Path, table: pa.Table, id_column: str, results: list[dict], columns: tuple[str, ...],
               types: dict[str, pa.DataType]) -> pa.Table:
    """Replace the render-result ``columns`` of a manifest with ``results`` (atomically)."""
    by_id = {r["id"]: r for r in results}
    table = table.drop_columns([c for c in columns if c in table.column_names])
    ids = table.column(id_column).to_pylist()
    for column in columns:
        values = [by_id[i].get(column) if i in by_id else None for i in ids]
        table = table.append_column(pa.field(column, types[column]), pa.array(values, type=types[column]))
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp)
    return table


def clean_stale_temp_files(audio_dir: Path) -> int:
    """Remove temporary files left by a killed render (``.<name>.tmp-<pid>``)."""
    removed = 0
    if audio_dir.is_dir():
        for stale in audio_dir.glob("*/.*.tmp-*"):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def render_dataset(out: Path, *, workers: int = 1, audio_format: str = "flac",
                   roots: dict[str, Path] | None = None, progress: bool = True) -> RenderSummary:
    """Render every view of OUT from OUT/manifests, then shards, solutions, report, digest, card."""
    out = Path(out)
    if audio_format not in audio_io.FORMATS:
        raise UserError(f"unknown audio format {audio_format!r}: choose flac or wav")
    if workers < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    try:
        return _render_dataset(out, workers, audio_format, roots, progress)
    except OSError as error:
        where = error.filename or out
        raise UserError(f"cannot write the build under {out}: {where}: {error.strerror or error}") from error


def _render_dataset(out: Path, workers: int, audio_format: str, roots: dict[str, Path] | None,
                    progress: bool) -> RenderSummary:
    from builders import build_report, hf  # local: hf imports datasets (slow)

    manifests = out / "manifests"
    sources_table = read_manifest(manifests / "sources.parquet")
    mixes_table = read_manifest(manifests / "mixes.parquet")
    sources, mixes = sources_table.to_pylist(), mixes_table.to_pylist()
    resolved = resolve_roots(out, roots, (s["corpus"] for s in sources))
    audio_dir = out / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(audio_dir, os.W_OK):
        raise UserError(f"output folder is not writable: {audio_dir}")
    clean_stale_temp_files(audio_dir)
    floor_db = float(recipe_value(out, "activity_floor_db", DEFAULT_ACTIVITY_FLOOR_DB, "mixing"))
    speech_cache()  # a bad MISME_SPEECH_CACHE_MB is reported here, before any work
    batches = plan_batches(sources, mixes, resolved, audio_dir, audio_format, floor_db)
    results = run_batches(batches, workers, progress)

    source_results = sorted(results["speech"] + results["music"], key=lambda r: r["id"])
    sources_table = write_back(manifests / "sources.parquet", sources_table, "source_id", source_results,
                               SOURCE_RESULTS, {"audio_sha256": pa.string(), "render_gain_db": pa.float64()})
    mixes_table = write_back(manifests / "mixes.parquet", mixes_table, "mix_id", results["mix"], MIX_RESULTS,
                             {"mix_gain_db": pa.float64(), "overlap": pa.float64(),
                              "audio_sha256": pa.string(), "audio_window_sha256": pa.string()})
    hf.export_core_configs(out, sources_table.to_pylist(), mixes_table.to_pylist(), audio_format)
    hf.write_solutions(out, sources_table.to_pylist(), mixes_table.to_pylist())
    build_report.write_build_report(out, seed=int(recipe_value(out, "seed", 0)))
    digest = hf.finalize(out)
    all_results = source_results + results["mix"]
    return RenderSummary(
        out=out,
        counts={"speech": len(results["speech"]), "music": len(results["music"]),
                "mixed": len(results["mix"]), "mixed-window": len(results["mix"])},
        rendered=sum(not r["resumed"] for r in all_results),
        resumed=sum(r["resumed"] for r in all_results),
        attenuated=sum(r["mix_gain_db"] < 0 for r in results["mix"]),
        digest=digest,
    )
