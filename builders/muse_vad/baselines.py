"""Baselines of the benchmark task ``muse-vad``: a random forest against the mean, out of fold.

Features: the Essentia ``music-essentia`` table of the ``frames`` view
(``misme-build features OUT --set music-essentia``). For each test fold k the models are
fitted on the frames of the other folds only (mean imputer and StandardScaler fitted there
too) and predict fold k's frames, so every prediction is out of fold and, the folds being
artist-independent, of an unseen artist. Models: ``rf`` = one
``RandomForestRegressor(n_estimators=100, max_features="sqrt", min_samples_leaf=2)`` per target
(valence, arousal, dominance); ``dummy`` = ``DummyRegressor("mean")``. Random states derive from
``--seed`` (``builders.common.seeding.derive_seed``).

Outputs under SUBMISSIONS (default ``OUT/baselines``): ``muse-vad/<model>.csv`` (benchmark
prediction files: ``id`` + the three targets on the build's scale), ``results.csv`` (one row
per model, scored with the ``benchmark`` package against ``OUT/solutions/muse-vad.parquet``)
and ``baselines.json`` (settings, scale, Diebold-Mariano of rf against dummy).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file
from builders.common.seeding import derive_seed
from builders.engine import check_workers
from builders.errors import UserError
from builders.features.matrix import feature_matrix
from builders.muse_vad.export import TARGETS, TASK
from builders.muse_vad.spec import FRAMES
from builders.protocol import add_baseline_arguments

FEATURE_SET = "music-essentia"
MODELS = ("rf", "dummy")
RF_SETTINGS = {"n_estimators": 100, "max_features": "sqrt", "min_samples_leaf": 2}
RESULT_METRICS = ("rmse", "mae", "r2", "pearson_r", "ccc")


def frame_labels(out: Path) -> pd.DataFrame:
    """``id``, ``fold`` and the three targets of every frame, by id (from the solution file)."""
    path = Path(out) / "solutions" / f"{TASK}.parquet"
    if not path.is_file():
        raise UserError(f"{path} not found; run `misme-build muse-vad render {out}` first")
    frame = pd.read_parquet(path, columns=["id", "fold", *TARGETS])
    frame["id"] = frame["id"].astype(str)
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def make_model(model: str, seed: int, workers: int):
    """An unfitted pipeline: mean imputer -> StandardScaler -> the regressor of ``model``."""
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    estimator = (
        RandomForestRegressor(**RF_SETTINGS, random_state=seed % 2**32, n_jobs=workers)
        if model == "rf"
        else DummyRegressor(strategy="mean")
    )
    return make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler(), estimator
    )


def out_of_fold(
    model: str, labels: pd.DataFrame, x: np.ndarray, *, seed: int, workers: int
) -> pd.DataFrame:
    """``id`` + the targets predicted for every frame by a model that never saw its fold."""
    predictions = pd.DataFrame({"id": labels["id"]})
    for target in TARGETS:
        predictions[target] = np.nan
    for fold in sorted(labels["fold"].unique()):
        test = (labels["fold"] == fold).to_numpy()
        for target in TARGETS:
            pipeline = make_model(
                model, derive_seed(seed, f"muse-vad-{model}-{target}", f"fold{fold}"), workers
            )
            pipeline.fit(x[~test], labels.loc[~test, target].to_numpy())
            predictions.loc[test, target] = pipeline.predict(x[test])
    return predictions


def score_file(path: Path, solution: Path):
    """Validate and score one prediction file with the benchmark package -> ScoreReport."""
    from benchmark.io import read_predictions, read_solution
    from benchmark.scoring import score
    from benchmark.tasks import get_task

    task = get_task(TASK)
    truth = read_solution(solution, task)
    return score(read_predictions(path, truth, task), truth, task)


def _dm_rf_vs_dummy(reports: dict) -> dict:
    from benchmark.errors import BenchmarkError
    from benchmark.stats import diebold_mariano_from_losses

    if not {"rf", "dummy"} <= set(reports):
        return {}
    rf, dummy = (
        reports["rf"].per_id_loss,
        reports["dummy"].per_id_loss.loc[reports["rf"].per_id_loss.index],
    )
    try:
        result = diebold_mariano_from_losses(rf.to_numpy(), dummy.to_numpy())
    except BenchmarkError as error:
        return {"note": str(error)}
    return {
        "statistic": result.statistic,
        "pvalue": result.pvalue,
        "mean_loss_rf": float(rf.mean()),
        "mean_loss_dummy": float(dummy.mean()),
    }


def parse_models(text: str) -> list[str]:
    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODELS]
    if not models or unknown:
        raise UserError(f"--models must name some of {', '.join(MODELS)}, got {text!r}")
    return list(dict.fromkeys(models))


def run_baselines(
    out: Path,
    *,
    submissions: Path | None = None,
    models: str = "rf,dummy",
    workers: int = 1,
    seed: int = 0,
) -> dict:
    """Write, score and summarise one prediction file per model.

    Returns ``{"files": [...], "results": DataFrame, "submissions": Path, "scale": str}``.
    """
    out = Path(out)
    check_workers(workers)
    model_list = parse_models(models)
    submissions = Path(submissions) if submissions else out / "baselines"
    if submissions.exists() and not submissions.is_dir():
        raise UserError(f"--out must be a folder, but {submissions} is a file")
    labels = frame_labels(out)
    x = feature_matrix(out, FEATURE_SET, FRAMES, labels["id"])
    solution = out / "solutions" / f"{TASK}.parquet"
    scale = str(pd.read_parquet(solution, columns=["scale"])["scale"].iloc[0])
    files, reports = [], {}
    for model in model_list:
        path = submissions / TASK / f"{model}.csv"
        with atomic_file(path) as tmp:
            out_of_fold(model, labels, x, seed=seed, workers=workers).to_csv(
                tmp, index=False, float_format="%.10g"
            )
        files.append(path)
        reports[model] = score_file(path, solution)
    results = pd.DataFrame(
        [
            {
                "task": TASK,
                "model": model,
                "file": f"{model}.csv",
                "n": report.n,
                "scale": scale,
                "primary_metric": report.primary_metric,
                "primary": report.primary,
                **{
                    f"{m}_{t}": report.pooled.get(f"{m}_{t}", math.nan)
                    for m in RESULT_METRICS
                    for t in TARGETS
                },
            }
            for model, report in reports.items()
        ]
    )
    with atomic_file(submissions / "results.csv") as tmp:
        results.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(submissions / "baselines.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "task": TASK,
                    "seed": seed,
                    "scale": scale,
                    "features": FEATURE_SET,
                    "random_forest": RF_SETTINGS,
                    "models": model_list,
                    "rf_vs_dummy": _dm_rf_vs_dummy(reports),
                    "files": [str(p.relative_to(submissions)) for p in files],
                },
                indent=2,
            )
        )
    return {"files": files, "results": results, "submissions": submissions, "scale": scale}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``misme-build muse-vad baselines OUT``'s options."""
    add_baseline_arguments(parser, "build folder (rendered, with music-essentia features)")
    parser.add_argument("--workers", type=int, default=1, help="CPU cores for the random forests")


def run(args: argparse.Namespace) -> int:
    """Run the baselines the options ask for and print their scores."""
    result = run_baselines(
        args.out,
        submissions=args.submissions,
        models=args.models,
        workers=args.workers,
        seed=args.seed,
    )
    table = result["results"][["model", "primary_metric", "primary", "r2_valence", "r2_arousal"]]
    print(f"muse-vad (targets on the {result['scale']} scale):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"{len(result['files'])} prediction files and results.csv in {result['submissions']}")
    return 0
