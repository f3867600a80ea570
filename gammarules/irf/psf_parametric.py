"""Parametric radial PSFs: triple Gaussian (``PSF_3GAUSS``) and King (``PSF_KING``).

The parameters are tabulated versus true energy and offset and interpolated like the other
IRFs: log in energy (nodes at the log bin centres, clipped to the outer nodes), linear in
offset (extrapolated linearly up to the outer offset edges, constant beyond), parameter
values linearly (negative extrapolated values set to zero); nodes without a valid profile
(e.g. zero widths below the CTA 1DC threshold) are left out of the interpolation. The
profiles use the small-angle (flat sky) formulas of GADF, with the angles in radians for
dP/dOmega in sr-1.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.irf.core import IRF, check_unit, to_value

__all__ = ["PSF3Gauss", "PSFKing"]

# bisection steps of the triple-Gauss containment radius (relative precision 2^-60)
_BISECTION_STEPS = 60


class ParametricPSF(IRF):
    """PSF given by parameter tables of shape ``(energy_true, offset)``.

    ``data`` and ``unit`` are dicts keyed by the lower-case parameter names of ``parameters``
    (column name -> default unit).
    """

    axis_names = ("energy_true", "offset")
    parameters = {}

    def _set_data(self, data, unit):
        missing = set(self.parameters) - {name.upper() for name in data}
        if missing:
            raise GammarulesError(f"{type(self).__name__}: missing parameters {sorted(missing)}")
        self.data, self.unit = {}, {}
        for column in self.parameters:
            values = np.asarray(data[column.lower()], dtype=float)
            if values.shape != self.axes.shape:
                raise GammarulesError(
                    f"{type(self).__name__}: {column.lower()} has shape {values.shape}, "
                    f"expected {self.axes.shape}"
                )
            self.data[column.lower()] = values
            self.unit[column.lower()] = u.Unit((unit or {}).get(column.lower(), ""))

    @property
    def quantity(self):
        return {name: u.Quantity(v, self.unit[name], copy=False) for name, v in self.data.items()}

    @classmethod
    def from_hdu(cls, hdu, source=None):
        table = cls._open_table(hdu, source)
        axes, nodes = cls._read_axes(table)
        lengths = {axis.name: axis.nbin for axis in axes}
        data, units = {}, {}
        for column, default_unit in cls.parameters.items():
            values, unit, name = table.array((column,), lengths, default_unit)
            check_unit(unit, default_unit, table.source, name)
            data[column.lower()], units[column.lower()] = values, unit
        return cls(axes, data, unit=units, meta=table.meta, nodes=nodes)

    @cached_property
    def _interp(self):
        """Interpolator of all parameters at once, in radians for angles."""
        stack = []
        for name, values in self.data.items():
            unit = self.unit[name]
            scale = unit.to("rad") if unit.is_equivalent("rad") else unit.to("")
            stack.append(values * scale)
        values = np.stack(stack, axis=-1)
        return self._grid(values, extrapolate=("offset",), valid=self._has_data)

    def _parameters(self, energy_true, offset):
        energy = to_value(energy_true, "TeV", "energy_true")
        offset = to_value(offset, "deg", "offset")
        values = np.clip(self._interp(energy, offset), 0, None)
        return {name: values[..., i] for i, name in enumerate(self.data)}

    def evaluate(self, rad, energy_true, offset):
        """dP/dOmega (sr-1) at broadcast ``rad``, ``energy_true`` and ``offset``."""
        theta = np.radians(to_value(rad, "deg", "rad"))
        values = self._profile(theta, **self._parameters(energy_true, offset))
        return u.Quantity(values, "sr-1")

    def containment(self, rad, energy_true, offset):
        """Fraction of events reconstructed within ``rad`` of the true position."""
        theta = np.radians(to_value(rad, "deg", "rad"))
        return self._containment(theta, **self._parameters(energy_true, offset))

    def containment_radius(self, fraction, energy_true, offset):
        """Radius (deg) containing ``fraction`` of the events."""
        fraction = np.asarray(fraction, dtype=float)
        theta = self._containment_radius(fraction, **self._parameters(energy_true, offset))
        return u.Quantity(np.degrees(theta), "deg")


class PSF3Gauss(ParametricPSF):
    """Sum of three 2D Gaussians (GADF ``PSF_3GAUSS``)::

        dP/dOmega ~ exp(-r^2/2 s1^2) + A2 exp(-r^2/2 s2^2) + A3 exp(-r^2/2 s3^2)

    normalised to a total probability of one, so the Gaussian ``i`` carries the weight
    ``A_i s_i^2 / sum_j A_j s_j^2`` (``A_1 = 1``). The ``SCALE`` column is not used: it
    does not normalise the profile in the files met (e.g. CTA 1DC, Prod5), and the
    normalisation follows from the other parameters.
    """

    tag = "PSF_3GAUSS"
    parameters = {
        "SIGMA_1": "deg",
        "SIGMA_2": "deg",
        "SIGMA_3": "deg",
        "AMPL_2": "",
        "AMPL_3": "",
    }

    @property
    def _has_data(self):
        return self.data["sigma_1"] > 0

    @staticmethod
    def _components(x, sigma_1, sigma_2, sigma_3, ampl_2, ampl_3):
        """``x`` broadcast with the Gaussian widths and normalised weights, shape (3, ...)."""
        x, *sigmas, ampl_2, ampl_3 = np.broadcast_arrays(
            x, sigma_1, sigma_2, sigma_3, ampl_2, ampl_3
        )
        sigmas = np.stack(sigmas)
        weights = np.stack([np.ones_like(ampl_2), ampl_2, ampl_3]) * sigmas**2
        total = weights.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            weights = np.where(total > 0, weights / total, 0.0)
        return x, sigmas, weights

    def _profile(self, theta, **params):
        theta, sigmas, weights = self._components(theta, **params)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            terms = np.exp(-0.5 * (theta / sigmas) ** 2) / (2 * np.pi * sigmas**2)
        return np.where(weights > 0, weights * terms, 0.0).sum(axis=0)

    def _containment(self, theta, **params):
        theta, sigmas, weights = self._components(theta, **params)
        with np.errstate(invalid="ignore", divide="ignore"):
            terms = 1 - np.exp(-0.5 * (theta / sigmas) ** 2)
        return np.where(weights > 0, weights * terms, 0.0).sum(axis=0)

    def _containment_radius(self, fraction, **params):
        """Bisection between the radii of the narrowest and the widest Gaussian."""
        fraction, sigmas, weights = self._components(fraction, **params)
        used = np.where(weights > 0, sigmas, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.sqrt(-2 * np.log1p(-np.clip(fraction, 0, 1)))
            lo = np.fmin.reduce(used, axis=0) * scale
            hi = np.fmax.reduce(used, axis=0) * scale
        for _ in range(_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            below = self._containment(mid, **params) < fraction
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)


class PSFKing(ParametricPSF):
    """King profile (GADF ``PSF_KING``), normalised to one for ``GAMMA`` > 1.

    With g = ``GAMMA`` and s = ``SIGMA``: dP/dOmega = (1 - 1/g) / (2 pi s^2) x
    (1 + r^2 / (2 g s^2))^-g, whose containment is 1 - (1 + r^2 / (2 g s^2))^(1 - g).
    Nodes with g <= 1 or s <= 0 have no valid profile.
    """

    tag = "PSF_KING"
    parameters = {"GAMMA": "", "SIGMA": "deg"}

    @property
    def _has_data(self):
        return (self.data["sigma"] > 0) & (self.data["gamma"] > 1)

    def _profile(self, theta, gamma, sigma):
        with np.errstate(invalid="ignore", divide="ignore"):
            base = 1 + theta**2 / (2 * gamma * sigma**2)
            values = (1 - 1 / gamma) / (2 * np.pi * sigma**2) * base**-gamma
        return np.where((gamma > 1) & (sigma > 0), values, 0.0)

    def _containment(self, theta, gamma, sigma):
        with np.errstate(invalid="ignore", divide="ignore"):
            values = 1 - (1 + theta**2 / (2 * gamma * sigma**2)) ** (1 - gamma)
        return np.where((gamma > 1) & (sigma > 0), values, 0.0)

    def _containment_radius(self, fraction, gamma, sigma):
        with np.errstate(invalid="ignore", divide="ignore"):
            base = (1 - fraction) ** (1 / (1 - gamma))
            theta = sigma * np.sqrt(2 * gamma * (base - 1))
        return np.where((gamma > 1) & (sigma > 0), theta, np.nan)
