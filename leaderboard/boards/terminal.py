"""The board as text for a terminal (`misme-leaderboard show`), fitted to a width.

Per row: rank, team, the primary metric, its 95 % interval, the rank interval, the
top-group mark, significance against the leader, at most three headline metrics (every
metric with ``metrics="all"``) and the submission id; a legend under the table says what
the marks mean. Metric columns are dropped, then the team names shortened, until the lines
fit.
"""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from leaderboard.boards.board import Board

HEADLINE = {
    "classification": ("uar", "macro_f1", "weighted_f1"),
    "regression": ("mae", "ccc", "pearson_r"),
}
MIN_TEAM = 12
FIXED = (
    "rank",
    "team",
    "ci_low",
    "ci_high",
    "rank_low",
    "rank_high",
    "top_group",
    "significant",
    "p_holm",
    "p_value",
    "submission",
    "submitted",
    "scorer",
    "older_scorer",
)


def headline_metrics(board: Board, kind: str, metrics: str = "headline") -> list[str]:
    """The other metric columns to print: up to 3 headline ones, or all with "all"."""
    present = [
        c
        for c in board.table.columns
        if c not in FIXED
        and c != board.primary_metric
        and not c.startswith(("public ", "pearson_p"))
    ]
    if metrics == "all":
        return present
    return [m for m in HEADLINE[kind] if m in present and m != board.primary_metric][:3]


def _number(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _interval(low, high) -> str:
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    return f"[{low:.3f}, {high:.3f}]"


def _ranks(low, high) -> str:
    if pd.isna(low) or pd.isna(high):
        return "n/a"
    return f"{int(low)}" if int(low) == int(high) else f"{int(low)}-{int(high)}"


def board_rows(board: Board, others: list[str]) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of every row."""
    metric = board.primary_metric
    older = bool(board.table["older_scorer"].any())
    header = [
        "rank",
        "team",
        metric,
        "95% CI",
        "rank CI",
        "top",
        "sig",
        *others,
        "id",
        *(["scorer"] if older else []),
    ]
    rows = []
    for row in board.table.to_dict("records"):
        cells = [
            str(row["rank"]),
            str(row["team"]),
            _number(row[metric]),
            _interval(row["ci_low"], row["ci_high"]),
            _ranks(row["rank_low"], row["rank_high"]),
            "*" if row["top_group"] else "",
            "yes" if row["significant"] else "",
            *[_number(row.get(name)) for name in others],
            str(row["submission"]),
        ]
        rows.append(cells + (["older" if row["older_scorer"] else ""] if older else []))
    return header, rows


def _widths(header: list[str], rows: list[list[str]]) -> list[int]:
    return [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]


def _line(cells: list[str], widths: list[int], right: set[int]) -> str:
    parts = [
        c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
    ]
    return "  ".join(parts).rstrip()


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def fit_table(header: list[str], rows: list[list[str]], width: int, others: int) -> list[str]:
    """The table's lines within ``width``. The team names get the room they need first: the
    last of the ``others`` metric columns (they end 1 or 2 cells before the last) is dropped,
    one at a time, and only then are the names (column 1) shortened, down to MIN_TEAM."""
    while True:
        widths = _widths(header, rows)
        total = sum(widths) + 2 * (len(widths) - 1)
        if total > width and others > 0:
            drop = header.index("id") - 1
            header, rows = (
                header[:drop] + header[drop + 1 :],
                [r[:drop] + r[drop + 1 :] for r in rows],
            )
            others -= 1
            continue
        if total > width and widths[1] > MIN_TEAM:
            team = max(MIN_TEAM, widths[1] - (total - width))
            rows = [[r[0], _shorten(r[1], team), *r[2:]] for r in rows]
            header = [header[0], _shorten(header[1], team), *header[2:]]
            continue
        right = {0} | {
            i
            for i, h in enumerate(header)
            if h not in ("team", "95% CI", "rank CI", "top", "sig", "scorer")
        }
        lines = [_line(header, widths, right), "  ".join("-" * w for w in widths)]
        return lines + [_line(r, widths, right) for r in rows]


def legend(board: Board) -> str:
    settings = board.bootstrap
    if settings:
        from benchmark.bootstrap import resampled_unit

        unit = resampled_unit(settings.get("grouped_by"), settings["n_groups"])
        how = (
            f"95% CI: paired bootstrap interval ({settings['n_resamples']:,} resamples of "
            f"{unit}, seed {settings['seed']}); rank CI: 95% interval of the rank; top (*): "
            "rank interval overlaps the leader's"
        )
    else:
        how = "no bootstrap intervals (bootstrap_resamples = 0, or scored before schema 2)"
    return f"{how}; sig: Diebold-Mariano against rank 1, Holm-adjusted p < 0.05."


def board_text(
    board: Board, title: str, kind: str, *, width: int = 100, metrics: str = "headline"
) -> str:
    """Title, table and legend; every line within ``width`` unless ``metrics="all"``."""
    lines = textwrap.wrap(title, width)
    if board.table.empty:
        return "\n".join([*lines, "no scored submissions yet"]) + "\n"
    others = headline_metrics(board, kind, metrics)
    header, rows = board_rows(board, others)
    table = fit_table(header, rows, width if metrics != "all" else 10**6, len(others))
    if board.table["older_scorer"].any():
        table.append(
            "older: scored by an older scorer than today's (see `misme-leaderboard rescore`)"
        )
    return "\n".join([*lines, *table, *textwrap.wrap(legend(board), width)]) + "\n"
