"""The C++ kernels of gammarules._core against their NumPy twins in gammarules.stats."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gammarules import _core
from gammarules.stats import cash, cash_sum, get_num_threads, set_num_threads, wstat, wstat_sum
from gammarules.stats.fit_statistic import wstat_mu_bkg

# more than 2**18 bins: processed with several threads
SIZES = [1, 7, 1000, 2**18 + 12345]


def counts_and_predictions(size, seed):
    """Counts with many zeros and predictions spanning 1e-30 .. 1e4, some exactly 0."""
    rng = np.random.default_rng(seed)
    scale = rng.choice([0.0, 1e-30, 1e-3, 0.4, 3.0, 60.0, 1e4], size)
    mu = scale * rng.uniform(0.5, 1.5, size)
    counts = rng.poisson(rng.choice([0.0, 0.3, 3.0, 60.0, 1e4], size)).astype(float)
    return counts, mu, rng


def relative_sum_error(value, terms):
    """|value - exact sum| relative to the sum of |terms| (the scale of rounding errors)."""
    return abs(value - math.fsum(terms)) / max(math.fsum(np.abs(terms)), 1e-300)


@pytest.mark.parametrize("size", SIZES)
def test_cash_matches_numpy(size):
    n_on, mu_on, rng = counts_and_predictions(size, seed=size)
    expected = cash(n_on, mu_on)
    mu = np.maximum(mu_on, 1e-25)
    scale = 2 * (mu + n_on * np.abs(np.log(mu)))
    assert_allclose(_core.cash(n_on, mu_on), expected, rtol=1e-12, atol=0)
    assert np.all(np.abs(_core.cash(n_on, mu_on) - expected) <= 1e-12 * scale)
    assert relative_sum_error(cash_sum(n_on, mu_on), expected) < 1e-12
    mask = rng.random(size) < 0.7
    assert relative_sum_error(cash_sum(n_on, mu_on, mask=mask), expected[mask]) < 1e-12


def wstat_inputs(size, seed):
    n_on, mu_sig, rng = counts_and_predictions(size, seed)
    n_off = rng.poisson(rng.choice([0.0, 0.5, 5.0, 300.0], size)).astype(float)
    alpha = rng.choice([1e-3, 0.05, 0.3, 1.0, 4.0], size) * rng.uniform(0.5, 1.5, size)
    return n_on, n_off, alpha, mu_sig, rng


def wstat_scale(n_on, n_off, alpha, mu_sig):
    """Size of the terms whose difference is WStat: bound for its rounding error."""
    mu_bkg = wstat_mu_bkg(n_on, n_off, alpha, mu_sig)
    return 2 * (mu_sig + (1 + alpha) * mu_bkg + n_on + n_off)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("alpha_kind", ["scalar", "array"])
def test_wstat_matches_numpy(size, alpha_kind):
    n_on, n_off, alpha, mu_sig, rng = wstat_inputs(size, seed=size)
    if alpha_kind == "scalar":
        alpha = 0.17
    expected = wstat(n_on, n_off, alpha, mu_sig)
    scale = wstat_scale(n_on, n_off, alpha, mu_sig)
    result = _core.wstat(n_on, n_off, np.atleast_1d(alpha), mu_sig)
    assert np.all(np.abs(result - expected) <= 1e-12 * np.maximum(scale, np.abs(expected)))
    assert relative_sum_error(wstat_sum(n_on, n_off, alpha, mu_sig), expected) < 1e-12
    mask = rng.random(size) < 0.5
    masked = wstat_sum(n_on, n_off, alpha, mu_sig, mask=mask)
    assert relative_sum_error(masked, expected[mask]) < 1e-12


def test_wstat_zero_count_bins_match_numpy():
    n_on = np.array([0.0, 0.0, 5.0, 5.0, 0.0, 3.0])
    n_off = np.array([0.0, 4.0, 0.0, 0.0, 7.0, 2.0])
    mu_sig = np.array([1.0, 0.0, 0.5, 20.0, 0.0, 0.0])
    expected = wstat(n_on, n_off, 0.5, mu_sig)
    assert_allclose(_core.wstat(n_on, n_off, [0.5], mu_sig), expected, rtol=1e-13, atol=1e-14)


def test_special_values_follow_numpy():
    n_on = np.array([2.0, 2.0, 1.0])
    mu = np.array([np.nan, 1.0, 1e300])
    assert np.isnan(cash_sum(n_on, mu))
    assert cash_sum(n_on, mu, mask=np.array([False, True, True])) == pytest.approx(
        cash(n_on[1:], mu[1:]).sum(), rel=1e-15
    )
    # a negative signal is compensated by the profiled background
    mu_sig = np.array([-0.5, -3.0, -40.0])
    expected = wstat(2.0, 10.0, 0.5, mu_sig)
    assert expected[1] == pytest.approx(0, abs=1e-13)  # best fit: 2 - 0.5 * 10
    assert_allclose(_core.wstat(np.full(3, 2.0), np.full(3, 10.0), [0.5], mu_sig), expected)


def test_results_do_not_depend_on_thread_count():
    n_on, n_off, alpha, mu_sig, rng = wstat_inputs(2**19 + 777, seed=3)
    mask = rng.random(n_on.size) < 0.9
    cash_sums = {cash_sum(n_on, mu_sig, mask, n_threads=t) for t in (1, 2, 3, 8)}
    wstat_sums = {wstat_sum(n_on, n_off, alpha, mu_sig, mask, n_threads=t) for t in (1, 2, 5)}
    assert len(cash_sums) == 1 and len(wstat_sums) == 1
    per_bin = [_core.wstat(n_on, n_off, alpha, mu_sig, n_threads=t) for t in (1, 3)]
    assert np.array_equal(per_bin[0], per_bin[1])


def test_default_thread_count_is_configurable():
    before = get_num_threads()
    try:
        set_num_threads(3)
        assert get_num_threads() == 3
        set_num_threads(0)
        assert get_num_threads() >= 1
    finally:
        set_num_threads(before)
    with pytest.raises(ValueError, match="threads must be >= 0"):
        set_num_threads(-1)


def test_kernels_check_sizes():
    with pytest.raises(ValueError, match="mu_on has 2 elements, expected 3"):
        _core.cash_sum(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="alpha has 2 elements, expected 3"):
        _core.wstat(np.ones(3), np.ones(3), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="mask has 4 elements, expected 3"):
        _core.wstat_sum(np.ones(3), np.ones(3), np.ones(1), np.ones(3), np.ones(4, bool))
