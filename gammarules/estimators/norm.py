"""Likelihood of a norm scaling one model component in a set of reconstructed-energy bins.

With every other parameter fixed, the predicted counts are linear in the norm:
``mu(norm) = mu_fixed + norm * mu_source``. The reference predictions are computed once
from the datasets, so the statistic, its profile and its roots cost a few array operations.
"""

from __future__ import annotations

import numpy as np
from iminuit import Minuit
from scipy.optimize import brentq

from gammarules.errors import GammarulesError
from gammarules.stats import cash, wstat, wstat_mu_bkg

__all__ = ["NormLikelihood"]

MAX_BRACKET_DOUBLINGS = 40


def _values(values):
    """Plain float array of a spectrum (array) or a `Map`."""
    return np.asarray(getattr(values, "data", values), dtype=float)


class _Term:
    """The masked bins of one dataset: counts and the source / fixed predictions."""

    def __init__(self, dataset, source, mask):
        self.stat_type = getattr(dataset, "stat_type", "cash")
        if self.stat_type not in ("cash", "wstat"):
            raise GammarulesError(
                f"dataset '{dataset.name}': flux points need a 'cash' or 'wstat' dataset, "
                f"got stat_type {self.stat_type!r}"
            )
        saved = dataset.models
        try:
            dataset.models = [source]
            mu_source = _values(dataset.npred_signal())
        finally:
            dataset.models = saved
        mu_other = _values(dataset.npred_signal()) - mu_source
        self.n_on = _values(dataset.counts)[mask]
        self.mu_source = mu_source[mask]
        if self.stat_type == "cash":
            self.mu_fixed = (mu_other + _values(dataset.npred_background()))[mask]
        else:
            self.mu_fixed = mu_other[mask]
            self.n_off = _values(dataset.counts_off)[mask]
            self.alpha = _values(dataset.alpha)[mask]

    def mu(self, norm):
        """Predicted signal (wstat) or total counts (cash), shape ``norm.shape + (n_bins,)``."""
        return self.mu_fixed + np.multiply.outer(norm, self.mu_source)

    def stat(self, norm):
        if self.stat_type == "cash":
            return cash(self.n_on, self.mu(norm)).sum(axis=-1)
        return wstat(self.n_on, self.n_off, self.alpha, self.mu(norm)).sum(axis=-1)

    def npred(self, norm):
        """Total predicted counts (with the profiled background for wstat)."""
        mu = self.mu(norm)
        if self.stat_type == "cash":
            return mu.sum()
        return (mu + self.alpha * wstat_mu_bkg(self.n_on, self.n_off, self.alpha, mu)).sum()


class NormLikelihood:
    """Summed statistic (-2 log L) of a norm on one model component over several datasets.

    Parameters
    ----------
    datasets : list of datasets
        Spectrum datasets (``stat_type`` "cash" or "wstat") at their reference models.
    source : SkyModel
        The component multiplied by the norm.
    masks : list of bool arrays
        Reconstructed-energy bins of each dataset that enter the statistic.
    """

    def __init__(self, datasets, source, masks):
        self.terms = [
            _Term(dataset, source, mask)
            for dataset, mask in zip(datasets, masks, strict=True)
            if np.any(mask)
        ]

    @property
    def is_empty(self):
        return not self.terms

    @property
    def counts(self):
        return float(sum(term.n_on.sum() for term in self.terms))

    def stat(self, norm):
        """Statistic at ``norm`` (a scalar or an array of norms)."""
        norm = np.asarray(norm, dtype=float)
        return sum(term.stat(norm) for term in self.terms)

    def npred(self, norm):
        return float(sum(term.npred(norm) for term in self.terms))

    def npred_excess(self, norm):
        return float(norm * sum(term.mu_source.sum() for term in self.terms))

    def fit(self, tol=1e-3):
        """Best-fit norm (unbounded, starting at 1) and its HESSE error.

        The one-dimensional minimisation is cheap, so the MIGRAD tolerance is tighter than
        the global fit's default (0.1): the norm lands within ~1e-3 sigma of the minimum.

        Returns
        -------
        norm, norm_err, stat, success : float, float, float, bool
        """
        minuit = Minuit(lambda norm: float(self.stat(norm)), norm=1.0)
        minuit.errordef = Minuit.LEAST_SQUARES
        minuit.errors = [0.1]
        minuit.tol = tol
        minuit.print_level = 0
        minuit.migrad()
        minuit.hesse()
        norm = float(minuit.values["norm"])
        success = bool(minuit.fmin.is_valid and minuit.fmin.has_accurate_covar)
        return norm, float(minuit.errors["norm"]), float(self.stat(norm)), success

    def crossing(self, norm, stat, delta, direction, step):
        """Norm where the statistic exceeds ``stat + delta``, searching from ``norm``.

        ``direction`` is +1 (upwards) or -1; the bracket grows from ``step`` by doubling.
        Returns NaN when the statistic never rises that far.
        """

        def excess(x):
            return float(self.stat(x)) - stat - delta

        step = step if np.isfinite(step) and step > 0 else 1.0
        inner = norm
        for _ in range(MAX_BRACKET_DOUBLINGS):
            outer = norm + direction * step
            value = excess(outer)
            if not np.isfinite(value):
                return np.nan
            if value > 0:
                return float(brentq(excess, *sorted((inner, outer)), xtol=1e-8, rtol=1e-10))
            inner, step = outer, 2 * step
        return np.nan
