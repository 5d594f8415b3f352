import pandas as pd
import pytest

from builders.common.folds import quadrant
from builders.misme.folds import assign_actor_folds, assign_music_folds


def test_quadrant_rule_counts_zero_as_low():
    assert quadrant(6, 6) == "Q1"
    assert quadrant(5, 6) == "Q2"
    assert quadrant(4, 5) == "Q3"
    assert quadrant(6, 5) == "Q4"


def _actors(n=24):
    return pd.DataFrame(
        {
            "actor": [f"{i:02d}" for i in range(1, n + 1)],
            "gender": ["male" if i % 2 else "female" for i in range(1, n + 1)],
        }
    )


@pytest.mark.parametrize("seed", [0, 1, 20200830])
def test_actor_folds_have_two_male_and_two_female(seed):
    actors = _actors()
    folds = assign_actor_folds(actors, 6, seed)
    actors["fold"] = actors["actor"].map(folds)
    per_fold = actors.groupby(["fold", "gender"]).size().unstack()
    assert sorted(per_fold.index) == [1, 2, 3, 4, 5, 6]
    assert (per_fold["male"] == 2).all() and (per_fold["female"] == 2).all()


def test_actor_folds_ignore_input_order_and_depend_on_seed():
    actors = _actors()
    shuffled = actors.sample(frac=1, random_state=3)
    assert assign_actor_folds(actors, 6, 7) == assign_actor_folds(shuffled, 6, 7)
    assert assign_actor_folds(actors, 6, 7) != assign_actor_folds(actors, 6, 8)


def test_music_folds_equal_size_and_stratified():
    rows = []
    for corpus, n in (("deam", 50), ("soundtracks", 31)):
        for i in range(n):
            rows.append(
                {"source_id": f"{corpus}-{i}", "corpus": corpus, "quadrant": f"Q{i % 4 + 1}"}
            )
    music = pd.DataFrame(rows)
    folds = assign_music_folds(music, 6, 0)
    music["fold"] = music["source_id"].map(folds)
    sizes = music["fold"].value_counts()
    assert set(sizes.index) == set(range(1, 7))
    assert sizes.max() - sizes.min() <= 1
    for _, stratum in music.groupby(["corpus", "quadrant"]):
        counts = stratum["fold"].value_counts().reindex(range(1, 7), fill_value=0)
        assert counts.max() - counts.min() <= 1
    assert assign_music_folds(music.iloc[::-1], 6, 0) == folds
