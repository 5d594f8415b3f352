"""The scoring worker's memory limit behaves monotonically: `init` refuses a limit too
small for this machine (with the measured figure), every limit it accepts scores a small
valid file, and running out of memory is always reported as such."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.sandbox import run_isolated
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import mer_solution, ser_predictions, write_challenge

LIMITS_MB = (200, 1000, 1500, 2000, 3000, 4000)


def _with_limit(folder: Path, limit_mb: int) -> Path:
    path = write_challenge(folder, open_now=True)
    path.write_text(f"memory_limit_mb = {limit_mb}\n" + path.read_text())
    return path


def test_each_limit_scores_a_small_file_or_is_refused_by_init(tmp_path: Path, capsys) -> None:
    accepted = []
    for limit in LIMITS_MB:
        path = _with_limit(tmp_path / str(limit), limit)
        code = main(["init", "--config", str(path)])
        err = capsys.readouterr().err
        if code == 2:
            assert re.search(
                rf"memory_limit_mb = {limit} is too small: .* needs about \d+ MB .*"
                r"set memory_limit_mb to at least \d+",
                err,
            ), err
            assert err.count("\n") == 1
            accepted.append(False)
            continue
        assert code == 0, err
        config = load_config(path)
        outcome = submit(
            config,
            ser_predictions(path.parent / "p.csv", 30),
            "misme-ser",
            add_team(config, "Team A"),
        )
        assert outcome.status == "scored", (limit, outcome.message)
        accepted.append(True)
    assert accepted == sorted(accepted), dict(zip(LIMITS_MB, accepted))  # no hole above the floor
    assert accepted[0] is False  # the libraries alone take more than 200 MB: init says so


def test_the_figure_init_gives_is_a_limit_that_works(tmp_path: Path, capsys) -> None:
    path = _with_limit(tmp_path / "small", 200)
    assert main(["init", "--config", str(path)]) == 2
    suggested = int(re.search(r"at least (\d+)", capsys.readouterr().err).group(1))
    path = _with_limit(tmp_path / "suggested", suggested)
    assert main(["init", "--config", str(path)]) == 0, capsys.readouterr().err


def test_running_out_of_memory_on_a_large_file_is_reported_as_such(tmp_path: Path) -> None:
    """A limit between the libraries' footprint and what a 600,000-id file needs: the file
    cannot be scored, and whatever library fails first, the outcome says memory."""
    solution = mer_solution(600_000)
    folder = tmp_path / "big"
    path = write_challenge(folder, time_limit_s=60, max_file_bytes=50_000_000)
    solution.to_parquet(folder / "solutions" / "misme-mer.parquet", index=False)
    predictions = folder / "p.csv"
    solution[["id", "valence", "arousal"]].to_csv(predictions, index=False)
    config = load_config(path)
    request = ScoringRequest.for_submission(config, "misme-mer", config.phase("dev"), predictions)
    unlimited, _ = run_isolated(replace(request, memory_limit_mb=None), 600)
    assert unlimited.status == "scored", unlimited.message
    footprint, peak = unlimited.libraries_mb, unlimited.peak_mb
    assert peak > footprint + 200  # the file takes memory of its own
    tight = int(footprint + (peak - footprint) / 4)
    result, _ = run_isolated(replace(request, memory_limit_mb=tight), config.time_limit_s)
    assert (result.status, result.message) == (
        "failed",
        f"scoring ran out of memory (limit {tight} MB)",
    )
