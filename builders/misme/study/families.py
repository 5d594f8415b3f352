"""The thesis's candidate model families (Sections 4.2.2 and 4.3.2) and their presets.

``thesis`` (default) is the thesis's settings:

- ``svm``: SVC / SVR with scikit-learn's defaults (RBF kernel, C = 1, gamma "scale");
- ``mlp``: MLPClassifier(one hidden layer of 512, logistic, early stopping, at most 5,000
  iterations, batches of 256, adaptive learning rate) / MLPRegressor(1,024, logistic, early
  stopping, at most 1,000 iterations, batches of 256, adaptive learning rate);
- ``rf``: RandomForestClassifier(1,000 trees, sqrt of the features per split) /
  RandomForestRegressor(100 trees, a third of the features per split), as Section 4.3.2
  sets the regressor (and ``misme-build baselines`` does);
- ``dnn``: the D-NN of :mod:`builders.misme.study.dnn` (25 epochs);
- dummies: ``dummy-stratified`` and ``dummy-most-frequent`` (SER), ``dummy-mean`` (MER).

``fast`` (the demo's) keeps every family but shrinks it to what the demo corpus (tens of
clips per fold) can train: SVMs with C = 10 (C = 1 predicts little but the mean from
twenty-odd clips); forests of 200 trees over sqrt of the features; MLPs of 128
units, 50 epochs without early stopping (its 10 % validation split would be a handful of
clips) on batches of 16 at a learning rate of 0.01; a D-NN of three layers of 128 trained
for 50 epochs on batches of 16 (25 epochs of batches of 32 are a few dozen steps on such a
corpus).
Every estimator sits behind a mean imputer and a StandardScaler fit on the training rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from builders.errors import UserError
from builders.misme.study.dnn import DeepNetwork, DnnSettings

SER_MODELS = ("svm", "mlp", "rf", "dnn", "dummy-stratified", "dummy-most-frequent")
MER_MODELS = ("svm", "mlp", "rf", "dnn", "dummy-mean")
ALIASES = {"svr": "svm", "svc": "svm", "mlpc": "mlp", "mlpr": "mlp", "rfc": "rf", "rfr": "rf"}
DUMMY = {"ser": "dummy-stratified", "mer": "dummy-mean"}  # the dummy each family must beat
THESIS_NAMES = {
    "ser": {
        "svm": "SVC",
        "mlp": "MLPC",
        "rf": "RFC",
        "dnn": "D-NN",
        "dummy-stratified": "Dummy strat",
        "dummy-most-frequent": "Dummy mf",
    },
    "mer": {"svm": "SVR", "mlp": "MLPR", "rf": "RFR", "dnn": "D-NN", "dummy-mean": "Dummy"},
}


@dataclass(frozen=True)
class Preset:
    svm_c: float = 1.0
    mlp_ser_hidden: int = 512
    mlp_ser_iterations: int = 5000
    mlp_mer_hidden: int = 1024
    mlp_mer_iterations: int = 1000
    rf_ser_trees: int = 1000
    rf_mer_trees: int = 100
    rf_mer_max_features: str | float = 0.333
    mlp_early_stopping: bool = True
    mlp_batch_size: int = 256
    mlp_learning_rate_init: float = 0.001
    dnn: DnnSettings = field(default_factory=DnnSettings)


PRESETS = {
    "thesis": Preset(),
    "fast": Preset(
        svm_c=10.0,
        mlp_ser_hidden=128,
        mlp_ser_iterations=50,
        mlp_mer_hidden=128,
        mlp_mer_iterations=50,
        rf_ser_trees=200,
        rf_mer_trees=200,
        rf_mer_max_features="sqrt",
        mlp_early_stopping=False,
        mlp_batch_size=16,
        mlp_learning_rate_init=0.01,
        dnn=DnnSettings(hidden=128, epochs=50, batch_size=16),
    ),
}


def parse_models(text: str) -> list[str]:
    """``--models``: comma-separated families (aliases svr, svc, mlpc, ...), or ``all``."""
    every = list(dict.fromkeys([*SER_MODELS, *MER_MODELS]))
    if text.strip().lower() == "all":
        return every
    names = [ALIASES.get(n.strip().lower(), n.strip().lower()) for n in text.split(",")]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in every]
    if unknown or not names:
        raise UserError(
            f"unknown model {', '.join(unknown) or repr(text)}; choose from "
            f"{', '.join(every)}, svr (= svm for MER) or all"
        )
    return sorted(set(names), key=every.index)


def models_for(domain: str, models: list[str]) -> list[str]:
    """The chosen families that apply to ``domain`` (``ser``: classifiers, ``mer``: regressors)."""
    allowed = SER_MODELS if domain == "ser" else MER_MODELS
    return [m for m in models if m in allowed]


def check_preset(preset: str) -> Preset:
    if preset not in PRESETS:
        raise UserError(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    return PRESETS[preset]


def make_estimator(classification: bool, model: str, seed: int, preset: str = "thesis"):
    """An unfitted pipeline: mean imputer -> StandardScaler -> the family's estimator."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    seed = seed % (2**32)
    settings = check_preset(preset)
    build = _classifier if classification else _regressor
    return make_pipeline(
        SimpleImputer(strategy="mean", keep_empty_features=True),
        StandardScaler(),
        build(model, seed, settings),
    )


def _mlp_options(settings: Preset, hidden: int, iterations: int, seed: int) -> dict:
    """What the thesis's MLPC and MLPR share: one logistic hidden layer, adaptive rate."""
    return {
        "hidden_layer_sizes": (hidden,),
        "activation": "logistic",
        "early_stopping": settings.mlp_early_stopping,
        "max_iter": iterations,
        "batch_size": settings.mlp_batch_size,
        "learning_rate": "adaptive",
        "learning_rate_init": settings.mlp_learning_rate_init,
        "random_state": seed,
    }


def _classifier(model: str, seed: int, settings: Preset):
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    if model == "svm":
        return SVC(C=settings.svm_c)
    if model == "mlp":
        return MLPClassifier(
            **_mlp_options(settings, settings.mlp_ser_hidden, settings.mlp_ser_iterations, seed)
        )
    if model == "rf":
        return RandomForestClassifier(
            n_estimators=settings.rf_ser_trees, max_features="sqrt", random_state=seed, n_jobs=1
        )
    if model == "dnn":
        return DeepNetwork(True, settings.dnn, seed)
    if model in ("dummy-stratified", "dummy-most-frequent"):
        return DummyClassifier(
            strategy=model.removeprefix("dummy-").replace("-", "_"), random_state=seed
        )
    raise UserError(f"model {model} is not a classifier")


def _regressor(model: str, seed: int, settings: Preset):
    from sklearn.dummy import DummyRegressor
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.svm import SVR

    if model == "svm":
        return SVR(C=settings.svm_c)
    if model == "mlp":
        return MLPRegressor(
            **_mlp_options(settings, settings.mlp_mer_hidden, settings.mlp_mer_iterations, seed)
        )
    if model == "rf":
        return RandomForestRegressor(
            n_estimators=settings.rf_mer_trees,
            max_features=settings.rf_mer_max_features,
            random_state=seed,
            n_jobs=1,
        )
    if model == "dnn":
        return DeepNetwork(False, settings.dnn, seed)
    if model == "dummy-mean":
        return DummyRegressor(strategy="mean")
    raise UserError(f"model {model} is not a regressor")
