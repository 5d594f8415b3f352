"""`misme-build instrumental-mer baselines OUT`: random forest vs dummy, out of fold.

Features: the ``music-essentia`` table of the ``clips`` view (``misme-build features OUT
--set music-essentia``) by default; ``--features`` takes any set or combination
(``music-compare``, ``music-essentia-compare``, ``music-essentia+music-compare``:
``builders.features.matrix``). Tasks (``benchmark.tasks``): ``mer-quadrant`` over every clip
(``RandomForestClassifier`` vs ``DummyClassifier("stratified")``) and ``mer-va`` over the
clips rated on valence/arousal (one ``RandomForestRegressor`` per target vs
``DummyRegressor("mean")``). For each fold k the model is fit on the other folds (mean
imputer and StandardScaler fit on those only) and predicts fold k, so every prediction is
out of fold. Random states derive from ``--seed`` (``derive_seed``).

Outputs under SUBMISSIONS (default ``OUT/baselines``): ``<task>/<model>.csv`` prediction
files, scored with the benchmark package against ``OUT/solutions/<task>.parquet``, and
``results.csv`` (one row per file, pooled metrics).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file
from builders.common.manifest import read_manifest_frame
from builders.common.seeding import derive_seed
from builders.engine import add_arguments as add_engine_arguments
from builders.engine import check_workers
from builders.errors import UserError
from builders.features.matrix import combined_matrix, feature_sets
from builders.instrumental_mer.spec import VIEW
from builders.protocol import add_baseline_arguments

FEATURE_SET = "music-essentia"
MODELS = ("rf", "dummy")
TASKS: dict[str, tuple[str, ...]] = {
    "mer-quadrant": ("quadrant",),
    "mer-va": ("valence", "arousal"),
}
METRICS = (
    "accuracy",
    "uar",
    "macro_f1",
    "rmse_valence",
    "rmse_arousal",
    "r2_valence",
    "r2_arousal",
    "ccc_valence",
    "ccc_arousal",
)


def task_labels(out: Path, task: str) -> pd.DataFrame:
    """``id, fold`` + the task's targets from ``clips.parquet``, sorted by id."""
    clips = read_manifest_frame(
        Path(out) / "manifests" / "clips.parquet",
        hint="run `misme-build instrumental-mer plan` first",
    )
    targets = list(TASKS[task])
    frame = clips.rename(columns={"clip_id": "id"})[["id", "fold", *targets]]
    frame = frame.dropna(subset=targets).astype({"id": str, "fold": "int64"})
    if task == "mer-va":
        frame = frame.astype({t: "float64" for t in targets})
    else:
        frame["quadrant"] = frame["quadrant"].astype(str)
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


def make_model(classification: bool, model: str, seed: int, workers: int, trees: int):
    """An unfitted pipeline: mean imputer -> StandardScaler -> estimator."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seed = seed % (2**32)
    if classification:
        estimator = (
            RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=workers)
            if model == "rf"
            else DummyClassifier(strategy="stratified", random_state=seed)
        )
    else:
        estimator = (
            RandomForestRegressor(
                n_estimators=trees, max_features="sqrt", random_state=seed, n_jobs=workers
            )
            if model == "rf"
            else DummyRegressor(strategy="mean")
        )
    return make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler(), estimator
    )


def out_of_fold(
    task: str,
    model: str,
    labels: pd.DataFrame,
    x: np.ndarray,
    *,
    seed: int,
    workers: int,
    trees: int,
) -> pd.DataFrame:
    """Predictions (``id`` + targets, sorted by id), each from a model fit on the other folds."""
    targets = TASKS[task]
    predictions = pd.DataFrame({"id": labels["id"]})
    for target in targets:
        predictions[target] = pd.Series(
            index=labels.index, dtype="object" if task == "mer-quadrant" else "float64"
        )
    for fold in sorted(set(labels["fold"])):
        test = (labels["fold"] == fold).to_numpy()
        if test.all():
            raise UserError(f"fold {fold} leaves no training data")
        for target in targets:
            pipeline = make_model(
                task == "mer-quadrant",
                model,
                derive_seed(seed, f"{task}-{model}-{target}", f"fold{fold}"),
                workers,
                trees,
            )
            pipeline.fit(x[~test], labels.loc[~test, target].to_numpy())
            predictions.loc[test, target] = pipeline.predict(x[test])
    return predictions


def score_file(out: Path, task_name: str, path: Path):
    """Validate and score one prediction file with the benchmark package -> ScoreReport."""
    from benchmark.io import read_predictions, read_solution
    from benchmark.scoring import score
    from benchmark.tasks import get_task

    task = get_task(task_name)
    solution_path = Path(out) / "solutions" / f"{task_name}.parquet"
    if not solution_path.is_file():
        raise UserError(f"{solution_path} not found: render the build first")
    solution = read_solution(solution_path, task)
    return score(read_predictions(path, solution, task), solution, task)


def run_baselines(
    out: Path,
    *,
    submissions: Path | None = None,
    models: tuple[str, ...] = MODELS,
    workers: int = 1,
    seed: int = 0,
    trees: int = 300,
    features: str = FEATURE_SET,
) -> dict:
    """Prediction files per task and model, scored; returns ``{"files", "results", "submissions"}``.

    ``files`` maps each task to its prediction files (one per model); ``features`` is a
    feature choice (one set, a combination, or sets joined by '+').
    """
    out = Path(out)
    check_workers(workers)
    feature_sets(features)  # an unknown name is refused before any model is fit
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise UserError(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODELS)}"
        )
    submissions = Path(submissions) if submissions else out / "baselines"
    files: dict[str, list[Path]] = {}
    rows = []
    for task in TASKS:
        labels = task_labels(out, task)
        if labels.empty:
            continue
        x = combined_matrix(out, features, VIEW, labels["id"], exact=False)
        for model in models:
            frame = out_of_fold(task, model, labels, x, seed=seed, workers=workers, trees=trees)
            path = submissions / task / f"{model}.csv"
            with atomic_file(path) as tmp:
                frame.to_csv(tmp, index=False, float_format="%.10g")
            files.setdefault(task, []).append(path)
            report = score_file(out, task, path)
            rows.append(
                {
                    "task": task,
                    "model": model,
                    "features": features,
                    "file": str(path.relative_to(submissions)),
                    "n": report.n,
                    "primary_metric": report.primary_metric,
                    "primary": report.primary,
                    **{m: report.pooled.get(m, math.nan) for m in METRICS},
                }
            )
    results = pd.DataFrame(rows)
    with atomic_file(submissions / "results.csv") as tmp:
        results.to_csv(tmp, index=False, float_format="%.6g")
    return {"files": files, "results": results, "submissions": submissions}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_baseline_arguments(parser, "build folder (manifests/, solutions/, features/)")
    parser.add_argument("--trees", type=int, default=300, help="random-forest trees (default 300)")
    parser.add_argument(
        "--features",
        default=FEATURE_SET,
        help=f"feature set(s) of the clips view, joined by '+' (default {FEATURE_SET})",
    )
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    models = tuple(m.strip() for m in args.models.split(",") if m.strip())
    if args.trees < 1:
        raise UserError(f"--trees must be at least 1, got {args.trees}")
    summary = run_baselines(
        args.out,
        submissions=args.submissions,
        models=models,
        workers=args.workers,
        seed=args.seed,
        trees=args.trees,
        features=args.features,
    )
    print(
        summary["results"][["task", "model", "primary_metric", "primary"]].to_string(
            index=False, float_format=lambda v: f"{v:.4f}"
        )
    )
    print(f"prediction files and results.csv in {summary['submissions']}")
    return 0
