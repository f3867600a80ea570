"""Cash and WStat sums: C++ kernels (one thread and all threads) and their NumPy twins."""

import numpy as np
from registry import workload

from gammarules.stats import cash, cash_sum, wstat, wstat_sum

N_BINS = 2**22


def counts(seed=0):
    """Typical spectral/map bins: predictions 0.1-20 counts, off region 5 times larger."""
    rng = np.random.default_rng(seed)
    mu_on = rng.uniform(0.1, 20, N_BINS)
    n_on = rng.poisson(mu_on).astype(float)
    n_off = rng.poisson(5 * mu_on).astype(float)
    return n_on, mu_on, n_off, 0.2 * mu_on


@workload(items=N_BINS, unit="bins")
def cash_sum_1thread():
    """Cash sum, C++ kernel on one thread."""
    n_on, mu_on, _, _ = counts()
    return lambda: cash_sum(n_on, mu_on, n_threads=1)


@workload(items=N_BINS, unit="bins")
def cash_sum_threads():
    """Cash sum, C++ kernel on all threads."""
    n_on, mu_on, _, _ = counts()
    return lambda: cash_sum(n_on, mu_on)


@workload(items=N_BINS, unit="bins")
def cash_numpy():
    """Cash sum with the NumPy definition (reference)."""
    n_on, mu_on, _, _ = counts()
    return lambda: cash(n_on, mu_on).sum()


@workload(items=N_BINS, unit="bins")
def wstat_sum_1thread():
    """WStat sum with one alpha, C++ kernel on one thread."""
    n_on, _, n_off, mu_sig = counts()
    return lambda: wstat_sum(n_on, n_off, 0.2, mu_sig, n_threads=1)


@workload(items=N_BINS, unit="bins")
def wstat_sum_alpha_per_bin_1thread():
    """WStat sum with one alpha per bin, C++ kernel on one thread."""
    n_on, _, n_off, mu_sig = counts()
    alpha = np.random.default_rng(1).uniform(0.1, 0.3, N_BINS)
    return lambda: wstat_sum(n_on, n_off, alpha, mu_sig, n_threads=1)


@workload(items=N_BINS, unit="bins")
def wstat_sum_threads():
    """WStat sum with one alpha, C++ kernel on all threads."""
    n_on, _, n_off, mu_sig = counts()
    return lambda: wstat_sum(n_on, n_off, 0.2, mu_sig)


@workload(items=N_BINS, unit="bins")
def wstat_numpy():
    """WStat sum with the NumPy definition (reference)."""
    n_on, _, n_off, mu_sig = counts()
    return lambda: wstat(n_on, n_off, 0.2, mu_sig).sum()
