"""Poisson fit statistics: Cash (known background) and WStat (background from an off region).

Both are -2 log L plus a constant, with the conventions of Gammapy's ``cash`` and ``wstat``
so that values compare directly:

- ``cash = 2 (mu_on - n_on log mu_on)``, with ``mu_on`` replaced by `CASH_TRUNCATION` where
  it is smaller or equal;
- ``wstat`` (Arnaud, XSPEC manual, appendix B "Poisson data with Poisson background") uses the
  background ``mu_bkg`` that maximises the on/off likelihood for the given signal, plus the
  terms ``n log n - n`` that make it 0 for a perfect fit (a goodness-of-fit statistic).

``cash``, ``wstat`` and ``wstat_mu_bkg`` are the NumPy definitions (any shapes that broadcast);
``cash_sum`` and ``wstat_sum`` are the fast sums computed by the C++ kernels of
`gammarules._core`, multithreaded for large inputs, with the GIL released.
"""

import numpy as np

from gammarules import _core
from gammarules.errors import GammarulesError

__all__ = [
    "CASH_TRUNCATION",
    "cash",
    "cash_sum",
    "get_num_threads",
    "set_num_threads",
    "wstat",
    "wstat_mu_bkg",
    "wstat_sum",
]

CASH_TRUNCATION = _core.CASH_TRUNCATION
"""Smallest predicted count the Cash statistic uses (1e-25)."""

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads


def cash(n_on, mu_on):
    """Cash statistic per bin, ``2 (mu_on - n_on log mu_on)``.

    Parameters
    ----------
    n_on : array_like
        Observed counts.
    mu_on : array_like
        Predicted counts; values ``<= CASH_TRUNCATION`` are replaced by it.
    """
    n_on = np.asarray(n_on, dtype=float)
    mu_on = np.asarray(mu_on, dtype=float)
    mu = np.where(mu_on <= CASH_TRUNCATION, CASH_TRUNCATION, mu_on)
    return 2 * (mu - n_on * np.log(mu))


def wstat_mu_bkg(n_on, n_off, alpha, mu_sig):
    """Profiled background: the expected off counts maximising the on/off likelihood.

    It is the non-negative root of ``alpha (1 + alpha) b**2 - c b - n_off mu_sig = 0`` with
    ``c = alpha (n_on + n_off) - (1 + alpha) mu_sig``; the expected background in the on
    region is ``alpha * mu_bkg``. It reduces to ``n_off / (1 + alpha)`` for ``n_on = 0`` and to
    ``max(n_on / (1 + alpha) - mu_sig / alpha, 0)`` for ``n_off = 0``.

    Parameters
    ----------
    n_on, n_off : array_like
        Counts in the on and off regions.
    alpha : array_like
        On/off exposure ratio (acceptance_on / acceptance_off), > 0.
    mu_sig : array_like
        Predicted signal counts in the on region.
    """
    n_on, n_off, alpha, mu_sig = _as_float(n_on, n_off, alpha, mu_sig)
    c = alpha * (n_on + n_off) - (1 + alpha) * mu_sig
    d = np.sqrt(c * c + 4 * alpha * (1 + alpha) * n_off * mu_sig)
    with np.errstate(divide="ignore", invalid="ignore"):
        # for c < 0 the same root without the cancellation in c + d
        return np.where(c >= 0, (c + d) / (2 * alpha * (1 + alpha)), 2 * n_off * mu_sig / (d - c))


def wstat(n_on, n_off, alpha, mu_sig):
    """WStat per bin with the profiled background; 0 for a perfect fit.

    Parameters
    ----------
    n_on, n_off : array_like
        Counts in the on and off regions.
    alpha : array_like
        On/off exposure ratio, > 0; a scalar or one value per bin.
    mu_sig : array_like
        Predicted signal counts in the on region.
    """
    n_on, n_off, alpha, mu_sig = _as_float(n_on, n_off, alpha, mu_sig)
    mu_bkg = wstat_mu_bkg(n_on, n_off, alpha, mu_sig)
    mu_on = mu_sig + alpha * mu_bkg
    stat = mu_sig + (1 + alpha) * mu_bkg - n_on - n_off
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = stat + np.where(n_on == 0, 0, n_on * np.log(n_on / mu_on))
        stat = stat + np.where(n_off == 0, 0, n_off * np.log(n_off / mu_bkg))
    return 2 * stat


def cash_sum(n_on, mu_on, mask=None, n_threads=0):
    """Sum of the Cash statistic over the bins where ``mask`` is true (C++ kernel).

    Contiguous float64 inputs of the same shape are used without copies.

    Parameters
    ----------
    n_on, mu_on : array_like
        Observed and predicted counts (shapes that broadcast).
    mask : array_like of bool, optional
        Bins to include; all bins if None.
    n_threads : int
        Threads for large inputs; 0 uses the default (see `set_num_threads`).
    """
    arrays = _broadcast("cash_sum", n_on=n_on, mu_on=mu_on, mask=mask)
    return _core.cash_sum(arrays["n_on"], arrays["mu_on"], arrays["mask"], n_threads)


def wstat_sum(n_on, n_off, alpha, mu_sig, mask=None, n_threads=0):
    """Sum of WStat over the bins where ``mask`` is true (C++ kernel).

    Contiguous float64 inputs of the same shape are used without copies.

    Parameters
    ----------
    n_on, n_off, mu_sig : array_like
        On counts, off counts and predicted signal (shapes that broadcast).
    alpha : float or array_like
        On/off exposure ratio, one value or one per bin.
    mask : array_like of bool, optional
        Bins to include; all bins if None.
    n_threads : int
        Threads for large inputs; 0 uses the default (see `set_num_threads`).
    """
    alpha = np.asarray(alpha, dtype=float)
    alpha_per_bin = alpha if alpha.size > 1 else None
    arrays = _broadcast(
        "wstat_sum", n_on=n_on, n_off=n_off, mu_sig=mu_sig, alpha=alpha_per_bin, mask=mask
    )
    alpha_kernel = alpha.reshape(1) if alpha_per_bin is None else arrays["alpha"]
    return _core.wstat_sum(
        arrays["n_on"], arrays["n_off"], alpha_kernel, arrays["mu_sig"], arrays["mask"], n_threads
    )


def _as_float(*values):
    return [np.asarray(value, dtype=float) for value in values]


def _broadcast(function, **arrays):
    """Contiguous, broadcast arrays for a kernel (float64; bool for ``mask``); None stays None."""
    given = {name: np.asarray(value) for name, value in arrays.items() if value is not None}
    try:
        shape = np.broadcast_shapes(*(value.shape for value in given.values()))
    except ValueError:
        shapes = ", ".join(f"{name} {value.shape}" for name, value in given.items())
        raise GammarulesError(f"{function}: shapes do not broadcast: {shapes}") from None
    result = dict.fromkeys(arrays)
    for name, value in given.items():
        dtype = bool if name == "mask" else float
        if name == "mask" and value.dtype != bool:
            raise GammarulesError(f"{function}: mask must be boolean, got dtype {value.dtype}")
        result[name] = np.ascontiguousarray(np.broadcast_to(value, shape), dtype=dtype).ravel()
    return result
