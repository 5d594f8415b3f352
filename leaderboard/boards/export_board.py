"""`misme-leaderboard export`: the final board of a task and phase as CSV, JSON or Markdown.

One row per team (its selected submission, else its best public one), ranked on the
private ids once the phase has ended (on the public ids before, and the export says so),
with the primary metric's interval, the rank interval, the top group, the Diebold-Mariano
test against the leader (raw and Holm-adjusted p), every other metric and the scorer;
the per-fold and per-group results of each row too (JSON: every metric; CSV and Markdown:
the primary one). Team names are data: Markdown escapes them, CSV cells that a spreadsheet
would run as a formula (leading = + - @) get a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pandas as pd
from sqlalchemy import select

from benchmark.pvalues import p_text
from leaderboard.boards.board import Board
from leaderboard.challenge.config import ChallengeConfig
from leaderboard.store.models import SubsetResult
from leaderboard.store.sessions import read_session

FORMATS = ("csv", "json", "markdown")
_FORMULA = ("=", "+", "-", "@")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&])")


def board_details(config: ChallengeConfig, board: Board) -> dict[int, dict]:
    """The stored details (per fold, per group, ...) of each row, on the board's ids."""
    ids = [int(i) for i in board.table["submission"]]
    with read_session(config) as session:
        rows = session.execute(
            select(SubsetResult.submission_id, SubsetResult.details_json).where(
                SubsetResult.submission_id.in_(ids), SubsetResult.subset == board.subset
            )
        ).all()
    return {int(sid): json.loads(blob) for sid, blob in rows}


def records(board: Board, details: dict[int, dict]) -> list[dict]:
    """Every row as plain data, with its per-fold and per-group results."""
    table = board.table.copy()
    table["submitted"] = table["submitted"].map(lambda t: t.isoformat())
    result = []
    for row in table.to_dict("records"):
        extra = details.get(int(row["submission"]), {})
        row = {k: _plain(v) for k, v in row.items()}
        for key in ("rank_low", "rank_high"):
            row[key] = None if row[key] is None else int(row[key])
        row["per_fold"] = extra.get("per_fold", [])
        row["per_group"] = extra.get("per_group", {})
        if "per_class" in extra:
            row["per_class"] = extra["per_class"]
        result.append(row)
    return result


def _plain(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _flat(row: dict, metric: str) -> dict:
    """A record's scalar columns plus the primary metric per fold and per group."""
    flat = {k: v for k, v in row.items() if k not in ("per_fold", "per_group", "per_class")}
    for fold in row["per_fold"]:
        flat[f"fold {fold['fold']} {metric}"] = fold.get(metric)
    for column, values in row["per_group"].items():
        for value, scores in values.items():
            flat[f"{column}={value} {metric}"] = scores.get(metric)
    return flat


def to_json(config: ChallengeConfig, board: Board, rows: list[dict]) -> str:
    document = {
        "challenge": config.name,
        "task": board.task,
        "phase": board.phase,
        "ranked_on": board.subset,
        "final": board.subset == "private",
        "primary_metric": board.primary_metric,
        "higher_is_better": board.higher_is_better,
        "bootstrap": board.bootstrap,
        "significance": "Diebold-Mariano against rank 1 on per-id losses, Holm-adjusted "
        "over the rows, alpha 0.05",
        "rows": rows,
    }
    return json.dumps(document, indent=2, allow_nan=False, default=str) + "\n"


def _safe_cell(value) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def to_csv(board: Board, rows: list[dict]) -> str:
    flat = [_flat(row, board.primary_metric) for row in rows]
    columns = list(dict.fromkeys(k for row in flat for k in row)) or list(board.table.columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in flat:
        writer.writerow({k: _safe_cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def markdown_text(value) -> str:
    """A value as literal Markdown text (every special character escaped)."""
    text = "n/a" if value is None else str(value)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text.replace("\n", " "))


def _md(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return str(value)
    return markdown_text(value)


def to_markdown(config: ChallengeConfig, board: Board, rows: list[dict]) -> str:
    metric = board.primary_metric
    state = (
        "final, private ids"
        if board.subset == "private"
        else "not final: public ids, the phase has not ended"
    )
    lines = [
        f"# {markdown_text(config.name)}: {markdown_text(board.task)}, phase "
        f"{markdown_text(board.phase)} ({state})",
        "",
        f"Ranked by {markdown_text(metric)} ({'higher' if board.higher_is_better else 'lower'} "
        "is better). CI: 95 % paired bootstrap interval; rank CI: 95 % interval of the rank; "
        "top: the rank interval overlaps the leader's; p (Holm): Diebold-Mariano against "
        "rank 1, Holm-adjusted.",
        "",
    ]
    columns = [
        "rank",
        "team",
        metric,
        "CI",
        "rank CI",
        "top",
        "p (Holm)",
        "significant",
        "submission",
        "scorer",
    ]
    lines += ["| " + " | ".join(map(markdown_text, columns)) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [
            _md(row["rank"]),
            _md(row["team"]),
            _md(row.get(metric)),
            _pair(row["ci_low"], row["ci_high"]),
            _pair(row["rank_low"], row["rank_high"], "{:.0f}"),
            _md(row["top_group"]),
            p_text(row["p_holm"]),
            _md(row["significant"]),
            _md(row["submission"]),
            _md(row["scorer"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _breakdown_table(board, rows)]
    return "\n".join(lines) + "\n"


def _pair(low, high, form: str = "{:.4f}") -> str:
    if low is None or high is None:
        return "n/a"
    first, second = form.format(low), form.format(high)
    return first if first == second and form == "{:.0f}" else f"[{first}, {second}]"


def _breakdown_table(board: Board, rows: list[dict]) -> str:
    flat = pd.DataFrame([_flat(row, board.primary_metric) for row in rows])
    columns = [c for c in flat.columns if c.startswith("fold ") or "=" in c]
    if not columns:
        return ""
    lines = [
        f"## {markdown_text(board.primary_metric)} per fold and per group",
        "",
        "| team | " + " | ".join(map(markdown_text, columns)) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for _, row in flat.iterrows():
        lines.append(
            "| " + " | ".join([markdown_text(row["team"]), *(_md(row[c]) for c in columns)]) + " |"
        )
    return "\n".join(lines)


def export_board(config: ChallengeConfig, board: Board, fmt: str) -> str:
    rows = records(board, board_details(config, board))
    if fmt == "json":
        return to_json(config, board, rows)
    if fmt == "csv":
        return to_csv(board, rows)
    return to_markdown(config, board, rows)
