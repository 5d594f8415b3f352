"""export-challenge's submission kit: per task the hidden ids and a valid sample submission,
checked with `misme-score validate --ids` (no labels) and against the organizer's solution."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from benchmark.cli import main as score_main
from leaderboard.cli import main
from tests.leaderboard.challenge.test_export_challenge import build_out

TASKS = ("misme-mer", "misme-ser")


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    build = build_out(tmp_path / "build")
    out = tmp_path / "challenge"
    assert main(["export-challenge", str(out), "--dataset", str(build), "--test-folds", "6"]) == 0
    return out


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("task", TASKS)
def test_the_sample_is_valid_with_the_ids_and_with_the_solution(
    exported: Path, task: str, capsys
) -> None:
    kit = exported / "participant" / "submission"
    ids, sample = kit / f"{task}-ids.csv", kit / f"{task}-sample.csv"
    id_rows = _rows(ids)
    assert id_rows[0] == ["id"] and len(id_rows) == 13  # the 12 hidden clips of fold 6
    assert [r[0] for r in _rows(sample)[1:]] == [r[0] for r in id_rows[1:]]
    assert score_main(["validate", str(sample), "--ids", str(ids), "--task", task]) == 0
    assert "no labels seen" in capsys.readouterr().out
    solution = exported / "organizer" / "solutions" / f"{task}.parquet"
    assert score_main(["validate", str(sample), "--solution", str(solution), "--task", task]) == 0


def test_a_broken_submission_lists_its_problems(exported: Path, tmp_path: Path, capsys) -> None:
    kit = exported / "participant" / "submission"
    rows = _rows(kit / "misme-ser-sample.csv")
    assert rows[0] == ["id", "emotion"] and rows[1][1] == "neutral" and rows[2][1] == "calm"
    dropped = rows[-1][0]
    rows[2][1] = "happyish"
    rows[3][0] = "t-not-a-hidden-id"
    broken = tmp_path / "broken.csv"
    with broken.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows[:-1])
    capsys.readouterr()
    code = score_main(
        ["validate", str(broken), "--ids", str(kit / "misme-ser-ids.csv"), "--task", "misme-ser"]
    )
    problems = capsys.readouterr().err
    assert code == 2
    assert "row 2, column 'emotion': unknown label 'happyish'" in problems
    assert "row 3, column 'id': id 't-not-a-hidden-id' is not in the solution" in problems
    assert f"id '{dropped}' of the solution has no prediction" in problems


def test_a_missing_column_and_a_bad_ids_file(exported: Path, tmp_path: Path, capsys) -> None:
    kit = exported / "participant" / "submission"
    no_target = tmp_path / "ids-only.csv"
    no_target.write_text((kit / "misme-mer-ids.csv").read_text(), encoding="utf-8")
    assert (
        score_main(["validate", str(no_target), "--ids", str(no_target), "--task", "misme-mer"])
        == 2
    )
    assert "valence" in capsys.readouterr().err
    bad_ids = tmp_path / "bad-ids.csv"
    bad_ids.write_text("identifier\nx\n", encoding="utf-8")
    sample = kit / "misme-mer-sample.csv"
    assert score_main(["validate", str(sample), "--ids", str(bad_ids), "--task", "misme-mer"]) == 2
    assert "ids file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as refused:  # --ids or --solution, one of them
        score_main(["validate", str(sample), "--task", "misme-mer"])
    assert refused.value.code == 2
    assert "one of the arguments --solution --ids is required" in capsys.readouterr().err
