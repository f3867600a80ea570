"""Energy dispersion: pdf of the migration mu = E_reco / E_true (GADF ``EDISP_2D``)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.irf.core import IRF, to_value

__all__ = ["EnergyDispersion2D"]


class EnergyDispersion2D(IRF):
    """Migration pdf dP/dmu, data shape ``(energy_true, migra, offset)``.

    `evaluate` interpolates log in true energy (nodes at the log bin centres, clipped to the
    outer nodes), linearly in migration (nodes at the bin centres, clipped to the outer nodes
    inside the migration range, zero outside it) and linearly in offset (extrapolated
    linearly up to the outer offset edges, constant beyond). The pdf is interpolated
    linearly in value, which keeps interpolated pdfs normalised; negative extrapolated
    values are set to zero.

    The pdf of each (energy_true, offset) node is normalised to unit integral over the
    migration range, as GADF requires; files do not all comply (CTA Prod5 stores per-bin
    probabilities, integral 0.01; CTA 1DC unnormalised histograms). ``data`` keeps the
    values as stored. A node whose pdf is zero everywhere has no data (e.g. MAGIC tables
    above 40 TeV) and is left out of the interpolation, which then uses the neighbouring nodes
    with data only.

    `to_kernel`, `bias` and `resolution` treat the pdf at a given true energy and offset
    (interpolated as above in energy and offset) as constant within each migration bin,
    i.e. with a piecewise linear cumulative distribution through the migration bin edges.
    """

    tag = "EDISP_2D"
    axis_names = ("energy_true", "migra", "offset")
    data_columns = ("MATRIX",)
    default_unit = ""

    @cached_property
    def _pdf(self):
        """The data normalised to unit integral over migration at each node."""
        widths = np.diff(self.axes["migra"].edges_in(""))[:, np.newaxis]
        total = (self.data * widths).sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.data / total, 0.0)

    @cached_property
    def _has_data(self):
        """(energy_true, offset) nodes whose pdf is not zero everywhere."""
        return (self._pdf > 0).any(axis=1)

    @cached_property
    def _interp(self):
        valid = self._has_data[:, np.newaxis, :]
        return self._grid(self._pdf, extrapolate=("offset",), valid=valid)

    @cached_property
    def _rows(self):
        """Migration pdfs interpolated over (energy_true, offset)."""
        rows = np.moveaxis(self._pdf, 1, -1)
        axes = ["energy_true", "offset"]
        return self._grid(rows, axes=axes, extrapolate=("offset",), valid=self._has_data)

    def evaluate(self, energy_true, migra, offset):
        """dP/dmu at broadcast ``energy_true``, ``migra`` and ``offset``."""
        energy = to_value(energy_true, "TeV", "energy_true")
        mu = to_value(migra, "", "migra")
        offset = to_value(offset, "deg", "offset")
        values = np.clip(self._interp(energy, mu, offset), 0, None)
        edges = self.axes["migra"].edges_in("")
        values = np.where((mu >= edges[0]) & (mu <= edges[-1]), values, 0.0)
        return u.Quantity(values, self.unit)

    def _bin_probabilities(self, energy, offset):
        """Probability in each migration bin, shape ``(*broadcast, n_migra)``."""
        pdf = np.clip(self._rows(energy, offset), 0, None)
        return pdf * np.diff(self.axes["migra"].edges_in(""))

    def to_kernel(self, offset, energy_axis_true, energy_axis):
        """Response matrix (n_true, n_reco) at ``offset``.

        Entry (i, j) is the probability that an event with the centre energy E_t of true bin i
        is reconstructed in reco bin j: the integral of dP/dmu from E_lo/E_t to E_hi/E_t.
        Rows are not renormalised: probability reconstructed outside ``energy_axis`` is lost.
        """
        offset = to_value(offset, "deg", "offset")
        if offset.ndim != 0:
            raise GammarulesError(f"to_kernel: offset must be a scalar, got shape {offset.shape}")
        return self.to_kernels(offset[np.newaxis], energy_axis_true, energy_axis)[0]

    def to_kernels(self, offsets, energy_axis_true, energy_axis):
        """Response matrices (n_offset, n_true, n_reco) at the ``offsets`` (deg), as
        `to_kernel` computes each."""
        offsets = np.asarray(to_value(offsets, "deg", "offset"), dtype=float).ravel()
        energy_true = energy_axis_true.center_in("TeV")
        prob = self._bin_probabilities(energy_true[np.newaxis, :], offsets[:, np.newaxis])
        zeros = np.zeros(prob.shape[:-1] + (1,))
        cdf = np.concatenate([zeros, np.cumsum(prob, axis=-1)], axis=-1)
        edges = self.axes["migra"].edges_in("")
        mu = energy_axis.edges_in("TeV")[np.newaxis, :] / energy_true[:, np.newaxis]
        idx = np.clip(np.searchsorted(edges, mu, side="right") - 1, 0, edges.size - 2)
        frac = np.clip((mu - edges[idx]) / (edges[idx + 1] - edges[idx]), 0.0, 1.0)
        idx = np.broadcast_to(idx, prob.shape[:1] + idx.shape)
        at_mu = np.take_along_axis(cdf, idx, axis=-1) + frac * np.take_along_axis(
            prob, idx, axis=-1
        )
        return np.diff(at_mu, axis=-1)

    def _moments(self, energy_true, offset):
        energy = to_value(energy_true, "TeV", "energy_true")
        offset = to_value(offset, "deg", "offset")
        prob = self._bin_probabilities(energy, offset)
        edges = self.axes["migra"].edges_in("")
        centers = 0.5 * (edges[1:] + edges[:-1])
        with np.errstate(invalid="ignore", divide="ignore"):
            total = prob.sum(axis=-1)
            mean = (prob * centers).sum(axis=-1) / total
            spread = (centers - mean[..., np.newaxis]) ** 2
            variance = (prob * spread).sum(axis=-1) / total
        return mean, variance

    def bias(self, energy_true, offset):
        """Relative energy bias, mean(mu) - 1, of the pdf within the migration range."""
        mean, _ = self._moments(energy_true, offset)
        return mean - 1.0

    def resolution(self, energy_true, offset):
        """Relative energy resolution: the standard deviation of mu within the migration range.

        Computed from the bin probabilities at the bin centres (grouped moments).
        """
        _, variance = self._moments(energy_true, offset)
        return np.sqrt(variance)
