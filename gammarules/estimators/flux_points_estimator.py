"""Flux points: the norm of the best-fit model refitted in bins of reconstructed energy."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.table import Table
from scipy.special import chdtr

from gammarules.errors import ConfigError, GammarulesError
from gammarules.estimators.flux_points import SED_UNITS, FluxPoints
from gammarules.estimators.norm import NormLikelihood
from gammarules.fit.likelihood import model_components

__all__ = ["FluxPointsEstimator"]

SELECTION_OPTIONAL = ("errn-errp", "ul", "scan")

RESULT_COLUMNS = (
    "norm",
    "norm_err",
    "norm_errn",
    "norm_errp",
    "norm_ul",
    "ts",
    "sqrt_ts",
    "counts",
    "npred",
    "npred_excess",
    "stat",
    "stat_null",
)
"""Numeric columns of the likelihood table (NaN for a bin without data, counts 0)."""

DEFAULT_NORM_VALUES = np.geomspace(0.2, 5, 11)
"""Norms of the statistic scan: 11 log-spaced values from 0.2 to 5 (as Gammapy's default)."""


def snap_edges(axis_edges, energy_min, energy_max):
    """Indices of the reconstructed-energy edges nearest (in log energy) to a requested bin."""
    log_edges = np.log(axis_edges)
    lo = int(np.argmin(np.abs(log_edges - np.log(energy_min))))
    hi = int(np.argmin(np.abs(log_edges - np.log(energy_max))))
    return lo, hi


class FluxPointsEstimator:
    """Flux points of one model component from a joint likelihood of spectrum datasets.

    For each requested energy bin, the edges are snapped to the nearest edges (in log energy)
    of each dataset's reconstructed-energy axis; the bins between them that are inside the
    dataset's mask (safe & fit) form the flux point. Every model parameter keeps its best-fit
    value and only a norm multiplying the source component is fitted (no bounds, start 1;
    other components are fixed, as Gammapy's default ``reoptimize=False``). The point's
    ``e_min``/``e_max`` span the bins used (over all datasets) and ``e_ref`` is their
    geometric mean; the reference fluxes are those of the source's spectral model there.

    Parameters
    ----------
    energy_edges : `~astropy.units.Quantity`
        Edges of the flux point bins (TeV if plain numbers).
    source : int or str
        The component (index or name among the datasets' models) the flux points are for.
    n_sigma : float
        Width of the asymmetric errors: the norms where the statistic rises by ``n_sigma**2``.
    n_sigma_ul : float
        Upper limit: the norm above the best fit where the statistic rises by
        ``n_sigma_ul**2`` (``UL_CONF`` = the two-sided coverage, 0.9545 for 2).
    sqrt_ts_threshold_ul : float
        Points with ``ts < sqrt_ts_threshold_ul**2`` are flagged ``is_ul``.
    selection_optional : sequence of str or "all"
        Optional steps among ``"errn-errp"``, ``"ul"``, ``"scan"``.
    norm_values : array, optional
        Norms of the statistic scan; default `DEFAULT_NORM_VALUES`.
    """

    def __init__(
        self,
        energy_edges,
        source=0,
        n_sigma=1,
        n_sigma_ul=2,
        sqrt_ts_threshold_ul=2,
        selection_optional=SELECTION_OPTIONAL,
        norm_values=None,
    ):
        edges = u.Quantity(energy_edges, "TeV").to_value("TeV")
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0) or edges[0] <= 0:
            raise ConfigError(
                f"energy_edges: expected at least two positive, increasing energies, got {edges}"
            )
        if selection_optional is None:
            selection_optional = ()
        elif isinstance(selection_optional, str):
            all_steps = selection_optional == "all"
            selection_optional = SELECTION_OPTIONAL if all_steps else (selection_optional,)
        unknown = set(selection_optional) - set(SELECTION_OPTIONAL)
        if unknown:
            raise ConfigError(
                f"selection_optional: unknown steps {sorted(unknown)}; "
                f"expected a subset of {SELECTION_OPTIONAL} or 'all'"
            )
        if not (n_sigma > 0 and n_sigma_ul > 0):
            raise ConfigError(
                f"n_sigma and n_sigma_ul must be positive, got {n_sigma} and {n_sigma_ul}"
            )
        self.energy_edges = u.Quantity(edges, "TeV")
        self.source = source
        self.n_sigma = float(n_sigma)
        self.n_sigma_ul = float(n_sigma_ul)
        self.sqrt_ts_threshold_ul = float(sqrt_ts_threshold_ul)
        self.selection_optional = tuple(selection_optional)
        values = DEFAULT_NORM_VALUES if norm_values is None else norm_values
        self.norm_values = np.asarray(values, dtype=float)

    def _source_model(self, datasets):
        components = model_components(datasets)
        if not components:
            raise GammarulesError("flux points: the datasets have no models")
        if isinstance(self.source, str):
            matches = [c for c in components if c.name == self.source]
            if not matches:
                raise GammarulesError(
                    f"flux points: no model named {self.source!r}; "
                    f"models: {[c.name for c in components]}"
                )
            return matches[0]
        if not -len(components) <= self.source < len(components):
            raise GammarulesError(
                f"flux points: source index {self.source} out of range for {len(components)} models"
            )
        return components[self.source]

    def run(self, datasets):
        """Estimate the flux points.

        Parameters
        ----------
        datasets : dataset or list of datasets
            Datasets with their best-fit models (e.g. after `gammarules.fit.Fit.run`).

        Returns
        -------
        flux_points : `FluxPoints`
            Of SED type ``likelihood``.
        """
        datasets = [datasets] if hasattr(datasets, "stat_sum") else list(datasets)
        if not datasets:
            raise GammarulesError("flux points: no datasets given")
        source = self._source_model(datasets)
        edges = self.energy_edges.to_value("TeV")
        rows = [
            self._estimate_bin(datasets, source, e_lo, e_hi)
            for e_lo, e_hi in zip(edges[:-1], edges[1:], strict=True)
        ]
        return FluxPoints(self._table(rows, source), sed_type="likelihood")

    def _bin_masks(self, datasets, e_lo, e_hi):
        """Masks of the bins used per dataset, and the energy range they span (TeV)."""
        masks, lows, highs, snapped = [], [], [], None
        for dataset in datasets:
            axis_edges = dataset.energy_axis.edges_in("TeV")
            lo, hi = snap_edges(axis_edges, e_lo, e_hi)
            if snapped is None and hi > lo:
                snapped = (axis_edges[lo], axis_edges[hi])
            in_bin = np.zeros(axis_edges.size - 1, dtype=bool)
            in_bin[lo:hi] = True
            dataset_mask = np.asarray(dataset.mask, dtype=bool)
            mask = in_bin.reshape((-1,) + (1,) * (dataset_mask.ndim - 1)) & dataset_mask
            masks.append(mask)
            if mask.any():
                used = np.flatnonzero(mask.reshape(mask.shape[0], -1).any(axis=1))
                lows.append(axis_edges[used[0]])
                highs.append(axis_edges[used[-1] + 1])
        if lows:
            return masks, (min(lows), max(highs))
        return masks, snapped or (e_lo, e_hi)

    def _estimate_bin(self, datasets, source, e_lo, e_hi):
        masks, (e_min, e_max) = self._bin_masks(datasets, e_lo, e_hi)
        row = {"e_min": e_min, "e_max": e_max, "e_ref": np.sqrt(e_min * e_max)}
        likelihood = NormLikelihood(datasets, source, masks)
        if likelihood.is_empty:
            row.update(dict.fromkeys(RESULT_COLUMNS, np.nan), success=False, counts=0.0)
            row["stat_scan"] = np.full(self.norm_values.size, np.nan)
            return row
        norm, norm_err, stat, success = likelihood.fit()
        stat_null = float(likelihood.stat(0.0))
        ts = stat_null - stat
        row.update(
            norm=norm,
            norm_err=norm_err,
            stat=stat,
            success=success,
            ts=ts,
            sqrt_ts=float(np.sign(norm) * np.sqrt(max(ts, 0.0))),
            stat_null=stat_null,
            counts=likelihood.counts,
            npred=likelihood.npred(norm),
            npred_excess=likelihood.npred_excess(norm),
        )
        if "errn-errp" in self.selection_optional:
            delta = self.n_sigma**2
            row["norm_errn"] = norm - likelihood.crossing(norm, stat, delta, -1, norm_err)
            row["norm_errp"] = likelihood.crossing(norm, stat, delta, +1, norm_err) - norm
        if "ul" in self.selection_optional:
            row["norm_ul"] = likelihood.crossing(norm, stat, self.n_sigma_ul**2, +1, norm_err)
        if "scan" in self.selection_optional:
            row["stat_scan"] = np.asarray(likelihood.stat(self.norm_values), dtype=float)
        return row

    def _table(self, rows, source):
        table = Table(meta={"SED_TYPE": "likelihood"})
        for name in ("e_ref", "e_min", "e_max"):
            table[name] = u.Quantity([row[name] for row in rows], SED_UNITS["energy"])
        e_ref, e_min, e_max = (u.Quantity(table[name]) for name in ("e_ref", "e_min", "e_max"))
        model = source.spectral_model
        table["ref_dnde"] = model(e_ref).to(SED_UNITS["dnde"])
        table["ref_e2dnde"] = (table["ref_dnde"].quantity * e_ref**2).to(SED_UNITS["e2dnde"])
        table["ref_flux"] = model.integral(e_min, e_max).to(SED_UNITS["flux"])
        table["ref_eflux"] = model.energy_flux(e_min, e_max).to(SED_UNITS["eflux"])
        skipped = set()
        if "errn-errp" not in self.selection_optional:
            skipped |= {"norm_errn", "norm_errp"}
        if "ul" not in self.selection_optional:
            skipped.add("norm_ul")
        for name in RESULT_COLUMNS:
            if name not in skipped:
                table[name] = np.array([row[name] for row in rows], dtype=float)
        table["success"] = np.array([row["success"] for row in rows], dtype=bool)
        if "ul" in self.selection_optional:
            with np.errstate(invalid="ignore"):
                table["is_ul"] = table["ts"].data < self.sqrt_ts_threshold_ul**2
        if "scan" in self.selection_optional:
            table["norm_scan"] = np.tile(self.norm_values, (len(rows), 1))
            table["stat_scan"] = np.array([row["stat_scan"] for row in rows])
        table.meta.update(
            {
                "UL_CONF": float(chdtr(1, self.n_sigma_ul**2)),
                "N_SIGMA": self.n_sigma,
                "NSIGMAUL": self.n_sigma_ul,
                "STSTHUL": self.sqrt_ts_threshold_ul,
            }
        )
        return table
