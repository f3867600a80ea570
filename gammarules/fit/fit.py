"""Likelihood fit of datasets with iminuit: MIGRAD for the minimum, HESSE for the covariance."""

from __future__ import annotations

import functools
from contextlib import ExitStack

import numpy as np
from astropy import units as u
from iminuit import Minuit
from scipy.special import chdtr

from gammarules.errors import FitError
from gammarules.fit.likelihood import (
    Likelihood,
    as_dataset_list,
    collect_parameters,
    find_parameter,
    total_stat,
)
from gammarules.fit.result import FitResult

__all__ = ["Fit"]

_FMIN_PROBLEMS = (
    ("has_reached_call_limit", "call limit reached"),
    ("is_above_max_edm", "estimated distance to minimum above tolerance"),
    ("hesse_failed", "HESSE failed"),
    ("has_made_posdef_covar", "covariance forced positive definite"),
    ("has_parameters_at_limit", "parameters at limit"),
)


def _frozen_data(method):
    """Run a fitting method with every dataset's data frozen (datasets with `frozen_data`
    keep sums between evaluations of the statistic)."""

    @functools.wraps(method)
    def wrapper(self, datasets, *args, **kwargs):
        with ExitStack() as stack:
            for dataset in as_dataset_list(datasets):
                if hasattr(dataset, "frozen_data"):
                    stack.enter_context(dataset.frozen_data())
            return method(self, datasets, *args, **kwargs)

    return wrapper


def fmin_message(fmin):
    """One-line status of an iminuit function minimum."""
    problems = [text for attr, text in _FMIN_PROBLEMS if getattr(fmin, attr)]
    if fmin.is_valid:
        head = "Optimization terminated successfully."
    else:
        head = "Optimization failed."
    return " ".join([head] + [f"Warning: {p}." for p in problems])


