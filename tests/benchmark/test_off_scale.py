"""Predictions on the wrong scale (1-9 for mer-va on [-1, 1], or for a muse-vad solution on
[0, 1]) are scored as they are, with a warning naming the scale the task expects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.io import read_predictions, read_solution
from benchmark.report import to_json, to_markdown
from benchmark.scoring import score
from benchmark.tasks import get_task


def _files(tmp_path, task: str, low: float, high: float, scale: str | None = None):
    targets = get_task(task).targets
    rng = np.random.default_rng(5)
    ids = [f"x{i:03d}" for i in range(30)]
    solution = pd.DataFrame(
        {"id": ids, "fold": [i % 3 + 1 for i in range(30)]}
        | {
            t: rng.uniform(-1, 1, 30) if task == "mer-va" else rng.uniform(0, 1, 30)
            for t in targets
        }
    )
    if scale is not None:
        solution["scale"] = scale
    predictions = solution[["id"]].assign(**{t: rng.uniform(low, high, 30) for t in targets})
    solution.to_csv(tmp_path / "solution.csv", index=False)
    predictions.to_csv(tmp_path / "predictions.csv", index=False)
    return tmp_path / "solution.csv", tmp_path / "predictions.csv"


def _report(solution_path, predictions_path, task_name):
    task = get_task(task_name)
    solution = read_solution(solution_path, task)
    return score(read_predictions(predictions_path, solution, task), solution, task)


@pytest.mark.parametrize(
    ("task", "scale", "expected"),
    [("mer-va", None, "[-1, 1]"), ("muse-vad", "[0,1]", "[0,1]")],
)
def test_predictions_on_the_1_9_scale_get_a_warning(tmp_path, task, scale, expected):
    solution_path, predictions_path = _files(tmp_path, task, 1, 9, scale)
    report = _report(solution_path, predictions_path, task)
    warning = report.extras["scale_warning"]
    assert f"{task} expects" in warning and expected in warning and "100%" in warning
    assert json.loads(to_json(report))["extras"]["scale_warning"] == warning
    assert warning in to_markdown(report)
    truth = pd.read_csv(solution_path)
    predicted = pd.read_csv(predictions_path)
    targets = get_task(task).targets
    rmse = np.mean([np.sqrt(np.mean((predicted[t] - truth[t]) ** 2)) for t in targets])
    assert report.pooled["rmse"] == pytest.approx(rmse)  # scored as it is


def test_predictions_on_the_right_scale_get_none(tmp_path):
    solution_path, predictions_path = _files(tmp_path, "mer-va", -1.2, 1.1)
    report = _report(solution_path, predictions_path, "mer-va")
    assert "scale_warning" not in report.extras
    assert "scale_warning" not in to_json(report)


def test_a_few_values_outside_the_range_are_no_warning(tmp_path):
    solution_path, predictions_path = _files(tmp_path, "muse-vad", 0, 1.6, "[0,1]")
    report = _report(solution_path, predictions_path, "muse-vad")
    assert "scale_warning" not in report.extras  # about 37% outside: not most


def test_the_cli_warns_on_stderr_and_in_the_reports(tmp_path, capsys):
    solution_path, predictions_path = _files(tmp_path, "mer-va", 1, 9)
    json_path, markdown_path = tmp_path / "r.json", tmp_path / "r.md"
    argv = ["score", str(predictions_path), "--solution", str(solution_path), "--task", "mer-va"]
    assert main([*argv, "--json", str(json_path), "--markdown", str(markdown_path)]) == 0
    out, err = capsys.readouterr()
    assert "misme-score: warning:" in err and "mer-va expects" in err and "[-1, 1]" in err
    assert "warning" not in out
    assert "mer-va expects" in json.loads(json_path.read_text())["extras"]["scale_warning"]
    assert "mer-va expects" in markdown_path.read_text()
