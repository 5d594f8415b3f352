"""Seeded fold dealing that never splits a group (speaker, music clip, artist) across folds.

Every draw comes from (seed, purpose, stable id), so the folds do not depend on the order
items were found in, and adding or removing one item moves no other item of its stratum
more than the deal requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from builders.common.seeding import rng_for, seeded_order
from builders.errors import UserError


def quadrant(valence: float, arousal: float, midpoint: float = 5.0) -> str:
    """Russell quadrant on a scale centred at ``midpoint`` (zero counts as low).

    Q1: V>0, A>0; Q2: V<=0, A>0; Q3: V<=0, A<=0; Q4: V>0, A<=0.

    >>> quadrant(6.0, 4.0)
    'Q4'
    >>> quadrant(0.0, 0.1, midpoint=0.0)
    'Q2'
    """
    v, a = valence - midpoint, arousal - midpoint
    if a > 0:
        return "Q1" if v > 0 else "Q2"
    return "Q4" if v > 0 else "Q3"


def fold_order(n_folds: int, seed: int, purpose: str) -> list[int]:
    """A seeded permutation of fold numbers 1..n_folds, so fold 1 is not always the fullest."""
    order = rng_for(seed, purpose, "fold-order").permutation(n_folds)
    return [int(f) + 1 for f in order]


def deal_round_robin(strata: Sequence[tuple[str, Iterable[str]]], n_folds: int, seed: int,
                     purpose: str) -> dict[str, int]:
    """Folds for items dealt round-robin, stratum by stratum, the deal continuing across strata.

    ``strata`` is ``[(stratum key, item ids), ...]`` in a canonical order. Within a stratum
    the items are shuffled by a key drawn from (seed, ``purpose-<stratum key>``, id); the
    folds are visited in :func:`fold_order`. Fold sizes differ by at most one, and within
    each stratum by at most one.
    """
    folds: dict[str, int] = {}
    order = fold_order(n_folds, seed, purpose)
    position = 0
    for key, members in strata:
        for item in seeded_order(sorted(set(members)), seed, f"{purpose}-{key}"):
            folds[item] = order[position % n_folds]
            position += 1
    return folds


def require_every_fold(table: pd.DataFrame, n_folds: int, what: str) -> None:
    """UserError when some fold 1..n_folds has no row of ``table`` (column ``fold``)."""
    missing = sorted(set(range(1, n_folds + 1)) - set(table["fold"].unique()))
    if missing:
        raise UserError(f"too few {what} sources for {n_folds} folds: fold(s) {missing} would be empty "
                        f"({len(table)} {what} files found)")


def groups_in_several_folds(table: pd.DataFrame, column: str) -> int:
    """How many values of ``column`` (nulls ignored) occur in more than one fold (must be 0)."""
    values = table.dropna(subset=[column])
    if values.empty:
        return 0
    return int((values.groupby(column)["fold"].nunique() > 1).sum())
