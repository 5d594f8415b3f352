"""The pages of a team with its token: submit, and its own submissions (nobody else's)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from leaderboard.challenge.config import ChallengeConfig, primary_metric
from leaderboard.challenge.summary import task_format
from leaderboard.errors import LeaderboardError
from leaderboard.store.quotas import quota_state
from leaderboard.store.sessions import read_session, utc_now
from leaderboard.store.teams import UNKNOWN_TOKEN, team_for_token
from leaderboard.submissions.history import my_submissions

KEPT_TOKEN = "team_token"  # the token typed on one team page, offered on the other


def submit_page(config: ChallengeConfig, task: str, phase: str) -> None:
    """Token, the file format, the upload form; refusals shown where they belong (a token's
    under its field), the form kept, the outcome inline below it."""
    from leaderboard.scoring.warm import prestart

    prestart()  # the scoring zygote loads while the form is filled in (once per server)
    st.subheader(f"Submit predictions for {task}", anchor=False)
    token = token_input("token")
    token_line = st.empty()  # the team's quota, or what is wrong with the token
    _show_quota(token_line, config, task, token)
    show_format(task)
    with st.form("submit", clear_on_submit=False):
        upload = st.file_uploader(
            f"Prediction file (CSV or Parquet, at most {config.max_file_bytes:,} bytes)",
            type=["csv", "parquet"],
            max_upload_size=upload_limit_mb(config.max_file_bytes),
        )
        note = st.text_input("Note (optional)", max_chars=500)  # only the team sees it
        sent = st.form_submit_button("Submit")
    if not sent:
        return
    if not token:
        token_line.error("Give your team token.")
        return
    if upload is None:
        st.warning("Choose a prediction file.")
        return
    try:
        outcome = _submit_upload(config, task, token, upload, note)
    except LeaderboardError as error:
        (token_line if str(error) == UNKNOWN_TOKEN else st).error(str(error))
        return
    _show_quota(token_line, config, task, token)
    show_outcome(outcome)


def upload_limit_mb(max_file_bytes: int) -> int:
    """The uploader's limit (whole MiB, as Streamlit counts): the config's, rounded up; the
    exact limit in bytes is checked on the file itself."""
    return max(1, -(-max_file_bytes // 2**20))


def _submit_upload(config: ChallengeConfig, task: str, token: str, upload, note: str):
    from leaderboard.submissions.submit import submit

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        return submit(config, path, task, token, note=note, file_name=upload.name)


def show_format(task: str) -> None:
    """The columns a prediction file has, the labels or scale, and a sample row."""
    form = task_format(task)
    if form["labels"]:
        codes = form["codes"]
        accepted = f"labels: {', '.join(form['labels'])}" + (
            f" (or codes {codes[0]}-{codes[1]})" if codes else ""
        )
    elif form["value_range"]:
        accepted = f"values on [{form['value_range'][0]:g}, {form['value_range'][1]:g}]"
    else:
        accepted = "numbers"
    st.text(
        f"Expected file: CSV or Parquet with the columns {', '.join(form['columns'])}, "
        f"one row per id; {accepted}. For example:"
    )
    sample = form["sample_row"]
    st.code(
        ",".join(form["columns"]) + "\n" + ",".join(str(sample[c]) for c in form["columns"]),
        language=None,
    )


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
    """The team's quota left in the open phase, or what is wrong, in ``slot``."""
    if token:
        try:
            phase = config.open_phase(utc_now()).name
        except LeaderboardError as error:
            slot.error(str(error))
            return
        show_quota(slot, config, task, phase, token)


def show_quota(slot, config: ChallengeConfig, task: str, phase: str, token: str) -> None:
    """``Team X: quota left in phase P: today N, total M`` in ``slot``, or the token's refusal."""
    now, chosen = utc_now(), config.phase(phase)
    try:
        with read_session(config) as session:
            team = team_for_token(session, config, token)
            state = quota_state(session, team.id, task, chosen.name, chosen.quota, now)
    except LeaderboardError as error:
        slot.error(str(error))
        return
    slot.text(
        f"Team {team.name}: quota left in phase {chosen.name}: today "
        f"{_left(state.left_today)}, total {_left(state.left_total)}"
    )


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def token_input(key: str, label: str = "Team token") -> str:
    """The team token box; what was typed on one page is kept for the others."""
    if key not in st.session_state and st.session_state.get(KEPT_TOKEN):
        st.session_state[key] = st.session_state[KEPT_TOKEN]  # before the widget exists
    token = st.text_input(label, type="password", key=key)
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
