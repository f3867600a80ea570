"""Fit statistics (Cash, WStat) and detection significance (Li & Ma, likelihood-ratio TS).

The per-bin statistics are NumPy functions; the sums used in fits run in C++
(`gammarules._core`), multithreaded for large inputs.
"""

from gammarules.stats.fit_statistic import (
    CASH_TRUNCATION,
    cash,
    cash_sum,
    get_num_threads,
    set_num_threads,
    wstat,
    wstat_mu_bkg,
    wstat_sum,
)
from gammarules.stats.significance import (
    CashCountsStatistic,
    WStatCountsStatistic,
    cash_ts,
    li_ma_significance,
    wstat_ts,
)

__all__ = [
    "CASH_TRUNCATION",
    "CashCountsStatistic",
    "WStatCountsStatistic",
    "cash",
    "cash_sum",
    "cash_ts",
    "get_num_threads",
    "li_ma_significance",
    "set_num_threads",
    "wstat",
    "wstat_mu_bkg",
    "wstat_sum",
    "wstat_ts",
]
