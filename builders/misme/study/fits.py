"""One model trained on one view and tested on others, fold by fold, with its importances.

A :class:`Fit` is plain data (which model, which views, which folds, which feature columns);
its folds run as engine units (``builders.engine.map_units``) over a shared state that holds
the feature matrices, so forked workers inherit them. A fit's result is its out-of-fold
predictions per test view (``id`` + targets, sorted by id), its per-fold scores, and (when
asked) the mean over folds of each feature's importance on the held-out fold, per target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from builders.common.seeding import derive_seed
from builders.misme.study.families import make_estimator

SPEAKER_INDEPENDENT = "speaker-independent"  # the build's folds (actors and songs kept apart)
SPEAKER_DEPENDENT = "speaker-dependent"  # clips dealt to folds regardless of actor


@dataclass(frozen=True)
class Fit:
    """What to fit. ``columns``: indices of the feature columns used (None: all)."""

    domain: str  # "ser" | "mer"
    targets: tuple[str, ...]
    model: str
    train_view: str
    test_views: tuple[str, ...]
    folds: str = SPEAKER_INDEPENDENT
    columns: dict[str, tuple[int, ...]] | None = field(default=None, hash=False)
    importance: str = "none"  # "none" | "permutation" | "impurity"
    tag: str = ""  # what distinguishes fits of the same model and views (e.g. "top20")

    @property
    def classification(self) -> bool:
        return self.domain == "ser"

    @property
    def name(self) -> str:
        tests = "+".join(self.test_views)
        extra = f" {self.tag}" if self.tag else ""
        return f"{self.domain} {self.model} {self.train_view}->{tests} ({self.folds}){extra}"


@dataclass
class ViewData:
    labels: pd.DataFrame  # id, fold + targets, sorted by id
    x: np.ndarray


class FitState:
    """Engine state: the fits, their data by view, the seed and preset."""

    def __init__(self, fits: list[Fit], data: dict[str, ViewData], seed: int, preset: str):
        self.fits, self.data, self.seed, self.preset = fits, data, seed, preset

    def __call__(self) -> FitState:
        return self


def _fold_column(fit: Fit, labels: pd.DataFrame, seed: int) -> np.ndarray:
    """The fold of each row: the build's, or (speaker-dependent) a stratified deal of the
    clips into as many folds, seeded."""
    folds = labels["fold"].to_numpy()
    if fit.folds == SPEAKER_INDEPENDENT:
        return folds
    from sklearn.model_selection import KFold, StratifiedKFold

    n_folds = len(np.unique(folds))
    rng = derive_seed(seed, "speaker-dependent-folds") % (2**32)
    if fit.classification:
        splitter = StratifiedKFold(n_folds, shuffle=True, random_state=rng)
        splits = splitter.split(labels, labels[fit.targets[0]])
    else:
        splits = KFold(n_folds, shuffle=True, random_state=rng).split(labels)
    dealt = np.zeros(len(labels), dtype=np.int64)
    for k, (_, test) in enumerate(splits, start=1):
        dealt[test] = k
    return dealt


def fold_numbers(fit: Fit, state: FitState) -> list[int]:
    labels = state.data[fit.test_views[0]].labels
    return sorted(set(_fold_column(fit, labels, state.seed).tolist()))


def _fit_estimator(fit: Fit, target: str, x: np.ndarray, y: np.ndarray, seed: int, preset: str):
    estimator = make_estimator(fit.classification, fit.model, seed, preset)
    final = estimator.steps[-1][1]
    if fit.model == "mlp" and fit.classification and final.early_stopping:
        # early stopping holds out a stratified 10 %, which must hold one clip per class
        classes = len(np.unique(y))
        final.set_params(validation_fraction=min(0.5, max(0.1, (classes + 1) / len(y))))
    return estimator.fit(x, y)


def run_fold(state: FitState, unit: tuple[int, int]) -> dict:
    """Fit ``state.fits[index]`` without fold ``fold``; predict that fold of each test view.
    BLAS runs on one thread: the engine's workers are the parallelism (several BLAS threads
    per worker spin against each other on a busy machine: 15 times the CPU for the MLPs)."""
    from time import process_time

    from threadpoolctl import threadpool_limits

    started = process_time()
    with threadpool_limits(1):
        result = _run_fold(state, unit)
    return result | {"cpu": process_time() - started}


def _run_fold(state: FitState, unit: tuple[int, int]) -> dict:
    from warnings import catch_warnings, simplefilter

    index, fold = unit
    fit = state.fits[index]
    train = state.data[fit.train_view]
    train_fold = _fold_column(fit, train.labels, state.seed)
    rows = train_fold != fold
    seed = derive_seed(state.seed, f"study-{fit.domain}", f"fold{fold}")
    outputs = {}
    tests = {}
    for view in fit.test_views:
        data = state.data[view]
        mask = _fold_column(fit, data.labels, state.seed) == fold
        tests[view] = (data, mask)
        outputs[view] = pd.DataFrame({"id": data.labels["id"].to_numpy()[mask]})
    importances = {}
    for target in fit.targets:
        cols = list(fit.columns[target]) if fit.columns else slice(None)
        y = train.labels[target].to_numpy()[rows]
        with catch_warnings():
            simplefilter("ignore")  # convergence and small-batch notes of the MLPs
            model = _fit_estimator(
                fit,
                target,
                train.x[rows][:, cols],
                y,
                derive_seed(seed, fit.model, target),
                state.preset,
            )
        for view, (data, mask) in tests.items():
            x_test = data.x[mask][:, cols]
            outputs[view][target] = model.predict(x_test) if len(x_test) else []
        if fit.importance != "none":
            data, mask = tests[fit.test_views[0]]
            importances[target] = _importance(
                fit, model, data.x[mask][:, cols], data.labels[target].to_numpy()[mask], seed
            )
    return {"fold": fold, "predictions": outputs, "importance": importances}


def _importance(fit: Fit, model, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Permutation importance on the held-out fold (5 repeats, as the thesis) or the forest's
    impurity importance (the fast preset: permuting thousands of columns is slow)."""
    if fit.importance == "impurity":
        return np.asarray(model.steps[-1][1].feature_importances_, dtype=np.float64)
    from sklearn.inspection import permutation_importance

    scoring = "accuracy" if fit.classification else "neg_root_mean_squared_error"
    result = permutation_importance(
        model, x, y, n_repeats=5, random_state=seed % (2**32), scoring=scoring, n_jobs=1
    )
    return np.asarray(result.importances_mean, dtype=np.float64)


def assemble(fit: Fit, state: FitState, per_fold: list[dict]) -> dict:
    """A fit's result from its folds: predictions per test view (sorted by id), the folds'
    ids, and the importance per target (mean over folds)."""
    predictions = {}
    for view in fit.test_views:
        frame = pd.concat([f["predictions"][view] for f in per_fold], ignore_index=True)
        frame = frame.sort_values("id", kind="stable").reset_index(drop=True)
        if fit.classification:
            frame[fit.targets[0]] = frame[fit.targets[0]].astype("int64")
        predictions[view] = frame
    labels = state.data[fit.test_views[0]].labels
    folds = pd.Series(_fold_column(fit, labels, state.seed), index=labels["id"].to_numpy())
    importance = {
        target: np.mean([f["importance"][target] for f in per_fold], axis=0)
        for target in fit.targets
        if fit.importance != "none"
    }
    return {"predictions": predictions, "folds": folds, "importance": importance}
