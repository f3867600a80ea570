"""Li & Ma significance, likelihood-ratio TS and the counts-statistic summaries."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import chi2, poisson

from gammarules.stats import (
    CashCountsStatistic,
    WStatCountsStatistic,
    cash_ts,
    li_ma_significance,
    wstat_ts,
)


def test_li_ma_hand_computed_value():
    # n_on = 10, n_off = 20, alpha = 0.1:
    # 2 [10 ln(11 * 10 / 30) + 20 ln(1.1 * 20 / 30)] = 2 (12.99283 - 6.20310) = 13.57946
    assert li_ma_significance(10, 20, 0.1) == pytest.approx(3.68503, abs=1e-5)


def test_li_ma_limits():
    alpha = 0.2
    # no off counts: S^2 = 2 n_on ln((1 + alpha) / alpha)
    assert li_ma_significance(7, 0, alpha) == pytest.approx(np.sqrt(14 * np.log(6)), rel=1e-14)
    # no on counts: a deficit, S^2 = 2 n_off ln(1 + alpha)
    assert li_ma_significance(0, 30, alpha) == pytest.approx(-np.sqrt(60 * np.log(1.2)), rel=1e-14)
    assert li_ma_significance(0, 0, alpha) == 0
    assert li_ma_significance(50, 50, 1.0) == 0
    assert li_ma_significance(45, 55, 1.0) == -li_ma_significance(55, 45, 1.0)


def test_li_ma_large_counts_tends_to_gaussian_formula():
    # Li & Ma eq. 9 for many counts and a small excess: (n_on - a n_off) / sqrt(a (n_on + n_off))
    n_off, alpha = 4e6, 0.25
    n_on = alpha * n_off + 3000
    gaussian = (n_on - alpha * n_off) / np.sqrt(alpha * (n_on + n_off))
    assert li_ma_significance(n_on, n_off, alpha) == pytest.approx(gaussian, rel=2e-3)


def test_li_ma_is_likelihood_ratio():
    rng = np.random.default_rng(1)
    n_on = rng.integers(1, 300, 100).astype(float)
    n_off = rng.integers(1, 900, 100).astype(float)
    alpha = rng.uniform(0.05, 1, 100)
    # null: common background b with on ~ Poisson(alpha b), off ~ Poisson(b)
    b0 = (n_on + n_off) / (1 + alpha)
    log_l0 = poisson.logpmf(n_on, alpha * b0) + poisson.logpmf(n_off, b0)
    log_l1 = poisson.logpmf(n_on, n_on) + poisson.logpmf(n_off, n_off)
    significance = li_ma_significance(n_on, n_off, alpha)
    assert_allclose(significance**2, 2 * (log_l1 - log_l0), rtol=1e-9, atol=1e-9)
    assert_allclose(wstat_ts(n_on, n_off, alpha), significance**2, rtol=1e-9, atol=1e-9)
    assert np.all(np.sign(significance) == np.sign(n_on - alpha * n_off))


def test_cash_ts_closed_form():
    n_on = np.array([0.0, 3.0, 12.0, 40.0])
    mu_bkg = np.array([2.5, 3.0, 4.0, 55.0])
    expected = 2 * (mu_bkg - n_on) + np.array([0, 0, 2 * 12 * np.log(3), 2 * 40 * np.log(40 / 55)])
    assert_allclose(cash_ts(n_on, mu_bkg), expected, rtol=1e-12, atol=1e-12)


def test_wstat_counts_statistic():
    stat = WStatCountsStatistic(n_on=[10, 3], n_off=[20, 50], alpha=0.1)
    assert_allclose(stat.n_bkg, [2, 5])
    assert_allclose(stat.n_sig, [8, -2])
    assert_allclose(stat.error, np.sqrt([10 + 0.2, 3 + 0.5]))
    assert_allclose(stat.sqrt_ts, li_ma_significance([10, 3], [20, 50], 0.1), rtol=1e-12)
    assert_allclose(stat.p_value, 0.5 * chi2.sf(stat.ts, 1), rtol=1e-12)
    # against a signal hypothesis: the excess is counted from mu_sig
    shifted = WStatCountsStatistic(10, 20, 0.1, mu_sig=8)
    assert shifted.n_sig == 0 and shifted.ts == pytest.approx(0, abs=1e-12)


def test_cash_counts_statistic():
    stat = CashCountsStatistic(n_on=[16, 4], mu_bkg=[9, 9])
    assert_allclose(stat.n_sig, [7, -5])
    assert_allclose(stat.error, [4, 2])
    ts = 2 * (np.array([9, 9]) - [16, 4] + np.array([16, 4]) * np.log(np.array([16, 4]) / 9))
    assert_allclose(stat.ts, ts, rtol=1e-12)
    assert_allclose(stat.sqrt_ts, [np.sqrt(ts[0]), -np.sqrt(ts[1])], rtol=1e-12)
    # no counts over a background of 4.5: TS = 2 mu_bkg = 9, a 3 sigma deficit whose one-sided
    # Gaussian tail probability is 1.3499e-3
    deficit = CashCountsStatistic(n_on=0, mu_bkg=4.5)
    assert deficit.sqrt_ts == pytest.approx(-3, rel=1e-14)
    assert deficit.p_value == pytest.approx(1.3499e-3, rel=1e-4)
