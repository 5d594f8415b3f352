"""openSMILE / Essentia feature tables for the rendered views of a build (`misme-build features`).

Output: ``OUT/features/<set>/<view>.parquet`` with one row per clip, sorted by ``id``,
and the columns ``id`` + the feature columns (float64, sorted by name):

- ``speech-is10``: openSMILE ``IS10_paraling`` functionals (1,582 columns; the set the
  MiSME thesis calls emobase2010), openSMILE's own column names.
- ``speech-egemaps``: openSMILE ``eGeMAPSv02`` functionals (88 columns), openSMILE's names.
- ``music-essentia``: Essentia ``MusicExtractor`` global statistics (see
  ``ESSENTIA_SETTINGS``): every numeric, non-frame descriptor of the pool, named as in
  the pool (``lowlevel.spectral_centroid.mean``); vectors become ``name.0``, ``name.1``...;
  strings, ``metadata.*``, matrices (MFCC/GFCC ``cov``/``icov``) and the variable-length
  ``rhythm.beats_position`` are dropped. Non-finite values are stored as NaN.

A set applies to the views whose content (``speech`` or ``music``, declared by the dataset's
spec) it was made for. The speech sets read the mono downmix of the clip (channel mean; speech clips are dual
mono) resampled to 16 kHz (``OPENSMILE_RATE``). Each clip's features are cached under ``OUT/features/.cache/<set>/`` keyed by the
sha256 of the clip file and a fingerprint of the extractor settings, so re-runs, and
clips with identical audio, cost nothing. The Parquet schema metadata key
``misme.features`` records the set, view, extractor settings and library versions.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_file
from builders.common.clips import ClipRef, view_refs
from builders.common.lock import build_lock
from builders.common.versions import package_version
from builders.engine import Engine, map_units, resolve_engine
from builders.errors import UserError
from builders.hf.spec import DatasetSpec

# MusicExtractor settings, chosen for cost (measured in bench/features.py): only mean and
# stdev statistics (the defaults add var/median/min/max/derivatives: 4,400 columns for
# little gain on a few hundred clips), MFCC/GFCC means only, Degara beat tracking (the
# extractor's default), analysis at the corpus rate 44.1 kHz (32 kHz is slower, since it
# resamples first). Per-clip cost is ~30 ms per second of audio on one core and grows
# linearly with duration; frame/hop sizes barely change it, so they keep their defaults.
ESSENTIA_SETTINGS: dict[str, object] = {
    "analysisSampleRate": 44100.0,
    "rhythmMethod": "degara",
    "lowlevelStats": ["mean", "stdev"],
    "rhythmStats": ["mean", "stdev"],
    "tonalStats": ["mean", "stdev"],
    "mfccStats": ["mean"],
    "gfccStats": ["mean"],
}
ESSENTIA_DROPPED = ("rhythm.beats_position",)

# openSMILE's cost is linear in samples; IS10 and eGeMAPS were designed for 16 kHz speech
# (the INTERSPEECH 2010 challenge data), so the speech sets analyse the mono downmix
# resampled to 16 kHz (soxr HQ): 2.2x faster than at 44.1 kHz.
OPENSMILE_RATE = 16000


@dataclass(frozen=True)
class FeatureSet:
    """One named feature set: which extractor, which content it applies to."""

    name: str
    package: str  # the Python package it needs
    content: str  # "speech" or "music": the views it applies to
    extractor: str  # opensmile FeatureSet name, or "MusicExtractor"

    def views(self, spec: DatasetSpec) -> tuple[str, ...]:
        """The views of ``spec`` this set applies to."""
        return tuple(v.name for v in spec.views if v.content == self.content)


FEATURE_SETS: dict[str, FeatureSet] = {
    "speech-is10": FeatureSet("speech-is10", "opensmile", "speech", "IS10"),
    "speech-egemaps": FeatureSet("speech-egemaps", "opensmile", "speech", "eGeMAPSv02"),
    "music-essentia": FeatureSet("music-essentia", "essentia", "music", "MusicExtractor"),
}


# ---------------------------------------------------------------- extractors (one clip)


def _require(package: str):
    try:
        if package == "opensmile":
            import opensmile

            return opensmile
        import essentia
        import essentia.standard

        return essentia
    except ImportError as error:
        raise UserError(
            f"feature extraction needs the Python package '{package}' ({error}); "
            f"install it with `pip install {package}` (see pyproject.toml)"
        ) from None


def _scratch_root() -> str | None:
    """Where a worker keeps its decoded-audio scratch files: RAM (/dev/shm) if writable, else the temp dir."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


