"""The challenge's landing page: what it is, its tasks and phases, its limits."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from leaderboard.challenge.config import ChallengeConfig


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def info_page(config: ChallengeConfig, task: str, phase: str) -> None:
    from benchmark.tasks import get_task

    st.subheader("Challenge", anchor=False)
    if config.description:
        st.text(config.description)
    st.markdown("**Tasks**")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "task": t.name,
                    "description": get_task(t.name).description,
                    "primary metric": t.primary_metric or get_task(t.name).primary_metric,
                }
                for t in config.tasks
            ]
        ),
        hide_index=True,
    )
    st.markdown("**Phases** (UTC)")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "phase": p.name,
                    "start": f"{p.start:%Y-%m-%d %H:%M}",
                    "end": f"{p.end:%Y-%m-%d %H:%M}",
                    "public share of ids": p.public_fraction,
                    "per day": _left(p.quota.per_day),
                    "total": _left(p.quota.total),
                    "failed count": p.quota.count_failed,
                    "invalid per day": _left(p.quota.invalid_per_day),
                }
                for p in config.phases
            ]
        ),
        hide_index=True,
    )
    st.text(
        f"Maximum file size: {config.max_file_bytes:,} bytes; scoring time limit: "
        f"{config.time_limit_s:g} s"
    )
    st.caption(
        "A team's submissions, notes, messages and final choices are its own: "
        "see them under 'My submissions' with the team token."
    )
