"""The scoring request and result cross the process boundary as JSON, unchanged."""

from __future__ import annotations

from pathlib import Path

from leaderboard.challenge.config import load_config
from leaderboard.scoring.request import Scorer, ScoringRequest
from leaderboard.scoring.result import ScoringResult, SubsetScores
from tests.leaderboard.conftest import ser_predictions, write_challenge


def test_a_request_survives_its_json(tmp_path: Path) -> None:
    config = load_config(write_challenge(tmp_path))
    request = ScoringRequest.for_submission(
        config, "misme-ser", config.phase("dev"), ser_predictions(tmp_path / "p.csv", 10)
    ).in_folder(tmp_path / "out", 1234)
    assert ScoringRequest.from_json(request.to_json()) == request
    assert request.primary_metric == "accuracy" and request.higher_is_better is True
    assert request.scorer() == ScoringRequest.from_json(request.to_json()).scorer()


def test_a_request_with_folds_and_a_result_with_subsets_survive_their_json() -> None:
    request = ScoringRequest("p.csv", "s.parquet", "misme-mer", (6, 7), 0.5, 3, 100, None, 9.5)
    assert ScoringRequest.from_json(request.to_json()) == request
    scores = SubsetScores({"rmse": 1.5}, 1.5, {"per_fold": [{"fold": 6}]}, {}, "ab", 20)
    result = ScoringResult(
        "scored", "scored", {"public": scores}, Scorer("1.0", "cd"), "ef", 500.0, 600.0
    )
    assert ScoringResult.from_json(result.to_json()) == result
    failed = ScoringResult.failed("scoring failed (ValueError)")
    assert ScoringResult.from_json(failed.to_json()) == failed and not failed.scored
