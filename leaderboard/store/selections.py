"""Final selections as a log of changes: what a team had selected at a given time (the
final board reads them as they stood at the phase's end)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leaderboard.store.models import SelectionChange, Submission, Team

UPGRADE = "schema-3 upgrade"  # who made the changes an upgrade records for older selections


def record_selection(
    session: Session, submission: Submission, selected: bool, at: datetime, by: str = "team"
) -> None:
    """Set a submission's current selection and log the change with its time."""
    submission.selected = selected
    session.add(SelectionChange(submission_id=submission.id, selected=selected, at=at, by=by))


def selected_before(
    session: Session, challenge_id: int, task: str, phase: str, cutoff: datetime
) -> set[int]:
    """The submissions of a task and phase selected just before ``cutoff``: each one's last
    logged change before then (later changes, whoever made them, do not count)."""
    rows = session.execute(
        select(SelectionChange.submission_id, SelectionChange.selected)
        .join(Submission, Submission.id == SelectionChange.submission_id)
        .join(Team, Team.id == Submission.team_id)
        .where(
            Team.challenge_id == challenge_id,
            Submission.task == task,
            Submission.phase == phase,
            SelectionChange.at < cutoff,
        )
        .order_by(SelectionChange.at, SelectionChange.id)
    ).all()
    state = dict(rows)  # the last change of each submission wins
    return {int(submission_id) for submission_id, selected in state.items() if selected}
