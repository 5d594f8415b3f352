"""The demo step end to end: RF beats the dummy on both tasks, scored with the benchmark."""

from __future__ import annotations

import pandas as pd
import pytest

from builders.errors import UserError
from builders.instrumental_mer.baselines import run_baselines


def test_the_demo_step_returns_its_build_and_prediction_files(demo_run):
    assert demo_run["tasks"] == ["mer-quadrant", "mer-va"]
    for task in demo_run["tasks"]:
        files = demo_run["files"][task]
        assert [p.name for p in files] == ["rf.csv", "dummy.csv"] and all(
            p.is_file() for p in files
        )
    solution = pd.read_parquet(demo_run["build"] / "solutions" / "mer-quadrant.parquet")
    predicted = pd.read_csv(demo_run["files"]["mer-quadrant"][0])
    assert sorted(predicted["id"]) == sorted(solution["id"])
    assert set(predicted["quadrant"]) <= {"Q1", "Q2", "Q3", "Q4"}


def test_random_forest_beats_the_dummy(demo_run):
    results = pd.read_csv(demo_run["submissions"] / "results.csv").set_index(["task", "model"])
    assert (
        results.loc[("mer-quadrant", "rf"), "accuracy"]
        > results.loc[("mer-quadrant", "dummy"), "accuracy"] + 0.1
    )
    for target in ("valence", "arousal"):
        assert (
            results.loc[("mer-va", "rf"), f"rmse_{target}"]
            < results.loc[("mer-va", "dummy"), f"rmse_{target}"]
        )


def test_baselines_need_the_features(demo_run, tmp_path):
    build = demo_run["root"] / "instrumental-build-tracklists"  # rendered, no features
    with pytest.raises(UserError, match="misme-build features .* --set music-essentia"):
        run_baselines(build, submissions=tmp_path / "subs")


def test_the_baselines_command(demo_run, tmp_path, capsys):
    from builders.cli import main

    out = tmp_path / "subs"
    code = main(
        [
            "instrumental-mer",
            "baselines",
            str(demo_run["build"]),
            "--out",
            str(out),
            "--trees",
            "20",
            "--models",
            "rf",
        ]
    )
    assert code == 0 and "mer-quadrant" in capsys.readouterr().out
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.csv")) == [
        "mer-quadrant/rf.csv",
        "mer-va/rf.csv",
        "results-by-fold.csv",
        "results.csv",
    ]
