"""openSMILE / Essentia feature tables for the rendered views of a build (`misme-build features`).

Output: ``OUT/features/<set>/<view>.parquet`` with one row per clip, sorted by ``id``,
and the columns ``id`` + the feature columns (float64, sorted by name):

- ``speech-is10``: openSMILE ``IS10_paraling`` functionals (1,582 columns; the set the
  MiSME thesis calls emobase2010), openSMILE's own column names.
- ``speech-egemaps``: openSMILE ``eGeMAPSv02`` functionals (88 columns), openSMILE's names.
- ``speech-compare``, ``music-compare``: openSMILE ``ComParE_2016`` functionals (6,373
  columns; the successor of the IS13 ComParE set of seed 003), openSMILE's names.
- ``music-essentia``: Essentia ``MusicExtractor`` global statistics (see
  ``ESSENTIA_SETTINGS``): every numeric, non-frame descriptor of the pool, named as in
  the pool (``lowlevel.spectral_centroid.mean``); vectors become ``name.0``, ``name.1``...;
  strings, ``metadata.*``, matrices (MFCC/GFCC ``cov``/``icov``) and the variable-length
  ``rhythm.beats_position`` are dropped. Non-finite values are stored as NaN.

A set applies to the views whose content (``speech`` or ``music``, declared by the dataset's
spec) it was made for. The openSMILE sets read the mono downmix of the clip (channel mean; speech clips are dual
mono) resampled to 16 kHz (``OPENSMILE_RATE``). Each clip's features are cached under ``OUT/features/.cache/<set>/`` keyed by the
sha256 of the clip file and a fingerprint of the extractor settings, so re-runs, and
clips with identical audio, cost nothing. The Parquet schema metadata key
``misme.features`` records the set, view, extractor settings and library versions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from builders.common.atomic import atomic_file
from builders.common.clips import ClipRef, view_refs
from builders.common.lock import build_lock
from builders.engine import Engine, map_units, resolve_engine
from builders.errors import UserError
from builders.features.extractors import (
    FEATURE_SETS,
    Extractors,
    as_clip,
    extract_clip,
    require_package,
    settings,
    settings_fingerprint,
)
from builders.hf.spec import DatasetSpec


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
        require_package(FEATURE_SETS[set_name].package)
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
