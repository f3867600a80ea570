"""1D spectrum datasets: counts in reconstructed energy and the response that predicts them.

Arrays are plain floats in canonical units (exposure cm2 s, livetime s, energies through the
axes); the public accessors ``exposure`` and ``livetime`` return Quantities.

``meta`` is a JSON-like dict describing where the dataset comes from. Keys with a meaning:
``obs_id``; ``region`` (the ON region: a ``regions.SkyRegion`` or its DS9 text);
``provenance`` (dict: gammarules version, input checksums, config hash); anything else
(e.g. ``pointing`` as ``{"ra_deg": ..., "dec_deg": ...}``) is carried along unchanged.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from regions import Regions, SkyRegion

from gammarules.errors import DataFormatError
from gammarules.maps import MapAxis
from gammarules.stats import (
    CashCountsStatistic,
    cash,
    cash_sum,
    li_ma_significance,
    wstat,
    wstat_mu_bkg,
    wstat_sum,
)

__all__ = ["SpectrumDataset", "SpectrumDatasetOnOff"]


def _axis(axis, name, dataset):
    if not isinstance(axis, MapAxis) or axis.name != name:
        raise DataFormatError(
            f"dataset '{dataset}': expected a MapAxis named '{name}', got {axis!r}"
        )
    if not axis.unit.is_equivalent(u.TeV):
        raise DataFormatError(
            f"dataset '{dataset}': axis '{name}' has unit {axis.unit}, not energy"
        )
    return axis


def _vector(values, size, what, dataset, dtype=float):
    array = np.array(values, dtype=dtype)
    if array.shape != (size,):
        raise DataFormatError(
            f"dataset '{dataset}': {what} has shape {array.shape}, expected ({size},)"
        )
    return array


def _quantity_values(value, unit, what, dataset):
    try:
        return u.Quantity(value, unit).to_value(unit)
    except u.UnitsError as error:
        raise DataFormatError(f"dataset '{dataset}': {what} must be in {unit}: {error}") from None


class SpectrumDataset:
    """Counts in reconstructed energy with exposure, energy dispersion and a background model.

    Parameters
    ----------
    counts : array (n_reco,)
        Observed counts per reconstructed-energy bin.
    exposure : `~astropy.units.Quantity` or array (n_true,)
        Effective area times livetime per true-energy bin (cm2 s if plain numbers).
    edisp : array (n_true, n_reco)
        Probability that an event of true-energy bin i is reconstructed in bin j.
    energy_axis, energy_axis_true : `~gammarules.maps.MapAxis`
        Axes named "energy" and "energy_true".
    livetime : `~astropy.units.Quantity`
        Livetime (s if a plain number).
    background : array (n_reco,), optional
        Expected background counts.
    mask_safe, mask_fit : bool array (n_reco,), optional
        Bins inside the safe energy range, bins used in the fit (default: all).
    name : str
        Dataset name; models whose ``datasets_names`` list it (or is None) apply.
    meta : dict, optional
        Provenance and observation information (see the module docstring).
    models : `~gammarules.models.Models`, list of SkyModel or SkyModel, optional
    """

    stat_type = "cash"

    def __init__(
        self,
        counts,
        exposure,
        edisp,
        energy_axis,
        energy_axis_true,
        livetime,
        background=None,
        mask_safe=None,
        mask_fit=None,
        name="",
        meta=None,
        models=None,
    ):
        self.name = str(name)
        self.energy_axis = _axis(energy_axis, "energy", self.name)
        self.energy_axis_true = _axis(energy_axis_true, "energy_true", self.name)
        n_reco, n_true = self.energy_axis.nbin, self.energy_axis_true.nbin
        self.counts = _vector(counts, n_reco, "counts", self.name)
        exposure = _quantity_values(exposure, "cm2 s", "exposure", self.name)
        self._exposure = _vector(exposure, n_true, "exposure", self.name)
        self.edisp = np.array(edisp, dtype=float)
        if self.edisp.shape != (n_true, n_reco):
            raise DataFormatError(
                f"dataset '{self.name}': edisp has shape {self.edisp.shape}, "
                f"expected (n_true, n_reco) = ({n_true}, {n_reco})"
            )
        livetime = _quantity_values(livetime, "s", "livetime", self.name)
        self._livetime = float(livetime)
        self._background = (
            None if background is None else _vector(background, n_reco, "background", self.name)
        )
        self.mask_safe = mask_safe
        self.mask_fit = mask_fit
        self.meta = dict(meta or {})
        self.models = models
        edges = self.energy_axis_true.edges_in("TeV")
        self._etrue_lo, self._etrue_hi = edges[:-1], edges[1:]

    @classmethod
    def create(cls, energy_axis, energy_axis_true, region=None, name="", meta=None):
        """An empty dataset (zero counts, exposure and edisp) for a maker to fill."""
        meta = dict(meta or {})
        if region is not None:
            meta["region"] = region if isinstance(region, str) else region.serialize(format="ds9")
        n_reco, n_true = energy_axis.nbin, energy_axis_true.nbin
        return cls(
            counts=np.zeros(n_reco),
            exposure=np.zeros(n_true),
            edisp=np.zeros((n_true, n_reco)),
            energy_axis=energy_axis,
            energy_axis_true=energy_axis_true,
            livetime=0.0,
            name=name,
            meta=meta,
        )

    def _init_kwargs(self):
        return dict(
            counts=self.counts,
            exposure=self._exposure,
            edisp=self.edisp,
            energy_axis=self.energy_axis,
            energy_axis_true=self.energy_axis_true,
            livetime=self._livetime,
            background=self._background,
            mask_safe=self._mask_safe,
            mask_fit=self._mask_fit,
            name=self.name,
            meta=self.meta,
            models=self.models,
        )

    def copy(self, **changes):
        """A new dataset of the same type with some constructor arguments replaced."""
        kwargs = self._init_kwargs()
        kwargs.update(changes)
        return type(self)(**kwargs)

    @property
    def mask_safe(self):
        return self._mask_safe

    @mask_safe.setter
    def mask_safe(self, value):
        self._mask_safe = self._mask(value, "mask_safe")

    @property
    def mask_fit(self):
        return self._mask_fit

    @mask_fit.setter
    def mask_fit(self, value):
        self._mask_fit = self._mask(value, "mask_fit")

    def _mask(self, value, what):
        n_reco = self.energy_axis.nbin
        if value is None:
            return np.ones(n_reco, dtype=bool)
        return _vector(value, n_reco, what, self.name, dtype=bool)

    @property
    def mask(self):
        """Bins entering the likelihood: ``mask_safe & mask_fit``."""
        return self._mask_safe & self._mask_fit

    @property
    def exposure(self):
        return u.Quantity(self._exposure, "cm2 s")

    @property
    def livetime(self):
        return u.Quantity(self._livetime, "s")

    @property
    def background(self):
        """Expected background counts per bin, or None."""
        return self._background

    @property
    def region(self):
        """The ON region (``meta["region"]``) as a `regions.SkyRegion`, or None."""
        region = self.meta.get("region")
        if region is None or isinstance(region, SkyRegion):
            return region
        parsed = Regions.parse(region, format="ds9")
        return parsed[0] if len(parsed) == 1 else parsed

    def _applicable_models(self):
        if self.models is None:
            return []
        models = [self.models] if hasattr(self.models, "spectral_model") else self.models
        return [
            model
            for model in models
            if getattr(model, "spectral_model", None) is not None
            and (model.datasets_names is None or self.name in model.datasets_names)
        ]

    def npred_signal(self):
        """Predicted source counts per reconstructed-energy bin (all applicable models).

        Only the spectral part of a sky model enters: the exposure is taken to cover the
        source (point-like IRFs or containment-corrected exposure).
        """
        models = self._applicable_models()
        if not models:
            return np.zeros(self.energy_axis.nbin)
        flux = sum(m.spectral_model.integral_values(self._etrue_lo, self._etrue_hi) for m in models)
        return (self._exposure * flux) @ self.edisp

    def npred_background(self):
        if self._background is None:
            return np.zeros(self.energy_axis.nbin)
        return self._background

    def npred(self):
        """Total predicted counts: signal plus background."""
        return self.npred_signal() + self.npred_background()

    def stat_array(self):
        """Cash statistic per bin (all bins, unmasked)."""
        return cash(self.counts, self.npred())

    def stat_sum(self):
        """Cash statistic summed over ``mask``."""
        return float(cash_sum(self.counts, self.npred(), mask=self.mask))

    @property
    def counts_total(self):
        """Counts summed over the safe range."""
        return float(self.counts[self._mask_safe].sum())

    @property
    def excess(self):
        """Counts minus background per bin (background 0 when there is none)."""
        return self.counts - self.npred_background()

    def info_dict(self):
        """Summary numbers over the safe range, as plain floats (keys carry units).

        counts, background, excess, sqrt_ts (Cash, signed; nan without background), npred,
        npred_signal, npred_background, livetime_s,
        counts_rate / background_rate / excess_rate (s-1),
        exposure_min_cm2_s / exposure_max_cm2_s (true-energy bins with non-zero exposure),
        n_bins, n_fit_bins, stat_type, stat_sum.
        """
        safe = self._mask_safe
        counts = self.counts_total
        background = float(self.background[safe].sum()) if self.background is not None else 0.0
        npred_background = float(self.npred_background()[safe].sum())
        npred_signal = float(self.npred_signal()[safe].sum())
        excess = counts - background
        exposure = self._exposure[self._exposure > 0]
        rate = 1 / self._livetime if self._livetime > 0 else float("nan")
        sqrt_ts = float("nan")
        if self._background is not None:
            sqrt_ts = float(CashCountsStatistic(counts, background).sqrt_ts)
        return {
            "name": self.name,
            "counts": counts,
            "background": background,
            "excess": excess,
            "sqrt_ts": sqrt_ts,
            "npred": npred_signal + npred_background,
            "npred_signal": npred_signal,
            "npred_background": npred_background,
            "livetime_s": self._livetime,
            "counts_rate": counts * rate,
            "background_rate": background * rate,
            "excess_rate": excess * rate,
            "exposure_min_cm2_s": float(exposure.min()) if exposure.size else 0.0,
            "exposure_max_cm2_s": float(exposure.max()) if exposure.size else 0.0,
            "n_bins": int(self.energy_axis.nbin),
            "n_fit_bins": int(self.mask.sum()),
            "stat_type": self.stat_type,
            "stat_sum": self.stat_sum(),
        }

    def stack(self, other):
        """New dataset stacking ``self`` and ``other`` (see `gammarules.datasets.stack`)."""
        from gammarules.datasets.stacking import stack

        return stack([self, other], name=self.name)

    def to_xarray(self):
        """The dataset as an `xarray.Dataset` in the DL4 NetCDF schema."""
        from gammarules.datasets.netcdf import dataset_to_xarray

        return dataset_to_xarray(self)

    @classmethod
    def from_xarray(cls, ds, filename=None):
        """Dataset from an `xarray.Dataset` in the DL4 schema (checked; see `netcdf`)."""
        from gammarules.datasets.netcdf import dataset_from_xarray

        return dataset_from_xarray(ds, filename=filename, expected=cls)

    def write(self, path, overwrite=False):
        """Write to a NetCDF4 file."""
        from gammarules.datasets.netcdf import write_dataset

        write_dataset(self, path, overwrite=overwrite)

    @classmethod
    def read(cls, path):
        """Read a NetCDF4 file written by `write`."""
        from gammarules.datasets.netcdf import read_dataset

        return read_dataset(path, expected=cls)

    def __repr__(self):
        return (
            f"{type(self).__name__}(name={self.name!r}, n_reco={self.energy_axis.nbin}, "
            f"n_true={self.energy_axis_true.nbin}, livetime={self._livetime:.6g} s)"
        )


class SpectrumDatasetOnOff(SpectrumDataset):
    """Spectrum dataset whose background is measured in OFF regions (WStat likelihood).

    ``alpha = acceptance / acceptance_off`` scales OFF counts to the ON region (0 where
    ``acceptance_off`` is 0). The background is not a model: `npred_background` profiles it
    bin by bin given the current signal prediction.
    """

    stat_type = "wstat"

    def __init__(
        self,
        counts,
        exposure,
        edisp,
        energy_axis,
        energy_axis_true,
        livetime,
        counts_off,
        acceptance=None,
        acceptance_off=None,
        mask_safe=None,
        mask_fit=None,
        name="",
        meta=None,
        models=None,
    ):
        super().__init__(
            counts,
            exposure,
            edisp,
            energy_axis,
            energy_axis_true,
            livetime,
            mask_safe=mask_safe,
            mask_fit=mask_fit,
            name=name,
            meta=meta,
            models=models,
        )
        n_reco = self.energy_axis.nbin
        self.counts_off = _vector(counts_off, n_reco, "counts_off", self.name)
        ones = np.ones(n_reco)
        self.acceptance = _vector(
            ones if acceptance is None else acceptance, n_reco, "acceptance", self.name
        )
        self.acceptance_off = _vector(
            ones if acceptance_off is None else acceptance_off, n_reco, "acceptance_off", self.name
        )
        if np.any(self.acceptance < 0) or np.any(self.acceptance_off < 0):
            raise DataFormatError(f"dataset '{self.name}': acceptances must be non-negative")

    @classmethod
    def from_spectrum_dataset(cls, dataset, counts_off, acceptance=None, acceptance_off=None):
        """The ON/OFF dataset of ``dataset`` (its counts, response, masks) with OFF counts."""
        kwargs = SpectrumDataset._init_kwargs(dataset)
        del kwargs["background"]
        return cls(
            **kwargs,
            counts_off=counts_off,
            acceptance=acceptance,
            acceptance_off=acceptance_off,
        )

    def _init_kwargs(self):
        kwargs = super()._init_kwargs()
        del kwargs["background"]
        kwargs.update(
            counts_off=self.counts_off,
            acceptance=self.acceptance,
            acceptance_off=self.acceptance_off,
        )
        return kwargs

    @property
    def alpha(self):
        """ON/OFF exposure ratio per bin."""
        return np.divide(
            self.acceptance,
            self.acceptance_off,
            out=np.zeros_like(self.acceptance),
            where=self.acceptance_off > 0,
        )

    @property
    def background(self):
        """OFF counts scaled to the ON region, ``alpha * counts_off``."""
        return self.alpha * self.counts_off

    def npred_background(self):
        """``alpha`` times the WStat-profiled OFF background given the current signal."""
        alpha = self.alpha
        mu_bkg = wstat_mu_bkg(self.counts, self.counts_off, alpha, self.npred_signal())
        return np.where(alpha > 0, alpha * mu_bkg, 0.0)

    def stat_array(self):
        """WStat per bin (all bins, unmasked)."""
        return wstat(self.counts, self.counts_off, self.alpha, self.npred_signal())

    def stat_sum(self):
        """WStat summed over ``mask``."""
        return float(
            wstat_sum(self.counts, self.counts_off, self.alpha, self.npred_signal(), mask=self.mask)
        )

    @property
    def excess(self):
        """``counts - alpha * counts_off`` per bin."""
        return self.counts - self.background

    def info_dict(self):
        """Safe-range summary (see `SpectrumDataset.info_dict`) with the OFF measurement.

        background = sum(alpha * counts_off) (npred_background is the profiled one);
        alpha is the effective ratio background / counts_off (the mean of alpha over the
        safe bins when there are no OFF counts); sqrt_ts is the signed Li & Ma significance
        of (counts, counts_off, alpha) -- what WStat gives for one bin;
        acceptance and acceptance_off are summed over the safe bins.
        """
        safe = self._mask_safe
        info = super().info_dict()
        counts_off = float(self.counts_off[safe].sum())
        alpha = self.alpha[safe]
        if counts_off > 0:
            alpha_eff = info["background"] / counts_off
        else:
            alpha_eff = float(alpha.mean()) if alpha.size else 0.0
        info.update(
            sqrt_ts=float(li_ma_significance(info["counts"], counts_off, alpha_eff)),
            counts_off=counts_off,
            acceptance=float(self.acceptance[safe].sum()),
            acceptance_off=float(self.acceptance_off[safe].sum()),
            alpha=alpha_eff,
        )
        return info

    def write_ogip(self, outdir, overwrite=False):
        """Write PHA, BKG, ARF and RMF files into ``outdir``; returns the PHA path."""
        from gammarules.datasets.ogip import write_ogip

        return write_ogip(self, outdir, overwrite=overwrite)
