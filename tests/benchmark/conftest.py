"""Shared fixtures: small solution files and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from benchmark.cli import main

MER_SOLUTION = pd.DataFrame(
    {
        "id": ["007", "a", "b", "c", "d", "e"],
        "fold": [1, 1, 2, 2, 3, 3],
        "valence": [5.5, 3.0, 7.0, 2.0, 4.5, 6.0],
        "arousal": [4.0, 6.5, 2.5, 8.0, 4.0, 5.0],
    }
)
MER_GOOD = (
    "id,valence,arousal\n007,5.0,4.0\na,3.5,6.0\nb,7.25,2.0\nc,1.0,9.0\nd,4.0,4.0\ne,6.0,5.5\n"
)

SER_SOLUTION = pd.DataFrame(
    {
        "id": ["007", "a", "b", "c", "d", "e"],
        "fold": [1, 1, 2, 2, 3, 3],
        "emotion": [1, 3, 5, 3, 8, 4],
    }
)
SER_GOOD = "id,emotion\n007,neutral\na,happy\nb,sad\nc,happy\nd,surprised\ne,sad\n"


@pytest.fixture
def mer_solution(tmp_path: Path) -> Path:
    path = tmp_path / "mer-solution.parquet"
    MER_SOLUTION.to_parquet(path, index=False)
    return path


@pytest.fixture
def ser_solution(tmp_path: Path) -> Path:
    path = tmp_path / "ser-solution.csv"
    SER_SOLUTION.to_csv(path, index=False)
    return path


@pytest.fixture
def run_cli(capsys):
    """Run ``misme-score`` in-process; return (exit code, stdout, stderr)."""

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run
