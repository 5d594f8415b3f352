"""A submission on the wrong scale is scored as it is, with a warning stored in its message
and shown by `submit` on stderr."""

from __future__ import annotations

import pandas as pd

from leaderboard.challenge.config import load_config
from leaderboard.cli import main
from leaderboard.store.schema import init_store
from leaderboard.store.teams import add_team
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import task_predictions, write_all_tasks_challenge


def _on_the_1_9_scale(path):
    frame = pd.read_csv(path)
    targets = [c for c in frame.columns if c != "id"]
    frame[targets] = frame[targets] * 4 + 5  # [-1, 1] -> [1, 9]
    frame.to_csv(path, index=False)
    return path


def test_a_1_9_file_for_mer_va_is_scored_with_a_stored_warning(tmp_path, capsys):
    config_path = write_all_tasks_challenge(tmp_path)
    config = load_config(config_path)
    init_store(config)
    token = add_team(config, "Team A")
    good = task_predictions(tmp_path, "mer-va", 0.9)
    right = submit(config, good, "mer-va", token)
    assert right.status == "scored" and right.message == "scored"
    wrong = submit(
        config, _on_the_1_9_scale(task_predictions(tmp_path, "mer-va", 0.8)), "mer-va", token
    )
    assert wrong.status == "scored"
    assert (
        "warning:" in wrong.message
        and "mer-va expects valence, arousal on [-1, 1]" in wrong.message
    )
    assert wrong.public_metrics["rmse"] > 3 * right.public_metrics["rmse"]  # scored as it is
    path = _on_the_1_9_scale(task_predictions(tmp_path, "mer-va", 0.7))
    argv = ["submit", str(path), "--config", str(config_path), "--task", "mer-va"]
    assert main([*argv, "--token", token]) == 0
    out, err = capsys.readouterr()
    assert "scored" in out and "mer-va expects" in err and "mer-va expects" not in out
