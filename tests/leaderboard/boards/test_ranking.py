"""Ranking: best or selected per team, ties to the earliest, DM significance, private ids."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from leaderboard.boards.ranking import build_board
from leaderboard.boards.significance import (
    dm_p_value,
    holm_adjust,
    pairwise_p_values,
    pairwise_text_table,
)
from leaderboard.errors import LeaderboardError
from leaderboard.store.teams import add_team
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import submit
from tests.leaderboard.conftest import AFTER_DEV, IN_DEV, Clock, ser_predictions


@pytest.fixture(scope="module")
def board_setup(tmp_path_factory):
    """Team A: 48/48 then 10/48; Team B: 30/48 (earlier) ; Team C: 30/48 (later, same file
    bytes as B); Team D: only an invalid file."""
    from leaderboard.challenge.config import load_config
    from leaderboard.store.schema import init_store
    from tests.leaderboard.conftest import write_challenge

    tmp_path = tmp_path_factory.mktemp("board")
    challenge = load_config(write_challenge(tmp_path))
    init_store(challenge)
    tokens = {name: add_team(challenge, name) for name in ("Team A", "Team B", "Team C", "Team D")}
    clock = Clock(IN_DEV)

    def send(team: str, path, minutes: int) -> int:
        clock.now = IN_DEV + timedelta(minutes=minutes)
        return submit(challenge, path, "misme-ser", tokens[team], clock=clock).submission_id

    perfect = ser_predictions(tmp_path / "perfect.csv", 48)
    weak = ser_predictions(tmp_path / "weak.csv", 10)
    middle = ser_predictions(tmp_path / "middle.csv", 30)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\nx,1\n")
    ids = {
        "A-perfect": send("Team A", perfect, 1),
        "A-weak": send("Team A", weak, 2),
        "B": send("Team B", middle, 3),
        "C": send("Team C", middle, 4),
        "D": send("Team D", bad, 5),
    }
    return challenge, tokens, ids


def test_best_per_team_ties_to_earliest_and_invalid_rank_nowhere(board_setup) -> None:
    config, _, ids = board_setup
    board = build_board(config, "misme-ser", "dev", now=IN_DEV + timedelta(hours=1))
    table = board.table
    assert board.subset == "public" and not board.private_visible
    assert list(table["team"]) == ["Team A", "Team B", "Team C"]
    assert list(table["rank"]) == [1, 2, 3]
    assert list(table["submission"]) == [ids["A-perfect"], ids["B"], ids["C"]]
    assert table["accuracy"].iloc[1] == table["accuracy"].iloc[2]  # a tie, broken by time
    assert table["accuracy"].iloc[0] == 1.0
    assert "public accuracy" not in table.columns


def test_significance_against_the_leader(board_setup) -> None:
    config, _, _ = board_setup
    table = build_board(config, "misme-ser", "dev", now=IN_DEV).table
    assert np.isnan(table["p_value"].iloc[0]) and not table["significant"].iloc[0]
    assert table["p_value"].iloc[1] < 0.05 and table["significant"].iloc[1]
    # Holm: the two identical p-values are both multiplied by 2 (capped at 1)
    assert table["p_holm"].iloc[1] == pytest.approx(min(1, 2 * table["p_value"].iloc[1]))


def test_selected_submission_replaces_the_best(board_setup) -> None:
    config, tokens, ids = board_setup
    select_submission(config, tokens["Team A"], ids["A-weak"], now=IN_DEV)
    table = build_board(config, "misme-ser", "dev", now=IN_DEV).table
    assert list(table["team"]) == ["Team B", "Team C", "Team A"]
    with pytest.raises(LeaderboardError, match="not one of your team's"):
        select_submission(config, tokens["Team B"], ids["A-weak"], now=IN_DEV)
    with pytest.raises(LeaderboardError, match="only scored submissions"):
        select_submission(config, tokens["Team D"], ids["D"], now=IN_DEV)
    # back to the module's state
    select_submission(config, tokens["Team A"], ids["A-perfect"], now=IN_DEV)
    assert list(build_board(config, "misme-ser", "dev", now=IN_DEV).table["team"])[0] == "Team A"


def test_private_scores_hidden_until_the_phase_ends(board_setup) -> None:
    config, _, _ = board_setup
    during = build_board(config, "misme-ser", "dev", now=IN_DEV)
    after = build_board(config, "misme-ser", "dev", now=AFTER_DEV)
    revealed = build_board(config, "misme-ser", "dev", reveal_private=True, now=IN_DEV)
    assert during.subset == "public"
    assert after.subset == revealed.subset == "private"
    assert "public accuracy" in after.table.columns
    assert not during.table["accuracy"].equals(after.table["accuracy"])
    assert after.table["accuracy"].tolist() == revealed.table["accuracy"].tolist()


def test_pairwise_matrix_is_symmetric(board_setup) -> None:
    config, _, _ = board_setup
    matrix = pairwise_p_values(build_board(config, "misme-ser", "dev", now=IN_DEV))
    assert list(matrix.index) == ["Team A", "Team B", "Team C"]
    assert matrix.loc["Team B", "Team C"] == 1.0  # identical predictions
    assert matrix.loc["Team A", "Team B"] == matrix.loc["Team B", "Team A"] < 0.05
    assert np.isnan(matrix.loc["Team A", "Team A"])


def test_empty_board(challenge) -> None:
    board = build_board(challenge, "misme-mer", "dev", now=IN_DEV)
    assert board.table.empty and board.primary_metric == "rmse" and not board.higher_is_better


def test_dm_helpers() -> None:
    same = np.array([0.0, 1.0, 0.0, 1.0])
    assert dm_p_value(same, same) == 1.0
    assert holm_adjust([0.01, float("nan"), 0.04]) == pytest.approx(
        [0.02, np.nan, 0.04], nan_ok=True
    )


@pytest.mark.parametrize("higher", [True, False])
def test_an_undefined_primary_score_ranks_last_in_either_direction(higher) -> None:
    """E.g. Pearson r or CCC of constant predictions is NaN: such a submission never leads."""
    import pandas as pd

    from leaderboard.boards.ranking import _order

    frame = pd.DataFrame(
        {
            "team": ["n", "a", "b"],
            "public": [np.nan, 0.4, 0.7],
            "submitted": [1, 2, 3],
            "submission": [1, 2, 3],
        }
    )
    ordered = list(_order(frame, "public", higher)["team"])
    assert ordered == (["b", "a", "n"] if higher else ["a", "b", "n"])


def test_pairwise_text_table_numbers_the_rows_and_never_prints_zero() -> None:
    names = ["RF E: mixed->BSS (oracle features, 5 seeds)", "B", "C"]
    matrix = pd.DataFrame(
        [[np.nan, 3.2e-7, 0.0], [3.2e-7, np.nan, 0.5], [0.0, 0.5, np.nan]],
        index=names,
        columns=names,
    )
    table = pairwise_text_table(matrix)
    assert list(table.index) == [f"1. {names[0]}", "2. B", "3. C"]  # full names
    assert list(table.columns) == ["1", "2", "3"]
    assert table.to_numpy().tolist() == [
        ["-", "3.2e-07", "< 1e-16"],
        ["3.2e-07", "-", "0.500"],
        ["< 1e-16", "0.500", "-"],
    ]
