"""Streamlit leaderboard: `streamlit run leaderboard/app/pages.py -- --config challenge.toml`
(or set MISME_LEADERBOARD_CONFIG). Team names, notes and messages are always shown as
text (data grid cells, st.text, st.code), never as Markdown or HTML."""

from __future__ import annotations

import argparse
import json
import os
import sys

import pandas as pd
import streamlit as st
from sqlalchemy import select

from leaderboard.app.info_page import info_page
from leaderboard.app.team_pages import my_submissions_page, submit_page
from leaderboard.boards.board import Board
from leaderboard.boards.ranking import build_board
from leaderboard.boards.significance import (
    pairwise_holm,
    pairwise_p_values,
    pairwise_text_table,
)
from leaderboard.boards.terminal import FIXED
from leaderboard.challenge.config import ChallengeConfig, load_config
from leaderboard.errors import LeaderboardError
from leaderboard.store.models import Score, SubsetResult
from leaderboard.store.sessions import read_session, utc_now
from leaderboard.submissions.sweep import sweep_unfinished

CONFIG_ENV = "MISME_LEADERBOARD_CONFIG"
DB_ENV = "MISME_LEADERBOARD_DB"
PAGES = (
    "Challenge info",
    "Leaderboard",
    "Submission detail",
    "Pairwise comparison",
    "Submit",
    "My submissions",
)


def config_path_from(argv: list[str], environ: dict[str, str]) -> str:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--config")
    known, _ = parser.parse_known_args(argv)
    path = known.config or environ.get(CONFIG_ENV)
    if not path:
        raise LeaderboardError(f"no challenge config: pass -- --config FILE or set {CONFIG_ENV}")
    return path


def app_config() -> ChallengeConfig:
    return load_config(config_path_from(sys.argv[1:], dict(os.environ)), os.environ.get(DB_ENV))


def main() -> None:
    st.set_page_config(page_title="MiSME leaderboard", layout="wide")
    try:
        config = app_config()
    except LeaderboardError as error:
        st.error("The leaderboard cannot start.")
        st.text(str(error))
        return
    page = st.sidebar.radio("Page", PAGES, key="page")
    task = st.sidebar.selectbox("Task", [t.name for t in config.tasks], key="task")
    phases = [p.name for p in config.phases]
    current = config.current_or_last_phase(utc_now()).name
    phase = st.sidebar.selectbox("Phase", phases, index=phases.index(current), key="phase")
    st.title(config.name, anchor=False)
    try:
        sweep_unfinished(config)  # submissions whose scorer was killed end as failed, uncharged
        RENDERERS[page](config, task, phase)
    except LeaderboardError as error:
        st.error("Something is not right.")
        st.text(str(error))


def leaderboard_page(config: ChallengeConfig, task: str, phase: str) -> None:
    board = build_board(config, task, phase)
    st.subheader(f"Leaderboard: {task}, phase {phase}", anchor=False)
    direction = "higher" if board.higher_is_better else "lower"
    ids = "private (final)" if board.subset == "private" else "public"
    st.caption(
        board_caption(board, ids, direction)
        + (
            ""
            if board.private_visible
            else f" Private scores are hidden until the phase ends "
            f"({config.phase(phase).end:%Y-%m-%d %H:%M} UTC)."
        )
    )
    if board.table.empty:
        st.info("No scored submissions yet.")
        return
    _interval_chart(board)
    older = board.table[board.table["older_scorer"]]
    if not older.empty:
        st.warning(
            f"{len(older)} row(s) were scored by an older scorer than today's "
            "(column 'older scorer'); the organizers can rescore them."
        )
    frame = board_frame(board)
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=ROW_PX * (len(frame) + 1) + 3,  # every row, no inner scrolling
        key="board",
        column_config=board_columns(board, frame),
    )


ROW_PX = 35  # a data grid row's height


def board_caption(board: Board, ids: str, direction: str) -> str:
    """What the page's columns mean (the terminal's names are `show`'s legend)."""
    settings = board.bootstrap
    how = (
        f"{settings['n_resamples']:,} paired bootstrap resamples (seed {settings['seed']})"
        if settings
        else "no bootstrap (no intervals)"
    )
    return (
        f"Ranked on the {ids} ids by {board.primary_metric} ({direction} is better); ties go "
        "to the earlier submission. Every metric is pooled: computed once over all the "
        "ranked ids, not a mean of folds (the fold values are on the submission page). "
        f"'95% CI': the interval of {board.primary_metric}, 'rank CI': of the rank, from "
        f"{how}; 'top group': the rank interval overlaps the leader's; 'significant vs "
        "leader': Diebold-Mariano test on paired per-id losses, Holm-adjusted p (Holm) "
        "< 0.05."
    )


