"""Running fits with a cache on disk: a finished fit is kept under a key and never refit.

The key is a sha256 of everything a fit's result depends on: the fit itself (model, views,
folds, columns, importance), the preset, the seed and the data of its views (labels, folds
and feature matrices). A changed build or setting gives another key; the cache file is
written atomically once the fit's folds are all done, so an interrupted study resumes
with the fits it had finished.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import sys
from pathlib import Path

from builders.common.atomic import atomic_file
from builders.engine import Engine, map_units
from builders.misme.study.dnn import load_torch
from builders.misme.study.fits import Fit, FitState, ViewData, assemble, fold_numbers, run_fold

CACHE_VERSION = 1


def view_fingerprint(data: ViewData) -> str:
    digest = hashlib.sha256(data.labels.to_csv(index=False).encode())
    digest.update(data.x.tobytes())
    return digest.hexdigest()


def fit_key(fit: Fit, fingerprints: dict[str, str], seed: int, preset: str) -> str:
    views = sorted({fit.train_view, *fit.test_views})
    described = {
        "version": CACHE_VERSION,
        "fit": [fit.domain, fit.targets, fit.model, fit.train_view, fit.test_views, fit.folds],
        "columns": {t: list(c) for t, c in sorted(fit.columns.items())} if fit.columns else None,
        "importance": fit.importance,
        "seed": seed,
        "preset": preset,
        "data": {v: fingerprints[v] for v in views},
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


def _say(message: str) -> None:
    print(f"study: {message}", file=sys.stderr, flush=True)


def run_fits(
    fits: list[Fit],
    data: dict[str, ViewData],
    cache: Path,
    *,
    seed: int,
    preset: str,
    engine: Engine,
    stage: str,
) -> tuple[list[dict], dict[str, int]]:
    """The results of ``fits`` (in order), from the cache or fitted now; and counts of both."""
    fingerprints = {view: view_fingerprint(d) for view, d in data.items()}
    keys = [fit_key(fit, fingerprints, seed, preset) for fit in fits]
    results: list[dict | None] = []
    for key in keys:
        path = cache / f"{key}.pkl"
        results.append(pickle.loads(path.read_bytes()) if path.is_file() else None)
    todo = [i for i, r in enumerate(results) if r is None]
    _say(f"{stage}: {len(fits)} fits, {len(fits) - len(todo)} cached, {len(todo)} to run")
    if todo:
        state = FitState([fits[i] for i in todo], data, seed, preset)
        units = [(j, fold) for j, fit in enumerate(state.fits) for fold in fold_numbers(fit, state)]
        per_fit: dict[int, list[dict]] = {j: [] for j in range(len(todo))}
        expected = {j: sum(1 for u in units if u[0] == j) for j in per_fit}

        def finished(position: int, result: dict) -> None:
            j = units[position][0]
            per_fit[j].append(result)
            if len(per_fit[j]) == expected[j]:  # the fit's last fold: keep the fit now
                done = assemble(state.fits[j], state, sorted(per_fit[j], key=lambda r: r["fold"]))
                with atomic_file(cache / f"{keys[todo[j]]}.pkl") as tmp:
                    tmp.write_bytes(pickle.dumps(done))
                cpu = sum(r["cpu"] for r in per_fit[j])
                _say(f"{stage}: fitted {state.fits[j].name} ({cpu:.1f} s CPU)")

        if any(fit.model == "dnn" for fit in state.fits):
            load_torch()  # once here, not once per forked worker and stage (~3 s of CPU each)
        map_units(
            run_fold,
            units,
            engine=engine,
            desc=f"study {stage}",
            unit="fold",
            state=state,
            on_result=finished,
            progress=False,
        )
        for i in todo:
            results[i] = pickle.loads((cache / f"{keys[i]}.pkl").read_bytes())
    return results, {"cached": len(fits) - len(todo), "fitted": len(todo)}
