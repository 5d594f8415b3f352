"""Diebold-Mariano against the `dieboldmariano` package and the t-test identity; McNemar,
bootstrap and Holm against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from dieboldmariano import dm_test
from scipy import stats as sps

from benchmark import metrics as m
from benchmark import stats
from benchmark.errors import BenchmarkError


def _errors(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    common = rng.normal(size=n)
    e1 = common + rng.normal(0, 0.8, n)
    e2 = (
        1.1 * common
        + rng.normal(0, 0.8, n)
        + np.convolve(rng.normal(size=n + 2), [1, 0.5, 0.3], "valid")
    )
    return e1, e2


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("h", [1, 2, 3, 5])
@pytest.mark.parametrize("power", [1, 2])
def test_dm_matches_dieboldmariano_package(seed, h, power):
    e1, e2 = _errors(seed)
    zeros = np.zeros(len(e1))
    loss = lambda actual, predicted: abs(predicted - actual) ** power  # noqa: E731
    expected_stat, expected_p = dm_test(zeros, e1, e2, loss=loss, h=h)
    result = stats.diebold_mariano(e1, e2, h=h, power=power)
    assert result.statistic == pytest.approx(expected_stat, rel=1e-9)
    assert result.pvalue == pytest.approx(expected_p, rel=1e-6, abs=1e-12)
    _, one_sided = dm_test(zeros, e1, e2, loss=loss, h=h, one_sided=True)
    assert stats.diebold_mariano(
        e1, e2, h=h, power=power, alternative="less"
    ).pvalue == pytest.approx(one_sided, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_dm_h1_equals_one_sample_t_test(seed):
    e1, e2 = _errors(seed, n=57)
    d = e1**2 - e2**2
    reference = sps.ttest_1samp(d, 0.0)
    result = stats.diebold_mariano(e1, e2)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-10)
    assert result.pvalue == pytest.approx(reference.pvalue, rel=1e-8)
    for alternative in ("less", "greater"):
        expected = sps.ttest_1samp(d, 0.0, alternative=alternative).pvalue
        assert stats.diebold_mariano(e1, e2, alternative=alternative).pvalue == pytest.approx(
            expected, rel=1e-8
        )


def test_dm_alternatives_are_complementary():
    e1, e2 = _errors(7)
    less = stats.diebold_mariano(e1, e2, h=3, alternative="less").pvalue
    greater = stats.diebold_mariano(e1, e2, h=3, alternative="greater").pvalue
    two = stats.diebold_mariano(e1, e2, h=3).pvalue
    assert less + greater == pytest.approx(1.0)
    assert two == pytest.approx(2 * min(less, greater))


def test_dm_from_losses_equals_dm_on_errors():
    e1, e2 = _errors(3)
    a = stats.diebold_mariano(e1, e2, h=2, power=1)
    b = stats.diebold_mariano_from_losses(np.abs(e1), np.abs(e2), h=2)
    assert (a.statistic, a.pvalue) == (b.statistic, b.pvalue)


def test_dm_zero_variance_is_a_clear_error():
    e = np.arange(10.0)
    with pytest.raises(BenchmarkError, match="variance is zero"):
        stats.diebold_mariano(e, e)


def test_dm_negative_variance_is_a_clear_error():
    d = np.tile([1.0, -1.0], 20)  # lag-1 autocovariance ~ -gamma_0 -> V < 0 with h=2
    with pytest.raises(BenchmarkError, match="negative"):
        stats.diebold_mariano_from_losses(d, np.zeros_like(d), h=2)


@pytest.mark.parametrize("kwargs", [{"h": 0}, {"h": 50}, {"alternative": "bigger"}, {"power": 0}])
def test_dm_bad_parameters(kwargs):
    e1, e2 = _errors(0, n=50)
    with pytest.raises(BenchmarkError):
        stats.diebold_mariano(e1, e2, **kwargs)


def test_mcnemar_exact_matches_binomial_test():
    rng = np.random.default_rng(0)
    c1, c2 = rng.random(40) < 0.6, rng.random(40) < 0.5
    result = stats.mcnemar(c1, c2, exact=True)
    b, c = int(np.sum(c1 & ~c2)), int(np.sum(~c1 & c2))
    assert (result.b, result.c) == (b, c)
    assert result.pvalue == pytest.approx(sps.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)


def test_mcnemar_asymptotic_known_value():
    c1 = np.array([True] * 30 + [False] * 10 + [True] * 50)
    c2 = np.array([False] * 30 + [True] * 10 + [True] * 50)
    result = stats.mcnemar(c1, c2)
    assert not result.exact
    assert result.statistic == pytest.approx((20 - 1) ** 2 / 40)
    assert result.pvalue == pytest.approx(sps.chi2.sf(361 / 40, 1))


def test_holm_matches_r_p_adjust():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") -> 0.03 0.06 0.06 0.02
    np.testing.assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(stats.holm([0.5, 0.9]), [1.0, 1.0])


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    t = rng.uniform(1, 9, 300)
    p = t + rng.normal(0, 1, 300)
    a = stats.bootstrap_ci(m.rmse, t, p, n_resamples=300, seed=5)
    assert a == stats.bootstrap_ci(m.rmse, t, p, n_resamples=300, seed=5)
    assert a != stats.bootstrap_ci(m.rmse, t, p, n_resamples=300, seed=6)
    assert a[0] < m.rmse(t, p) < a[1]
    narrow = stats.bootstrap_ci(m.rmse, t, p, n_resamples=300, seed=5, confidence=0.5)
    assert a[0] < narrow[0] < narrow[1] < a[1]
