"""Detection significance of counts: Li & Ma (1983), likelihood-ratio test statistics, and the
excess / error / significance summary of on-off or known-background counts."""

import numpy as np
from scipy.special import ndtr, xlogy

from gammarules.stats.fit_statistic import cash, wstat

__all__ = [
    "CashCountsStatistic",
    "WStatCountsStatistic",
    "cash_ts",
    "li_ma_significance",
    "wstat_ts",
]


def li_ma_significance(n_on, n_off, alpha):
    """Li & Ma (1983, ApJ 272, 317) equation 17, signed like the excess ``n_on - alpha n_off``.

    ``S = sqrt(2) [n_on ln((1 + alpha) / alpha n_on / (n_on + n_off))
    + n_off ln((1 + alpha) n_off / (n_on + n_off))]^(1/2)``, where a term with zero counts is 0.

    Parameters
    ----------
    n_on, n_off : array_like
        Counts in the on and off regions.
    alpha : array_like
        On/off exposure ratio, > 0.
    """
    n_on, n_off, alpha = (np.asarray(value, dtype=float) for value in (n_on, n_off, alpha))
    n_total = n_on + n_off
    with np.errstate(divide="ignore", invalid="ignore"):
        on_term = xlogy(n_on, (1 + alpha) / alpha * n_on / n_total)
        off_term = xlogy(n_off, (1 + alpha) * n_off / n_total)
    ts = np.where(n_total == 0, 0.0, 2 * (on_term + off_term))
    return np.sign(n_on - alpha * n_off) * np.sqrt(np.clip(ts, 0, None))


def wstat_ts(n_on, n_off, alpha, mu_sig=0):
    """WStat test statistic of the best-fit signal ``n_on - alpha n_off`` against ``mu_sig``.

    For ``mu_sig = 0`` this is the square of `li_ma_significance`.
    """
    return WStatCountsStatistic(n_on, n_off, alpha, mu_sig).ts


def cash_ts(n_on, mu_bkg):
    """Cash test statistic of the best-fit signal ``n_on - mu_bkg`` against no signal."""
    return CashCountsStatistic(n_on, mu_bkg).ts


class _CountsStatistic:
    """Excess, error and significance from a null and a best-fit statistic."""

    @property
    def sqrt_ts(self):
        """Significance: square root of `ts` with the sign of the excess `n_sig`."""
        return np.sign(self.n_sig) * np.sqrt(self.ts)

    @property
    def ts(self):
        """Likelihood-ratio test statistic, null minus best fit (>= 0)."""
        return np.clip(self.stat_null - self.stat_max, 0, None)

    @property
    def p_value(self):
        """One-sided Gaussian tail probability of ``|sqrt_ts|`` (= chi2(1 dof) survival / 2)."""
        return ndtr(-np.sqrt(self.ts))


class CashCountsStatistic(_CountsStatistic):
    """Counts ``n_on`` over a known expected background ``mu_bkg`` (Cash statistic)."""

    def __init__(self, n_on, mu_bkg):
        self.n_on = np.asarray(n_on, dtype=float)
        self.mu_bkg = np.asarray(mu_bkg, dtype=float)

    @property
    def n_bkg(self):
        """Expected background counts."""
        return self.mu_bkg

    @property
    def n_sig(self):
        """Excess ``n_on - mu_bkg``."""
        return self.n_on - self.mu_bkg

    @property
    def error(self):
        """Gaussian error of the excess, ``sqrt(n_on)``."""
        return np.sqrt(self.n_on)

    @property
    def stat_null(self):
        """Cash statistic with background only."""
        return cash(self.n_on, self.mu_bkg)

    @property
    def stat_max(self):
        """Cash statistic at the best fit, where the prediction equals ``n_on``."""
        return cash(self.n_on, self.n_on)


class WStatCountsStatistic(_CountsStatistic):
    """On/off counts with exposure ratio ``alpha`` (WStat), tested against a signal ``mu_sig``.

    Parameters
    ----------
    n_on, n_off : array_like
        Counts in the on and off regions.
    alpha : array_like
        On/off exposure ratio, > 0.
    mu_sig : array_like
        Expected signal under the null hypothesis (0: background only).
    """

    def __init__(self, n_on, n_off, alpha, mu_sig=0):
        self.n_on = np.asarray(n_on, dtype=float)
        self.n_off = np.asarray(n_off, dtype=float)
        self.alpha = np.asarray(alpha, dtype=float)
        self.mu_sig = np.asarray(mu_sig, dtype=float)

    @property
    def n_bkg(self):
        """Background estimate in the on region, ``alpha n_off``."""
        return self.alpha * self.n_off

    @property
    def n_sig(self):
        """Excess over background and ``mu_sig``: ``n_on - alpha n_off - mu_sig``."""
        return self.n_on - self.n_bkg - self.mu_sig

    @property
    def error(self):
        """Gaussian error of the excess, ``sqrt(n_on + alpha**2 n_off)``."""
        return np.sqrt(self.n_on + self.alpha**2 * self.n_off)

    @property
    def stat_null(self):
        """WStat for signal ``mu_sig``."""
        return wstat(self.n_on, self.n_off, self.alpha, self.mu_sig)

    @property
    def stat_max(self):
        """WStat at the best-fit signal ``n_on - alpha n_off`` (0 up to rounding)."""
        return wstat(self.n_on, self.n_off, self.alpha, self.n_on - self.n_bkg)
