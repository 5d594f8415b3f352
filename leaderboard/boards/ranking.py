"""Leaderboard tables: one row per team, ranked by the primary metric, with
Diebold-Mariano tests against the leader (Holm-corrected) and a pairwise p-value matrix."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select

from benchmark.version import scorer_label
from leaderboard.boards import intervals
from leaderboard.boards.board import Board
from leaderboard.boards.intervals import COLUMNS
from leaderboard.boards.significance import with_significance
from leaderboard.challenge.config import ChallengeConfig, primary_metric
from leaderboard.scoring.request import current_scorer
from leaderboard.store.arrays import load_losses
from leaderboard.store.models import Score, Submission, SubsetResult, Team
from leaderboard.store.schema import challenge_row
from leaderboard.store.selections import selected_before
from leaderboard.store.sessions import read_session, utc_now


def build_board(
    config: ChallengeConfig,
    task: str,
    phase: str,
    reveal_private: bool = False,
    now: datetime | None = None,
) -> Board:
    """The ranking of `task` in `phase`; private ids only once the phase ended (or revealed).

    Each team's row: its best selected submission (by the ranked ids; the selections as they
    stood at the phase's end), else its best public one. The intervals are read from the store, or computed and stored when the board
    changed (see :mod:`leaderboard.boards.intervals`)."""
    config.task(task)
    phase_config = config.phase(phase)
    metric, higher = primary_metric(config, task)
    now = now or utc_now()
    private_visible = reveal_private or phase_config.has_ended(now)
    with read_session(config) as session:
        challenge_id = challenge_row(session, config).id
        candidates = _scored_submissions(session, config, task, phase, metric)
        subset = "private" if private_visible and _has_private(session, candidates) else "public"
        if subset == "private":
            candidates = _with_private(session, candidates, metric)
        chosen = _choose_per_team(candidates, higher, subset)
        ranked = _rank(_attach(session, chosen, subset, metric), higher)
        ids = [int(i) for i in ranked["submission"]]
        losses = _losses(session, ids, subset)
        replicates = intervals.load_replicates(session, ids, subset)
        key = intervals.board_key(metric, subset, ids, replicates)
        found = intervals.stored(session, challenge_id, task, phase, subset, key) if ids else None
        scorers = _scorers(session, ids, subset, metric)
    if found is None and ids:
        found = intervals.compute(ids, replicates, higher, metric)
        intervals.store(config, challenge_id, task, phase, subset, key, found, now)
    current = current_scorer(config, task, phase).hash
    table = _with_scorers(
        _with_intervals(with_significance(ranked, losses), found), scorers, current
    )
    leader = replicates.get(ids[0]) if ids else None
    return Board(
        task,
        phase,
        subset,
        private_visible,
        metric,
        higher,
        _arrange(table, metric, subset),
        losses,
        leader.settings if leader else {},
    )


def _scored_submissions(
    session, config: ChallengeConfig, task: str, phase: str, metric: str
) -> pd.DataFrame:
    """Every scored submission with its public score and whether it was selected before the
    phase's end (the log of changes, not the current flag: see leaderboard.store.selections)."""
    challenge = challenge_row(session, config)
    query = (
        select(Submission.id, Team.name, Submission.created_at, Score.value)
        .join(Team, Team.id == Submission.team_id)
        .join(Score, Score.submission_id == Submission.id)
        .where(
            Team.challenge_id == challenge.id,
            Submission.task == task,
            Submission.phase == phase,
            Submission.status == "scored",
            Score.subset == "public",
            Score.metric == metric,
        )
    )
    rows = session.execute(query).all()
    frame = pd.DataFrame(rows, columns=["submission", "team", "submitted", "public"])
    chosen = selected_before(session, challenge.id, task, phase, config.phase(phase).end)
    frame.insert(3, "selected", [int(s) in chosen for s in frame["submission"]])
    return frame


def _has_private(session, candidates: pd.DataFrame) -> bool:
    if candidates.empty:
        return False
    first = int(candidates["submission"].iloc[0])
    return (
        session.scalar(
            select(SubsetResult.id).where(
                SubsetResult.submission_id == first, SubsetResult.subset == "private"
            )
        )
        is not None
    )


def _with_private(session, candidates: pd.DataFrame, metric: str) -> pd.DataFrame:
    ids = [int(i) for i in candidates["submission"]]
    rows = session.execute(
        select(Score.submission_id, Score.value).where(
            Score.submission_id.in_(ids), Score.subset == "private", Score.metric == metric
        )
    ).all()
    private = dict(rows)
    return candidates.assign(
        private=[private.get(int(i), np.nan) for i in candidates["submission"]]
    )


