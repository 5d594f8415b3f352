"""Seeded fold dealing that never splits a group (speaker, music clip, artist) across folds.

Every draw comes from (seed, purpose, stable id), so the folds do not depend on the order
items were found in, and adding or removing one item moves no other item of its stratum
more than the deal requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
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


def deal_round_robin(
    strata: Sequence[tuple[str, Iterable[str]]], n_folds: int, seed: int, purpose: str
) -> dict[str, int]:
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
        raise UserError(
            f"too few {what} sources for {n_folds} folds: fold(s) {missing} would be empty "
            f"({len(table)} {what} files found)"
        )


def groups_in_several_folds(table: pd.DataFrame, column: str) -> int:
    """How many values of ``column`` (nulls ignored) occur in more than one fold (must be 0)."""
    values = table.dropna(subset=[column])
    if values.empty:
        return 0
    return int((values.groupby(column)["fold"].nunique() > 1).sum())


def connected_groups(keys: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Items that share any key (an artist, a song, a video) end up in one group.

    ``keys`` maps each item id to its grouping keys (nulls left out by the caller); the
    result maps each item to its group's name, the smallest item id in it. Union-find.

    >>> sorted(connected_groups({"a": ["x"], "b": ["x", "y"], "c": ["y"], "d": ["z"]}).items())
    [('a', 'a'), ('b', 'a'), ('c', 'a'), ('d', 'd')]
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for item, item_keys in sorted(keys.items()):
        for key in item_keys:
            a, b = find(f"item:{item}"), find(f"key:{key}")
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for item in keys:
        members.setdefault(find(f"item:{item}"), []).append(item)
    return {item: min(group) for group in members.values() for item in group}


def stratified_group_folds(
    groups: Mapping[str, str], labels: Mapping[str, str], n_folds: int, seed: int, purpose: str
) -> dict[str, int]:
    """Folds for items such that no group spans folds, label shares per fold stay close.

    Like scikit-learn's ``StratifiedGroupKFold(shuffle=True)``: groups are taken in a
    seeded order, largest first (ties by the seeded order), and each goes to the fold where
    the mean over labels of the spread (std across folds) of ``count(label, fold) /
    count(label)`` is smallest; ties go to the fold with fewest items, then to the earlier
    fold of :func:`fold_order`. ``groups`` and ``labels`` map item id -> group / label.
    Deterministic: depends on (seed, purpose, ids) only, never on input order.
    """
    classes = sorted(set(labels.values()))
    members: dict[str, list[str]] = {}
    for item in sorted(groups):
        members.setdefault(groups[item], []).append(item)
    counts = {
        g: np.array([sum(labels[i] == c for i in items) for c in classes], dtype=np.float64)
        for g, items in members.items()
    }
    totals = np.maximum(sum(counts.values(), np.zeros(len(classes))), 1.0)
    shuffled = seeded_order(sorted(members), seed, f"{purpose}-groups")
    rank = {g: position for position, g in enumerate(shuffled)}
    per_fold = np.zeros((n_folds, len(classes)))
    sizes = np.zeros(n_folds)
    order = fold_order(n_folds, seed, purpose)
    folds: dict[str, int] = {}
    for group in sorted(members, key=lambda g: (-len(members[g]), rank[g])):
        spreads = []
        for slot in range(n_folds):
            trial = per_fold.copy()
            trial[slot] += counts[group]
            spreads.append(
                (round(float(np.std(trial / totals, axis=0).mean()), 12), sizes[slot], slot)
            )
        slot = min(spreads)[2]
        per_fold[slot] += counts[group]
        sizes[slot] += len(members[group])
        for item in members[group]:
            folds[item] = order[slot]
    return folds