class Fit:
    """Maximum-likelihood fit of models to one or several datasets.

    The fitted statistic is the sum of ``stat_sum()`` over the datasets (-2 log L), so
    the 1-sigma errors correspond to a change of the statistic by one (``errordef=1``).

    Parameters
    ----------
    optimize_opts : dict, optional
        Extra keyword arguments for `iminuit.Minuit.migrad` (``ncall``, ``iterate``).
    covariance : bool
        Run HESSE after MIGRAD and store the covariance on the models.
    strategy : {0, 1, 2}
        Minuit strategy (speed versus reliability of the derivatives).
    tol : float
        Minuit tolerance; MIGRAD stops when the estimated distance to the minimum
        falls below ``0.002 * tol * errordef``.
    """

    def __init__(self, optimize_opts=None, covariance=True, strategy=1, tol=0.1):
        self.optimize_opts = dict(optimize_opts or {})
        self.covariance = covariance
        self.strategy = strategy
        self.tol = tol

    def _minuit(self, likelihood):
        start = total_stat(likelihood.datasets)
        if not np.isfinite(start):
            values = likelihood.factors * likelihood.scales
            raise FitError(
                f"fit statistic is {start} at the starting parameters "
                f"{dict(zip(likelihood.labels, values, strict=True))}; "
                "expected a finite value (check the masks, counts and model start values)"
            )
        minuit = Minuit(likelihood, likelihood.factors, name=likelihood.labels)
        minuit.errordef = Minuit.LEAST_SQUARES
        minuit.errors = likelihood.steps
        minuit.limits = likelihood.limits
        minuit.strategy = self.strategy
        minuit.tol = self.tol
        minuit.print_level = 0
        return minuit

    def _migrad(self, likelihood):
        minuit = self._minuit(likelihood)
        minuit.migrad(**self.optimize_opts)
        likelihood.set_factors(np.array(minuit.values))
        return minuit

    @_frozen_data
    def run(self, datasets):
        """Fit the free parameters of the datasets' models.

        Parameters
        ----------
        datasets : dataset or list of datasets
            Datasets whose models (possibly shared between datasets) are fitted.

        Returns
        -------
        result : `FitResult`
            The models' parameters are left at the best fit; with ``covariance=True`` their
            errors and the models' covariance are set from HESSE.

        Raises
        ------
        FitError
            If there is no free parameter or the statistic is not finite at the start.
        """
        likelihood = Likelihood(datasets)
        minuit = self._migrad(likelihood)
        migrad = minuit.fmin
        success = migrad.is_valid
        message = fmin_message(migrad)
        covariance = None
        if self.covariance:
            minuit.hesse()
            likelihood.set_factors(np.array(minuit.values))
            if not minuit.fmin.has_accurate_covar:
                success = False
                message += " HESSE: covariance not accurate."
            covariance = np.array(minuit.covariance) * np.outer(
                likelihood.scales, likelihood.scales
            )
            _store_covariance(likelihood, covariance)
        return FitResult.from_entries(
            likelihood.entries,
            likelihood.labels,
            success=success,
            message=message,
            total_stat=total_stat(likelihood.datasets),
            nfev=likelihood.nfev,
            covariance=covariance,
        )

    @_frozen_data
    def minos(self, datasets, parameter, sigma=1):
        """Asymmetric profile-likelihood errors of one parameter (MINOS).

        The model is first re-optimised; the interval is where the statistic, minimised over
        the other free parameters, rises by ``sigma**2`` above its minimum.

        Returns
        -------
        result : dict
            ``value``, ``errn``, ``errp`` (positive numbers) as Quantities in the
            parameter's unit, and ``success``. The parameters are left at the best fit.
        """
        likelihood = Likelihood(datasets)
        idx = likelihood.index(parameter)
        minuit = self._migrad(likelihood)
        label = likelihood.labels[idx]
        minuit.minos(label, cl=float(chdtr(1, sigma**2)))
        error = minuit.merrors[label]
        likelihood.set_factors(np.array(minuit.values))
        scale, unit = likelihood.scales[idx], likelihood.parameters[idx].unit
        return {
            "value": u.Quantity(minuit.values[idx] * scale, unit),
            "errn": u.Quantity(-error.lower * scale, unit),
            "errp": u.Quantity(error.upper * scale, unit),
            "success": bool(error.is_valid),
        }

    @_frozen_data
    def stat_profile(self, datasets, parameter, values, reoptimize=False):
        """Total statistic as a function of one parameter.

        Parameters
        ----------
        datasets : dataset or list of datasets
        parameter : Parameter or str
            The scanned parameter (object, ``"{model}.{part}.{name}"`` label or unique name).
        values : array or `~astropy.units.Quantity`
            Scan values (plain numbers are in the parameter's unit).
        reoptimize : bool
            Minimise over the other free parameters at each value (profile likelihood);
            otherwise they stay at their current values.

        Returns
        -------
        result : dict
            ``values`` (Quantity) and ``stat_scan`` (array). Parameter values and frozen
            flags are restored afterwards.
        """
        datasets = as_dataset_list(datasets)
        entries = collect_parameters(datasets)
        target = find_parameter(entries, parameter)
        values = u.Quantity(values, target.unit).to_value(target.unit).ravel()
        saved = [(p, p.value, p.frozen) for _, _, p in entries]
        reoptimize = reoptimize and any(not f for p, _, f in saved if p is not target)
        stats = np.empty(values.size)
        try:
            target.frozen = True
            for i, value in enumerate(values):
                for p, start, _ in saved:
                    p.value = start
                target.value = float(value)
                if reoptimize:
                    self._migrad(Likelihood(datasets))
                stats[i] = total_stat(datasets)
        finally:
            for p, value, frozen in saved:
                p.value, p.frozen = value, frozen
        return {"values": u.Quantity(values, target.unit), "stat_scan": stats}

    @_frozen_data
    def stat_contour(self, datasets, x, y, numpoints=20, sigma=1):
        """Contour of two parameters where the profiled statistic rises by ``sigma**2``.

        Returns
        -------
        result : dict
            ``x`` and ``y`` contour points as Quantities in the parameters' units. The
            parameters are left at the best fit.
        """
        likelihood = Likelihood(datasets)
        ix, iy = likelihood.index(x), likelihood.index(y)
        minuit = self._migrad(likelihood)
        best = np.array(minuit.values)
        points = minuit.mncontour(
            likelihood.labels[ix],
            likelihood.labels[iy],
            cl=float(chdtr(2, sigma**2)),
            size=numpoints,
        )
        likelihood.set_factors(best)
        return {
            "x": u.Quantity(points[:, 0] * likelihood.scales[ix], likelihood.parameters[ix].unit),
            "y": u.Quantity(points[:, 1] * likelihood.scales[iy], likelihood.parameters[iy].unit),
        }


def _store_covariance(likelihood, covariance):
    """Set the covariance on each distinct model collection (or bare component) of the datasets.

    Frozen parameters get zero rows and columns; a `~gammarules.models.Models` passes the
    blocks on to its components, and the parameters' errors follow the diagonal.
    """
    position = {id(p): i for i, p in enumerate(likelihood.parameters)}
    targets, seen = [], set()
    for dataset in likelihood.datasets:
        models = getattr(dataset, "models", None)
        if models is None:
            continue
        if hasattr(models, "covariance"):
            owners = [models]
        else:
            owners = list(models)
        for owner in owners:
            if id(owner) not in seen:
                seen.add(id(owner))
                targets.append(owner)
    for target in targets:
        idx = [position.get(id(p)) for p in target.parameters.unique_parameters]
        free = [a for a, i in enumerate(idx) if i is not None]
        block = np.zeros((len(idx), len(idx)))
        rows = [idx[a] for a in free]
        block[np.ix_(free, free)] = covariance[np.ix_(rows, rows)]
        target.covariance = block
