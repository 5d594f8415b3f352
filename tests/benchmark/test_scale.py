"""A regression report states its targets' scale: the solution's `scale` column (muse-vad,
whose scale depends on the lexicon) or the task's documented range."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmark.cli import main
from benchmark.errors import BenchmarkError
from benchmark.io import read_predictions, read_solution
from benchmark.report import to_json, to_markdown, to_terminal
from benchmark.scoring import score
from benchmark.tasks import get_task

VAD = ("valence", "arousal", "dominance")


def _files(tmp_path, scale: list[str] | None, task: str = "muse-vad"):
    targets = VAD if task == "muse-vad" else ("valence", "arousal")
    ids = [f"f{i:02d}" for i in range(12)]
    solution = pd.DataFrame(
        {
            "id": ids,
            "fold": [i % 3 + 1 for i in range(12)],
            **{t: [0.1 * (i % 7) + 0.05 * k for i in range(12)] for k, t in enumerate(targets)},
        }
    )
    if scale is not None:
        solution["scale"] = scale
    predictions = solution[["id", *targets]].assign(**{t: solution[t] * 0.9 for t in targets})
    solution.to_csv(tmp_path / "solution.csv", index=False)
    predictions.to_csv(tmp_path / "predictions.csv", index=False)
    return tmp_path / "solution.csv", tmp_path / "predictions.csv"


@pytest.mark.parametrize("scale", ["[0,1]", "1-9"])
def test_the_report_states_the_scale_the_solution_names(tmp_path, scale):
    solution_path, predictions_path = _files(tmp_path, [scale] * 12)
    task = get_task("muse-vad")
    solution = read_solution(solution_path, task)
    report = score(read_predictions(predictions_path, solution, task), solution, task)
    assert report.extras["scale"] == scale
    assert f"targets on the {scale} scale" in to_terminal(report).splitlines()[0]
    assert f"targets on the {scale} scale" in to_markdown(report).splitlines()[0]
    assert json.loads(to_json(report))["extras"]["scale"] == scale


def test_the_cli_score_report_names_the_scale(tmp_path, capsys):
    solution_path, predictions_path = _files(tmp_path, ["1-9"] * 12)
    assert (
        main(
            ["score", str(predictions_path), "--solution", str(solution_path), "--task", "muse-vad"]
        )
        == 0
    )
    assert "targets on the 1-9 scale" in capsys.readouterr().out


def test_a_task_with_a_documented_range_states_it_without_a_scale_column(tmp_path):
    solution_path, predictions_path = _files(tmp_path, None, task="mer-va")
    task = get_task("mer-va")
    solution = read_solution(solution_path, task)
    assert "scale" not in solution.columns
    report = score(read_predictions(predictions_path, solution, task), solution, task)
    assert report.extras["scale"] == "[-1, 1]"


def test_muse_vad_without_a_scale_column_states_none(tmp_path):
    solution_path, predictions_path = _files(tmp_path, None)
    task = get_task("muse-vad")
    solution = read_solution(solution_path, task)
    report = score(read_predictions(predictions_path, solution, task), solution, task)
    assert report.extras["scale"] is None and "scale" not in to_terminal(report).splitlines()[0]


def test_a_solution_with_two_scales_is_refused(tmp_path):
    solution_path, _ = _files(tmp_path, ["[0,1]"] * 6 + ["1-9"] * 6)
    with pytest.raises(BenchmarkError, match="scale.*one scale for every row"):
        read_solution(solution_path, get_task("muse-vad"))
