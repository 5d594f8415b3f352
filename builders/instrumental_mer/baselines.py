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
from builders.instrumental_mer.protocols import CORPORA, protocol_folds
from builders.instrumental_mer.spec import VIEW
from builders.protocol import add_baseline_arguments

FEATURE_SET = "music-essentia"
MODELS = ("rf", "dummy")
# protocol -> its tasks -> their targets (``builders.instrumental_mer.protocols``)
PROTOCOL_TASKS: dict[str, dict[str, tuple[str, ...]]] = {
    "folds": {"mer-quadrant": ("quadrant",), "mer-va": ("valence", "arousal")},
    "loco": {"mer-quadrant-loco": ("quadrant",), "mer-va-loco": ("valence", "arousal")},
    "thesis": {"mer-quadrant-thesis": ("quadrant",), "mer-va-thesis": ("valence", "arousal")},
}
TASKS: dict[str, tuple[str, ...]] = {
    task: targets for tasks in PROTOCOL_TASKS.values() for task, targets in tasks.items()
}
TRAIN_ONLY = 0  # the fold of clips that only train (the thesis split's train partition)
METRICS = (
    "accuracy",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
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
    """``id, fold`` + the task's targets from ``clips.parquet``, sorted by id; ``fold`` is
    the protocol's (:func:`~builders.instrumental_mer.protocols.protocol_folds`)."""
    clips = read_manifest_frame(
        Path(out) / "manifests" / "clips.parquet",
        hint="run `misme-build instrumental-mer plan` first",
    )
    targets = list(TASKS[task])
    protocol = next(p for p, tasks in PROTOCOL_TASKS.items() if task in tasks)
    clips = clips.assign(fold=protocol_folds(out, clips, protocol))
    frame = clips.rename(columns={"clip_id": "id"})[["id", "fold", *targets]]
    frame = frame.dropna(subset=["fold", *targets]).astype({"id": str, "fold": "int64"})
    if targets == ["quadrant"]:
        frame["quadrant"] = frame["quadrant"].astype(str)
    else:
        frame = frame.astype({t: "float64" for t in targets})
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
    """Predictions (``id`` + targets, sorted by id), each from a model fit on the other folds;
    clips of fold :data:`TRAIN_ONLY` train every model and are never predicted."""
    targets = TASKS[task]
    classification = targets == ("quadrant",)
    predicted = (labels["fold"] != TRAIN_ONLY).to_numpy()
    predictions = pd.DataFrame({"id": labels["id"]})
    for target in targets:
        predictions[target] = pd.Series(
            index=labels.index, dtype="object" if classification else "float64"
        )
    for fold in sorted(set(labels["fold"]) - {TRAIN_ONLY}):
        test = (labels["fold"] == fold).to_numpy()
        if test.all():
            raise UserError(f"fold {fold} leaves no training data")
        for target in targets:
            pipeline = make_model(
                classification,
                model,
                derive_seed(seed, f"{task}-{model}-{target}", f"fold{fold}"),
                workers,
                trees,
            )
            pipeline.fit(x[~test], labels.loc[~test, target].to_numpy())
            predictions.loc[test, target] = pipeline.predict(x[test])
    return predictions[predicted].reset_index(drop=True)


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


def available_protocols(out: Path) -> tuple[str, ...]:
    """The protocols whose solution files the build holds (``folds`` always)."""
    solutions = Path(out) / "solutions"
    return tuple(
        p
        for p, tasks in PROTOCOL_TASKS.items()
        if p == "folds" or any((solutions / f"{t}.parquet").is_file() for t in tasks)
    )


def _check_protocols(out: Path, protocols: tuple[str, ...] | None) -> tuple[str, ...]:
    available = available_protocols(out)
    if protocols is None:
        return available
    unknown = [p for p in protocols if p not in PROTOCOL_TASKS]
    if unknown or not protocols:
        raise UserError(
            f"unknown protocol(s) {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(PROTOCOL_TASKS)}"
        )
    if missing := [p for p in protocols if p not in available]:
        raise UserError(
            f"{out} has no {', '.join(missing)} solutions: plan and render it with "
            "--recipe manifests/instrumental-mer-v2/recipe.toml (thesis: with --tracklists)"
        )
    return protocols


def run_baselines(
    out: Path,
    *,
    submissions: Path | None = None,
    models: tuple[str, ...] = MODELS,
    workers: int = 1,
    seed: int = 0,
    trees: int = 300,
    features: str = FEATURE_SET,
    protocols: tuple[str, ...] | None = None,
) -> dict:
    """Prediction files per task and model, scored; returns ``{"files", "results",
    "by_fold", "submissions"}``.

    ``files`` maps each task to its prediction files (one per model); ``features`` is a
    feature choice (one set, a combination, or sets joined by '+'); ``protocols`` (default:
    every one the build has) chooses among ``folds``, ``loco`` and ``thesis``.
    ``results.csv`` has the pooled scores, ``results-by-fold.csv`` each fold's (for
    ``loco``: each held-out corpus, seed 003's weighted precision, recall, F1, accuracy).
    """
    out = Path(out)
    check_workers(workers)
    feature_sets(features)  # an unknown name is refused before any model is fit
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise UserError(
            f"unknown model(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(MODELS)}"
        )
    protocols = _check_protocols(out, protocols)
    submissions = Path(submissions) if submissions else out / "baselines"
    files: dict[str, list[Path]] = {}
    rows, by_fold = [], []
    for task in (t for p in protocols for t in PROTOCOL_TASKS[p]):
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
            about = {"task": task, "model": model, "features": features}
            rows.append(
                {
                    **about,
                    "file": str(path.relative_to(submissions)),
                    "n": report.n,
                    "primary_metric": report.primary_metric,
                    "primary": report.primary,
                    **{m: report.pooled.get(m, math.nan) for m in METRICS},
                }
            )
            by_fold += _fold_rows(about, report)
    results, folds = pd.DataFrame(rows), pd.DataFrame(by_fold)
    for name, frame in (("results.csv", results), ("results-by-fold.csv", folds)):
        with atomic_file(submissions / name) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.6g")
    return {"files": files, "results": results, "by_fold": folds, "submissions": submissions}


def _fold_rows(about: dict, report) -> list[dict]:
    """One row per fold of a score report; ``held_out`` names a LOCO fold's corpus."""
    loco = about["task"].endswith("-loco")
    return [
        {
            **about,
            "fold": fold,
            "held_out": CORPORA[fold - 1] if loco else "",
            **{m: metrics.get(m, math.nan) for m in METRICS},
        }
        for fold, metrics in sorted(report.per_fold.items())
    ]


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_baseline_arguments(parser, "build folder (manifests/, solutions/, features/)")
    parser.add_argument("--trees", type=int, default=300, help="random-forest trees (default 300)")
    parser.add_argument(
        "--features",
        default=FEATURE_SET,
        help=f"feature set(s) of the clips view, joined by '+' (default {FEATURE_SET})",
    )
    parser.add_argument(
        "--protocols",
        help="comma-separated: folds, loco (leave one corpus out), thesis (the thesis's "
        "split); default every one the build has",
    )
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    models = _names(args.models)
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
        protocols=_names(args.protocols) if args.protocols else None,
    )
    print(
        summary["results"][["task", "model", "primary_metric", "primary"]].to_string(
            index=False, float_format=lambda v: f"{v:.4f}"
        )
    )
    print(f"prediction files and results.csv in {summary['submissions']}")
    return 0