def board_columns(board: Board, frame: pd.DataFrame) -> dict:
    """Headers and one number format: metrics to 4 decimals (labelled pooled); p-values are
    text (see :func:`board_frame`)."""
    columns = {
        name: st.column_config.NumberColumn(f"{name} (pooled)", format="%.4f")
        for name in frame.columns
        if name not in FIXED and pd.api.types.is_float_dtype(frame[name])
    }
    return {
        **columns,
        "significant": st.column_config.CheckboxColumn("significant vs leader"),
        "top_group": st.column_config.CheckboxColumn("top group"),
        "older_scorer": st.column_config.CheckboxColumn("older scorer"),
        "ci_low": st.column_config.NumberColumn("95% CI low", format="%.4f"),
        "ci_high": st.column_config.NumberColumn("95% CI high", format="%.4f"),
        "rank_low": st.column_config.NumberColumn("rank CI low", format="%d"),
        "rank_high": st.column_config.NumberColumn("rank CI high", format="%d"),
        "submitted": st.column_config.DatetimeColumn("submitted (UTC)", format="YYYY-MM-DD HH:mm"),
        "p_value": st.column_config.TextColumn("p (DM)"),  # text: benchmark.pvalues.p_text
        "p_holm": st.column_config.TextColumn("p (Holm)"),
    }


def _interval_chart(board: Board) -> None:
    """The dot-and-whisker chart of the primary metric and the top group's teams (as text)."""
    from benchmark import plots

    table = board.table
    if table["ci_low"].notna().any():
        figure = plots.chart(
            plots.draw_intervals,
            list(table["team"]),
            table[board.primary_metric],
            table["ci_low"],
            table["ci_high"],
            metric=board.primary_metric,
            higher_is_better=board.higher_is_better,
            top=table["top_group"],
            size=(
                max(8.0, 5 + 0.09 * max(len(str(t)) for t in table["team"])),
                1.2 + 0.45 * len(table),
            ),
        )
        st.image(
            plots.png_bytes(figure),
            caption=f"{board.primary_metric} with its 95 % "
            "bootstrap interval; leader in red, top group shaded",
        )
    top = list(table.loc[table["top_group"], "team"])
    if top:
        st.text(f"Top group (rank interval overlaps the leader's): {', '.join(top)}")
    else:
        st.text("Top group: not computed (no bootstrap replicates for the leader)")


def board_frame(board: Board) -> pd.DataFrame:
    """The table as shown: the primary metric, its intervals, the top group and the
    significance first (visible without scrolling), then the other metrics; naive UTC times."""
    frame = board.table.copy()
    frame["submitted"] = frame["submitted"].dt.tz_convert("UTC").dt.tz_localize(None)
    hidden = [c for c in frame.columns if c.startswith("pearson_p")]
    frame = frame.drop(columns=hidden)
    from benchmark.pvalues import p_text

    for column in ("p_value", "p_holm"):  # 3 decimals, 3.2e-07 or "< 1e-16": never a bare 0
        frame[column] = [p_text(p) for p in frame[column]]
    first = ["rank", "team", board.primary_metric, "significant", "p_holm", "top_group"]
    first += ["ci_low", "ci_high", "rank_low", "rank_high", "p_value"]
    return frame[[c for c in first if c in frame] + [c for c in frame if c not in first]]


def detail_page(config: ChallengeConfig, task: str, phase: str) -> None:
    board = build_board(config, task, phase)
    st.subheader("Submission detail", anchor=False)
    if board.table.empty:
        st.info("No scored submissions yet.")
        return
    labels = {
        int(r.submission): f"#{r.submission} (rank {r.rank})" for r in board.table.itertuples()
    }
    teams = dict(zip(board.table["submission"].astype(int), board.table["team"], strict=True))
    chosen = st.selectbox(
        "Submission", list(labels), format_func=lambda s: labels[s], key="detail_submission"
    )
    st.text(f"Team: {teams[chosen]}")
    # only what the board shows of a submission: no note, message or selection (a team's own)
    details, solution_sha256 = _submission_details(
        config, chosen, board.subset, board.primary_metric
    )
    row = board.table[board.table["submission"] == chosen].iloc[0]
    st.text(
        f"Scorer: {row['scorer']}"
        + (" (older than today's)" if row["older_scorer"] else "")
        + (f"; solution sha256 {solution_sha256[:16]}…" if solution_sha256 else "")
    )
    _detail_charts(details, board.primary_metric, board.subset, row[board.primary_metric])


