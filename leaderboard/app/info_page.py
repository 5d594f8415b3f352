"""The challenge's landing page: description and rules (Markdown from the config, no HTML),
the data link, each task's evaluation and file format with a sample submission to download,
the phases with their status and time left, the team's quota once its token is known, and
the board as CSV."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st

from leaderboard.app.team_pages import show_format, show_quota, token_input
from leaderboard.boards.export_board import export_board
from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig
from leaderboard.challenge.summary import (
    evaluation_text,
    phase_status,
    sample_submission,
)
from leaderboard.store.sessions import utc_now


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def time_left(seconds: int) -> str:
    """``3 d 4 h 5 min`` (the largest two units that are not zero, minutes at least)."""
    days, rest = divmod(max(0, seconds), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    parts = [(days, "d"), (hours, "h"), (minutes, "min")]
    shown = [f"{value:,} {unit}" for value, unit in parts if value]
    return " ".join(shown[:2]) or "less than a minute"


def phase_line(config: ChallengeConfig, phase: str, now: datetime) -> str:
    chosen = config.phase(phase)
    state = phase_status(chosen, now)
    if state["status"] == "open":
        return (
            f"Phase {chosen.name} is open: it closes {chosen.end:%Y-%m-%d %H:%M} UTC, "
            f"in {time_left(state['seconds_left'])}."
        )
    if state["status"] == "upcoming":
        return (
            f"Phase {chosen.name} opens {chosen.start:%Y-%m-%d %H:%M} UTC, "
            f"in {time_left(state['seconds_left'])}."
        )
    return f"Phase {chosen.name} ended {chosen.end:%Y-%m-%d %H:%M} UTC."


def info_page(config: ChallengeConfig, task: str, phase: str) -> None:
    now = utc_now()
    st.subheader("Challenge", anchor=False)
    st.info(phase_line(config, phase, now))
    if config.description:
        st.markdown(config.description)  # Markdown; raw HTML is not rendered
    if config.rules:
        st.markdown("**Rules**")
        st.markdown(config.rules)
    if config.data_url:
        st.markdown(f"**Data**: [{config.data_url}]({config.data_url})")
    for each in config.tasks:
        _task_section(config, each.name, phase)
    _quota_section(config, task, phase)
    _phases_table(config, now)
    st.text(
        f"Maximum file size: {config.max_file_bytes:,} bytes; scoring time limit: "
        f"{config.time_limit_s:g} s"
    )
    board = build_board(config, task, phase)
    st.download_button(
        f"Download the {task} board of phase {phase} (CSV)",
        export_board(config, board, "csv"),
        file_name=f"board-{task}-{phase}.csv",
        mime="text/csv",
        key="board_csv",
    )
    st.caption(
        "A team's submissions, notes, messages and final choices are its own: "
        "see them under 'My submissions' with the team token."
    )


def _task_section(config: ChallengeConfig, task: str, phase: str) -> None:
    st.markdown(f"**Task {task}**")
    st.text(evaluation_text(config, task))
    show_format(task)
    solution = config.task(task).solution
    st.download_button(
        f"Download a sample submission for {task} ({phase})",
        _sample_csv(str(solution), solution.stat().st_mtime_ns, task, phase, config),
        file_name=f"sample-{task}-{phase}.csv",
        mime="text/csv",
        key=f"sample_csv_{task}",
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _sample_csv(solution: str, mtime_ns: int, task: str, phase: str, _config) -> str:
    """The sample submission, made once per solution file version, task and phase
    (``solution`` and ``mtime_ns`` are its cache key; ``_config`` is not hashed)."""
    return sample_submission(_config, task, phase)


def _quota_section(config: ChallengeConfig, task: str, phase: str) -> None:
    token = token_input("info_token", "Team token (optional: your quota left)")
    if token:
        show_quota(st, config, task, phase, token)


def _phases_table(config: ChallengeConfig, now: datetime) -> None:
    st.markdown("**Phases** (UTC)")
    rows = []
    for p in config.phases:
        state = phase_status(p, now)
        rows.append(
            {
                "phase": p.name,
                "status": state["status"],
                "start": f"{p.start:%Y-%m-%d %H:%M}",
                "end": f"{p.end:%Y-%m-%d %H:%M}",
                "public share of ids": p.public_fraction,
                "per day": _left(p.quota.per_day),
                "total": _left(p.quota.total),
                "failed count": p.quota.count_failed,
                "invalid per day": _left(p.quota.invalid_per_day),
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True)
