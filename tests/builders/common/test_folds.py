"""Generic seeded fold dealing."""

from __future__ import annotations

from collections import Counter

import numpy as np

from builders.common.folds import (
    connected_groups,
    deal_round_robin,
    fold_order,
    stratified_group_folds,
)


def test_deal_is_balanced_within_and_across_strata_and_order_free():
    strata = [("a", [f"a{i}" for i in range(7)]), ("b", [f"b{i}" for i in range(11)])]
    folds = deal_round_robin(strata, 6, seed=3, purpose="t")
    sizes = Counter(folds.values())
    assert max(sizes.values()) - min(sizes.values()) <= 1 and set(sizes) == set(range(1, 7))
    for _, members in strata:
        per_fold = Counter(folds[m] for m in members)
        assert max(per_fold.values()) - min(per_fold.get(f, 0) for f in range(1, 7)) <= 1
    shuffled = [(k, list(reversed(v))) for k, v in strata]
    assert deal_round_robin(shuffled, 6, seed=3, purpose="t") == folds
    assert deal_round_robin(strata, 6, seed=4, purpose="t") != folds
    assert sorted(fold_order(6, 3, "t")) == list(range(1, 7))


def test_connected_groups_join_items_sharing_any_key():
    keys = {
        "d1": ["artist:kevin", "song:d-4"],
        "d2": ["artist:kevin", "song:d-7"],
        "s1": ["song:s-053"],
        "s2": ["song:s-053", "artist:horner"],
        "s3": ["artist:horner"],
        "e1": ["video:abc"],
    }
    groups = connected_groups(keys)
    assert groups == {"d1": "d1", "d2": "d1", "s1": "s1", "s2": "s1", "s3": "s1", "e1": "e1"}
    assert connected_groups(dict(reversed(list(keys.items())))) == groups


def test_stratified_group_folds_keep_groups_whole_and_shares_close():
    rng = np.random.default_rng(0)
    groups, labels = {}, {}
    for g in range(120):
        size = int(rng.integers(1, 6))
        quadrant = f"Q{int(rng.integers(1, 5))}"
        for k in range(size):
            item = f"g{g:03d}-{k}"
            groups[item], labels[item] = (
                f"g{g:03d}",
                quadrant if k else f"Q{int(rng.integers(1, 5))}",
            )
    folds = stratified_group_folds(groups, labels, 6, seed=1, purpose="t")
    assert set(folds) == set(groups) and set(folds.values()) == set(range(1, 7))
    assert all(len({folds[i] for i in groups if groups[i] == g}) == 1 for g in set(groups.values()))
    sizes = Counter(folds.values())
    assert max(sizes.values()) <= 1.25 * min(sizes.values())
    overall = Counter(labels.values())
    for fold in range(1, 7):
        in_fold = Counter(labels[i] for i in folds if folds[i] == fold)
        for label, n in overall.items():
            assert abs(in_fold[label] / sizes[fold] - n / len(labels)) < 0.06
    reordered = dict(reversed(list(groups.items())))
    assert stratified_group_folds(reordered, labels, 6, seed=1, purpose="t") == folds
    assert stratified_group_folds(groups, labels, 6, seed=2, purpose="t") != folds
