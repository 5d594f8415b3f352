"""The pages of a team with its token: submit, and its own submissions (nobody else's)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from leaderboard.challenge.config import ChallengeConfig, primary_metric
from leaderboard.errors import LeaderboardError
from leaderboard.store.quotas import quota_state
from leaderboard.store.sessions import read_session, utc_now
from leaderboard.store.teams import team_for_token
from leaderboard.submissions.history import my_submissions

KEPT_TOKEN = "team_token"  # the token typed on one team page, offered on the other


def submit_page(config: ChallengeConfig, task: str, phase: str) -> None:
    from leaderboard.scoring.warm import prestart
    from leaderboard.submissions.submit import submit

    prestart()  # the scoring zygote loads while the form is filled in (once per server)
    st.subheader(f"Submit predictions for {task}", anchor=False)
    token = token_input("token")
    quota_line = st.empty()  # filled again after a submission, so it never shows the old count
    _show_quota(quota_line, config, task, token)
    with st.form("submit", clear_on_submit=False):
        upload = st.file_uploader("Prediction file (CSV or Parquet)", type=["csv", "parquet"])
        note = st.text_input("Note (optional)", max_chars=500)
        sent = st.form_submit_button("Submit")
    if not sent:
        return
    if upload is None or not token:
        st.warning("Give your team token and a prediction file.")
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        outcome = submit(config, path, task, token, note=note, file_name=upload.name)
    _show_quota(quota_line, config, task, token)
    show_outcome(outcome)


def show_outcome(outcome) -> None:
    if outcome.status == "scored":
        st.success(f"Submission {outcome.submission_id} scored.")
        if warning := outcome.message.partition("; warning: ")[2]:
            st.warning(warning)
        st.dataframe(pd.DataFrame([outcome.public_metrics]).round(4), hide_index=True)
    else:
        st.error(f"Submission {outcome.submission_id}: {outcome.status}")
        st.code(outcome.message, language=None)
    if outcome.quota is not None:
        st.text(
            f"Quota left: today {_left(outcome.quota.left_today)}, "
            f"total {_left(outcome.quota.left_total)}"
        )


def _show_quota(slot, config: ChallengeConfig, task: str, token: str) -> None:
    if not token:
        return
    now = utc_now()
    phase = config.open_phase(now)
    with read_session(config) as session:
        team = team_for_token(session, config, token)
        state = quota_state(session, team.id, task, phase.name, phase.quota, now)
    slot.text(
        f"Team {team.name}: quota left in phase {phase.name}: today "
        f"{_left(state.left_today)}, total {_left(state.left_total)}"
    )


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def token_input(key: str) -> str:
    """The team token box; what was typed on one team page is kept for the other."""
    token = st.text_input(
        "Team token", type="password", key=key, value=st.session_state.get(KEPT_TOKEN, "")
    )
    st.session_state[KEPT_TOKEN] = token
    return token.strip()


def my_submissions_page(config: ChallengeConfig, task: str, phase: str) -> None:
    """The token's team's submissions of every task and phase: status, message, note,
    public score, selection and the file's sha256. Nobody else's."""
    st.subheader("My submissions", anchor=False)
    token = token_input("my_token")
    if not token:
        st.info("Give your team token to see your team's submissions (only your team sees them).")
        return
    try:
        records = my_submissions(config, token)
    except LeaderboardError as error:
        st.error(str(error))
        return
    if not records:
        st.info("Your team has no submissions yet.")
        return
    st.dataframe(my_submissions_frame(config, records), hide_index=True, key="mine")
    for record in records:
        if record["status"] != "scored" and record["message"]:
            with st.expander(f"Submission {record['id']}: {record['status']}"):
                st.code(record["message"], language=None)


def my_submissions_frame(config: ChallengeConfig, records: list[dict]) -> pd.DataFrame:
    rows = []
    for record in records:
        metric = (
            primary_metric(config, record["task"])[0] if record["task"] in _tasks(config) else ""
        )
        public = record["scores"].get("public", {})
        rows.append(
            {
                "submission": record["id"],
                "task": record["task"],
                "phase": record["phase"],
                "status": record["status"],
                "public score": f"{metric} {public[metric]:.4f}" if metric in public else "",
                "selected": record["selected"],
                "note": record["note"],
                "message": record["message"],
                "submitted (UTC)": record["submitted"][:19].replace("T", " "),
                "file": record["file_name"],
                "sha256": record["file_sha256"],
            }
        )
    return pd.DataFrame(rows)


def _tasks(config: ChallengeConfig) -> set[str]:
    return {task.name for task in config.tasks}
