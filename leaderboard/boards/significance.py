"""Significance of a board's differences: two-sided Diebold-Mariano tests on paired per-id
losses, Holm-corrected against the leader or over every pair."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leaderboard.boards.board import Board

ALPHA = 0.05


def with_significance(ranked: pd.DataFrame, losses: dict[int, np.ndarray]) -> pd.DataFrame:
    table = ranked.drop(columns=["selected"]).copy()
    table["p_value"] = np.nan
    table["p_holm"] = np.nan
    table["significant"] = False
    if len(table) < 2:
        return table
    leader = losses[int(table["submission"].iloc[0])]
    raw = [dm_p_value(leader, losses[int(sid)]) for sid in table["submission"].iloc[1:]]
    table.loc[1:, "p_value"] = raw
    table.loc[1:, "p_holm"] = holm_adjust(raw)
    table["significant"] = table["p_holm"] < ALPHA
    return table


def dm_p_value(losses_a: np.ndarray, losses_b: np.ndarray) -> float:
    """Two-sided Diebold-Mariano p-value on paired per-id losses; 1.0 when they never differ."""
    from benchmark.errors import BenchmarkError
    from benchmark.stats import diebold_mariano_from_losses

    differences = losses_a - losses_b
    if not np.any(differences):
        return 1.0
    try:
        result = diebold_mariano_from_losses(losses_a, losses_b)
    except BenchmarkError:
        return float("nan")  # e.g. zero variance of the differential
    return float(result.pvalue)


def holm_adjust(p_values: list[float]) -> list[float]:
    from benchmark.stats import holm

    values = np.asarray(p_values, dtype=float)
    finite = ~np.isnan(values)
    adjusted = np.full_like(values, np.nan)
    if finite.any():
        adjusted[finite] = holm(values[finite])
    return adjusted.tolist()


def pairwise_holm(matrix: pd.DataFrame) -> pd.DataFrame:
    """Holm-adjusted p-values over the family of all pairs of the matrix (symmetric)."""
    values = matrix.to_numpy(dtype=float)
    upper = np.triu_indices(len(values), k=1)
    adjusted = np.full_like(values, np.nan)
    adjusted[upper] = holm_adjust(values[upper].tolist())
    adjusted.T[upper] = adjusted[upper]
    return pd.DataFrame(adjusted, index=matrix.index, columns=matrix.columns)


def pairwise_p_values(board: Board) -> pd.DataFrame:
    """Matrix of two-sided DM p-values between the board's rows (team names as labels)."""
    teams = list(board.table["team"])
    ids = [int(s) for s in board.table["submission"]]
    matrix = pd.DataFrame(np.nan, index=teams, columns=teams)
    for i, a in enumerate(ids):
        for j in range(i + 1, len(ids)):
            p = dm_p_value(board.losses[a], board.losses[ids[j]])
            matrix.iloc[i, j] = matrix.iloc[j, i] = p
    return matrix


def pairwise_text_table(adjusted: pd.DataFrame) -> pd.DataFrame:
    """The p-value matrix as the page shows it: rows "k. team" and columns "k" numbered as in
    the heatmap, each p as :func:`benchmark.pvalues.p_text` writes it (never a bare 0), the
    diagonal "-"."""
    from benchmark.pvalues import p_text

    numbers = [str(k) for k in range(1, len(adjusted) + 1)]
    cells = [
        ["-" if i == j else p_text(p) for j, p in enumerate(row)]
        for i, row in enumerate(adjusted.to_numpy(dtype=float))
    ]
    index = [f"{k}. {name}" for k, name in zip(numbers, adjusted.index, strict=True)]
    return pd.DataFrame(cells, index=index, columns=numbers)
