"""`misme-build features`: openSMILE / Essentia feature tables for the rendered views.

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

The speech sets read the mono downmix of the clip (channel mean; speech clips are dual
mono) resampled to 16 kHz (``OPENSMILE_RATE``). Each clip's features are cached under ``OUT/features/.cache/<set>/`` keyed by the
sha256 of the clip file and a fingerprint of the extractor settings, so re-runs, and
clips with identical audio, cost nothing. The Parquet schema metadata key
``misme.features`` records the set, view, extractor settings and library versions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from builders.atomic import atomic_file
from builders.errors import UserError

SPEECH_VIEWS = ("speech", "mixed-window", "bss-speech", "bss-oracle-speech")
MUSIC_VIEWS = ("music", "mixed", "bss-music", "bss-oracle-music")

# Which build step writes each view (for the "missing view" message).
VIEW_MADE_BY = {
    "speech": "`misme-build misme render OUT`",
    "music": "`misme-build misme render OUT`",
    "mixed": "`misme-build misme render OUT`",
    "mixed-window": "`misme-build misme render OUT`",
    "bss-music": "`misme-build misme separate OUT` (Spleeter)",
    "bss-speech": "`misme-build misme separate OUT` (Spleeter)",
    "bss-oracle-music": "`misme-build misme separate OUT` (oracle separation)",
    "bss-oracle-speech": "`misme-build misme separate OUT` (oracle separation)",
}

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
    """One named feature set: which extractor, which views it applies to."""

    name: str
    package: str  # the Python package it needs
    views: tuple[str, ...]
    extractor: str  # opensmile FeatureSet name, or "MusicExtractor"


FEATURE_SETS: dict[str, FeatureSet] = {
    "speech-is10": FeatureSet("speech-is10", "opensmile", SPEECH_VIEWS, "IS10"),
    "speech-egemaps": FeatureSet("speech-egemaps", "opensmile", SPEECH_VIEWS, "eGeMAPSv02"),
    "music-essentia": FeatureSet("music-essentia", "essentia", MUSIC_VIEWS, "MusicExtractor"),
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
        raise UserError(f"feature extraction needs the Python package '{package}' ({error}); "
                        f"install it with `pip install {package}` (see pyproject.toml)") from None


@lru_cache(maxsize=4)
def _smile(extractor: str):
    opensmile = _require("opensmile")
    return opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, extractor),
                           feature_level=opensmile.FeatureLevel.Functionals)


@lru_cache(maxsize=1)
def _music_extractor():
    essentia = _require("essentia")
    essentia.log.infoActive = False
    essentia.log.warningActive = False
    return essentia.standard.MusicExtractor(**ESSENTIA_SETTINGS)


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


def extract_opensmile(path: Path, extractor: str) -> dict[str, float]:
    """openSMILE functionals of the clip's mono downmix, resampled to ``OPENSMILE_RATE``."""
    import soundfile
    import soxr

    signal, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = signal.mean(axis=1)
    if rate != OPENSMILE_RATE:
        mono = soxr.resample(mono, rate, OPENSMILE_RATE, quality="HQ").astype(np.float32)
    frame = _smile(extractor).process_signal(mono, OPENSMILE_RATE)
    return {str(k): _finite(v) for k, v in frame.iloc[0].items()}


def extract_essentia(path: Path) -> dict[str, float]:
    """Essentia MusicExtractor global statistics of one clip (settings: ESSENTIA_SETTINGS)."""
    pool, _frames = _music_extractor()(str(path))
    return flatten_pool(pool)


def extract_clip(set_name: str, path: Path) -> dict[str, float]:
    """The features of one clip for one feature set, as ``{column: value}``."""
    spec = FEATURE_SETS[set_name]
    try:
        if spec.package == "essentia":
            return extract_essentia(path)
        return extract_opensmile(path, spec.extractor)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - a corrupt clip is the user's to fix
        raise UserError(f"cannot extract {set_name} features from {path}: {error}") from None


# ---------------------------------------------------------------- cache


def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def settings(set_name: str) -> dict:
    """The settings that determine a set's features (recorded in the output and the cache key)."""
    spec = FEATURE_SETS[set_name]
    info: dict[str, object] = {"set": set_name, "extractor": spec.extractor,
                               "package": spec.package, "version": _version(spec.package)}
    if spec.package == "essentia":
        info["settings"] = ESSENTIA_SETTINGS
        info["dropped"] = ["metadata.*", "strings", "matrices (cov/icov)", *ESSENTIA_DROPPED]
    else:
        info["settings"] = {"feature_level": "Functionals", "input": "mono downmix (channel mean)",
                            "sample_rate": OPENSMILE_RATE, "resampler": "soxr HQ"}
    return info


def settings_fingerprint(set_name: str) -> str:
    text = json.dumps(settings(set_name), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cache_path(out: Path, set_name: str, checksum: str) -> Path:
    """Where one clip's features live: ``OUT/features/.cache/<set>/<fingerprint>/<sha256>.json``."""
    return out / "features" / ".cache" / set_name / settings_fingerprint(set_name) / f"{checksum}.json"


def _read_cached(path: Path) -> dict[str, float] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write_cached(path: Path, row: dict[str, float]) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(row))


def _extract_job(job: tuple[str, str, str]) -> tuple[str, dict[str, float]]:
    """Worker: extract one clip and cache it. ``job`` = (set, clip path, cache path) -> (cache path, row)."""
    set_name, clip, cached = job
    row = extract_clip(set_name, Path(clip))
    _write_cached(Path(cached), row)
    return cached, row


