"""The vectorised paired bootstrap: same numbers as the slow reference loop, seeded, whole
groups resampled, rank intervals and the top group."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark import bootstrap as b
from benchmark.errors import BenchmarkError
from benchmark.tasks import get_task

SER, MER, VAD = get_task("misme-ser"), get_task("misme-mer"), get_task("muse-vad")


def _classification(n: int = 60, seed: int = 0, submissions: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 8, n)
    return truth, [
        np.where(rng.random(n) < 0.5, truth, rng.integers(0, 8, n)) for _ in range(submissions)
    ]


def _regression(n: int = 60, targets: int = 2, seed: int = 0, submissions: int = 3):
    rng = np.random.default_rng(seed)
    truth = rng.uniform(1, 9, (n, targets))
    return truth, [truth + rng.normal(0, 1 + s, truth.shape) for s in range(submissions)]


def _groups(n: int, k: int = 7) -> list[str]:
    return [f"actor{i % k:02d}" for i in range(n)]


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize(
    ("task", "metric"),
    [(SER, name) for name in b.metric_names(SER)] + [(MER, name) for name in b.metric_names(MER)],
)
def test_vectorised_equals_the_reference_loop(task, metric, grouped) -> None:
    truth, predictions = (
        _classification()
        if task.kind == "classification"
        else _regression(targets=len(task.targets))
    )
    groups = _groups(len(truth)) if grouped else None
    fast = b.replicates(task, metric, truth, predictions, groups, n_resamples=30, seed=4)
    slow = b.reference_replicates(task, metric, truth, predictions, groups, n_resamples=30, seed=4)
    assert fast.shape == (30, 3)
    assert np.isfinite(fast).all()
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)


def test_three_targets_and_one_target_of_them() -> None:
    truth, predictions = _regression(targets=3)
    for metric in ("ccc", "ccc_n1_dominance", "pearson_r_arousal"):
        np.testing.assert_allclose(
            b.replicates(VAD, metric, truth, predictions, n_resamples=20, seed=1),
            b.reference_replicates(VAD, metric, truth, predictions, n_resamples=20, seed=1),
            rtol=1e-9,
        )


def test_reproducible_for_a_seed_and_different_for_another() -> None:
    truth, predictions = _classification()
    first = b.replicates(SER, "accuracy", truth, predictions, n_resamples=200, seed=7)
    again = b.replicates(SER, "accuracy", truth, predictions, n_resamples=200, seed=7)
    other = b.replicates(SER, "accuracy", truth, predictions, n_resamples=200, seed=8)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_submissions_scored_one_at_a_time_are_paired() -> None:
    """The draws depend only on the seed and the groups: one submission at a time (as the
    leaderboard's worker does) gives the columns of the joint computation."""
    truth, predictions = _regression()
    joint = b.replicates(MER, "rmse", truth, predictions, n_resamples=50, seed=2)
    for s, prediction in enumerate(predictions):
        alone = b.replicates(MER, "rmse", truth, [prediction], n_resamples=50, seed=2)
        np.testing.assert_allclose(alone[:, 0], joint[:, s], rtol=1e-12)


def test_whole_groups_are_resampled() -> None:
    """Two speakers, each always right or always wrong: a resample holds 0, 1 or 2 copies of
    the good speaker, so accuracy is 0, 1/2 or 1 and never anything in between."""
    truth = np.zeros(20, dtype=int)
    prediction = np.where(np.arange(20) < 10, 0, 1)
    groups = ["good"] * 10 + ["bad"] * 10
    values = b.replicates(SER, "accuracy", truth, [prediction], groups, n_resamples=300, seed=0)
    assert set(np.unique(values)) == {0.0, 0.5, 1.0}
    by_id = b.replicates(SER, "accuracy", truth, [prediction], None, n_resamples=300, seed=0)
    assert len(np.unique(by_id)) > 3


def test_rank_intervals_and_ties() -> None:
    values = np.array([[0.9, 0.5, 0.9], [0.8, 0.6, 0.1], [0.7, 0.9, np.nan]])
    ranks = b.resample_ranks(values, higher_is_better=True)
    assert ranks.tolist() == [[1, 3, 1], [1, 2, 3], [2, 1, 3]]  # a tie shares rank 1; NaN last
    assert b.resample_ranks(values[:, :2], higher_is_better=False).tolist() == [
        [2, 1],
        [2, 1],
        [1, 2],
    ]
    low, high = b.rank_intervals(values, True, confidence=0.95)
    assert low.tolist() == [1, 1, 1] and high.tolist() == [2, 3, 3]


def _board(truth, predictions, seed: int = 0):
    values = b.replicates(SER, "accuracy", truth, predictions, n_resamples=1000, seed=seed)
    low, high = b.rank_intervals(values, higher_is_better=True)
    return b.top_group(low, high, leader=0), low, high


def test_two_submissions_that_differ_only_by_noise_are_both_in_the_top_group() -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 8, 400)
    twins = [np.where(rng.random(400) < 0.6, truth, (truth + 1) % 8) for _ in range(2)]
    accuracy = [float(np.mean(p == truth)) for p in twins]
    order = np.argsort(accuracy)[::-1]  # the leader first, as on the board
    top, low, high = _board(truth, [twins[i] for i in order])
    assert accuracy[order[0]] != accuracy[order[1]]  # one of them does lead
    assert top.tolist() == [True, True]
    assert low.tolist() == [1, 1] and high.tolist() == [2, 2]


def test_a_clearly_better_leader_is_alone_in_the_top_group() -> None:
    rng = np.random.default_rng(6)
    truth = rng.integers(0, 8, 400)
    strong = np.where(rng.random(400) < 0.9, truth, (truth + 1) % 8)
    weak = np.where(rng.random(400) < 0.5, truth, (truth + 1) % 8)
    top, low, high = _board(truth, [strong, weak])
    assert top.tolist() == [True, False]
    assert (low.tolist(), high.tolist()) == ([1, 2], [1, 2])


def test_percentile_interval_brackets_the_estimate() -> None:
    truth, predictions = _regression(n=200)
    values = b.replicates(MER, "rmse", truth, predictions, n_resamples=500, seed=0)
    low, high = b.percentile_interval(values)
    estimate = [b.metric_function(MER, "rmse")(truth, p) for p in predictions]
    assert (low < estimate).all() and (estimate < high).all()
    narrow_low, narrow_high = b.percentile_interval(values, confidence=0.5)
    assert ((narrow_high - narrow_low) < (high - low)).all()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: b.replicates(SER, "rmse", [0], [[0]]), "cannot bootstrap 'rmse'"),
        (lambda: b.replicates(SER, "accuracy", [0], [[0]], n_resamples=0), "at least 1 resample"),
        (lambda: b.replicates(SER, "accuracy", [0, 1], [[0, 1]], ["a"]), "1 group keys for 2 ids"),
        (lambda: b.replicates(SER, "accuracy", [0], []), "no predictions"),
        (lambda: b.percentile_interval(np.zeros((3, 1)), confidence=1.5), "confidence"),
    ],
)
def test_bad_arguments_are_clear_errors(call, message) -> None:
    with pytest.raises(BenchmarkError, match=message):
        call()
