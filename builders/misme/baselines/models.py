"""The models and their cross-validation: fit on the other folds, predict the test fold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from builders.common.seeding import derive_seed
from builders.errors import UserError
from builders.misme.baselines.settings import PRESETS, Domain


def make_model(domain: Domain, model: str, seed: int, workers: int, preset: str = "thesis"):
    """An unfitted sklearn pipeline: mean imputer -> StandardScaler -> estimator."""
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seed, rf = seed % (2**32), PRESETS[preset]
    if domain.classification:
        estimator = (
            RandomForestClassifier(
                n_estimators=rf.ser_trees,
                max_features=rf.ser_max_features,
                random_state=seed,
                n_jobs=workers,
            )
            if model == "rf"
            else DummyClassifier(strategy="stratified", random_state=seed)
        )
    else:
        estimator = (
            RandomForestRegressor(
                n_estimators=rf.mer_trees,
                max_features=rf.mer_max_features,
                random_state=seed,
                n_jobs=workers,
            )
            if model == "rf"
            else DummyRegressor(strategy="mean")
        )
    return make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler(), estimator
    )


def fit_predict(
    domain: Domain,
    model: str,
    x_train: np.ndarray,
    y_train: pd.DataFrame,
    tests: list[np.ndarray],
    seed: int,
    workers: int,
    preset: str = "thesis",
) -> list[pd.DataFrame]:
    """Fit on the training rows (one model per target for MER) and predict each test matrix."""
    outputs = [pd.DataFrame(index=range(len(x))) for x in tests]
    for target in domain.targets:
        pipeline = make_model(
            domain, model, derive_seed(seed, f"{model}-{target}"), workers, preset
        )
        pipeline.fit(x_train, y_train[target].to_numpy())
        for output, x_test in zip(outputs, tests, strict=True):
            output[target] = pipeline.predict(x_test) if len(x_test) else []
    return outputs


@dataclass(frozen=True)
class CrossValidation:
    """One model trained on one view and tested on others, fold by fold.

    For test fold k the model sees only the training view's rows of the other folds.
    """

    domain: Domain
    model: str
    train: tuple[pd.DataFrame, np.ndarray]
    tests: dict[str, tuple[pd.DataFrame, np.ndarray]]
    seed: int
    preset: str = "thesis"

    def folds(self) -> list[int]:
        """The folds with test rows; UserError when one leaves no training data."""
        train_labels = self.train[0]
        test_folds = {f for labels_, _ in self.tests.values() for f in labels_["fold"]}
        folds = sorted(test_folds)
        for fold in folds:
            if not (train_labels["fold"] != fold).any():
                raise UserError(f"test fold {fold} leaves no training data")
        return folds

    def fit_fold(self, fold: int) -> list[pd.DataFrame]:
        """Predictions (``id`` + targets) of fold ``fold`` for each test view, in ``tests`` order;
        the forests fit on one thread (see :func:`run_cross_validations`)."""
        train_labels, x_train = self.train
        fit_rows = (train_labels["fold"] != fold).to_numpy()
        masks = [(labels_["fold"] == fold).to_numpy() for labels_, _ in self.tests.values()]
        outputs = fit_predict(
            self.domain,
            self.model,
            x_train[fit_rows],
            train_labels[fit_rows],
            [x[m] for (_, x), m in zip(self.tests.values(), masks, strict=True)],
            derive_seed(self.seed, f"baseline-{self.domain.name}", f"fold{fold}"),
            1,
            self.preset,
        )
        for (labels_, _), mask, output in zip(self.tests.values(), masks, outputs, strict=True):
            output.insert(0, "id", labels_["id"].to_numpy()[mask])
        return outputs

    def assemble(self, per_fold: list[list[pd.DataFrame]]) -> dict[str, pd.DataFrame]:
        """Out-of-fold predictions per test view (sorted by id) from ``fit_fold``'s results."""
        return {
            name: _sorted_predictions(
                pd.concat([outputs[i] for outputs in per_fold], ignore_index=True), self.domain
            )
            for i, name in enumerate(self.tests)
        }


class _CrossValidations:
    """Engine state: the cross-validations, which forked workers inherit instead of receiving
    every unit's feature matrices through a pipe."""

    def __init__(self, runs: list[CrossValidation]) -> None:
        self.runs = runs

    def __call__(self) -> _CrossValidations:
        return self


def _fit_fold(state: _CrossValidations, unit: tuple[int, int]) -> list[pd.DataFrame]:
    index, fold = unit
    return state.runs[index].fit_fold(fold)


def run_cross_validations(
    runs: list[CrossValidation], workers: int = 1, progress: bool = True
) -> list[dict[str, pd.DataFrame]]:
    """Every run's out-of-fold predictions; the folds of all runs are spread over ``workers``
    processes, each fitting its forests on one thread. A forest's trees and their seeds do
    not depend on the thread count, and one thread adds the trees' predictions in a fixed
    order, so the predictions are the same for any number of workers."""
    from builders.engine import map_units

    units = [(index, fold) for index, run in enumerate(runs) for fold in run.folds()]
    fitted = map_units(
        _fit_fold,
        units,
        workers=workers,
        desc="baselines",
        unit="fit",
        state=_CrossValidations(runs),
        progress=progress,
    )
    per_run: list[list[list[pd.DataFrame]]] = [[] for _ in runs]
    for (index, _), outputs in zip(units, fitted, strict=True):
        per_run[index].append(outputs)
    return [run.assemble(outputs) for run, outputs in zip(runs, per_run, strict=True)]


def _sorted_predictions(frame: pd.DataFrame, domain: Domain) -> pd.DataFrame:
    frame = frame.sort_values("id", kind="stable").reset_index(drop=True)
    if domain.classification:
        frame["emotion"] = frame["emotion"].astype("int64")
    return frame


def broadcast(single: pd.DataFrame, mixes: pd.DataFrame, domain: Domain) -> pd.DataFrame:
    """Single-source predictions copied to every mix containing that source (keyed by mix id)."""
    by_source = single.set_index("id")
    frame = by_source.loc[mixes[domain.source_column]].reset_index(drop=True)
    frame.insert(0, "id", mixes["mix_id"].to_numpy())
    return _sorted_predictions(frame, domain)
