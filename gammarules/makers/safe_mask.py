"""Safe energy ranges of reduced datasets: where the IRFs can be trusted.

Every method gives a lower (and possibly upper) energy; the mask keeps the reconstructed-
energy bins fully inside the range, and the methods are combined with a logical AND:

- ``aeff-default``: the LO_THRES / HI_THRES keywords of the effective-area IRF.
- ``aeff-max``: the lowest true energy where the effective area (times PSF containment, as in
  the dataset's exposure) reaches ``aeff_percent`` % of its maximum; the exposure curve is
  interpolated linearly in log(energy)-log(area) between true-energy bin centres and the
  crossing found exactly on that curve.
- ``edisp-bias``: the lowest true energy above which the relative energy bias at the ON
  region stays below ``bias_percent`` % (linear in log energy between bin centres).
- ``offset-max``: the whole dataset is unsafe when the ON region centre is farther than
  ``offset_max`` from the pointing.
- ``bkg-peak``: the lower edge of the reconstructed-energy bin where the background peaks.

For a `MapDataset` the mask is a cube: the energy methods apply to every pixel (``aeff-max``
uses the exposure at the pixel nearest the geometry centre, ``bkg-peak`` the background
summed over the map), and ``offset-max`` marks the pixels whose centre is ``offset_max`` or
more from the pointing as unsafe (``edisp-bias`` is not available for maps).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from astropy import units as u

from gammarules.datasets.map import MapDataset
from gammarules.errors import ConfigError
from gammarules.maps import Map

__all__ = ["SafeMaskMaker", "energy_mask"]

METHODS = ("aeff-default", "aeff-max", "edisp-bias", "offset-max", "bkg-peak")


def energy_mask(energy_axis, energy_min=None, energy_max=None):
    """Bins of ``energy_axis`` fully inside [energy_min, energy_max] (either may be None)."""
    lo, hi = energy_axis.edges_min, energy_axis.edges_max
    mask = np.ones(energy_axis.nbin, dtype=bool)
    if energy_min is not None:
        mask &= lo >= u.Quantity(energy_min) * (1 - 1e-10)
    if energy_max is not None:
        mask &= hi <= u.Quantity(energy_max) * (1 + 1e-10)
    return mask


def _first_crossing_loglog(energy, values, threshold):
    """Lowest energy where the log-log interpolated curve first reaches ``threshold``.

    Returns None when the curve never reaches it.
    """
    above = values >= threshold
    if not np.any(above):
        return None
    i = int(np.argmax(above))
    if i == 0 or values[i - 1] <= 0:
        # the curve starts above threshold, or rises from zero: the first positive node
        return energy[i]
    x0, x1 = np.log(energy[i - 1]), np.log(energy[i])
    y0, y1 = np.log(values[i - 1]), np.log(values[i])
    return float(np.exp(x0 + (np.log(threshold) - y0) * (x1 - x0) / (y1 - y0)))


def _first_energy_below(energy, values, threshold):
    """Lowest energy where ``|values|`` falls to ``threshold`` (linear in log E), or None."""
    ok = np.abs(values) <= threshold
    if not np.any(ok):
        return None
    i = int(np.argmax(ok))
    if i == 0:
        return energy[0]
    x0, x1 = np.log(energy[i - 1]), np.log(energy[i])
    y0, y1 = np.abs(values[i - 1]), np.abs(values[i])
    return float(np.exp(x0 + (threshold - y0) * (x1 - x0) / (y1 - y0)))


class SafeMaskMaker:
    """Sets ``mask_safe`` of a spectrum dataset from the methods listed above.

    Parameters
    ----------
    methods : sequence of str
    aeff_percent : float
    bias_percent : float
    offset_max : Quantity
    """

    def __init__(
        self, methods=("aeff-default",), aeff_percent=10, bias_percent=10, offset_max="3 deg"
    ):
        unknown = sorted(set(methods) - set(METHODS))
        if unknown:
            raise ConfigError(
                f"safe_mask.methods: unknown method(s) {unknown}; known: {list(METHODS)}"
            )
        self.methods = tuple(methods)
        self.aeff_percent = float(aeff_percent)
        self.bias_percent = float(bias_percent)
        self.offset_max = u.Quantity(offset_max, "deg")

    def run(self, dataset, observation=None):
        """A copy of ``dataset`` with ``mask_safe`` set (AND of the methods)."""
        if isinstance(dataset, MapDataset):
            return self._run_map(dataset, observation)
        mask = np.ones(dataset.energy_axis.nbin, dtype=bool)
        for method in self.methods:
            mask &= getattr(self, "_mask_" + method.replace("-", "_"))(dataset, observation)
        result = dataset.copy() if hasattr(dataset, "copy") else dataset
        result.mask_safe = mask
        return result

    @staticmethod
    def _need(observation, method):
        if observation is None:
            raise ConfigError(f"safe mask method '{method}' needs the observation (its IRFs)")
        return observation

    def _offset(self, dataset, observation, method):
        observation = self._need(observation, method)
        return observation.pointing_radec.separation(dataset.region.center)

    def _mask_aeff_default(self, dataset, observation):
        aeff = self._need(observation, "aeff-default").aeff
        return energy_mask(dataset.energy_axis, aeff.lo_threshold, aeff.hi_threshold)

    def _mask_aeff_max(self, dataset, observation):
        # exposure / livetime is the effective area; the relative threshold needs no livetime
        area = dataset.exposure.to_value("cm2 s")
        if not np.any(area > 0):
            return np.zeros(dataset.energy_axis.nbin, dtype=bool)
        energy = dataset.energy_axis_true.center_in("TeV")
        threshold = self.aeff_percent / 100 * area.max()
        energy_min = _first_crossing_loglog(energy, area, threshold)
        return energy_mask(dataset.energy_axis, energy_min * u.TeV)

    def _mask_edisp_bias(self, dataset, observation):
        kernel = dataset.edisp
        norm = kernel.sum(axis=1)
        reco = dataset.energy_axis.center_in("TeV")
        true = dataset.energy_axis_true.center_in("TeV")
        with np.errstate(invalid="ignore", divide="ignore"):
            bias = (kernel @ reco) / norm / true - 1
        valid = norm > 0
        energy_min = _first_energy_below(true[valid], bias[valid], self.bias_percent / 100)
        if energy_min is None:
            return np.zeros(dataset.energy_axis.nbin, dtype=bool)
        return energy_mask(dataset.energy_axis, energy_min * u.TeV)

    def _mask_offset_max(self, dataset, observation):
        offset = self._offset(dataset, observation, "offset-max")
        return np.full(dataset.energy_axis.nbin, bool(offset <= self.offset_max))

    def _mask_bkg_peak(self, dataset, observation):
        background = dataset.npred_background()
        if not np.any(background > 0):
            return np.ones(dataset.energy_axis.nbin, dtype=bool)
        peak = int(np.argmax(background))
        return energy_mask(dataset.energy_axis, dataset.energy_axis.edges[peak])

    def _run_map(self, dataset, observation):
        geom = dataset.geom
        mask = np.ones(geom.data_shape, dtype=bool)
        for method in self.methods:
            name = method.replace("-", "_")
            if method == "offset-max":
                pointing = self._need(observation, method).pointing_radec
                mask &= geom.separation(pointing) < self.offset_max
            elif method == "edisp-bias":
                raise ConfigError("safe mask method 'edisp-bias' is not available for map datasets")
            else:
                mask &= getattr(self, "_map_" + name)(dataset, observation)[:, None, None]
        return dataset.copy(mask_safe=Map(geom, mask))

    def _map_aeff_default(self, dataset, observation):
        return self._mask_aeff_default(dataset, observation)

    def _map_aeff_max(self, dataset, observation):
        ny, nx = dataset.geom.spatial_shape
        area = dataset.exposure.quantity[:, ny // 2, nx // 2]
        return self._mask_aeff_max(
            SimpleNamespace(
                exposure=area,
                energy_axis=dataset.energy_axis,
                energy_axis_true=dataset.energy_axis_true,
            ),
            observation,
        )

    def _map_bkg_peak(self, dataset, observation):
        if dataset.background is None:
            raise ConfigError(
                f"safe mask method 'bkg-peak': dataset '{dataset.name}' has no background"
            )
        background = dataset.background.data.sum(axis=(1, 2))
        return self._mask_bkg_peak(
            SimpleNamespace(npred_background=lambda: background, energy_axis=dataset.energy_axis),
            observation,
        )
