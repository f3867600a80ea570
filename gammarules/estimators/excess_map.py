"""Excess, significance and flux maps from counts correlated with a top-hat (backward folding).

Each pixel sums the counts within ``correlation_radius`` (a top-hat on the pixel grid,
`gammarules.maps.kernels`) over the used bins of an energy group (``dataset.mask``: safe and
fit masks, as in Gammapy), and tests them against the same sum of the null hypothesis:

- `MapDataset`: known background ``mu_bkg`` = correlated ``dataset.npred()``, the background
  model plus every source model set on the dataset (after a fit: the residual
  significance); Cash statistic (`CashCountsStatistic`).
- `MapDatasetOnOff`: WStat (`WStatCountsStatistic`; Li & Ma 1983 eq. 17 without source
  models) with signal ``mu_sig`` = correlated ``npred_signal()``. The bins of an energy group
  are merged first: on/off counts and on acceptance add, and the off acceptance is set so
  that ``alpha n_off`` is the sum of the bins' background estimates. Then, with
  ``correlate_off``, ``n_off`` is correlated and ``alpha`` = correlated ``alpha n_off`` over
  ``n_off`` (the correlated acceptances where the disk has no off counts); without, ``n_off``
  stays the pixel's own (e.g. a ring sum) and ``alpha`` = correlated ``acceptance`` over the
  pixel's ``acceptance_off``. These are Gammapy 2.1's definitions.

Flux: ``norm`` is the excess over the counts a reference spectral model (default: power law
of index 2, 1e-12 TeV-1 cm-2 s-1 at 1 TeV) predicts with the dataset's exposure and its
energy dispersion at the map centre, averaged over the used pixels of the correlation disk
(the counts of a point source of that spectrum at the pixel); ``flux = norm x`` the
reference integral flux of the energy group.

Maps (one image per energy group; NaN where a pixel has no used bin in the group or no valid
``alpha``): counts, npred_background (null hypothesis), npred_excess, npred (best fit:
npred_background + npred_excess = counts), npred_excess_err (symmetric, ``n_sigma``),
npred_excess_ul (``n_sigma_ul``; with ``selection_optional``), ts, sqrt_ts, and norm, flux
with ``_err`` (and ``_ul``).
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import ConfigError, GammarulesError
from gammarules.estimators.flux_maps import FluxMaps
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.maps.kernels import convolve_image, tophat_kernel
from gammarules.models import PowerLawSpectralModel
from gammarules.stats import CashCountsStatistic, WStatCountsStatistic, cash, wstat

__all__ = ["ExcessMapEstimator", "energy_groups", "residual_significance"]

MAX_BRACKET_DOUBLINGS = 60
BISECTION_STEPS = 100


def _quantity(value, unit, name):
    try:
        return u.Quantity(value, unit)
    except (TypeError, ValueError, u.UnitsError) as exc:
        raise ConfigError(f"ExcessMapEstimator: {name} must be in {unit}, got {value!r}") from exc


def energy_groups(axis, energy_edges=None):
    """Bin ranges ``[(start, stop), ...]`` of ``axis`` between the axis edges nearest (in log)
    to ``energy_edges``, and the axis of the groups; None: one group of all bins."""
    if energy_edges is None:
        return [(0, axis.nbin)], axis.squash()
    requested = _quantity(energy_edges, "TeV", "energy_edges").to_value("TeV").ravel()
    edges = axis.edges_in("TeV")
    if requested.size < 2 or np.any(requested <= 0):
        raise ConfigError(
            f"ExcessMapEstimator: energy_edges needs at least two positive energies, "
            f"got {energy_edges!r}"
        )
    nearest = np.abs(np.log(requested)[:, np.newaxis] - np.log(edges)).argmin(axis=1)
    idx = np.unique(nearest)
    if idx.size < 2:
        raise ConfigError(
            f"ExcessMapEstimator: energy_edges {energy_edges!r} select no bin of the dataset "
            f"energy axis {edges[0]:.4g}-{edges[-1]:.4g} TeV"
        )
    groups = [(int(a), int(b)) for a, b in zip(idx[:-1], idx[1:], strict=True)]
    group_axis = MapAxis(axis.edges[idx], name=axis.name, unit=axis.unit, interp=axis.interp)
    return groups, group_axis


def _grouped(data, groups):
    """Sum over the energy bins of each group: ``(n_groups, ny, nx)``."""
    return np.stack([data[start:stop].sum(axis=0) for start, stop in groups])


def _grouped_on_off(dataset, mask, groups):
    """Off counts and on/off acceptances of the energy groups: counts and on acceptance add;
    the off acceptance makes ``alpha`` the off-count weighted mean of the bins' alphas, so
    that ``alpha n_off`` is the sum of their background estimates (the bins' acceptance
    ratio where there are no off counts)."""
    n_off_bins = np.asarray(dataset.counts_off.data, dtype=float) * mask
    acceptance_bins = dataset.acceptance.data * mask
    off_bins = dataset.acceptance_off.data * mask
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha_bins = np.where(off_bins > 0, acceptance_bins / off_bins, 0.0)
        n_off = _grouped(n_off_bins, groups)
        acceptance = _grouped(acceptance_bins, groups)
        background = _grouped(alpha_bins * n_off_bins, groups)
        acceptance_off = np.where(
            background > 0, acceptance * n_off / background, _grouped(off_bins, groups)
        )
    return n_off, acceptance, acceptance_off


def _upper_limit(stat, best, delta, scale):
    """Smallest ``s > best`` with ``stat(s) = stat(best) + delta``, per element (the statistic
    rises monotonically above its minimum ``best``); bracketed by doubling steps from
    ``scale``, then bisected to machine precision."""
    target = stat(best) + delta
    lo, step = best.copy(), np.maximum(scale, 1.0)
    hi = best + step
    for _ in range(MAX_BRACKET_DOUBLINGS):
        below = stat(hi) < target
        if not below.any():
            break
        lo = np.where(below, hi, lo)
        step = np.where(below, 2 * step, step)
        hi = np.where(below, lo + step, hi)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        if not np.any((mid > lo) & (mid < hi)):
            break
        below = stat(mid) < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


class ExcessMapEstimator:
    """Correlated excess, significance and flux maps of a map dataset.

    Parameters
    ----------
    correlation_radius : Quantity or str
        Radius of the top-hat summing the pixels around each pixel.
    n_sigma : float
        Errors are ``n_sigma`` times the symmetric 1 sigma error.
    n_sigma_ul : float
        Upper limits where the statistic rises by ``n_sigma_ul**2`` above its minimum.
    energy_edges : Quantity, optional
        Edges of the energy groups (moved to the nearest edges of the dataset's reco energy
        axis); None: one group of all energies.
    spectral_model : SpectralModel, optional
        Reference spectrum of the flux maps; default a power law of index 2.
    correlate_off : bool
        Correlate the off counts and off acceptance of an on/off dataset (False when they are
        already ring sums per pixel).
    selection_optional : None, "all" or list of {"ul"}
        Optional maps: ``"ul"`` the upper limits (npred_excess_ul, norm_ul, flux_ul). None
        (default, as Gammapy's): none of them.
    """

    def __init__(
        self,
        correlation_radius="0.1 deg",
        n_sigma=1,
        n_sigma_ul=2,
        energy_edges=None,
        spectral_model=None,
        correlate_off=True,
        selection_optional=None,
    ):
        self.correlation_radius = _quantity(correlation_radius, "deg", "correlation_radius")
        if not self.correlation_radius.value > 0:
            raise ConfigError(
                f"ExcessMapEstimator: correlation_radius must be > 0, got {correlation_radius!r}"
            )
        for name, value in (("n_sigma", n_sigma), ("n_sigma_ul", n_sigma_ul)):
            if not (np.isscalar(value) and value > 0):
                raise ConfigError(f"ExcessMapEstimator: {name} must be > 0, got {value!r}")
        self.n_sigma = float(n_sigma)
        self.n_sigma_ul = float(n_sigma_ul)
        self.energy_edges = energy_edges
        if energy_edges is not None:
            _quantity(energy_edges, "TeV", "energy_edges")
        self.spectral_model = spectral_model or PowerLawSpectralModel(
            index=2, amplitude=1e-12, reference=1
        )
        self.correlate_off = bool(correlate_off)
        if selection_optional == "all":
            selection_optional = ["ul"]
        unknown = set(selection_optional or []) - {"ul"}
        if unknown:
            raise ConfigError(
                f"ExcessMapEstimator: unknown selection_optional {sorted(unknown)}; "
                "expected None, 'all' or ['ul']"
            )
        self.upper_limits = "ul" in (selection_optional or [])

    def run(self, dataset):
        """`FluxMaps` of ``dataset`` (a `MapDataset` or `MapDatasetOnOff` on a WCS geometry)."""
        geom = dataset.geom
        if not isinstance(geom, WcsGeom):
            raise GammarulesError(
                f"ExcessMapEstimator: dataset '{dataset.name}' needs a WCS geometry, got {geom!r}"
            )
        kernel = tophat_kernel(self.correlation_radius, geom)
        groups, group_axis = energy_groups(dataset.energy_axis, self.energy_edges)
        mask = dataset.mask

        def correlated(data):
            return convolve_image(_grouped(data * mask, groups), kernel)

        valid = _grouped(mask, groups) > 0
        n_on = correlated(np.asarray(dataset.counts.data, dtype=float))
        if getattr(dataset, "counts_off", None) is not None:
            statistic, stat_of_signal, has_alpha = self._on_off(dataset, mask, groups, kernel, n_on)
            valid &= has_alpha
            background = statistic.n_bkg + statistic.mu_sig
        else:
            statistic = CashCountsStatistic(n_on, correlated(dataset.npred().data))
            background = statistic.mu_bkg

            def stat_of_signal(signal, index):
                return cash(n_on[index], statistic.mu_bkg[index] + signal)

        maps = self._counts_maps(statistic, stat_of_signal, valid)
        maps["npred_background"] = background
        reference = self._reference_counts(dataset, mask, groups, kernel)
        edges = group_axis.edges_in("TeV")
        ref_flux = self.spectral_model.integral_values(edges[:-1], edges[1:])[:, None, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            for suffix in ("", "_err", "_ul") if self.upper_limits else ("", "_err"):
                norm = np.where(reference > 0, maps[f"npred_excess{suffix}"] / reference, np.nan)
                maps[f"norm{suffix}"] = norm
                maps[f"flux{suffix}"] = norm * ref_flux
        out_geom = geom.to_image().to_cube([group_axis])
        result = {}
        for name, data in maps.items():
            unit = "cm-2 s-1" if name.startswith("flux") else ""
            result[name] = Map(out_geom, np.where(valid, data, np.nan), unit=unit)
        meta = {
            "n_sigma": self.n_sigma,
            "n_sigma_ul": self.n_sigma_ul,
            "correlation_radius_deg": float(self.correlation_radius.to_value("deg")),
        }
        return FluxMaps(result, reference_model=self.spectral_model, meta=meta)

    def _on_off(self, dataset, mask, groups, kernel, n_on):
        """WStat statistic of the correlated on/off counts, the statistic versus excess, and
        where ``alpha`` is defined (elsewhere it is set to 1 and the pixel is invalid)."""
        n_off, acceptance, acceptance_off = _grouped_on_off(dataset, mask, groups)
        acceptance_on = convolve_image(acceptance, kernel)
        with np.errstate(invalid="ignore", divide="ignore"):
            if self.correlate_off:
                alpha_group = np.where(acceptance_off > 0, acceptance / acceptance_off, 0.0)
                alpha_n_off = convolve_image(alpha_group * n_off, kernel)
                n_off = convolve_image(n_off, kernel)
                alpha = np.where(
                    n_off > 0,
                    alpha_n_off / n_off,
                    acceptance_on / convolve_image(acceptance_off, kernel),
                )
            else:
                alpha = acceptance_on / acceptance_off
        has_alpha = np.isfinite(alpha) & (alpha > 0)
        alpha = np.where(has_alpha, alpha, 1.0)
        mu_sig = convolve_image(_grouped(dataset.npred_signal().data * mask, groups), kernel)
        statistic = WStatCountsStatistic(n_on, n_off, alpha, mu_sig)

        def stat_of_signal(signal, index):
            return wstat(n_on[index], n_off[index], alpha[index], mu_sig[index] + signal)

        return statistic, stat_of_signal, has_alpha

    def _counts_maps(self, statistic, stat_of_signal, valid):
        """Counts-space maps; the upper limit is solved on the valid pixels only."""
        excess = statistic.n_sig
        error = statistic.error
        with np.errstate(invalid="ignore"):
            maps = {
                "counts": statistic.n_on,
                "npred_excess": excess,
                "npred": statistic.n_on.copy(),
                "npred_excess_err": self.n_sigma * error,
                "ts": statistic.ts,
                "sqrt_ts": statistic.sqrt_ts,
            }
        if self.upper_limits:
            upper = np.full(excess.shape, np.nan)
            index = np.nonzero(valid)
            upper[index] = _upper_limit(
                lambda signal: stat_of_signal(signal, index),
                excess[index],
                self.n_sigma_ul**2,
                self.n_sigma_ul * error[index],
            )
            if isinstance(statistic, CashCountsStatistic):
                # without counts the limit is measured from zero signal, as in Gammapy
                upper = np.where(statistic.n_on == 0, 0.5 * self.n_sigma_ul**2, upper)
            maps["npred_excess_ul"] = upper
        return maps

    def _reference_counts(self, dataset, mask, groups, kernel):
        """Counts of the reference spectrum per pixel, averaged over the used pixels of the
        correlation disk: ``(n_groups, ny, nx)``."""
        edges = dataset.energy_axis_true.edges_in("TeV")
        flux = self.spectral_model.integral_values(edges[:-1], edges[1:])
        weights = flux[:, np.newaxis] * dataset.edisp_matrix(dataset.geom.center_skydir)
        exposure = dataset.exposure.quantity.to_value("cm2 s")
        npred = np.tensordot(weights, exposure, axes=(0, 0))
        total = convolve_image(_grouped(npred * mask, groups), kernel)
        pixels = convolve_image((_grouped(mask, groups) > 0).astype(float), kernel)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pixels > 0, total / pixels, 0.0)


def residual_significance(dataset, correlation_radius="0.1 deg"):
    """Significance (sqrt_ts `Map`, one image) of the counts over ``dataset.npred()``: after a
    fit, the residual significance of the data against all fitted models."""
    return ExcessMapEstimator(correlation_radius=correlation_radius).run(dataset)["sqrt_ts"]