# ---------------------------------------------------------------- views -> tables


def view_clips(out: Path, view: str) -> list[Path]:
    """The clips of a view, sorted by id; UserError naming the build step if there are none."""
    folder = out / "audio" / view
    clips = sorted(p for p in folder.glob("*") if p.suffix in (".flac", ".wav")) if folder.is_dir() else []
    if not clips:
        raise UserError(f"view '{view}' has no clips in {folder}; it is made by {VIEW_MADE_BY[view]}")
    return sorted(clips, key=lambda p: p.stem)


def available_views(out: Path, set_name: str) -> list[str]:
    """The views of a set that have rendered clips."""
    return [v for v in FEATURE_SETS[set_name].views
            if (out / "audio" / v).is_dir() and any((out / "audio" / v).iterdir())]


def _progress(total: int, desc: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit="clip",
                disable=total == 0 or os.environ.get("MISME_NO_PROGRESS") == "1")


def _run_jobs(jobs: list[tuple[str, str, str]], workers: int, desc: str) -> Iterator[tuple[str, dict]]:
    bar = _progress(len(jobs), desc)
    try:
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                yield _extract_job(job)
                bar.update()
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_extract_job, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
                yield result
                bar.update()
    finally:
        bar.close()


def extract_rows(out: Path, set_name: str, clips: Iterable[Path], *, workers: int = 1,
                 desc: str = "features") -> dict[str, dict[str, float]]:
    """Features of each clip (by clip id), from the cache or extracted in parallel."""
    clip_paths = {clip.stem: Path(clip) for clip in clips}
    targets = {i: cache_path(out, set_name, file_sha256(p)) for i, p in clip_paths.items()}
    fresh: dict[Path, dict[str, float]] = {}
    jobs: dict[Path, tuple[str, str, str]] = {}
    for clip_id, target in targets.items():
        if target not in jobs and not target.exists():  # identical audio is extracted once
            jobs[target] = (set_name, str(clip_paths[clip_id]), str(target))
    for target, row in _run_jobs(list(jobs.values()), workers, desc):
        fresh[Path(target)] = row
    rows: dict[str, dict[str, float]] = {}
    for clip_id, target in targets.items():
        row = fresh.get(target) or _read_cached(target)
        if row is None:
            raise UserError(f"feature cache entry {target} is unreadable; delete it and re-run")
        rows[clip_id] = row
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


def extract_view(out: Path, set_name: str, view: str, *, workers: int = 1) -> Path:
    """Extract one set on one view and write ``OUT/features/<set>/<view>.parquet``."""
    out = Path(out)
    if set_name not in FEATURE_SETS:
        raise UserError(f"unknown feature set '{set_name}'; choose from {', '.join(FEATURE_SETS)}")
    spec = FEATURE_SETS[set_name]
    if view not in spec.views:
        raise UserError(f"feature set {set_name} applies to the views {', '.join(spec.views)}, not '{view}'")
    _require(spec.package)
    clips = view_clips(out, view)
    rows = extract_rows(out, set_name, clips, workers=workers, desc=f"{set_name} {view}")
    info = {**settings(set_name), "view": view, "n_clips": len(rows)}
    path = table_path(out, set_name, view)
    write_table(to_table(rows), path, info)
    return path


def extract_features(out: Path, set_name: str, views: list[str] | None = None, *,
                     workers: int = 1) -> list[Path]:
    """Extract ``set_name`` on ``views`` (default: every view of the set that exists)."""
    out = Path(out)
    if set_name not in FEATURE_SETS:
        raise UserError(f"unknown feature set '{set_name}'; choose from {', '.join(FEATURE_SETS)}")
    if not (out / "manifests").is_dir() and not (out / "audio").is_dir():
        raise UserError(f"{out} is not a MiSME build folder (no manifests/ or audio/); "
                        "run `misme-build misme build` first")
    chosen = views or available_views(out, set_name)
    if not chosen:
        views_text = ", ".join(FEATURE_SETS[set_name].views)
        raise UserError(f"no view of {set_name} ({views_text}) is rendered under {out / 'audio'}; "
                        "run `misme-build misme render OUT` first")
    for view in chosen:  # every view checked before any table is written: no half-done run
        if view not in FEATURE_SETS[set_name].views:
            raise UserError(f"feature set {set_name} applies to the views "
                            f"{', '.join(FEATURE_SETS[set_name].views)}, not '{view}'")
        view_clips(out, view)
    return [extract_view(out, set_name, view, workers=workers) for view in chosen]


# ---------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (with audio/<view>/)")
    parser.add_argument("--set", required=True, choices=sorted(FEATURE_SETS), dest="feature_set",
                        help="feature set")
    parser.add_argument("--views", help="comma-separated views (default: every rendered view of the set)")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")


def run(args: argparse.Namespace) -> int:
    views = [v.strip() for v in args.views.split(",") if v.strip()] if args.views is not None else None
    if views == []:
        raise UserError(f"--views names no view: {args.views!r}")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    for path in extract_features(args.out, args.feature_set, views, workers=args.workers):
        frame_shape = pq.read_metadata(path)
        print(f"{path}: {frame_shape.num_rows} clips x {frame_shape.num_columns - 1} features")
    return 0