class Extractors:
    """One worker's warm extractors (the engine's per-worker ``state``; ``Extractors`` is its factory).

    Each extractor is built on first use and kept for every later clip of the worker (an
    openSMILE ``Smile`` per feature set, one Essentia ``MusicExtractor``); ``built`` counts
    the constructions and ``calls`` the clips. ``close()`` removes the worker's scratch
    folder (pre-resampled audio for the MusicExtractor). Nothing here changes a value.
    """

    def __init__(self) -> None:
        self._smiles: dict[str, object] = {}
        self._music = None
        self._scratch: str | None = None
        self.built = 0
        self.calls = 0

    def smile(self, extractor: str):
        if extractor not in self._smiles:
            opensmile = _require("opensmile")
            self._smiles[extractor] = opensmile.Smile(
                feature_set=getattr(opensmile.FeatureSet, extractor),
                feature_level=opensmile.FeatureLevel.Functionals,
            )
            self.built += 1
        return self._smiles[extractor]

    def music(self):
        if self._music is None:
            essentia = _require("essentia")
            essentia.log.infoActive = False
            essentia.log.warningActive = False
            self._music = essentia.standard.MusicExtractor(**ESSENTIA_SETTINGS)
            self.built += 1
        return self._music

    def scratch(self) -> Path:
        if self._scratch is None or not Path(self._scratch).is_dir():
            self._scratch = tempfile.mkdtemp(
                prefix=f".misme-features-{os.getpid()}-", dir=_scratch_root()
            )
        return Path(self._scratch)

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


_LOCAL: list[
    Extractors
] = []  # this process's extractors for calls without an engine state (bench, REPL)


def _local_extractors() -> Extractors:
    if not _LOCAL:
        _LOCAL.append(Extractors())
        atexit.register(_LOCAL[0].close)
    return _LOCAL[0]


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else math.nan


def flatten_pool(pool) -> dict[str, float]:
    """The numeric non-frame descriptors of a MusicExtractor pool as ``{column: value}``."""
    row: dict[str, float] = {}
    for name in pool.descriptorNames():
        if name.startswith("metadata.") or name in ESSENTIA_DROPPED:
            continue
        value = pool[name]
        if isinstance(value, str):
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "fiub" or array.ndim > 1:
            continue
        if array.ndim == 0:
            row[name] = _finite(array)
        else:
            row.update({f"{name}.{i}": _finite(v) for i, v in enumerate(array)})
    return row


def as_clip(clip: ClipRef | Path) -> ClipRef:
    """A clip file's path as a :class:`ClipRef` (a ClipRef as it is)."""
    return clip if isinstance(clip, ClipRef) else ClipRef.of_file(clip)


def opensmile_input(clip: ClipRef | Path) -> np.ndarray:
    """What the speech sets analyse: the clip's mono downmix (channel mean) at ``OPENSMILE_RATE``, float32."""
    import soundfile
    import soxr

    with as_clip(clip).open() as handle:
        signal, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    mono = signal.mean(axis=1)
    if rate != OPENSMILE_RATE:
        mono = soxr.resample(mono, rate, OPENSMILE_RATE, quality="HQ").astype(np.float32)
    return mono


def extract_opensmile(
    clip: ClipRef | Path, extractor: str, extractors: Extractors | None = None
) -> dict[str, float]:
    """openSMILE functionals of the clip's mono downmix, resampled to ``OPENSMILE_RATE``."""
    smile = (extractors or _local_extractors()).smile(extractor)
    frame = smile.process_signal(opensmile_input(clip), OPENSMILE_RATE)
    return {str(k): _finite(v) for k, v in frame.iloc[0].items()}


def essentia_input(path: Path, extractors: Extractors) -> tuple[Path, bool]:
    """The file the MusicExtractor reads for ``path``, and whether it is a scratch copy to delete.

    The MusicExtractor decodes its file five times (audio properties and EBU R128, replay
    gain, two analysis passes) and resamples it to the analysis rate on every pass. A mono
    clip at another rate (the 16 kHz instrumental-MER and MuSe clips) is therefore resampled
    once, by the extractor's own chain (``MonoLoader``: the same libsamplerate converter, so
    the same samples), into a float32 WAV at ``analysisSampleRate`` in the worker's scratch
    folder, which the extractor then reads without resampling: every feature value is
    identical (tests/builders/features), the clip costs about half. Stereo clips at another
    rate are passed as they are (the extractor resamples each channel for EBU R128 and the
    downmix for the rest, which one copy cannot reproduce exactly); so are clips already at
    the analysis rate.
    """
    import soundfile

    rate = float(ESSENTIA_SETTINGS["analysisSampleRate"])
    info = soundfile.info(str(path))
    if info.channels != 1 or float(info.samplerate) == rate:
        return path, False
    import essentia.standard

    audio = essentia.standard.MonoLoader(filename=str(path), sampleRate=rate)()
    target = extractors.scratch() / f"{path.stem}.wav"
    soundfile.write(str(target), audio, int(rate), subtype="FLOAT")
    return target, True


