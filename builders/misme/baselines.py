"""`misme-build baselines`: cross-validated baseline predictions for experiments A-F.

Experiments (train audio -> test audio, docs/spec.md section 4 / thesis Table 3.1):
A single->single, B single->mixed, C single->BSS, D mixed->mixed, E mixed->BSS, F BSS->BSS.
SER uses the speech feature set on the views speech / mixed-window / bss-speech (target
``emotion``, RAVDESS code 1-8); MER uses the music feature set on music / mixed / bss-music
(targets ``valence`` and ``arousal``, 1-9).

Protocol: for each test fold k of the dataset's ``fold`` column, the model is trained on the
training view's clips of the other folds (imputer and StandardScaler fit on those only) and
predicts the test view's clips of fold k, so every prediction is out-of-fold. Models:
``rf`` = RandomForestClassifier(1000 trees, max_features="sqrt") for SER, one
RandomForestRegressor(100 trees, max_features=0.333) per target for MER; ``dummy`` =
DummyClassifier("stratified") / DummyRegressor("mean"). Random states derive from
``--seed`` via ``builders.common.seeding.derive_seed``.

Outputs under SUBMISSIONS (default ``OUT/baselines``):

- ``<task>/<experiment>-<model>.csv``: benchmark prediction files (``id`` + targets). Every
  experiment has a ``misme-ser`` / ``misme-mer`` file keyed by mix id; experiment A also has
  ``misme-ser-speech`` / ``misme-mer-music`` files keyed by source id, and its mix-level file
  is the single-source prediction broadcast to the mixes through the manifest. With oracle
  separation, C/E/F files are named ``C-oracle-rf.csv`` etc.
- ``results.csv`` (one row per file, metrics pooled over ids, scored with ``benchmark``),
  ``dm.csv`` (Diebold-Mariano between experiments per task and model, aligned by mix id,
  and rf vs dummy per experiment; Holm-adjusted within each family), ``reproduction.md``
  (our numbers beside the thesis's reference numbers).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file
from builders.common.seeding import derive_seed
from builders.engine import check_workers
from builders.errors import UserError
from builders.features import extract as feats
from builders.misme.spec import SPEECH_CORPORA, made_by

EXPERIMENTS: dict[str, tuple[str, str]] = {
    "A": ("single", "single"),
    "B": ("single", "mixed"),
    "C": ("single", "bss"),
    "D": ("mixed", "mixed"),
    "E": ("mixed", "bss"),
    "F": ("bss", "bss"),
}
MODELS = ("rf", "dummy")


@dataclass(frozen=True)
class RandomForestSettings:
    """Random-forest sizes: SER classifier and (per target) MER regressor."""

    ser_trees: int = 1000
    ser_max_features: str | float = "sqrt"
    mer_trees: int = 100
    mer_max_features: str | float = 0.333


# "thesis" = the thesis's settings (default). "demo" = a documented deviation for the
# 2-core demo: 300 SER trees, and MER splits over sqrt(n_features) instead of a third of
# them (a 1,100-column Essentia table makes max_features=0.333 ~10x slower).
PRESETS = {
    "thesis": RandomForestSettings(),
    "demo": RandomForestSettings(ser_trees=300, mer_max_features="sqrt"),
}


@dataclass(frozen=True)
class Domain:
    """One recognition problem: SER on speech or MER on music."""

    name: str  # "ser" | "mer"
    feature_set: str
    views: dict[str, str]  # role ("single", "mixed", "bss", "bss-oracle") -> view
    targets: tuple[str, ...]
    mix_task: str
    single_task: str
    source_column: str  # column of mixes.parquet naming the single source

    @property
    def classification(self) -> bool:
        return self.name == "ser"


def make_domains(
    speech_set: str = "speech-is10", music_set: str = "music-essentia"
) -> dict[str, Domain]:
    return {
        "ser": Domain(
            "ser",
            speech_set,
            {
                "single": "speech",
                "mixed": "mixed-window",
                "bss": "bss-speech",
                "bss-oracle": "bss-oracle-speech",
            },
            ("emotion",),
            "misme-ser",
            "misme-ser-speech",
            "speech_id",
        ),
        "mer": Domain(
            "mer",
            music_set,
            {
                "single": "music",
                "mixed": "mixed",
                "bss": "bss-music",
                "bss-oracle": "bss-oracle-music",
            },
            ("valence", "arousal"),
            "misme-mer",
            "misme-mer-music",
            "music_id",
        ),
    }


# Thesis reference numbers (docs/spec.md section 4, seed 000): real data, speaker-independent.
THESIS = {
    "ser": {
        "A": {"accuracy_rf": 0.551, "accuracy_dnn": 0.610},
        "D": {"accuracy_rf": 0.301, "accuracy_dnn": 0.290},
        "F": {"accuracy_rf": 0.414, "accuracy_dnn": 0.431},
    },
    "mer": {
        "A": {
            "rmse_valence": 0.921,
            "rmse_arousal": 0.934,
            "r2_valence": 0.565,
            "r2_arousal": 0.595,
        },
        "D": {"rmse_valence": 0.942, "rmse_arousal": 0.931},
        "F": {"rmse_valence": 0.909, "rmse_arousal": 0.928},
    },
}


# ---------------------------------------------------------------- manifests and folds


def load_manifests(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sources.parquet and mixes.parquet of a build, ids as str."""
    folder = Path(out) / "manifests"
    paths = [folder / "sources.parquet", folder / "mixes.parquet"]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{missing[0]} not found; run `misme-build misme plan` (and render) first")
    sources, mixes = (pd.read_parquet(p) for p in paths)
    for frame, column in (
        (sources, "source_id"),
        (mixes, "mix_id"),
        (mixes, "speech_id"),
        (mixes, "music_id"),
    ):
        frame[column] = frame[column].astype(str)
    return sources, mixes


