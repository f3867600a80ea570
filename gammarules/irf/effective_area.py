"""Effective area as a function of true energy and field-of-view offset (GADF ``AEFF_2D``)."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from astropy import units as u

from gammarules.errors import DataFormatError
from gammarules.irf.core import IRF, to_value

__all__ = ["EffectiveAreaTable2D"]

_THRESHOLD_KEYS = ("LO_THRES", "HI_THRES")


class EffectiveAreaTable2D(IRF):
    """Effective area table, data shape ``(energy_true, offset)``.

    Interpolation: log in true energy with nodes at the log bin centres, clipped to the
    outer nodes (constant beyond them); linear in offset, extrapolated linearly from the two
    outermost nodes up to the outer offset edges and constant beyond. The area itself is
    interpolated linearly (it is zero below threshold, where a log would fail), and negative
    extrapolated values are set to zero.
    """

    tag = "AEFF_2D"
    axis_names = ("energy_true", "offset")
    data_columns = ("EFFAREA",)
    default_unit = "m2"

    @cached_property
    def _interp(self):
        return self._grid(extrapolate=("offset",))

    def evaluate(self, energy_true, offset):
        """Effective area (cm2) at broadcast ``energy_true`` and ``offset``."""
        energy = to_value(energy_true, "TeV", "energy_true")
        offset = to_value(offset, "deg", "offset")
        values = np.clip(self._interp(energy, offset), 0, None)
        return u.Quantity(values * self.unit.to("cm2"), "cm2")

    @classmethod
    def from_hdu(cls, hdu, source=None):
        source = source or f"HDU {hdu.name!r}"
        for key in _THRESHOLD_KEYS:
            value = hdu.header.get(key)
            if value is not None and not isinstance(value, (int, float)):
                raise DataFormatError(f"{source}: keyword {key}={value!r} is not an energy in TeV")
        return super().from_hdu(hdu, source)

    def _threshold(self, key):
        return u.Quantity(float(self.meta[key]), "TeV") if key in self.meta else None

    @property
    def lo_threshold(self):
        """Low energy threshold from the LO_THRES keyword (TeV), or None."""
        return self._threshold("LO_THRES")

    @property
    def hi_threshold(self):
        """High energy threshold from the HI_THRES keyword (TeV), or None."""
        return self._threshold("HI_THRES")
