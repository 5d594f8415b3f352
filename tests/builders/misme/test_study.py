"""`misme-build misme experiments` on the small synthetic build of test_baselines (features
with a planted label signal): the model families, the D-NN's determinism, the cache, the
report."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.cli import main as cli_main
from builders.errors import UserError
from builders.misme.baselines.data import labels, load_features, load_manifests
from builders.misme.baselines.settings import make_domains
from builders.misme.study import run_study
from builders.misme.study.dnn import DeepNetwork, DnnSettings
from builders.misme.study.families import make_estimator, parse_models
from builders.misme.study.metrics import mer_scores, ser_scores
from tests.builders.misme.test_baselines import make_build

SPEECH_SET = "speech-egemaps"
MODELS = (
    "rf,dummy-stratified,dummy-mean"  # the report's tables need the forest; the dummies are cheap
)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_build(tmp_path_factory.mktemp("study") / "OUT")


def _view(build: Path, domain_name: str, role: str, view: str):
    domain = make_domains(SPEECH_SET)[domain_name]
    sources, mixes = load_manifests(build)
    frame = labels(domain, role, sources, mixes)
    return frame, load_features(build, domain, view, frame)


def _cross_validate(frame: pd.DataFrame, x: np.ndarray, model: str, classification: bool):
    targets = ("emotion",) if classification else ("valence", "arousal")
    predictions = pd.DataFrame({"id": frame["id"]})
    for target in targets:
        values = np.zeros(len(frame), dtype="int64" if classification else "float64")
        for fold in sorted(frame["fold"].unique()):
            test = (frame["fold"] == fold).to_numpy()
            estimator = make_estimator(classification, model, seed=fold, preset="fast")
            estimator.fit(x[~test], frame[target].to_numpy()[~test])
            values[test] = estimator.predict(x[test])
        predictions[target] = values
    return predictions


@pytest.mark.parametrize("model", ["svm", "mlp", "rf", pytest.param("dnn", marks=pytest.mark.slow)])
def test_each_family_beats_its_dummy_on_single_source_audio(build: Path, model: str) -> None:
    speech, x_speech = _view(build, "ser", "single", "speech")
    accuracy = {
        m: ser_scores(_cross_validate(speech, x_speech, m, True), speech)["accuracy"]
        for m in (model, "dummy-stratified", "dummy-most-frequent")
    }
    assert (
        accuracy[model] > max(accuracy["dummy-stratified"], accuracy["dummy-most-frequent"]) + 0.2
    )
    music, x_music = _view(build, "mer", "single", "music")
    rmse = {
        m: mer_scores(_cross_validate(music, x_music, m, False), music, ("valence", "arousal"))
        for m in (model, "dummy-mean")
    }
    for target in ("valence", "arousal"):
        assert rmse[model][target]["rmse"] < rmse["dummy-mean"][target]["rmse"]


def test_the_dnn_gives_identical_predictions_for_the_same_seed(build: Path) -> None:
    frame, x = _view(build, "mer", "mix", "mixed")
    settings = DnnSettings(hidden=32, epochs=5, batch_size=16)

    def predict(seed: int) -> np.ndarray:
        network = DeepNetwork(False, settings, random_state=seed)
        return network.fit(x[:150], frame["valence"].to_numpy()[:150]).predict(x[150:])

    first, again, other = predict(7), predict(7), predict(8)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    speech, x_speech = _view(build, "ser", "mix", "mixed-window")
    emotions = speech["emotion"].to_numpy()

    def classify(seed: int) -> np.ndarray:
        network = DeepNetwork(True, settings, random_state=seed)
        return network.fit(x_speech[:150], emotions[:150]).predict(x_speech[150:])

    assert np.array_equal(classify(3), classify(3))
    assert set(classify(3)) <= set(emotions[:150])


def test_models_are_parsed_with_aliases_and_refused_when_unknown() -> None:
    assert parse_models("svr,rf") == ["svm", "rf"]
    assert "dummy-mean" in parse_models("all")
    with pytest.raises(UserError, match="unknown model xgb"):
        parse_models("rf,xgb")


@pytest.fixture(scope="module")
def study(build: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    report = tmp_path_factory.mktemp("report") / "report"
    outcome = run_study(
        build,
        report,
        models=MODELS,
        preset="fast",
        speech_set=SPEECH_SET,
    )
    return report, outcome


@pytest.mark.slow
def test_the_report_has_every_thesis_table_and_the_figures(study) -> None:
    report, outcome = study
    text = (report / "report.md").read_text()
    for number in (
        "4.1",
        "4.2",
        "4.3a",
        "4.3b",
        "4.4",
        "4.5",
        "4.6",
        "4.7",
        "5.1",
        "5.2",
        "5.3",
        "5.4",
        "5.5",
        "5.6",
        "5.7",
        "D.1",
    ):
        assert f"## Table {number}" in text, number
    for appendix in ("A", "B", "C", "E"):
        assert f"## Appendix {appendix}" in text, appendix
    assert "Figure A.1" in text
    # the thesis's own values stand beside ours: RFC 55.1 % on A, RFR RMSE .921 on A
    assert re.search(r"\| A \| single → single \|.*\| 55\.1 % \|", text)
    assert "| 0.921 |" in text
    pngs = sorted((report / "figures").glob("*.png"))
    assert len(pngs) >= 6 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert outcome["counts"]["fitted"] > 0


@pytest.mark.slow
def test_a_rerun_fits_nothing_and_a_lost_cache_entry_is_refit(study, build: Path, capsys) -> None:
    report, first = study
    text = (report / "report.md").read_text()
    again = run_study(
        build,
        report,
        models=MODELS,
        preset="fast",
        speech_set=SPEECH_SET,
    )
    assert again["counts"] == {"cached": sum(first["counts"].values()), "fitted": 0}
    assert (report / "report.md").read_text() == text
    assert "0 to run" in capsys.readouterr().err
    sorted(report.glob(".cache/*.pkl"))[0].unlink()
    third = run_study(
        build,
        report,
        models=MODELS,
        preset="fast",
        speech_set=SPEECH_SET,
    )
    assert third["counts"]["fitted"] == 1
    assert (report / "report.md").read_text() == text


def test_bad_arguments_are_one_line_errors(build: Path, tmp_path: Path, capsys) -> None:
    command = ["misme", "experiments", str(build), "--out", str(tmp_path / "r")]
    assert cli_main([*command, "--models", "xgb"]) == 2
    assert "unknown model xgb" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli_main([*command, "--preset", "huge"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
    with pytest.raises(UserError, match="not a MiSME build"):
        run_study(tmp_path, tmp_path / "r")


@pytest.mark.slow
def test_without_separated_audio_c_e_f_are_skipped_with_a_note(tmp_path: Path) -> None:
    build = make_build(tmp_path / "OUT", bss=())
    outcome = run_study(
        build, tmp_path / "report", models="rf,dummy-mean", tasks="mer", preset="fast"
    )
    assert any("experiments C, E and F are skipped" in note for note in outcome["notes"])
    assert {key[2] for key in outcome["experiments"]} == {"A", "B", "D"}
    assert {key[2] for key in outcome["top_n"]} == {20}  # on D's view; 20 features in all
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Table 4.7" in text and "## Table 4.1" not in text
