"""Background rate templates (GADF ``BKG_2D`` and ``BKG_3D``).

The rate (per time, reconstructed energy and solid angle) is interpolated in log of the
rate and log of the energy (nodes at the log bin centres), linearly in the field-of-view
coordinates; every coordinate is clipped to the outer nodes (no extrapolation in log
space). Between nodes the rate is thus a power law in energy, which `integrate_energy`
integrates exactly. Zero rates stay zero around their node.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.irf.core import IRF, to_value

__all__ = ["Background2D", "Background3D"]


def _power_law_integrals(energy, values):
    """Integrals between consecutive ``energy`` points of the power law through ``values``.

    ``energy`` has shape (m,), ``values`` (m, ...); zero or negative ends give zero.
    """
    a, b = energy[:-1], energy[1:]
    fa, fb = values[:-1], values[1:]
    shape = (-1,) + (1,) * (values.ndim - 1)
    a, b = a.reshape(shape), b.reshape(shape)
    positive = (fa > 0) & (fb > 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_ratio = np.log(b / a)
        index_plus_one = np.log(fb / fa) / log_ratio + 1
        general = (b * fb - a * fa) / index_plus_one
        flat = a * fa * log_ratio
    result = np.where(np.abs(index_plus_one) > 1e-8, general, flat)
    return np.where(positive, result, 0.0)


class _Background(IRF):
    default_unit = "s-1 MeV-1 sr-1"

    @property
    def fov_alignment(self):
        """Orientation of the field-of-view axes, from the FOVALIGN keyword (default RADEC)."""
        return str(self.meta.get("FOVALIGN", "RADEC")).strip().upper()

    @cached_property
    def _interp(self):
        return self._grid(values_scale="log")

    def _evaluate(self, energy, *fov):
        energy = to_value(energy, "TeV", "energy")
        return self._interp(energy, *fov)

    def _integrate_energy(self, energy_edges, *fov):
        edges = to_value(energy_edges, "TeV", "energy_edges")
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise GammarulesError(
                f"integrate_energy: energy_edges must be increasing with at least two "
                f"values, got {edges}"
            )
        nodes = self._nodes["energy"]
        inside = nodes[(nodes > edges[0]) & (nodes < edges[-1])]
        points = np.union1d(edges, inside)
        fov = np.broadcast_arrays(*fov)
        grid = [points.reshape((-1,) + (1,) * fov[0].ndim)] + [f[np.newaxis] for f in fov]
        rates = self._interp(*grid)
        segments = _power_law_integrals(points, rates)
        starts = np.searchsorted(points, edges[:-1])
        integral = np.add.reduceat(segments, starts, axis=0)
        return u.Quantity(integral * (self.unit * u.TeV).to("s-1 sr-1"), "s-1 sr-1")


class Background2D(_Background):
    """Background rate versus reconstructed energy and offset, data shape ``(energy, offset)``."""

    tag = "BKG_2D"
    axis_names = ("energy", "offset")
    data_columns = ("BKG", "BGD")

    def evaluate(self, energy, offset):
        """Background rate (stored unit, e.g. s-1 MeV-1 sr-1) at broadcast coordinates."""
        values = self._evaluate(energy, to_value(offset, "deg", "offset"))
        return u.Quantity(values, self.unit)

    def integrate_energy(self, energy_edges, offset):
        """Rate per solid angle (s-1 sr-1) in each energy bin, shape ``(n_bins, *offset.shape)``."""
        return self._integrate_energy(energy_edges, to_value(offset, "deg", "offset"))


class Background3D(_Background):
    """Background rate versus reconstructed energy and field-of-view coordinates.

    Data shape ``(energy, fov_lon, fov_lat)``; ``fov_lon``/``fov_lat`` come from the
    ``DETX``/``DETY`` columns, oriented as `fov_alignment` says.
    """

    tag = "BKG_3D"
    axis_names = ("energy", "fov_lon", "fov_lat")
    data_columns = ("BKG", "BGD")

    def evaluate(self, energy, fov_lon, fov_lat):
        """Background rate (stored unit, e.g. s-1 MeV-1 sr-1) at broadcast coordinates."""
        lon = to_value(fov_lon, "deg", "fov_lon")
        lat = to_value(fov_lat, "deg", "fov_lat")
        return u.Quantity(self._evaluate(energy, lon, lat), self.unit)

    def integrate_energy(self, energy_edges, fov_lon, fov_lat):
        """Rate per solid angle (s-1 sr-1) in each energy bin, shape ``(n_bins, *fov.shape)``."""
        lon = to_value(fov_lon, "deg", "fov_lon")
        lat = to_value(fov_lat, "deg", "fov_lat")
        return self._integrate_energy(energy_edges, lon, lat)
