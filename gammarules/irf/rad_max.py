"""Energy-dependent directional cut of point-like IRFs (GADF ``RAD_MAX_2D``)."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.irf.core import IRF, to_value
from gammarules.maps import MapAxis

__all__ = ["RadMax2D"]

# axes of a constant cut: wide enough to hold any energy and offset
_CONSTANT_ENERGY_EDGES_TEV = (1e-6, 1e6)
_CONSTANT_OFFSET_EDGES_DEG = (0.0, 180.0)


class RadMax2D(IRF):
    """Radius of the on region (deg) versus reconstructed energy and offset.

    The cut was applied bin by bin, so `evaluate` returns the value of the bin holding each
    coordinate (no interpolation); coordinates beyond the axes take the outer bin's value.
    """

    tag = "RAD_MAX_2D"
    axis_names = ("energy", "offset")
    data_columns = ("RAD_MAX",)
    default_unit = "deg"

    @classmethod
    def from_constant(cls, value):
        """A cut that is the same at all energies and offsets (the ``RAD_MAX`` keyword)."""
        value = u.Quantity(value, "deg")
        axes = [
            MapAxis(_CONSTANT_ENERGY_EDGES_TEV, name="energy", unit="TeV", interp="log"),
            MapAxis(_CONSTANT_OFFSET_EDGES_DEG, name="offset", unit="deg", interp="lin"),
        ]
        meta = {"HDUCLAS3": "POINT-LIKE", "HDUCLAS4": cls.tag, "RAD_MAX": value.value}
        return cls(axes, [[value.value]], unit=value.unit, meta=meta)

    def evaluate(self, energy, offset):
        """Cut radius (deg) at broadcast ``energy`` and ``offset``."""
        index = []
        for name, coord in (("energy", energy), ("offset", offset)):
            axis = self.axes[name]
            values = to_value(coord, axis.unit, name)
            idx = np.searchsorted(axis.edges.value, values, side="right") - 1
            index.append(np.clip(idx, 0, axis.nbin - 1))
        index = np.broadcast_arrays(*index)
        return u.Quantity(self.data[tuple(index)] * self.unit.to("deg"), "deg")
