"""A board's bootstrap intervals: the primary metric's interval and the rank interval of each
row, and the top group, from the replicates each submission's worker stored.

Every worker draws the same resamples (same seed, same sorted ids and groups), so the
stored replicates of different submissions are paired. A board's intervals are computed
once for its rows and stored (``board_intervals``) under a key of the metric, the subset
and the ranked submissions with a digest of their replicates; a page view reads them, and
only a board that changed (a new score, a selection, a rescore, the phase's end) computes
them again.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.exc import OperationalError

from leaderboard.challenge.config import ChallengeConfig
from leaderboard.store.models import BoardInterval, Challenge, SubsetResult
from leaderboard.store.sessions import write_session

COLUMNS = ("ci_low", "ci_high", "rank_low", "rank_high", "top_group")
SETTINGS = ("metric", "n_resamples", "seed", "grouped_by", "n_groups", "confidence")


@dataclass(frozen=True)
class Replicates:
    """One submission's stored bootstrap: its settings and values (None before schema 2)."""

    settings: dict
    values: np.ndarray | None
    ids_sha256: str
    digest: str | None


def load_replicates(session, submission_ids: list[int], subset: str) -> dict[int, Replicates]:
    rows = session.execute(
        select(
            SubsetResult.submission_id,
            SubsetResult.replicates_npy,
            SubsetResult.bootstrap_json,
            SubsetResult.ids_sha256,
        ).where(SubsetResult.submission_id.in_(submission_ids), SubsetResult.subset == subset)
    ).all()
    return {
        int(sid): Replicates(
            json.loads(meta or "{}"),
            _array(blob),
            ids,
            hashlib.sha256(blob).hexdigest() if blob else None,
        )
        for sid, blob, meta, ids in rows
    }


def _array(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.load(io.BytesIO(blob), allow_pickle=False)


def board_key(
    metric: str, subset: str, ranked: list[int], replicates: dict[int, Replicates]
) -> str:
    rows = [(sid, replicates[sid].digest if sid in replicates else None) for sid in ranked]
    return hashlib.sha256(json.dumps([metric, subset, rows]).encode()).hexdigest()


def compute(
    ranked: list[int], replicates: dict[int, Replicates], higher_is_better: bool, metric: str
) -> pd.DataFrame:
    """Intervals of the ranked submissions (leader first): those whose replicates pair with
    the leader's get a metric interval, a rank interval among themselves and the top-group
    mark; the others NaN (e.g. scored before schema 2, or under other bootstrap settings)."""
    from benchmark import bootstrap

    frame = pd.DataFrame(
        {
            "submission": ranked,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "rank_low": np.nan,
            "rank_high": np.nan,
            "top_group": False,
        }
    )
    leader = replicates.get(ranked[0]) if ranked else None
    if leader is None or leader.values is None or leader.settings.get("metric") != metric:
        return frame
    paired = [i for i, sid in enumerate(ranked) if _pairs_with(replicates.get(sid), leader)]
    values = np.column_stack([replicates[ranked[i]].values for i in paired])
    low, high = bootstrap.percentile_interval(values, leader.settings.get("confidence", 0.95))
    rank_low, rank_high = bootstrap.rank_intervals(
        values, higher_is_better, leader.settings.get("confidence", 0.95)
    )
    frame.loc[paired, "ci_low"], frame.loc[paired, "ci_high"] = low, high
    frame.loc[paired, "rank_low"], frame.loc[paired, "rank_high"] = rank_low, rank_high
    frame.loc[paired, "top_group"] = bootstrap.top_group(rank_low, rank_high, leader=0)
    return frame


def _pairs_with(replicates: Replicates | None, leader: Replicates) -> bool:
    return (
        replicates is not None
        and replicates.values is not None
        and replicates.ids_sha256 == leader.ids_sha256
        and all(replicates.settings.get(k) == leader.settings.get(k) for k in SETTINGS)
        and replicates.values.shape == leader.values.shape
    )


def stored(
    session, challenge_id: int, task: str, phase: str, subset: str, key: str
) -> pd.DataFrame | None:
    """The stored intervals of this board, if they were computed for ``key``."""
    rows = session.scalars(
        select(BoardInterval).where(
            BoardInterval.challenge_id == challenge_id,
            BoardInterval.task == task,
            BoardInterval.phase == phase,
            BoardInterval.subset == subset,
        )
    ).all()
    if not rows or any(row.board_key != key for row in rows):
        return None
    return pd.DataFrame(
        [
            {
                "submission": r.submission_id,
                "ci_low": _nan(r.low),
                "ci_high": _nan(r.high),
                "rank_low": _nan(r.rank_low),
                "rank_high": _nan(r.rank_high),
                "top_group": bool(r.top_group),
            }
            for r in rows
        ]
    )


def _nan(value) -> float:
    return np.nan if value is None else float(value)


def store(
    config: ChallengeConfig,
    challenge_id: int,
    task: str,
    phase: str,
    subset: str,
    key: str,
    frame: pd.DataFrame,
    now: datetime,
) -> None:
    """Replace the board's stored intervals (one writer at a time: the challenge row is
    locked). A database that cannot be written (read-only, busy) keeps the old rows: the
    page still shows what was computed."""
    try:
        with write_session(config) as session:
            session.execute(
                select(Challenge.id).where(Challenge.id == challenge_id).with_for_update()
            )
            session.execute(
                delete(BoardInterval).where(
                    BoardInterval.challenge_id == challenge_id,
                    BoardInterval.task == task,
                    BoardInterval.phase == phase,
                    BoardInterval.subset == subset,
                )
            )
            session.add_all(
                [
                    BoardInterval(
                        challenge_id=challenge_id,
                        task=task,
                        phase=phase,
                        subset=subset,
                        board_key=key,
                        submission_id=int(r.submission),
                        low=_none(r.ci_low),
                        high=_none(r.ci_high),
                        rank_low=_none(r.rank_low, int),
                        rank_high=_none(r.rank_high, int),
                        top_group=bool(r.top_group),
                        computed_at=now,
                    )
                    for r in frame.itertuples()
                ]
            )
    except OperationalError:
        pass


def _none(value, kind=float):
    return None if value is None or value != value else kind(value)
