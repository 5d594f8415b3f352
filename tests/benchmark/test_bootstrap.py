"""The vectorised paired bootstrap: same numbers as the slow reference loop, seeded, whole
groups resampled, rank intervals and the top group."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from benchmark import bootstrap as b
from benchmark.errors import BenchmarkError
from benchmark.io import SolutionArrays
from benchmark.scoring import resampling_codes, score_arrays
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


# ---------------------------------------------------------------- large files without groups


def _interval(values: np.ndarray) -> tuple[float, float]:
    low, high = b.percentile_interval(values)
    return float(low[0]), float(high[0])


def test_beyond_max_exact_ids_a_resample_draws_random_id_blocks(monkeypatch) -> None:
    """Without a group column, up to MAX_EXACT_IDS ids are resampled one by one (unchanged);
    beyond, ID_BLOCKS random blocks of ids: the draws no longer grow with the file."""
    drawn = []
    real = b.resample_draws
    monkeypatch.setattr(
        b, "resample_draws", lambda groups, *rest: drawn.append(groups) or real(groups, *rest)
    )
    for n, unit, count in [
        (b.MAX_EXACT_IDS, None, b.MAX_EXACT_IDS),
        (b.MAX_EXACT_IDS + 1, b.RANDOM_ID_BLOCKS, b.ID_BLOCKS),
    ]:
        truth, predictions = _regression(n=n, submissions=1)
        solution = SolutionArrays(
            pa.array([f"id{i}" for i in range(n)]),
            np.ones(n, dtype=np.int64),
            {"valence": truth[:, 0], "arousal": truth[:, 1]},
            None,
            {},
        )
        report = score_arrays(predictions[0], solution, MER, n_resamples=20, seed=3)
        assert (report.bootstrap["grouped_by"], report.bootstrap["n_groups"]) == (unit, count)
        assert drawn.pop() == count
    assert b.resampled_unit(b.RANDOM_ID_BLOCKS, 65_536) == "65,536 random blocks of ids"


def test_group_bootstraps_ignore_the_id_threshold() -> None:
    n = b.MAX_EXACT_IDS + 10
    text = {"actor": np.array([f"a{i % 24}" for i in range(n)], dtype=object)}
    codes, count, grouped_by = resampling_codes(text, n, seed=0)
    assert (count, grouped_by) == (24, "actor")
    np.testing.assert_array_equal(codes, b.group_codes(text["actor"], n)[0])


@pytest.mark.parametrize(("task", "metric"), [(MER, "rmse"), (MER, "ccc"), (SER, "accuracy")])
def test_id_blocks_give_the_exact_interval_within_a_few_percent(task, metric) -> None:
    """20,000 ids in 4,096 random blocks (about 5 ids each; the default cuts 1,000,000 ids
    into 65,536 blocks of 15, and the error shrinks with the number of blocks): both interval
    ends within 5 % of the exact id-level interval's width. The Monte Carlo error of 4,000
    resamples is about 1 % of the width per end and interval; over block seeds 0-9 the
    largest difference was 4.3 % (rmse, whose squared errors have a kurtosis of 15)."""
    n, n_blocks = 20_000, 4096
    truth, predictions = (
        _classification(n=n, submissions=1) if task is SER else _regression(n=n, submissions=1)
    )
    exact = _interval(
        b.replicates_of_codes(task, metric, truth, predictions, np.arange(n), n, n_resamples=4000)
    )
    blocks = b.id_block_codes(n, seed=0, n_blocks=n_blocks)
    assert set(np.bincount(blocks)) == {n // n_blocks, n // n_blocks + 1}
    approximate = _interval(
        b.replicates_of_codes(task, metric, truth, predictions, blocks, n_blocks, n_resamples=4000)
    )
    width = exact[1] - exact[0]
    assert abs(approximate[0] - exact[0]) < 0.05 * width
    assert abs(approximate[1] - exact[1]) < 0.05 * width


def test_id_blocks_are_seeded_and_independent_of_the_chunking(monkeypatch) -> None:
    """Blocks and draws are functions of the seed alone (the draws bit for bit, whatever the
    chunk size: test_draws_are_the_int64_draws_of_one_call); a chunk size other than the one
    the number of blocks sets changes only the rounding of the sums (BLAS adds in another
    order), far below any printed digit."""
    monkeypatch.setattr(b, "MAX_EXACT_IDS", 500)
    monkeypatch.setattr(b, "ID_BLOCKS", 64)
    truth, predictions = _regression(n=2000, submissions=1)
    first = b.replicates(MER, "ccc", truth, predictions, n_resamples=300, seed=5)
    np.testing.assert_array_equal(
        b.replicates(MER, "ccc", truth, predictions, n_resamples=300, seed=5), first
    )
    monkeypatch.setattr(b, "CHUNK_CELLS", 1000)  # 15 resamples per chunk instead of all 300
    chunked = b.replicates(MER, "ccc", truth, predictions, n_resamples=300, seed=5)
    np.testing.assert_allclose(chunked, first, rtol=1e-13, atol=0)
    np.testing.assert_allclose(_interval(chunked), _interval(first), rtol=1e-13, atol=0)
    other = b.replicates(MER, "ccc", truth, predictions, n_resamples=300, seed=6)
    assert _interval(other) != _interval(first)
    assert not np.array_equal(b.id_block_codes(2000, 5), b.id_block_codes(2000, 6))


def test_id_blocks_equal_the_reference_loop(monkeypatch) -> None:
    monkeypatch.setattr(b, "MAX_EXACT_IDS", 50)
    monkeypatch.setattr(b, "ID_BLOCKS", 16)
    truth, predictions = _regression(n=60)
    fast = b.replicates(MER, "rmse", truth, predictions, n_resamples=30, seed=4)
    slow = b.reference_replicates(MER, "rmse", truth, predictions, n_resamples=30, seed=4)
    np.testing.assert_allclose(fast, slow, rtol=1e-9, atol=1e-12)
    by_id = b.replicates(MER, "rmse", truth, predictions, groups=[str(i) for i in range(60)])
    assert not np.array_equal(by_id[:30], fast)  # 60 ids, not 16 blocks


@pytest.mark.parametrize("n_groups", [2, 7, 24, 1000, 70_000])
def test_draws_are_the_int64_draws_of_one_call(monkeypatch, n_groups) -> None:
    """resample_draws asks numpy for int32 draws (4x faster than int64) in chunks: for a
    range below 2**32 numpy draws both widths with the one bounded 32-bit generator
    (Lemire's), and a chunk continues the stream, so the draws are those of one int64 call
    (as before), whatever the chunk size: every interval stays the same."""
    monkeypatch.setattr(b, "CHUNK_CELLS", 150_000)
    drawn = np.concatenate(list(b.resample_draws(n_groups, 7, seed=9)))
    assert drawn.dtype == np.int32
    expected = np.random.default_rng(9).integers(0, n_groups, size=(7, n_groups))
    np.testing.assert_array_equal(drawn, expected)


def test_int32_and_int64_draws_agree_up_to_the_largest_int32() -> None:
    for high in (3, 2**16 + 1, 2**31 - 1):
        wide, narrow = np.random.default_rng(1), np.random.default_rng(1)
        np.testing.assert_array_equal(
            np.concatenate([wide.integers(0, high, 999) for _ in range(3)]),
            np.concatenate([narrow.integers(0, high, 999, dtype=np.int32) for _ in range(3)]),
        )