def extract_essentia(
    clip: ClipRef | Path, extractors: Extractors | None = None
) -> dict[str, float]:
    """Essentia MusicExtractor global statistics of one clip (settings: ESSENTIA_SETTINGS).

    The extractor reads files only: a clip published in a shard is copied to the worker's
    scratch folder for it."""
    extractors = extractors or _local_extractors()
    music = extractors.music()
    with as_clip(clip).as_file(extractors.scratch()) as path:
        source, scratch = essentia_input(path, extractors)
        try:
            pool, _frames = music(str(source))
        finally:
            if scratch:
                source.unlink(missing_ok=True)
    return flatten_pool(pool)


def extract_clip(
    set_name: str, clip: ClipRef | Path, extractors: Extractors | None = None
) -> dict[str, float]:
    """The features of one clip for one feature set, as ``{column: value}``.

    ``extractors``: the worker's warm extractors (default: this process's own).
    """
    spec = FEATURE_SETS[set_name]
    extractors = extractors or _local_extractors()
    extractors.calls += 1
    try:
        if spec.package == "essentia":
            return extract_essentia(clip, extractors)
        return extract_opensmile(clip, spec.extractor, extractors)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - a corrupt clip is the user's to fix
        raise UserError(f"cannot extract {set_name} features from {clip}: {error}") from None


# ---------------------------------------------------------------- cache


def settings(set_name: str) -> dict:
    """The settings that determine a set's features (recorded in the output and the cache key)."""
    spec = FEATURE_SETS[set_name]
    info: dict[str, object] = {
        "set": set_name,
        "extractor": spec.extractor,
        "package": spec.package,
        "version": package_version(spec.package),
    }
    if spec.package == "essentia":
        info["settings"] = ESSENTIA_SETTINGS
        info["dropped"] = ["metadata.*", "strings", "matrices (cov/icov)", *ESSENTIA_DROPPED]
    else:
        info["settings"] = {
            "feature_level": "Functionals",
            "input": "mono downmix (channel mean)",
            "sample_rate": OPENSMILE_RATE,
            "resampler": "soxr HQ",
        }
    return info


def settings_fingerprint(set_name: str) -> str:
    text = json.dumps(settings(set_name), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cache_path(out: Path, set_name: str, checksum: str) -> Path:
    """Where one clip's features live: ``OUT/features/.cache/<set>/<fingerprint>/<sha256>.json``."""
    return (
        out / "features" / ".cache" / set_name / settings_fingerprint(set_name) / f"{checksum}.json"
    )


def _read_cached(path: Path) -> dict[str, float] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_cached(path: Path, row: dict[str, float]) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(row))


def _extract_job(
    extractors: Extractors, job: tuple[str, ClipRef, str]
) -> tuple[str, dict[str, float]]:
    """Worker: extract one clip with the worker's warm extractors and cache it.

    ``job`` = (set, clip, cache path) -> (cache path, row).
    """
    set_name, clip, cached = job
    row = extract_clip(set_name, clip, extractors)
    _write_cached(Path(cached), row)
    return cached, row


# ---------------------------------------------------------------- views -> tables


def view_clips(out: Path, spec: DatasetSpec, view: str) -> list[ClipRef]:
    """The clips of a view (files, or ranges of the shards that published them), sorted by
    id; UserError naming the build step if there are none."""
    clips = list(view_refs(out, view, spec.output.suffix).values())
    if not clips:
        raise UserError(
            f"view '{view}' has no clips in {Path(out) / 'audio' / view} or the build's shards; "
            f"it is made by {spec.view(view).made_by}"
        )
    return clips


def available_views(out: Path, spec: DatasetSpec, set_name: str) -> list[str]:
    """The views of a set that have rendered clips."""
    return [v for v in FEATURE_SETS[set_name].views(spec) if view_refs(out, v, spec.output.suffix)]


