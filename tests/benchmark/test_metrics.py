"""Every metric against scikit-learn / scipy on random data, plus property tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as sps
from sklearn import metrics as skm

from benchmark import metrics as m

SEEDS = range(5)


def _labels(seed: int, n: int = 300, k: int = 6):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, k, n)
    p = np.where(rng.random(n) < 0.4, t, rng.integers(0, k + 1, n))  # k: a class never true
    names = np.array([f"c{i}" for i in range(k + 1)])
    return names[t], names[p]


def _values(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    t = rng.uniform(1, 9, n)
    return t, 0.7 * t + rng.normal(0, 1, n) + 0.5


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", SEEDS)
def test_classification_metrics_match_sklearn(seed):
    t, p = _labels(seed)
    assert m.accuracy(t, p) == pytest.approx(skm.accuracy_score(t, p), abs=1e-12)
    assert m.uar(t, p) == pytest.approx(skm.balanced_accuracy_score(t, p), abs=1e-12)
    assert m.uar(t, p) == pytest.approx(
        skm.recall_score(t, p, labels=np.unique(t), average="macro", zero_division=0), abs=1e-12
    )
    assert m.macro_f1(t, p) == pytest.approx(
        skm.f1_score(t, p, average="macro", zero_division=0), abs=1e-12
    )
    labels = sorted(set(t) | set(p))
    np.testing.assert_array_equal(
        m.confusion_matrix(t, p, labels), skm.confusion_matrix(t, p, labels=labels)
    )
    per_class = m.precision_recall_per_class(t, p, labels)
    precision = skm.precision_score(t, p, labels=labels, average=None, zero_division=0)
    recall = skm.recall_score(t, p, labels=labels, average=None, zero_division=0)
    for k, label in enumerate(labels):
        assert per_class[label]["precision"] == pytest.approx(precision[k], abs=1e-12)
        if label in set(t):
            assert per_class[label]["recall"] == pytest.approx(recall[k], abs=1e-12)
        else:
            assert np.isnan(per_class[label]["recall"])


def test_uar_ignores_classes_only_predicted():
    t, p = ["a", "a", "b", "b"], ["a", "c", "b", "b"]
    assert m.uar(t, p) == pytest.approx((0.5 + 1.0) / 2)


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_metrics_match_sklearn_and_scipy(seed):
    t, p = _values(seed)
    assert m.rmse(t, p) == pytest.approx(np.sqrt(skm.mean_squared_error(t, p)), abs=1e-9)
    assert m.mae(t, p) == pytest.approx(skm.mean_absolute_error(t, p), abs=1e-9)
    assert m.r2(t, p) == pytest.approx(skm.r2_score(t, p), abs=1e-9)
    reference = sps.pearsonr(t, p)
    r, pvalue = m.pearson(t, p)
    assert r == pytest.approx(reference.statistic, abs=1e-9)
    assert pvalue == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-300)


@pytest.mark.parametrize("seed", SEEDS)
def test_pearson_pvalue_matches_scipy_for_weak_correlation(seed):
    rng = np.random.default_rng(seed)
    t, p = rng.normal(size=30), rng.normal(size=30)
    assert m.pearson(t, p)[1] == pytest.approx(sps.pearsonr(t, p).pvalue, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_ccc_matches_lin_formula_with_population_moments(seed):
    t, p = _values(seed)
    # Lin (1989): rho_c = 2 rho s_x s_y / (s_x^2 + s_y^2 + (mu_x - mu_y)^2), population moments
    rho = sps.pearsonr(t, p).statistic
    sx, sy = np.std(t), np.std(p)
    expected = 2 * rho * sx * sy / (sx**2 + sy**2 + (t.mean() - p.mean()) ** 2)
    assert m.ccc(t, p) == pytest.approx(expected, abs=1e-9)


def test_ccc_known_values():
    assert m.ccc([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert m.ccc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # shift by 1: s_xy = 2/3, s_x^2 = s_y^2 = 2/3, (mean diff)^2 = 1 -> 4/3 / (7/3) = 4/7
    assert m.ccc([1, 2, 3], [2, 3, 4]) == pytest.approx(4 / 7)


def test_undefined_values_are_nan_not_errors():
    assert np.isnan(m.r2([2, 2, 2], [1, 2, 3]))
    assert all(np.isnan(m.pearson([2, 2, 2], [1, 2, 3])))


@pytest.mark.parametrize("bad", [([1, 2], [1]), ([], []), ([1, np.nan], [1, 2]), ([[1]], [[1]])])
def test_invalid_inputs_raise(bad):
    with pytest.raises(ValueError):
        m.rmse(*bad)


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60))
def test_classification_bounds(pairs):
    t, p = np.array(pairs).T
    for value in (m.accuracy(t, p), m.uar(t, p), m.macro_f1(t, p)):
        assert 0.0 <= value <= 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 50).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=finite), arrays(np.float64, n, elements=finite)
        )
    )
)
def test_regression_bounds(pair):
    t, p = pair
    assert m.rmse(t, p) >= 0 and m.mae(t, p) >= 0
    assert m.mae(t, p) <= m.rmse(t, p) + 1e-9
    c = m.ccc(t, p)
    assert np.isnan(c) or -1 - 1e-9 <= c <= 1 + 1e-9
    r = m.pearson(t, p)[0]
    assert np.isnan(r) or -1 <= r <= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_regression_summary_equals_single_metrics(seed):
    t, p = _values(seed, n=50)
    summary = m.regression_summary(t, p)
    r, pvalue = m.pearson(t, p)
    expected = {
        "rmse": m.rmse(t, p),
        "mae": m.mae(t, p),
        "r2": m.r2(t, p),
        "pearson_r": r,
        "pearson_p": pvalue,
        "ccc": m.ccc(t, p),
        "ccc_n1": m.ccc_n1(t, p),
    }
    assert summary == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_regression_summary_edge_cases_match_single_metrics():
    summary = m.regression_summary([2.0, 2.0, 2.0], [1.0, 2.0, 3.0])
    assert np.isnan(summary["r2"]) and np.isnan(summary["pearson_r"])
    assert summary["ccc"] == pytest.approx(m.ccc([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_precision_recall_f1_match_sklearn(seed):
    t, p = _labels(seed)
    expected = skm.precision_recall_fscore_support(t, p, average="weighted", zero_division=0)
    assert m.weighted_prf(t, p) == pytest.approx(expected[:3], abs=1e-12)
    assert m.weighted_prf(t, p)[1] == pytest.approx(m.accuracy(t, p), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_ccc_n1_is_the_np_cov_form_of_the_muse_baselines(seed):
    t, p = _values(seed, n=20)
    cov = np.cov(t, p)  # divisor n - 1, as MuSe's baseline code
    expected = 2 * cov[0, 1] / (cov[0, 0] + cov[1, 1] + (t.mean() - p.mean()) ** 2)
    assert m.ccc_n1(t, p) == pytest.approx(expected, abs=1e-12)
    assert m.ccc_n1(t, p) != pytest.approx(m.ccc(t, p), abs=1e-6)  # the two divisors differ
    same_mean = p - p.mean() + t.mean()  # equal means: both forms agree
    assert m.ccc_n1(t, same_mean) == pytest.approx(m.ccc(t, same_mean), abs=1e-12)
    assert np.isnan(m.ccc_n1([1.0], [1.0]))


def test_docstring_examples():
    import doctest

    import benchmark.bootstrap

    for module in (m, benchmark.bootstrap):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