def _detail_charts(details: dict, metric: str, subset: str, pooled: float) -> None:
    from benchmark import plots

    per_fold = pd.DataFrame(details.get("per_fold", []))
    if not per_fold.empty and metric in per_fold:
        st.markdown(
            f"**{metric} per fold** ({subset} ids; solid line: fold mean, band: ± sd; "
            "dashed: pooled over all ids, as on the board)"
        )
        folds, values = list(per_fold["fold"]), per_fold[metric]
        figure = plots.chart(plots.draw_fold_bars, folds, values, metric=metric, pooled=pooled)
        st.image(plots.png_bytes(figure))
        st.dataframe(
            per_fold.set_index("fold"),
            key="per_fold",
            column_config={  # the board's 4-decimal format
                c: st.column_config.NumberColumn(format="%.4f") for c in per_fold if c != "fold"
            },
        )
    if "confusion" in details:
        st.markdown("**Confusion matrix** (rows: true, columns: predicted)")
        confusion = details["confusion"]
        st.image(
            plots.png_bytes(
                plots.chart(
                    plots.draw_confusion, confusion["labels"], confusion["matrix"], size=(6, 5)
                )
            )
        )
    if details.get("per_class"):
        st.markdown("**Per class** (recall per emotion / quadrant)")
        st.dataframe(pd.DataFrame(details["per_class"]).T, key="per_class")
    for target, pairs in details.get("scatter", {}).items():
        st.markdown(f"**{target}: predicted vs true** (grey: identity)")
        st.image(
            plots.png_bytes(
                plots.chart(
                    plots.draw_scatter, pairs["true"], pairs["pred"], target=target, size=(5, 4.5)
                )
            )
        )
    _group_results(details.get("per_group", {}), metric)


def _group_results(per_group: dict, metric: str) -> None:
    from benchmark import plots

    if not per_group:
        return
    st.markdown(f"**{metric} per group**")
    values = {
        column: {value: scores.get(metric) for value, scores in by.items()}
        for column, by in per_group.items()
    }
    st.image(plots.png_bytes(plots.chart(plots.draw_group_bars, values, metric=metric)))
    rows = [
        {"group": f"{column} = {value}", **scores}
        for column, by in per_group.items()
        for value, scores in by.items()
    ]
    st.dataframe(pd.DataFrame(rows).set_index("group"), key="per_group")


def _submission_details(
    config: ChallengeConfig, submission_id: int, subset: str, metric: str
) -> tuple[dict, str | None]:
    with read_session(config) as session:
        blob = session.scalar(
            select(SubsetResult.details_json).where(
                SubsetResult.submission_id == submission_id, SubsetResult.subset == subset
            )
        )
        solution = session.scalar(
            select(Score.solution_sha256).where(
                Score.submission_id == submission_id, Score.subset == subset, Score.metric == metric
            )
        )
    return json.loads(blob) if blob else {}, solution


def pairwise_page(config: ChallengeConfig, task: str, phase: str) -> None:
    from benchmark import plots

    board = build_board(config, task, phase)
    st.subheader("Pairwise Diebold-Mariano p-values", anchor=False)
    st.caption(
        f"Two-sided DM tests on the paired per-id losses ({board.subset} ids), "
        "Holm-adjusted over all pairs; rows and columns in rank order; * : p < 0.05."
    )
    if len(board.table) < 2:
        st.info("At least two ranked teams are needed.")
        return
    adjusted = pairwise_holm(pairwise_p_values(board))
    names = list(adjusted.index)
    figure = plots.chart(
        plots.draw_pvalue_heatmap, names, adjusted.to_numpy(), size=plots.heatmap_size(names)
    )
    st.image(plots.png_bytes(figure), caption="Holm-adjusted p-values (framed, *: significant)")
    table = pairwise_text_table(adjusted)
    st.dataframe(table, width="stretch", height=ROW_PX * (len(table) + 1) + 3, key="pairwise")


RENDERERS = {
    "Leaderboard": leaderboard_page,
    "Submission detail": detail_page,
    "Pairwise comparison": pairwise_page,
    "Submit": submit_page,
    "My submissions": my_submissions_page,
    "Challenge info": info_page,
}

main()
