"""Generic seeded fold dealing."""

from __future__ import annotations

from collections import Counter

from builders.common.folds import deal_round_robin, fold_order


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
