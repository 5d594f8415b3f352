"""Baselines A-F on a small synthetic build: manifests + feature tables laid out as in docs/architecture.md.

The feature tables are written directly (the extractors are tested in test_features.py);
the label signal is planted in them so rf must beat dummy, and scoring goes through the
real benchmark package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.io import read_predictions, read_solution
from benchmark.tasks import get_task
from builders.cli import main as cli_main
from builders.errors import UserError
from builders.features import extract as feats
from builders.misme import baselines

N_FOLDS = 6
ACTORS_PER_FOLD = 2
CLIPS_PER_ACTOR = 8  # one per emotion
MUSIC_PER_FOLD = 4
K = 2  # mixes per speech clip


def _features(ids: list[str], signal: np.ndarray, seed: int, noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_informative = signal.shape[1]
    x = np.concatenate(
        [
            signal + noise * rng.standard_normal(signal.shape),
            rng.standard_normal((len(ids), 20 - n_informative)),
        ],
        axis=1,
    )
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(20)])
    frame.insert(0, "id", ids)
    return frame.sort_values("id").reset_index(drop=True)


def make_build(out: Path, *, bss: tuple[str, ...] = ("bss-oracle",)) -> Path:
    """Manifests (sources, mixes) and feature tables for speech-egemaps and music-essentia."""
    rows, mixes = [], []
    for fold in range(1, N_FOLDS + 1):
        for a in range(ACTORS_PER_FOLD):
            actor = f"{(fold - 1) * ACTORS_PER_FOLD + a + 1:02d}"
            for emotion in range(1, 9):
                rows.append(
                    {
                        "source_id": f"ravdess-03-01-{emotion:02d}-01-01-01-{actor}",
                        "corpus": "ravdess",
                        "actor": actor,
                        "emotion": emotion,
                        "valence": np.nan,
                        "arousal": np.nan,
                        "fold": fold,
                    }
                )
        for j in range(MUSIC_PER_FOLD):
            rng = np.random.default_rng(fold * 100 + j)
            rows.append(
                {
                    "source_id": f"deam-{fold * 10 + j}",
                    "corpus": "deam",
                    "actor": None,
                    "emotion": pd.NA,
                    "valence": float(rng.uniform(2, 8)),
                    "arousal": float(rng.uniform(2, 8)),
                    "fold": fold,
                }
            )
    sources = pd.DataFrame(rows).sort_values("source_id").reset_index(drop=True)
    sources["emotion"] = sources["emotion"].astype("Int64")
    speech = sources[sources["corpus"] == "ravdess"]
    music = sources[sources["corpus"] == "deam"].set_index("source_id")
    for _, s in speech.iterrows():
        fold_music = sorted(music.index[music["fold"] == s["fold"]])
        start = int(s["emotion"]) % len(fold_music)
        for p in range(K):
            m = fold_music[(start + p) % len(fold_music)]
            mixes.append(
                {
                    "mix_id": f"{s['source_id']}__{m}",
                    "fold": s["fold"],
                    "speech_id": s["source_id"],
                    "music_id": m,
                    "pair_index": p,
                    "emotion": s["emotion"],
                    "valence": music.at[m, "valence"],
                    "arousal": music.at[m, "arousal"],
                }
            )
    mixes = pd.DataFrame(mixes).sort_values("mix_id").reset_index(drop=True)
    (out / "manifests").mkdir(parents=True)
    sources.to_parquet(out / "manifests" / "sources.parquet", index=False)
    mixes.to_parquet(out / "manifests" / "mixes.parquet", index=False)

    emotion_signal = np.eye(8)[speech["emotion"].astype(int) - 1] * 3.0
    speech_ids = list(speech["source_id"])
    mv = np.stack([music["valence"], music["arousal"]], axis=1)
    music_signal = (mv - 5.0) / 2.0
    mix_emotion = np.eye(8)[mixes["emotion"].astype(int) - 1] * 3.0
    mix_music = (mixes[["valence", "arousal"]].to_numpy() - 5.0) / 2.0
    tables = {
        ("speech-egemaps", "speech"): _features(speech_ids, emotion_signal, 1, 0.5),
        ("speech-egemaps", "mixed-window"): _features(list(mixes["mix_id"]), mix_emotion, 2, 1.0),
        ("music-essentia", "music"): _features(list(music.index), music_signal, 3, 0.1),
        ("music-essentia", "mixed"): _features(list(mixes["mix_id"]), mix_music, 4, 0.3),
    }
    for role in bss:
        tables[("speech-egemaps", f"{role}-speech")] = _features(
            list(mixes["mix_id"]), mix_emotion, 5, 0.8
        )
        tables[("music-essentia", f"{role}-music")] = _features(
            list(mixes["mix_id"]), mix_music, 6, 0.2
        )
    for (set_name, view), frame in tables.items():
        feats.write_table(
            frame, feats.table_path(out, set_name, view), {"set": set_name, "view": view}
        )
    return out


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_build(tmp_path_factory.mktemp("baselines") / "OUT")


@pytest.fixture(scope="module")
def summary(build: Path) -> dict:
    return baselines.run_baselines(build, speech_set="speech-egemaps", workers=1, preset="demo")


def _result(summary: dict, task: str, file: str) -> pd.Series:
    results = summary["results"]
    return results[(results["task"] == task) & (results["file"] == file)].iloc[0]


def test_every_experiment_writes_valid_prediction_files(build: Path, summary: dict) -> None:
    names = {p.relative_to(summary["submissions"]).as_posix() for p in summary["files"]}
    for exp in ("A", "B", "D"):
        for model in ("rf", "dummy"):
            assert (
                f"misme-ser/{exp}-{model}.csv" in names and f"misme-mer/{exp}-{model}.csv" in names
            )
    for exp in ("C", "E", "F"):  # only oracle separation exists in this build
        assert f"misme-ser/{exp}-oracle-rf.csv" in names
    assert {"misme-ser-speech/A-rf.csv", "misme-mer-music/A-dummy.csv"} <= names
    for task in ("misme-ser", "misme-mer", "misme-ser-speech", "misme-mer-music"):
        solution = read_solution(
            build / "baselines" / ".solutions" / f"{task}.parquet", get_task(task)
        )
        for path in (summary["submissions"] / task).glob("*.csv"):
            read_predictions(path, solution, get_task(task))  # raises on any format problem
    first = pd.read_csv(summary["submissions"] / "misme-ser" / "B-rf.csv")
    assert list(first.columns) == ["id", "emotion"] and set(first["emotion"]) <= set(range(1, 9))


def test_rf_beats_dummy(summary: dict) -> None:
    for exp in ("A", "B", "D", "F-oracle"):
        rf = _result(summary, "misme-ser", f"{exp}-rf.csv")["accuracy"]
        dummy = _result(summary, "misme-ser", f"{exp}-dummy.csv")["accuracy"]
        assert rf > 0.5 and rf > dummy + 0.25, exp
        rf_rmse = _result(summary, "misme-mer", f"{exp}-rf.csv")["rmse_valence"]
        dummy_rmse = _result(summary, "misme-mer", f"{exp}-dummy.csv")["rmse_valence"]
        assert rf_rmse < 0.8 * dummy_rmse, exp
    dm = summary["dm"]
    versus = dm[
        (dm["family"] == "rf-vs-dummy") & (dm["task"] == "misme-ser") & (dm["a"] == "D-rf")
    ].iloc[0]
    assert versus["statistic"] < 0 and versus["pvalue_holm"] < 0.01  # rf's 0-1 loss is lower


def test_single_source_predictions_are_broadcast_to_mixes(build: Path, summary: dict) -> None:
    single = pd.read_csv(
        summary["submissions"] / "misme-ser-speech" / "A-rf.csv", dtype={"id": str}
    )
    mixed = pd.read_csv(summary["submissions"] / "misme-ser" / "A-rf.csv", dtype={"id": str})
    mixes = pd.read_parquet(build / "manifests" / "mixes.parquet")
    assert list(mixed["id"]) == sorted(mixes["mix_id"])
    expected = single.set_index("id").loc[
        mixes.set_index("mix_id").loc[mixed["id"], "speech_id"], "emotion"
    ]
    assert (mixed["emotion"].to_numpy() == expected.to_numpy()).all()


def test_predictions_are_out_of_fold(tmp_path: Path) -> None:
    """Shuffling fold 1's labels must not change fold 1's predictions (and must change others')."""
    out = make_build(tmp_path / "OUT", bss=())
    domains = baselines.make_domains("speech-egemaps")
    runs, _ = baselines.plan_runs(out, [domains["mer"]], ["D"], ["rf"])
    before = baselines.predict_all(out, domains, runs, preset="demo")[runs[0]].set_index("id")[
        "valence"
    ]
    mixes = pd.read_parquet(out / "manifests" / "mixes.parquet")
    in_fold1 = mixes["fold"] == 1
    mixes.loc[in_fold1, "valence"] = (
        mixes.loc[in_fold1, "valence"].sample(frac=1, random_state=3).to_numpy()
    )
    mixes.to_parquet(out / "manifests" / "mixes.parquet", index=False)
    after = baselines.predict_all(out, domains, runs, preset="demo")[runs[0]].set_index("id")[
        "valence"
    ]
    fold_of = mixes.set_index("mix_id")["fold"]
    assert (before[fold_of[before.index] == 1] == after[fold_of[after.index] == 1]).all()
    assert (before[fold_of[before.index] != 1] != after[fold_of[after.index] != 1]).any()


def test_reproduction_table_has_thesis_numbers(summary: dict) -> None:
    text = (summary["submissions"] / "reproduction.md").read_text()
    assert "55.1 %" in text and "61.0 %" in text and "0.921" in text and "0.595" in text
    assert "| A | speech → speech | rf |" in text and "| D | mixed → mixed | rf |" in text


def test_missing_bss_is_an_error_or_a_note(tmp_path: Path) -> None:
    out = make_build(tmp_path / "OUT", bss=())
    with pytest.raises(UserError, match="misme-build misme separate"):
        baselines.run_baselines(
            out, experiments="C", models="dummy", tasks="ser", speech_set="speech-egemaps"
        )
    summary = baselines.run_baselines(out, experiments="all", models="dummy", tasks="mer")
    assert any("experiment C" in note for note in summary["notes"])
    assert set(summary["results"]["experiment"]) == {"A", "B", "D"}


def test_inconsistent_folds_are_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = make_build(tmp_path / "OUT", bss=())
    mixes = pd.read_parquet(out / "manifests" / "mixes.parquet")
    mixes.loc[0, "fold"] = mixes.loc[0, "fold"] % N_FOLDS + 1
    mixes.to_parquet(out / "manifests" / "mixes.parquet", index=False)
    code = cli_main(
        ["baselines", str(out), "--experiments", "D", "--models", "dummy", "--tasks", "mer"]
    )
    err = capsys.readouterr().err
    assert code == 2 and "inconsistent fold column" in err and mixes.loc[0, "mix_id"] in err

    sources = pd.read_parquet(out / "manifests" / "sources.parquet")
    sources = pd.concat(
        [sources, sources.iloc[[0]].assign(fold=sources.iloc[0]["fold"] % N_FOLDS + 1)]
    )
    sources.to_parquet(out / "manifests" / "sources.parquet", index=False)
    with pytest.raises(UserError, match="in more than one fold"):
        baselines.run_baselines(out, experiments="D", models="dummy", tasks="mer")


def test_features_manifest_mismatch(tmp_path: Path) -> None:
    out = make_build(tmp_path / "OUT", bss=())
    path = feats.table_path(out, "music-essentia", "mixed")
    table = feats.read_table(path)
    feats.write_table(table.iloc[1:], path, {})
    with pytest.raises(UserError, match="lacks 1 of"):
        baselines.run_baselines(out, experiments="D", models="dummy", tasks="mer")
    feats.write_table(pd.concat([table, table.iloc[[0]].assign(id="stranger")]), path, {})
    with pytest.raises(UserError, match="not in the manifests"):
        baselines.run_baselines(out, experiments="D", models="dummy", tasks="mer")


def test_bad_arguments_are_user_errors(build: Path) -> None:
    with pytest.raises(UserError, match="unknown experiment G"):
        baselines.run_baselines(build, experiments="A,G")
    with pytest.raises(UserError, match="unknown model"):
        baselines.run_baselines(build, models="svm")


def test_thesis_models_and_demo_preset() -> None:
    domains = baselines.make_domains()
    ser = baselines.make_model(domains["ser"], "rf", 7, 2)[-1]
    assert (ser.n_estimators, ser.max_features, ser.random_state, ser.n_jobs) == (
        1000,
        "sqrt",
        7,
        2,
    )
    mer = baselines.make_model(domains["mer"], "rf", 7, 1)[-1]
    assert (type(mer).__name__, mer.n_estimators, mer.max_features) == (
        "RandomForestRegressor",
        100,
        0.333,
    )
    assert baselines.make_model(domains["ser"], "dummy", 7, 1)[-1].strategy == "stratified"
    assert baselines.make_model(domains["mer"], "dummy", 7, 1)[-1].strategy == "mean"
    assert baselines.make_model(domains["ser"], "rf", 7, 1, "demo")[-1].n_estimators == 300
    steps = [name for name, _ in baselines.make_model(domains["mer"], "rf", 7, 1).steps]
    assert steps[:2] == ["simpleimputer", "standardscaler"]


def test_wrong_folders_are_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["baselines", str(tmp_path / "nope")]) == 2
    assert "not a MiSME build folder" in capsys.readouterr().err
    out = make_build(tmp_path / "OUT", bss=())
    (tmp_path / "file.txt").write_text("x")
    code = cli_main(
        [
            "baselines",
            str(out),
            "--experiments",
            "D",
            "--models",
            "dummy",
            "--tasks",
            "mer",
            "--out",
            str(tmp_path / "file.txt"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "is a file" in err and "Traceback" not in err