def _fold_values(frame: pd.DataFrame, what: str) -> pd.Series:
    folds = pd.to_numeric(frame["fold"], errors="coerce")
    bad = folds.isna() | (folds != folds.round())
    if bad.any():
        raise UserError(
            f"inconsistent fold column: {int(bad.sum())} {what} rows have no whole-number fold"
        )
    return folds.astype("int64")


def check_folds(sources: pd.DataFrame, mixes: pd.DataFrame) -> None:
    """UserError if a source sits in two folds, an actor spans folds, or a mix's fold
    differs from the fold of its speech or music source."""
    sources = sources.assign(fold=_fold_values(sources, "sources.parquet"))
    mixes = mixes.assign(fold=_fold_values(mixes, "mixes.parquet"))
    per_source = sources.groupby("source_id")["fold"].nunique()
    if (per_source > 1).any():
        sid = per_source[per_source > 1].index[0]
        raise UserError(f"inconsistent fold column: source {sid} is in more than one fold")
    if "actor" in sources.columns:
        actors = sources.dropna(subset=["actor"]).groupby("actor")["fold"].nunique()
        if (actors > 1).any():
            raise UserError(
                f"inconsistent fold column: actor {actors[actors > 1].index[0]} is in more than "
                "one fold (folds must be speaker-independent)"
            )
    fold_of = sources.drop_duplicates("source_id").set_index("source_id")["fold"]
    for column in ("speech_id", "music_id"):
        unknown = ~mixes[column].isin(fold_of.index)
        if unknown.any():
            raise UserError(
                f"mixes.parquet names {column} {mixes.loc[unknown, column].iloc[0]} which is not in "
                "sources.parquet"
            )
        differs = mixes[column].map(fold_of) != mixes["fold"]
        if differs.any():
            row = mixes[differs].iloc[0]
            raise UserError(
                f"inconsistent fold column: mix {row['mix_id']} is in fold {row['fold']} but its "
                f"{column.split('_')[0]} source {row[column]} is in fold {fold_of[row[column]]}"
            )
    if mixes["fold"].nunique() < 2:
        raise UserError("cross-validation needs at least two folds; the manifests have one")


