"""Map dataset whose background is measured in OFF regions: WStat likelihood per bin.

Besides the `MapDataset` maps it holds, on the counts geometry, ``counts_off`` (counts in the
OFF region of each bin, e.g. a ring around the pixel), ``acceptance`` (expected background
in the bin) and ``acceptance_off`` (expected background in its OFF region), so that
``alpha = acceptance / acceptance_off`` scales OFF counts to the bin. The background is not a
model: it is profiled bin by bin (`wstat_mu_bkg`) given the predicted signal.

NetCDF: the schema of `gammarules.datasets.map` with ``dataset_type = "MapDatasetOnOff"``,
the variables counts_off, acceptance, acceptance_off (dimensionless) and no background.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.datasets.map import MapDataset, paste_slices
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import Map
from gammarules.stats import li_ma_significance, wstat, wstat_mu_bkg, wstat_sum

__all__ = ["MapDatasetOnOff"]

_OFF_FIELDS = ("counts_off", "acceptance", "acceptance_off")


class MapDatasetOnOff(MapDataset):
    """Counts with OFF counts and acceptances per bin; fitted with WStat.

    Parameters
    ----------
    counts, exposure, psf, edisp, mask_safe, mask_fit, name, meta, models, livetime
        As for `MapDataset`.
    counts_off, acceptance, acceptance_off : Map (energy, y, x)
        On the counts geometry, dimensionless, non-negative.
    """

    MAP_FIELDS = ("counts", "exposure", "mask_safe", "mask_fit", *_OFF_FIELDS)
    DATASET_TYPE = "MapDatasetOnOff"

    def __init__(
        self,
        counts,
        exposure,
        counts_off,
        acceptance,
        acceptance_off,
        psf=None,
        edisp=None,
        mask_safe=None,
        mask_fit=None,
        name="",
        meta=None,
        models=None,
        livetime=0 * u.s,
    ):
        super().__init__(
            counts,
            exposure,
            psf=psf,
            edisp=edisp,
            mask_safe=mask_safe,
            mask_fit=mask_fit,
            name=name,
            meta=meta,
            models=models,
            livetime=livetime,
        )
        for key, value in zip(_OFF_FIELDS, (counts_off, acceptance, acceptance_off), strict=True):
            if not isinstance(value, Map) or value.geom != counts.geom:
                raise GammarulesError(
                    f"MapDatasetOnOff '{name}': {key} must be a Map on the counts geometry"
                )
            if np.any(value.data < 0):
                raise GammarulesError(f"MapDatasetOnOff '{name}': {key} has negative values")
        self.counts_off = counts_off
        self.acceptance = acceptance
        self.acceptance_off = acceptance_off

    @classmethod
    def from_map_dataset(
        cls, dataset, counts_off, acceptance, acceptance_off, mask_safe=None, name=None
    ):
        """The ON/OFF dataset of ``dataset`` (counts, exposure, PSF, edisp, masks, meta,
        livetime; not its background or models) with the OFF maps; ``mask_safe`` replaces
        the dataset's if given."""
        maps = {
            key: getattr(dataset, key)
            for key in ("counts", "exposure", "psf", "edisp", "mask_safe", "mask_fit")
        }
        if mask_safe is not None:
            maps["mask_safe"] = mask_safe
        return cls(
            **{key: (m.copy() if m is not None else None) for key, m in maps.items()},
            counts_off=counts_off,
            acceptance=acceptance,
            acceptance_off=acceptance_off,
            name=dataset.name if name is None else name,
            meta=dict(dataset.meta),
            livetime=dataset.livetime,
        )

    @property
    def alpha(self):
        """``acceptance / acceptance_off`` (Map), 0 where ``acceptance_off`` is 0."""
        off = self.acceptance_off.data
        data = np.divide(
            self.acceptance.data, off, out=np.zeros(off.shape, dtype=float), where=off > 0
        )
        return Map(self.geom, data)

    @property
    def background(self):
        """``alpha * counts_off`` (Map): the OFF estimate of the background in each bin."""
        return Map(self.geom, self.alpha.data * self.counts_off.data)

    @background.setter
    def background(self, value):
        if value is not None:
            raise GammarulesError(
                f"MapDatasetOnOff '{self.name}': the background is alpha * counts_off; "
                "it cannot be set"
            )

    def _profiled(self, signal):
        alpha = self.alpha.data
        mu_bkg = wstat_mu_bkg(self.counts.data, self.counts_off.data, alpha, signal)
        return np.where(alpha > 0, alpha * mu_bkg, 0.0)

    def _signal(self):
        return self._add_npred_signal(np.zeros(self.geom.data_shape))

    def _npred_background(self):
        return self._profiled(self._signal())

    def npred_background(self):
        """``alpha`` times the WStat-profiled OFF background given the current signal."""
        return Map(self.geom, self._npred_background())

    def npred(self):
        """Predicted signal plus the profiled background."""
        signal = self._signal()
        return Map(self.geom, signal + self._profiled(signal))

    def stat_array(self):
        """WStat per bin (all bins); NaN where alpha = 0 and no signal is predicted (no
        background expected, no signal: undefined), so such bins must stay out of the mask
        (`RingBackgroundMaker` removes those without OFF acceptance)."""
        return wstat(self.counts.data, self.counts_off.data, self.alpha.data, self._signal())

    def stat_sum(self):
        """WStat summed over `mask` (C++ kernel)."""
        return float(
            wstat_sum(
                self.counts.data,
                self.counts_off.data,
                self.alpha.data,
                self._signal(),
                mask=self.mask,
            )
        )

    def stack(self, other):
        """Add the ON/OFF dataset ``other`` (on a cutout of this pixel grid), in place.

        ``counts_off`` and ``acceptance`` add over the safe bins of each dataset. The
        stacked alpha keeps the OFF estimate of the background: ``sum(alpha n_off) /
        sum(n_off)``, and where no OFF counts were stacked ``sum(acceptance) /
        sum(acceptance_off)``; ``acceptance_off`` follows as ``acceptance / alpha``. The
        rest is stacked as in `MapDataset.stack`.
        """
        if not isinstance(other, MapDatasetOnOff):
            raise GammarulesError(
                f"stack: '{other.name}' is a {type(other).__name__}, expected a MapDatasetOnOff"
            )
        index = (Ellipsis, *paste_slices(self.geom, other.geom))
        sums = {}
        for key, mine, theirs in (
            ("off", self.counts_off.data, other.counts_off.data),
            ("background", self.background.data, other.background.data),
            ("acceptance", self.acceptance.data, other.acceptance.data),
            ("acceptance_off", self.acceptance_off.data, other.acceptance_off.data),
        ):
            total = mine * self._safe()
            total[index] += theirs * other._safe()
            sums[key] = total
        with np.errstate(invalid="ignore", divide="ignore"):
            alpha = np.where(
                sums["off"] > 0,
                sums["background"] / sums["off"],
                sums["acceptance"] / sums["acceptance_off"],
            )
        alpha = np.nan_to_num(alpha, nan=0.0, posinf=0.0)
        acceptance_off = np.divide(
            sums["acceptance"], alpha, out=np.zeros_like(alpha), where=alpha > 0
        )
        super().stack(other)
        self.counts_off = Map(self.geom, sums["off"])
        self.acceptance = Map(self.geom, sums["acceptance"])
        self.acceptance_off = Map(self.geom, acceptance_off)

    def info_dict(self):
        """`MapDataset.info_dict` with the OFF measurement: background = sum(alpha n_off),
        counts_off, alpha (effective: background / counts_off), acceptance, acceptance_off
        (sums over the safe bins) and sqrt_ts the signed Li & Ma significance."""
        info = super().info_dict()
        safe = self._safe()
        counts_off = float(self.counts_off.data[safe].sum())
        alpha = info["background"] / counts_off if counts_off > 0 else 0.0
        info.update(
            counts_off=counts_off,
            alpha=alpha,
            acceptance=float(self.acceptance.data[safe].sum()),
            acceptance_off=float(self.acceptance_off.data[safe].sum()),
            sqrt_ts=float(li_ma_significance(info["counts"], counts_off, alpha)),
        )
        return info

    @classmethod
    def from_xarray(cls, ds, filename=None):
        """Dataset from an `xarray.Dataset`; `DataFormatError` naming ``filename`` if invalid."""
        if ds.attrs.get("dataset_type") == cls.DATASET_TYPE:
            source = str(filename) if filename is not None else "xarray.Dataset"
            for key in _OFF_FIELDS:
                if key not in ds.data_vars:
                    raise DataFormatError(f"{source}: variable '{key}' is missing")
        return super().from_xarray(ds, filename)

    def __repr__(self):
        return f"MapDatasetOnOff(name={self.name!r}, geom={self.geom!r})"