def extract_paths(
    out: Path,
    set_name: str,
    clips: Iterable[ClipRef | Path],
    *,
    workers: int = 1,
    engine: Engine | None = None,
    desc: str = "features",
    progress: bool = True,
) -> dict[ClipRef, dict[str, float]]:
    """Features of each clip (by ClipRef), from the cache or extracted in one parallel map.

    Identical audio (same file sha256, in one view or several) is extracted once. Every
    clip is its own unit (a clip costs 0.1-1 s, a unit's dispatch about a millisecond) and
    the longest files go first, so no worker idles while another finishes a long tail.
    """
    refs = sorted({as_clip(clip) for clip in clips}, key=lambda r: (r.path, r.offset))
    targets = {ref: cache_path(out, set_name, ref.sha256 or ref.digest()) for ref in refs}
    jobs: dict[Path, tuple[str, ClipRef, str]] = {}
    for ref in sorted(refs, key=lambda r: (-r.size(), r.path, r.offset)):
        target = targets[ref]
        if target not in jobs and not target.exists():
            jobs[target] = (set_name, ref, str(target))
    engine = resolve_engine(engine, workers)
    fresh = dict(
        map_units(
            _extract_job,
            list(jobs.values()),
            engine=engine,
            desc=desc,
            unit="clip",
            state=Extractors,
            chunksize=1,
            progress=progress,
        )
    )
    rows: dict[ClipRef, dict[str, float]] = {}
    for ref, target in targets.items():
        row = fresh.get(str(target)) or _read_cached(target)
        if row is None:
            raise UserError(f"feature cache entry {target} is unreadable; delete it and re-run")
        rows[ref] = row
    return rows


def to_table(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``id`` + sorted float64 feature columns, rows sorted by id."""
    ids = sorted(rows)
    columns = sorted({c for row in rows.values() for c in row})
    values = np.array([[rows[i].get(c, math.nan) for c in columns] for i in ids], dtype="float64")
    frame = pd.DataFrame(values.reshape(len(ids), len(columns)), columns=columns)
    frame.insert(0, "id", pd.array(ids, dtype="string"))
    return frame


def write_table(frame: pd.DataFrame, path: Path, info: dict) -> None:
    """Write a feature table atomically, with ``info`` as schema metadata ``misme.features``."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({"misme.features": json.dumps(info, sort_keys=True)})
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_table(path: Path) -> pd.DataFrame:
    """A feature table as written by ``write_table`` (``id`` as string)."""
    frame = pq.read_table(path).to_pandas()
    frame["id"] = frame["id"].astype(str)
    return frame


def table_info(path: Path) -> dict:
    """The ``misme.features`` metadata of a feature table."""
    meta = pq.read_schema(path).metadata or {}
    return json.loads(meta.get(b"misme.features", b"{}"))


def table_path(out: Path, set_name: str, view: str) -> Path:
    return Path(out) / "features" / set_name / f"{view}.parquet"


def _check_set_and_view(spec: DatasetSpec, set_name: str, view: str) -> None:
    if view not in FEATURE_SETS[set_name].views(spec):
        raise UserError(
            f"feature set {set_name} applies to the views "
            f"{', '.join(FEATURE_SETS[set_name].views(spec))}, not '{view}'"
        )


def _write_view(out: Path, set_name: str, view: str, rows: dict[str, dict[str, float]]) -> Path:
    info = {**settings(set_name), "view": view, "n_clips": len(rows)}
    path = table_path(out, set_name, view)
    write_table(to_table(rows), path, info)
    return path


def check_set_name(set_name: str) -> None:
    if set_name not in FEATURE_SETS:
        raise UserError(f"unknown feature set '{set_name}'; choose from {', '.join(FEATURE_SETS)}")


def extract_features(
    out: Path,
    spec: DatasetSpec,
    set_name: str,
    views: list[str] | None = None,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    progress: bool = True,
    wait: bool = False,
) -> list[Path]:
    """Extract ``set_name`` on ``views`` (default: every view of the set that exists)."""
    out = Path(out)
    check_set_name(set_name)
    chosen = views or available_views(out, spec, set_name)
    if not chosen:
        views_text = ", ".join(FEATURE_SETS[set_name].views(spec))
        raise UserError(
            f"no view of {set_name} ({views_text}) is rendered under {out / 'audio'}; "
            "run the render step first"
        )
    for view in chosen:  # every view checked before any table is written: no half-done run
        _check_set_and_view(spec, set_name, view)
        view_clips(out, spec, view)
    with build_lock(out, f"features ({set_name})", wait=wait):
        _require(FEATURE_SETS[set_name].package)
        clips = {view: view_clips(out, spec, view) for view in chosen}
        # one map over the clips of every view: one pool, no idle tail per view
        rows = extract_paths(
            out,
            set_name,
            [c for view in chosen for c in clips[view]],
            workers=workers,
            engine=engine,
            desc=f"{set_name} {', '.join(chosen)}",
            progress=progress,
        )
        return [
            _write_view(out, set_name, view, {clip.clip_id: rows[clip] for clip in clips[view]})
            for view in chosen
        ]