def labels(domain: Domain, role: str, sources: pd.DataFrame, mixes: pd.DataFrame) -> pd.DataFrame:
    """``id, fold`` + targets of the clips of one role (single-source or mix), sorted by id."""
    if role == "single":
        speech = sources["corpus"].isin(SPEECH_CORPORA)
        rows = sources[speech if domain.classification else ~speech]
        frame = rows.rename(columns={"source_id": "id"})
    else:
        frame = mixes.rename(columns={"mix_id": "id"})
    frame = frame[["id", "fold", *domain.targets]].copy()
    frame["fold"] = frame["fold"].astype("int64")
    if domain.classification:
        frame["emotion"] = frame["emotion"].astype("int64")
    else:
        frame[list(domain.targets)] = frame[list(domain.targets)].astype("float64")
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- features


def _feature_hint(out: Path, domain: Domain, view: str) -> str:
    if not (Path(out) / "audio" / view).is_dir():
        return f"the view '{view}' is made by {made_by(view)}, then `misme-build features`"
    return f"run `misme-build features {out} --set {domain.feature_set} --views {view}`"


def has_features(out: Path, domain: Domain, view: str) -> bool:
    return feats.table_path(out, domain.feature_set, view).is_file()


def load_features(out: Path, domain: Domain, view: str, expected: pd.DataFrame) -> np.ndarray:
    """Feature matrix of ``view`` in the row order of ``expected`` (ids must match exactly)."""
    path = feats.table_path(out, domain.feature_set, view)
    if not path.is_file():
        raise UserError(
            f"no {domain.feature_set} features for view '{view}' ({path}); "
            f"{_feature_hint(out, domain, view)}"
        )
    table = feats.read_table(path).set_index("id")
    extra = table.index.difference(expected["id"])
    if len(extra):
        raise UserError(
            f"features/manifest mismatch: {path} has {len(extra)} ids not in the manifests "
            f"(e.g. {extra[0]}); the features belong to another build"
        )
    missing = pd.Index(expected["id"]).difference(table.index)
    if len(missing):
        raise UserError(
            f"features/manifest mismatch: {path} lacks {len(missing)} of {len(expected)} clips "
            f"(e.g. {missing[0]}); finish rendering, then re-run `misme-build features`"
        )
    return table.loc[expected["id"]].to_numpy(dtype="float64")


# ---------------------------------------------------------------- models


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


# ---------------------------------------------------------------- plan of experiments


@dataclass(frozen=True)
class Run:
    """One prediction file: experiment, model, which views, which task."""

    domain: str
    experiment: str
    model: str
    train_view: str
    test_view: str
    task: str
    label: str  # file stem, e.g. "C-oracle-rf"


def parse_list(text: str, allowed: Iterable[str], what: str) -> tuple[list[str], bool]:
    """Comma-separated choices; ``all`` = every allowed value. Returns (values, was_all)."""
    allowed = list(allowed)
    if text.strip().lower() == "all":
        return allowed, True
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise UserError(
            f"unknown {what} {', '.join(unknown) or repr(text)}; choose from {', '.join(allowed)} or all"
        )
    return sorted(set(values), key=allowed.index), False


def bss_role(out: Path, domain: Domain, bss: str) -> str | None:
    """Which separated view C/E/F use: 'bss' (Spleeter) or 'bss-oracle'; None if neither has features."""
    if bss in ("spleeter", "oracle"):
        return "bss" if bss == "spleeter" else "bss-oracle"
    for role in ("bss", "bss-oracle"):
        if has_features(out, domain, domain.views[role]):
            return role
    return None


def view_for(domain: Domain, role: str, bss_choice: str | None) -> str:
    return domain.views[bss_choice if role == "bss" else role]