def _choose_per_team(
    candidates: pd.DataFrame, higher: bool, subset: str = "public"
) -> pd.DataFrame:
    """Per team its best selected submission on the ranked ids (a team may select up to the
    config's ``final_submissions``), else its best public one (ties: earliest)."""
    if candidates.empty:
        return candidates
    ordered = _order(candidates, "public", higher)
    rows = []
    for _, group in ordered.groupby("team", sort=False):
        selected = group[group["selected"].astype(bool)]
        rows.append(group.iloc[0] if selected.empty else _order(selected, subset, higher).iloc[0])
    return pd.DataFrame(rows).reset_index(drop=True)


def _order(frame: pd.DataFrame, column: str, higher: bool) -> pd.DataFrame:
    return frame.sort_values(
        [column, "submitted", "submission"], ascending=[not higher, True, True], kind="stable"
    )


def _attach(session, chosen: pd.DataFrame, subset: str, metric: str) -> pd.DataFrame:
    """Add every metric of `subset` as columns of the chosen submissions."""
    if chosen.empty:
        return chosen.assign(score=pd.Series(dtype=float), **{metric: pd.Series(dtype=float)})
    ids = [int(i) for i in chosen["submission"]]
    rows = session.execute(
        select(Score.submission_id, Score.metric, Score.value).where(
            Score.submission_id.in_(ids), Score.subset == subset
        )
    ).all()
    metrics = pd.DataFrame(rows, columns=["submission", "metric", "value"]).pivot(
        index="submission", columns="metric", values="value"
    )
    metrics["score"] = metrics[metric]
    return chosen.merge(metrics, left_on="submission", right_index=True, how="left")


def _rank(frame: pd.DataFrame, higher: bool) -> pd.DataFrame:
    ranked = _order(frame, "score", higher).reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def _losses(session, submission_ids: list[int], subset: str) -> dict[int, np.ndarray]:
    if not submission_ids:
        return {}
    rows = session.execute(
        select(SubsetResult.submission_id, SubsetResult.losses_npy).where(
            SubsetResult.submission_id.in_(submission_ids), SubsetResult.subset == subset
        )
    ).all()
    return {int(sid): load_losses(blob) for sid, blob in rows}


def _arrange(table: pd.DataFrame, metric: str, subset: str) -> pd.DataFrame:
    """Column order: rank, team, primary metric, its intervals, other metrics, significance,
    submission, scorer."""
    fixed = [
        "rank",
        "team",
        "submission",
        "submitted",
        "score",
        "public",
        "private",
        "significant",
        "p_holm",
        "p_value",
        "scorer",
        "older_scorer",
        *COLUMNS,
    ]
    others = sorted(c for c in table.columns if c not in fixed and c != metric)
    public = [] if subset == "public" else ["public"]
    ordered = table[
        [
            "rank",
            "team",
            metric,
            *COLUMNS,
            *others,
            *public,
            "significant",
            "p_holm",
            "p_value",
            "submission",
            "submitted",
            "scorer",
            "older_scorer",
        ]
    ]
    return ordered.rename(columns={"public": f"public {metric}"})


def _with_intervals(table: pd.DataFrame, intervals: pd.DataFrame | None) -> pd.DataFrame:
    if intervals is None or table.empty:
        return table.assign(**{c: pd.Series(dtype=float) for c in COLUMNS})
    merged = table.merge(intervals, on="submission", how="left")
    merged["top_group"] = merged["top_group"].fillna(False).astype(bool)
    return merged


def _scorers(session, ids: list[int], subset: str, metric: str) -> dict[int, tuple]:
    """(version, hash) of each submission's primary score."""
    rows = session.execute(
        select(Score.submission_id, Score.scorer_version, Score.scorer_hash).where(
            Score.submission_id.in_(ids), Score.subset == subset, Score.metric == metric
        )
    ).all()
    return {int(sid): (version, hash_) for sid, version, hash_ in rows}


def _with_scorers(table: pd.DataFrame, scorers: dict[int, tuple], current: str) -> pd.DataFrame:
    found = [scorers.get(int(s), (None, None)) for s in table["submission"]]
    return table.assign(
        scorer=[scorer_label(*pair) for pair in found],
        older_scorer=[pair[1] != current for pair in found],
    )
