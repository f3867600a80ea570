"""The NumPy definitions of Cash and WStat against Poisson likelihoods and closed forms."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq
from scipy.special import gammaln
from scipy.stats import poisson

from gammarules.errors import GammarulesError
from gammarules.stats import CASH_TRUNCATION, cash, cash_sum, wstat, wstat_mu_bkg, wstat_sum


@pytest.fixture
def rng():
    return np.random.default_rng(42)


def test_cash_is_poisson_log_likelihood(rng):
    mu = rng.uniform(0.01, 50, 200)
    n = rng.poisson(mu).astype(float)
    expected = -2 * poisson.logpmf(n, mu) - 2 * gammaln(n + 1)
    assert_allclose(cash(n, mu), expected, rtol=1e-10, atol=1e-10)


def test_cash_truncates_small_predictions():
    n = np.array([0.0, 3.0, 3.0, 3.0, 2.0])
    mu = np.array([0.0, 0.0, -1.0, 1e-30, np.nan])
    stat = cash(n, mu)
    floor = 2 * (1e-25 - 3 * np.log(1e-25))
    assert CASH_TRUNCATION == 1e-25
    assert_allclose(stat[:4], [2e-25, floor, floor, floor], rtol=1e-15)
    assert np.isnan(stat[4])


def _profiled_background_by_root_finding(n_on, n_off, alpha, mu_sig):
    """Zero of d(log L)/d(mu_bkg) for the on/off Poisson likelihood."""

    def dlogl(b):
        return n_on * alpha / (mu_sig + alpha * b) + n_off / b - (1 + alpha)

    return brentq(dlogl, 1e-12, 10 * (n_on + n_off) + 10, xtol=1e-14, rtol=1e-14)


def test_wstat_mu_bkg_maximises_likelihood(rng):
    for _ in range(50):
        n_on, n_off = rng.integers(1, 200, 2).astype(float)
        alpha = rng.uniform(0.01, 3)
        mu_sig = rng.uniform(0.1, 100)
        expected = _profiled_background_by_root_finding(n_on, n_off, alpha, mu_sig)
        assert_allclose(wstat_mu_bkg(n_on, n_off, alpha, mu_sig), expected, rtol=1e-10)


def test_wstat_mu_bkg_zero_counts():
    alpha, mu_sig = 0.25, np.array([0.5, 1.0, 30.0])
    assert_allclose(wstat_mu_bkg(0, 12, alpha, mu_sig), 12 / 1.25, rtol=1e-15)
    # n_off = 0: n_on / (1 + alpha) - mu_sig / alpha where positive, else 0
    assert_allclose(wstat_mu_bkg(5, 0, alpha, mu_sig), [4 - 2, 0, 0], atol=1e-15)


def test_wstat_is_profile_likelihood_ratio_to_saturated_model(rng):
    n_on = rng.integers(1, 100, 300).astype(float)
    n_off = rng.integers(1, 300, 300).astype(float)
    alpha = rng.uniform(0.05, 2, 300)
    mu_sig = rng.uniform(0, 60, 300)
    b = wstat_mu_bkg(n_on, n_off, alpha, mu_sig)
    log_l = poisson.logpmf(n_on, mu_sig + alpha * b) + poisson.logpmf(n_off, b)
    log_l_saturated = poisson.logpmf(n_on, n_on) + poisson.logpmf(n_off, n_off)
    assert_allclose(wstat(n_on, n_off, alpha, mu_sig), 2 * (log_l_saturated - log_l), atol=1e-9)


def test_wstat_zero_at_best_fit(rng):
    n_off = rng.integers(0, 500, 1000).astype(float)
    alpha = rng.uniform(0.01, 1, 1000)
    n_on = np.floor(alpha * n_off) + rng.integers(1, 100, 1000)
    mu_sig = n_on - alpha * n_off
    assert np.all(mu_sig > 0)
    assert_allclose(wstat(n_on, n_off, alpha, mu_sig), 0, atol=1e-11 * (n_on + n_off).max())
    assert_allclose(wstat_mu_bkg(n_on, n_off, alpha, mu_sig), n_off, rtol=1e-12)


def test_wstat_zero_counts_closed_forms():
    alpha, mu_sig = 0.2, np.array([0.3, 1.0, 7.0])
    # n_on = 0: mu_bkg = n_off / (1 + alpha)
    assert_allclose(wstat(0, 15, alpha, mu_sig), 2 * mu_sig + 30 * np.log(1.2), rtol=1e-14)
    # n_off = 0, small signal: mu_bkg = n_on / (1 + alpha) - mu_sig / alpha > 0
    assert_allclose(
        wstat(8, 0, alpha, mu_sig[:2]), 2 * (-mu_sig[:2] / alpha + 8 * np.log(6)), rtol=1e-14
    )
    # n_off = 0, large signal: mu_bkg = 0 and WStat is the Cash likelihood ratio
    assert_allclose(wstat(1, 0, alpha, mu_sig[1:]), cash(1, mu_sig[1:]) - cash(1, 1), rtol=1e-14)
    assert wstat(0, 0, alpha, 2.5) == 5.0


def test_wstat_scalar_alpha_broadcasts(rng):
    n_on = rng.poisson(5, 50)
    n_off = rng.poisson(20, 50)
    mu_sig = rng.uniform(0, 5, 50)
    assert_allclose(wstat(n_on, n_off, 0.3, mu_sig), wstat(n_on, n_off, np.full(50, 0.3), mu_sig))


def test_sums_broadcast_and_mask():
    n_on = np.array([[1.0, 4.0], [0.0, 9.0]])
    mask = np.array([True, False])
    assert_allclose(cash_sum(n_on, 2.0, mask=mask), cash([1.0, 0.0], 2.0).sum(), rtol=1e-15)
    n_off = np.array([3.0, 5.0])
    expected = wstat(n_on, n_off, 0.5, 1.0)[:, 0].sum()
    assert_allclose(wstat_sum(n_on, n_off, 0.5, 1.0, mask=mask), expected, rtol=1e-14)
    assert cash_sum([], []) == 0.0
    assert wstat_sum([], [], 0.5, []) == 0.0


def test_sums_reject_bad_input():
    with pytest.raises(GammarulesError, match=r"cash_sum: .*n_on \(3,\), mu_on \(2,\)"):
        cash_sum([1, 2, 3], [1, 2])
    with pytest.raises(GammarulesError, match=r"wstat_sum: .*alpha \(4,\)"):
        wstat_sum([1, 2, 3], [1, 2, 3], [0.1, 0.2, 0.3, 0.4], [1, 1, 1])
    with pytest.raises(GammarulesError, match="mask must be boolean, got dtype int64"):
        cash_sum([1, 2], [1, 2], mask=np.array([1, 0]))