def plan_runs(
    out: Path,
    domains: list[Domain],
    experiments: list[str],
    models: list[str],
    *,
    bss: str = "auto",
    skip_missing: bool = False,
) -> tuple[list[Run], list[str]]:
    """The prediction files to make, and notes about skipped experiments.

    An experiment whose views lack features is an error naming the missing step, or a
    note when ``skip_missing`` (the user asked for ``all``).
    """
    runs, notes = [], []
    for domain in domains:
        choice = bss_role(out, domain, bss)
        for experiment in experiments:
            roles = EXPERIMENTS[experiment]
            if "bss" in roles and choice is None:
                message = (
                    f"experiment {experiment} ({domain.name.upper()}) needs separated audio: "
                    f"{_feature_hint(out, domain, domain.views['bss'])}"
                )
                if not skip_missing:
                    raise UserError(message)
                notes.append(f"skipped: {message}")
                continue
            train_view, test_view = (view_for(domain, r, choice) for r in roles)
            missing = [v for v in (train_view, test_view) if not has_features(out, domain, v)]
            if missing:
                message = f"experiment {experiment} ({domain.name.upper()}): {_feature_hint(out, domain, missing[0])}"
                if not skip_missing:
                    raise UserError(
                        f"no {domain.feature_set} features for view '{missing[0]}'; {message}"
                    )
                notes.append(f"skipped: {message}")
                continue
            suffix = "-oracle" if "bss" in roles and choice == "bss-oracle" else ""
            for model in models:
                label = f"{experiment}{suffix}-{model}"
                runs.append(
                    Run(
                        domain.name,
                        experiment,
                        model,
                        train_view,
                        test_view,
                        domain.mix_task,
                        label,
                    )
                )
                if experiment == "A":
                    runs.append(
                        Run(
                            domain.name,
                            experiment,
                            model,
                            train_view,
                            test_view,
                            domain.single_task,
                            label,
                        )
                    )
    return runs, notes


# ---------------------------------------------------------------- running


def predict_all(
    out: Path,
    domains: dict[str, Domain],
    runs: list[Run],
    *,
    seed: int = 0,
    workers: int = 1,
    preset: str = "thesis",
) -> dict[Run, pd.DataFrame]:
    """Out-of-fold prediction frames for every run (each train view fit once per fold and model)."""
    sources, mixes = load_manifests(out)
    check_folds(sources, mixes)
    mixes = mixes.sort_values("mix_id", kind="stable").reset_index(drop=True)
    results: dict[Run, pd.DataFrame] = {}
    data: dict[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] = {}

    def view_data(domain: Domain, view: str) -> tuple[pd.DataFrame, np.ndarray]:
        if (domain.name, view) not in data:
            role = "single" if view == domain.views["single"] else "mix"
            frame = labels(domain, role, sources, mixes)
            data[domain.name, view] = (frame, load_features(out, domain, view, frame))
        return data[domain.name, view]

    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.domain, run.model, run.train_view), []).append(run)
    validations = [
        CrossValidation(
            domains[name],
            model,
            view_data(domains[name], train_view),
            {v: view_data(domains[name], v) for v in sorted({r.test_view for r in group})},
            seed,
            preset,
        )
        for (name, model, train_view), group in groups.items()
    ]
    for group, predictions in zip(
        groups.values(), run_cross_validations(validations, workers), strict=True
    ):
        for run in group:
            domain = domains[run.domain]
            frame = predictions[run.test_view]
            if run.experiment == "A" and run.task == domain.mix_task:
                frame = broadcast(frame, mixes, domain)
            results[run] = frame
    return results


def prediction_path(submissions: Path, run: Run) -> Path:
    return Path(submissions) / run.task / f"{run.label}.csv"


