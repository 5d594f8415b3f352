"""Seeded public/private split of a phase's solution ids.

Whole groups (speakers when the solution has an `actor`/`speaker`/`group`/`artist`
column, else single ids) go to one side. Each group gets a rank from
sha256(seed, group key), so the split depends on nothing but the seed and the keys.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd

from benchmark.io import GROUP_COLUMNS  # the one list: the bootstrap resamples the same groups


def group_keys(solution: pd.DataFrame) -> pd.Series:
    for column in GROUP_COLUMNS:
        if column in solution.columns:
            return solution[column].astype(str)
    return solution["id"].astype(str)


def public_mask(solution: pd.DataFrame, fraction: float, seed: int) -> np.ndarray:
    """Boolean array over the solution rows: True where the id is public."""
    keys = group_keys(solution)
    groups = sorted(set(keys), key=lambda key: (_hash_rank(seed, key), key))
    n_public = min(len(groups), max(1, math.floor(fraction * len(groups) + 0.5)))
    public_groups = set(groups[:n_public])
    return keys.isin(public_groups).to_numpy()


def _hash_rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}\x00{key}".encode()).hexdigest()


def ids_digest(ids: pd.Series) -> str:
    """Digest of an ordered id list: two loss vectors pair up only when these agree."""
    return hashlib.sha256("\n".join(ids.astype(str)).encode("utf-8")).hexdigest()
