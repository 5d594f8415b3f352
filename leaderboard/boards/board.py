"""A board: a ranked table plus what it was computed on."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Board:
    """A ranked table plus what it was computed on."""

    task: str
    phase: str
    subset: str  # the ids the ranking is computed on: "public" or "private"
    private_visible: bool
    primary_metric: str
    higher_is_better: bool
    # rank, team, metric, ci_low, ci_high, rank_low, rank_high, top_group, metrics...,
    # significant, p_holm, p_value, submission, submitted, scorer, older_scorer
    table: pd.DataFrame
    losses: dict[int, np.ndarray]  # by submission id, for the pairwise matrix
    bootstrap: dict = field(default_factory=dict)  # the leader's bootstrap settings