def write_predictions(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


# ---------------------------------------------------------------- scoring


def solution_for(
    out: Path,
    task_name: str,
    sources: pd.DataFrame,
    mixes: pd.DataFrame,
    domains: dict[str, Domain],
    scratch: Path,
) -> pd.DataFrame:
    """The task's solution: OUT/solutions/<task>.parquet if rendered, else derived from the
    manifests (written to ``scratch``/<task>.parquet and read back through the benchmark)."""
    from benchmark.io import read_solution
    from benchmark.tasks import get_task

    task = get_task(task_name)
    path = Path(out) / "solutions" / f"{task_name}.parquet"
    if not path.is_file():
        domain = next(d for d in domains.values() if task_name in (d.mix_task, d.single_task))
        role = "single" if task_name == domain.single_task else "mix"
        path = Path(scratch) / f"{task_name}.parquet"
        with atomic_file(path) as tmp:
            labels(domain, role, sources, mixes).to_parquet(tmp, index=False)
    return read_solution(path, task)


def score_file(path: Path, solution: pd.DataFrame, task_name: str):
    """Validate and score one prediction file with the benchmark package -> ScoreReport."""
    from benchmark.io import read_predictions
    from benchmark.scoring import score
    from benchmark.tasks import get_task

    task = get_task(task_name)
    return score(read_predictions(path, solution, task), solution, task)


RESULT_METRICS = (
    "accuracy",
    "uar",
    "macro_f1",
    "rmse_valence",
    "rmse_arousal",
    "r2_valence",
    "r2_arousal",
    "pearson_r_valence",
    "pearson_r_arousal",
    "ccc_valence",
    "ccc_arousal",
)


def result_row(run: Run, report) -> dict:
    row = {
        "task": run.task,
        "experiment": run.experiment,
        "model": run.model,
        "file": f"{run.label}.csv",
        "train_view": run.train_view,
        "test_view": run.test_view,
        "n": report.n,
        "primary_metric": report.primary_metric,
        "primary": report.primary,
        "primary_fold_mean": report.fold_mean.get(report.primary_metric),
        "primary_fold_sd": report.fold_sd.get(report.primary_metric),
    }
    row.update({m: report.pooled.get(m, math.nan) for m in RESULT_METRICS})
    return row


def dm_rows(reports: dict[Run, object]) -> list[dict]:
    """Diebold-Mariano tests on per-id losses (aligned by id), Holm-adjusted per family.

    Families: (task, model) comparing experiments pairwise; (task, "rf-vs-dummy") per experiment.
    """
    from benchmark.errors import BenchmarkError
    from benchmark.stats import diebold_mariano_from_losses, holm

    families: dict[tuple[str, str], list[tuple[Run, Run]]] = {}
    by_key = {(r.task, r.label): r for r in reports}
    for task, model in sorted({(r.task, r.model) for r in reports}):
        members = sorted(
            (r for r in reports if r.task == task and r.model == model), key=lambda r: r.label
        )
        families[task, f"experiments-{model}"] = list(combinations(members, 2))
    for run in sorted(reports, key=lambda r: (r.task, r.label)):
        dummy = by_key.get((run.task, run.label.removesuffix("-rf") + "-dummy"))
        if run.model == "rf" and dummy is not None:
            families.setdefault((run.task, "rf-vs-dummy"), []).append((run, dummy))
    rows = []
    for (task, family), pairs in families.items():
        block = []
        for a, b in pairs:
            la, lb = reports[a].per_id_loss, reports[b].per_id_loss
            row = {
                "task": task,
                "family": family,
                "a": a.label,
                "b": b.label,
                "n": len(la),
                "mean_loss_a": float(la.mean()),
                "mean_loss_b": float(lb.loc[la.index].mean()),
            }
            try:
                result = diebold_mariano_from_losses(la.to_numpy(), lb.loc[la.index].to_numpy())
                row.update(statistic=result.statistic, pvalue=result.pvalue)
            except BenchmarkError as error:
                row.update(statistic=math.nan, pvalue=math.nan, note=str(error))
            block.append(row)
        pvalues = [r["pvalue"] for r in block]
        finite = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
        adjusted = holm([pvalues[i] for i in finite]) if finite else []
        for row in block:
            row["pvalue_holm"] = math.nan
        for i, p in zip(finite, adjusted, strict=True):
            block[i]["pvalue_holm"] = float(p)
        rows.extend(block)
    return rows


# ---------------------------------------------------------------- reproduction table


def _fmt(value, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def reproduction_table(results: pd.DataFrame, preset: str = "thesis") -> str:
    """Markdown: our accuracy / RMSE / R² / PCC per experiment beside the thesis's numbers."""
    rf = PRESETS[preset]
    settings = (
        f"Our rf: RandomForestClassifier({rf.ser_trees} trees, max_features={rf.ser_max_features!r}) for "
        f"SER, RandomForestRegressor({rf.mer_trees} trees, max_features={rf.mer_max_features!r}) per "
        f"target for MER (preset `{preset}`"
        + ("" if preset == "thesis" else "; a deviation from the thesis's settings, for speed")
        + ")."
    )
    lines = [
        "# MiSME baselines: reproduction table",
        "",
        "Thesis numbers: Laugs 2020 (seed 000), real RAVDESS + DEAM/Soundtracks, speaker-independent "
        "6-fold CV (SPEC section 4); `–` = not reported. Ours: this build, pooled out-of-fold predictions "
        "on the mixes' ids for B-F and on the source clips for A (task misme-ser-speech / misme-mer-music). "
        "SER chance ≈ 12.5 %.",
        "",
        settings,
        "",
        "## SER (8 emotions, accuracy)",
        "",
        "| exp | train → test | model | accuracy | UAR | thesis RF | thesis DNN |",
        "|---|---|---|---|---|---|---|",
    ]
    ser = results[results["task"].isin(["misme-ser-speech", "misme-ser"])]
    ser = ser[(ser["experiment"] != "A") | (ser["task"] == "misme-ser-speech")]
    for _, row in ser.sort_values(["experiment", "file"]).iterrows():
        ref = THESIS["ser"].get(row["experiment"], {})
        lines.append(
            f"| {row['experiment']} | {row['train_view']} → {row['test_view']} | {row['model']} | "
            f"{_fmt(row['accuracy'], True)} | {_fmt(row['uar'], True)} | "
            f"{_fmt(ref.get('accuracy_rf'), True) if row['model'] == 'rf' else '–'} | "
            f"{_fmt(ref.get('accuracy_dnn'), True) if row['model'] == 'rf' else '–'} |"
        )
    lines += [
        "",
        "## MER (valence / arousal, 1-9 scale)",
        "",
        "| exp | train → test | model | RMSE V | RMSE A | R² V | R² A | PCC V | PCC A | thesis RMSE V / A | "
        "thesis R² V / A |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    mer = results[results["task"].isin(["misme-mer-music", "misme-mer"])]
    mer = mer[(mer["experiment"] != "A") | (mer["task"] == "misme-mer-music")]
    for _, row in mer.sort_values(["experiment", "file"]).iterrows():
        ref = THESIS["mer"].get(row["experiment"], {}) if row["model"] == "rf" else {}
        lines.append(
            f"| {row['experiment']} | {row['train_view']} → {row['test_view']} | {row['model']} | "
            f"{_fmt(row['rmse_valence'])} | {_fmt(row['rmse_arousal'])} | {_fmt(row['r2_valence'])} | "
            f"{_fmt(row['r2_arousal'])} | {_fmt(row['pearson_r_valence'])} | "
            f"{_fmt(row['pearson_r_arousal'])} | {_fmt(ref.get('rmse_valence'))} / "
            f"{_fmt(ref.get('rmse_arousal'))} | {_fmt(ref.get('r2_valence'))} / "
            f"{_fmt(ref.get('r2_arousal'))} |"
        )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- entry point


def run_baselines(
    out: Path,
    *,
    experiments: str = "all",
    models: str = "rf,dummy",
    tasks: str = "ser,mer",
    submissions: Path | None = None,
    workers: int = 1,
    seed: int = 0,
    bss: str = "auto",
    speech_set: str = "speech-is10",
    music_set: str = "music-essentia",
    preset: str = "thesis",
) -> dict:
    """Make every prediction file, score them, write results.csv, dm.csv and reproduction.md.

    Returns ``{"files": [...], "results": DataFrame, "dm": DataFrame, "notes": [...]}``.
    """
    out = Path(out)
    submissions = Path(submissions) if submissions else out / "baselines"
    all_domains = make_domains(speech_set, music_set)
    experiment_list, every = parse_list(experiments, EXPERIMENTS, "experiment")
    model_list, _ = parse_list(models, MODELS, "model")
    task_list, _ = parse_list(tasks, all_domains, "task")
    if bss not in ("auto", "spleeter", "oracle"):
        raise UserError(f"--bss must be auto, spleeter or oracle, not {bss!r}")
    check_workers(workers)
    if preset not in PRESETS:
        raise UserError(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    if not (out / "manifests").is_dir():
        raise UserError(
            f"{out} is not a MiSME build folder (no manifests/); run `misme-build misme build` first"
        )
    if submissions.exists() and not submissions.is_dir():
        raise UserError(f"--out must be a folder, but {submissions} is a file")
    domains = {name: all_domains[name] for name in task_list}
    runs, notes = plan_runs(
        out, list(domains.values()), experiment_list, model_list, bss=bss, skip_missing=every
    )
    if not runs:
        raise UserError("no experiment can run: " + "; ".join(notes))
    predictions = predict_all(out, domains, runs, seed=seed, workers=workers, preset=preset)
    sources, mixes = load_manifests(out)
    solutions = {
        task: solution_for(out, task, sources, mixes, domains, submissions / ".solutions")
        for task in sorted({r.task for r in runs})
    }
    reports, files = {}, []
    for run, frame in predictions.items():
        path = prediction_path(submissions, run)
        write_predictions(frame, path)
        files.append(path)
        reports[run] = score_file(path, solutions[run.task], run.task)
    results = pd.DataFrame([result_row(run, reports[run]) for run in runs])
    dm = pd.DataFrame(dm_rows(reports))
    with atomic_file(submissions / "results.csv") as tmp:
        results.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(submissions / "dm.csv") as tmp:
        dm.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(submissions / "reproduction.md") as tmp:
        tmp.write_text(reproduction_table(results, preset))
    with atomic_file(submissions / "baselines.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "seed": seed,
                    "bss": bss,
                    "preset": preset,
                    "random_forest": asdict(PRESETS[preset]),
                    "speech_features": speech_set,
                    "music_features": music_set,
                    "notes": notes,
                    "files": [str(p.relative_to(submissions)) for p in files],
                },
                indent=2,
            )
        )
    return {
        "files": files,
        "results": results,
        "dm": dm,
        "notes": notes,
        "submissions": submissions,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (manifests/ and features/)")
    parser.add_argument(
        "--experiments",
        default="all",
        help="comma-separated A-F, or all (default; skips experiments whose views are missing)",
    )
    parser.add_argument(
        "--models", default="rf,dummy", help="comma-separated rf, dummy (default both)"
    )
    parser.add_argument("--tasks", default="ser,mer", help="ser, mer or both (default)")
    parser.add_argument(
        "--out",
        dest="submissions",
        type=Path,
        help="where prediction files go (default OUT/baselines)",
    )
    parser.add_argument("--workers", type=int, default=1, help="CPU cores for the random forests")
    parser.add_argument("--seed", type=int, default=0, help="seed of the models' random states")
    parser.add_argument(
        "--bss",
        default="auto",
        choices=("auto", "spleeter", "oracle"),
        help="separated views for C/E/F: Spleeter (bss-*), oracle (bss-oracle-*), or auto "
        "(Spleeter if its features exist)",
    )
    parser.add_argument(
        "--preset",
        default="thesis",
        choices=tuple(PRESETS),
        help="random-forest sizes: thesis (default: SER 1000 trees, MER 100 trees with "
        "max_features 0.333) or demo (SER 300 trees, MER max_features sqrt; faster)",
    )
    parser.add_argument(
        "--speech-features", default="speech-is10", choices=("speech-is10", "speech-egemaps")
    )
    parser.add_argument("--music-features", default="music-essentia", choices=("music-essentia",))


def run(args: argparse.Namespace) -> int:
    summary = run_baselines(
        args.out,
        experiments=args.experiments,
        models=args.models,
        tasks=args.tasks,
        submissions=args.submissions,
        workers=args.workers,
        seed=args.seed,
        bss=args.bss,
        speech_set=args.speech_features,
        music_set=args.music_features,
        preset=args.preset,
    )
    for note in summary["notes"]:
        print(note)
    table = summary["results"][["task", "file", "primary_metric", "primary"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(
        f"{len(summary['files'])} prediction files, results.csv, dm.csv and reproduction.md in "
        f"{summary['submissions']}"
    )
    return 0
