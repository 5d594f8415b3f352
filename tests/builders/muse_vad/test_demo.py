"""The demo's MuSe-style VAD step end to end: build, Essentia features, baselines scored."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from builders.demo.muse_demo import muse_demo_step
from builders.muse_vad.baselines import frame_labels

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(muse_sources, tmp_path_factory):
    root = tmp_path_factory.mktemp("muse-demo")
    shutil.copytree(muse_sources["dest"], root / "muse-sources")  # reused by the step
    return root, muse_demo_step(root, workers=2)


def test_the_step_builds_scores_and_returns_its_prediction_files(demo):
    root, result = demo
    assert result["build"] == root / "muse-build" and result["tasks"] == ["muse-vad"]
    assert [p.name for p in result["files"]["muse-vad"]] == ["rf.csv", "dummy.csv"]
    predictions = pd.read_csv(result["files"]["muse-vad"][0])
    assert list(predictions.columns) == ["id", "valence", "arousal", "dominance"]
    assert sorted(predictions.id) == sorted(frame_labels(result["build"]).id)
    assert (result["build"] / "features" / "music-essentia" / "frames.parquet").is_file()


def test_the_random_forest_beats_the_mean(demo):
    _, result = demo
    scores = pd.read_csv(result["submissions"] / "results.csv").set_index("model")
    assert scores.loc["rf", "primary_metric"] == "rmse" and set(scores.scale) == {"[0,1]"}
    assert scores.loc["rf", "primary"] < scores.loc["dummy", "primary"]
    assert scores.loc["rf", "r2_arousal"] > 0.3


def test_a_rerun_reuses_everything_and_gives_the_same_predictions(demo, capsys):
    root, first = demo
    before = [p.read_bytes() for p in first["files"]["muse-vad"]]
    again = muse_demo_step(root, workers=1)
    assert "reusing" in capsys.readouterr().out
    assert [p.read_bytes() for p in again["files"]["muse-vad"]] == before
