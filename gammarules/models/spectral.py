"""Spectral models: differential flux dN/dE as a function of energy.

Each model implements ``_dnde(energy, **values)`` on plain arrays in canonical units
(energy TeV, dnde TeV-1 cm-2 s-1) and, where a closed form exists, ``_integral`` and
``_energy_flux``; the others integrate with Gauss-Legendre quadrature in log energy.
"""

from __future__ import annotations

from functools import lru_cache

import astropy.units as u
import numpy as np

from gammarules.errors import ConfigError
from gammarules.models.core import ModelBase
from gammarules.models.parameter import Parameter
from gammarules.models.registry import register

DNDE_UNIT = u.Unit("TeV-1 cm-2 s-1")
FLUX_UNIT = u.Unit("cm-2 s-1")
ENERGY_FLUX_UNIT = u.Unit("TeV cm-2 s-1")

# Gauss-Legendre rule on sub-intervals of at most a quarter decade in energy and at most
# four e-folds of change of the integrand: relative error below 1e-9 for the spectra
# here, also deep in exponential cut-offs (checked against adaptive quadrature).
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_GL_MAX_STEP = np.log(10) / 4
_GL_MAX_EFOLDS = 4.0
_GL_MAX_SUBINTERVALS = 512
# Step of the central differences in error propagation, in units of the parameter error.
_DERIVATIVE_STEP = 1e-3


def _energy_tev(energy, what: str = "energy") -> np.ndarray:
    try:
        return u.Quantity(energy).to_value(u.TeV)
    except (u.UnitsError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{what} must be an energy quantity (e.g. in TeV), got {energy!r}"
        ) from exc


def powerlaw_integral(x_min, x_max, index):
    """Integral of x**-index from x_min to x_max (> 0), stable when index is near 1."""
    g = 1.0 - np.asarray(index, dtype=float)
    log_ratio = np.log(x_max / x_min)
    y = g * log_ratio
    small = np.abs(y) < 1e-300
    y_safe = np.where(small, 1.0, y)
    expm1_ratio = np.where(small, 1.0, np.expm1(y_safe) / y_safe)
    return x_min**g * log_ratio * expm1_ratio


@lru_cache(maxsize=64)
def _composite_rule(n_sub: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes (as fractions of the interval) and weights of the composite rule on [0, 1]."""
    fractions = ((np.arange(n_sub)[:, None] + (_GL_NODES[None, :] + 1) / 2) / n_sub).ravel()
    return fractions, np.tile(_GL_WEIGHTS / (2 * n_sub), n_sub)


def _gauss_legendre(dnde, log_min, width, n_sub: int, moment: int, values: dict):
    """Integral over [log_min, log_min + width] in ln E with n_sub sub-intervals each."""
    fractions, weights = _composite_rule(n_sub)
    energy = np.exp(log_min[..., None] + width[..., None] * fractions)
    values = {name: value[..., None] for name, value in values.items()}
    integrand = dnde(energy, **values) * energy ** (moment + 1)
    return np.sum(integrand * weights, axis=-1) * width


def log_quadrature(dnde, energy_min, energy_max, moment: int = 0, **values):
    """Integral of energy**moment * dnde(energy, **values) between the bounds (TeV).

    Vectorised over the broadcast bounds and parameter values. Each interval is cut into
    sub-intervals of at most a quarter decade and four e-folds of the integrand (judged
    from its values at the bounds), with an 8-point Gauss-Legendre rule in ln E on each.
    """
    arrays = [
        np.log(np.asarray(energy_min, dtype=float)),
        np.log(np.asarray(energy_max, dtype=float)),
    ]
    arrays += [np.asarray(value, dtype=float) for value in values.values()]
    log_min, log_max, *params = np.broadcast_arrays(*arrays)
    params = dict(zip(values, params, strict=True))
    width = log_max - log_min
    edges = np.exp(np.stack([log_min, log_max]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        at_edges = np.abs(dnde(edges, **params) * edges ** (moment + 1))
        efolds = np.abs(np.log(at_edges[1]) - np.log(at_edges[0]))
        efolds = np.where(np.isnan(efolds), 0.0, efolds)  # zero at both bounds
        n_sub = np.maximum(np.abs(width) / _GL_MAX_STEP, efolds / _GL_MAX_EFOLDS)
    n_sub = np.where(np.isfinite(n_sub), np.ceil(n_sub), _GL_MAX_SUBINTERVALS)
    n_sub = np.clip(n_sub, 1, _GL_MAX_SUBINTERVALS).astype(int)
    if n_sub.size and n_sub.min() == n_sub.max():
        return _gauss_legendre(dnde, log_min, width, int(n_sub.flat[0]), moment, params)
    result = np.empty(width.shape)
    for n in np.unique(n_sub):
        sel = n_sub == n
        selected = {name: value[sel] for name, value in params.items()}
        result[sel] = _gauss_legendre(dnde, log_min[sel], width[sel], int(n), moment, selected)
    return result


class SpectralModel(ModelBase):
    """Base class: evaluation with units, integrals, energy flux and error propagation.

    Subclasses define ``_dnde(energy, **values)`` and may override ``_integral`` and
    ``_energy_flux`` with closed forms.
    """

    def _integral(self, energy_min, energy_max, **values):
        return log_quadrature(self._dnde, energy_min, energy_max, 0, **values)

    def _energy_flux(self, energy_min, energy_max, **values):
        return log_quadrature(self._dnde, energy_min, energy_max, 1, **values)

    def __call__(self, energy) -> u.Quantity:
        """Differential flux at `energy` (Quantity), in TeV-1 cm-2 s-1."""
        return u.Quantity(self._dnde(_energy_tev(energy), **self.canonical_values()), DNDE_UNIT)

    def evaluate(self, energy, **values):
        """dnde (TeV-1 cm-2 s-1) at `energy` in TeV; `values` (canonical units) override
        the current parameter values."""
        return self._dnde(np.asarray(energy, dtype=float), **self._values(values))

    def integral_values(self, energy_min, energy_max, **values):
        """Integral flux (cm-2 s-1) between bounds in TeV, on plain arrays."""
        return self._integral(
            np.asarray(energy_min, dtype=float),
            np.asarray(energy_max, dtype=float),
            **self._values(values),
        )

    def energy_flux_values(self, energy_min, energy_max, **values):
        """Energy flux (TeV cm-2 s-1) between bounds in TeV, on plain arrays."""
        return self._energy_flux(
            np.asarray(energy_min, dtype=float),
            np.asarray(energy_max, dtype=float),
            **self._values(values),
        )

    def integral(self, energy_min, energy_max) -> u.Quantity:
        """Integral flux between energy bounds (Quantities, broadcast), in cm-2 s-1."""
        emin, emax = _energy_tev(energy_min, "energy_min"), _energy_tev(energy_max, "energy_max")
        return u.Quantity(self._integral(emin, emax, **self.canonical_values()), FLUX_UNIT)

    def energy_flux(self, energy_min, energy_max) -> u.Quantity:
        """Energy flux between energy bounds (Quantities, broadcast), in TeV cm-2 s-1."""
        emin, emax = _energy_tev(energy_min, "energy_min"), _energy_tev(energy_max, "energy_max")
        return u.Quantity(
            self._energy_flux(emin, emax, **self.canonical_values()), ENERGY_FLUX_UNIT
        )

    def _propagate(self, function):
        """Value and 1 sigma error of ``function(values)`` from the covariance.

        Linear error propagation with derivatives by central differences; every
        parameter with a non-zero variance contributes.
        """
        values = self.canonical_values()
        keys, factors = list(values), self.canonical_factors()
        central = np.asarray(function(values), dtype=float)
        covariance = self.covariance
        variances = np.diag(covariance)
        used = [idx for idx, var in enumerate(variances) if var > 0 and np.isfinite(var)]
        if not used:
            return central, np.zeros_like(central)
        jacobian = []
        for idx in used:
            key = keys[idx]
            step = _DERIVATIVE_STEP * np.sqrt(variances[idx])
            up = function({**values, key: values[key] + step * factors[idx]})
            down = function({**values, key: values[key] - step * factors[idx]})
            jacobian.append((np.asarray(up) - np.asarray(down)) / (2 * step))
        jacobian = np.array(jacobian)
        sub = covariance[np.ix_(used, used)]
        variance = np.einsum("i...,ij,j...->...", jacobian, sub, jacobian)
        return central, np.sqrt(np.clip(variance, 0, None))

    def evaluate_error(self, energy) -> tuple[u.Quantity, u.Quantity]:
        """dnde and its 1 sigma error at `energy`, in TeV-1 cm-2 s-1."""
        energy = _energy_tev(energy)
        value, error = self._propagate(lambda values: self._dnde(energy, **values))
        return u.Quantity(value, DNDE_UNIT), u.Quantity(error, DNDE_UNIT)

    def integral_error(self, energy_min, energy_max) -> tuple[u.Quantity, u.Quantity]:
        """Integral flux and its 1 sigma error, in cm-2 s-1."""
        emin, emax = _energy_tev(energy_min, "energy_min"), _energy_tev(energy_max, "energy_max")
        value, error = self._propagate(lambda values: self._integral(emin, emax, **values))
        return u.Quantity(value, FLUX_UNIT), u.Quantity(error, FLUX_UNIT)

    def energy_flux_error(self, energy_min, energy_max) -> tuple[u.Quantity, u.Quantity]:
        """Energy flux and its 1 sigma error, in TeV cm-2 s-1."""
        emin, emax = _energy_tev(energy_min, "energy_min"), _energy_tev(energy_max, "energy_max")
        value, error = self._propagate(lambda values: self._energy_flux(emin, emax, **values))
        return u.Quantity(value, ENERGY_FLUX_UNIT), u.Quantity(error, ENERGY_FLUX_UNIT)


def _amplitude(value=1e-12):
    return Parameter("amplitude", value, "TeV-1 s-1 cm-2", interp="log")


def _reference(value=1.0):
    return Parameter("reference", value, "TeV", frozen=True)


@register("spectral")
class PowerLawSpectralModel(SpectralModel):
    """dnde = amplitude * (E / reference) ** -index."""

    tag = ["PowerLawSpectralModel", "pl"]
    _defaults = (Parameter("index", 2.0), _amplitude(), _reference())

    @staticmethod
    def _dnde(energy, index, amplitude, reference):
        return amplitude * (energy / reference) ** (-index)

    @staticmethod
    def _integral(energy_min, energy_max, index, amplitude, reference):
        return (
            amplitude
            * reference
            * powerlaw_integral(energy_min / reference, energy_max / reference, index)
        )

    @staticmethod
    def _energy_flux(energy_min, energy_max, index, amplitude, reference):
        return (
            amplitude
            * reference**2
            * powerlaw_integral(energy_min / reference, energy_max / reference, index - 1)
        )


@register("spectral")
class PowerLaw2SpectralModel(SpectralModel):
    """Power law normalised by its integral flux: amplitude = flux between emin and emax.

    dnde = amplitude * E ** -index / integral(E ** -index, emin, emax).
    """

    tag = ["PowerLaw2SpectralModel", "pl-2"]
    _defaults = (
        Parameter("amplitude", 1e-12, "s-1 cm-2", interp="log"),
        Parameter("index", 2.0),
        Parameter("emin", 0.1, "TeV", frozen=True),
        Parameter("emax", 100.0, "TeV", frozen=True),
    )

    @staticmethod
    def _dnde(energy, amplitude, index, emin, emax):
        norm = emax * powerlaw_integral(emin / emax, 1.0, index)
        return amplitude * (energy / emax) ** (-index) / norm

    @staticmethod
    def _integral(energy_min, energy_max, amplitude, index, emin, emax):
        norm = powerlaw_integral(emin / emax, 1.0, index)
        return amplitude * powerlaw_integral(energy_min / emax, energy_max / emax, index) / norm

    @staticmethod
    def _energy_flux(energy_min, energy_max, amplitude, index, emin, emax):
        norm = powerlaw_integral(emin / emax, 1.0, index)
        flux = powerlaw_integral(energy_min / emax, energy_max / emax, index - 1)
        return amplitude * emax * flux / norm


@register("spectral")
class BrokenPowerLawSpectralModel(SpectralModel):
    """dnde = amplitude * (E / ebreak) ** -index1 below ebreak, ** -index2 from ebreak up."""

    tag = ["BrokenPowerLawSpectralModel", "bpl"]
    _defaults = (
        Parameter("index1", 2.0),
        Parameter("index2", 2.0),
        _amplitude(),
        Parameter("ebreak", 1.0, "TeV"),
    )

    @staticmethod
    def _dnde(energy, index1, index2, amplitude, ebreak):
        index = np.where(energy < ebreak, index1, index2)
        return amplitude * (energy / ebreak) ** (-index)

    @staticmethod
    def _segments(energy_min, energy_max, ebreak):
        x_min, x_max = energy_min / ebreak, energy_max / ebreak
        below = np.minimum(x_min, 1.0), np.minimum(x_max, 1.0)
        above = np.maximum(x_min, 1.0), np.maximum(x_max, 1.0)
        return below, above

    @classmethod
    def _integral(cls, energy_min, energy_max, index1, index2, amplitude, ebreak):
        below, above = cls._segments(energy_min, energy_max, ebreak)
        total = powerlaw_integral(*below, index1) + powerlaw_integral(*above, index2)
        return amplitude * ebreak * total

    @classmethod
    def _energy_flux(cls, energy_min, energy_max, index1, index2, amplitude, ebreak):
        below, above = cls._segments(energy_min, energy_max, ebreak)
        total = powerlaw_integral(*below, index1 - 1) + powerlaw_integral(*above, index2 - 1)
        return amplitude * ebreak**2 * total


@register("spectral")
class SmoothBrokenPowerLawSpectralModel(SpectralModel):
    """dnde = amplitude (E/reference)^-index1 [1 + (E/ebreak)^((index2-index1)/b)]^-b.

    b = beta * sign(index2 - index1) (taken as +beta when the indices are equal), as
    in Gammapy, so that beta > 0 always gives a smooth break from index1 to index2.
    """

    tag = ["SmoothBrokenPowerLawSpectralModel", "sbpl"]
    _defaults = (
        Parameter("index1", 2.0),
        Parameter("index2", 2.0),
        _amplitude(),
        Parameter("ebreak", 1.0, "TeV"),
        _reference(),
        Parameter("beta", 1.0, frozen=True),
    )

    @staticmethod
    def _dnde(energy, index1, index2, amplitude, ebreak, reference, beta):
        signed_beta = beta * np.where(index2 >= index1, 1.0, -1.0)
        exponent = (index2 - index1) / signed_beta * np.log(energy / ebreak)
        smooth = np.exp(-signed_beta * np.logaddexp(0.0, exponent))
        return amplitude * (energy / reference) ** (-index1) * smooth


@register("spectral")
class LogParabolaSpectralModel(SpectralModel):
    """dnde = amplitude * (E/reference) ** (-alpha - beta * ln(E/reference)), natural log."""

    tag = ["LogParabolaSpectralModel", "lp"]
    _defaults = (
        _amplitude(),
        _reference(10.0),
        Parameter("alpha", 2.0),
        Parameter("beta", 1.0),
    )

    @classmethod
    def from_log10(cls, alpha, beta, amplitude=1e-12, reference=10.0) -> LogParabolaSpectralModel:
        """From the base-10 form dnde = A x^(-alpha - beta10 log10 x), x = E/reference.

        beta10 * log10(x) = (beta10 / ln 10) * ln(x), so beta = beta10 / ln(10).
        """
        return cls(amplitude=amplitude, reference=reference, alpha=alpha, beta=beta / np.log(10))

    @staticmethod
    def _dnde(energy, amplitude, reference, alpha, beta):
        log_x = np.log(energy / reference)
        return amplitude * np.exp(-(alpha + beta * log_x) * log_x)


@register("spectral")
class ExpCutoffPowerLawSpectralModel(SpectralModel):
    """dnde = amplitude * (E / reference) ** -index * exp(-(lambda_ * E) ** alpha)."""

    tag = ["ExpCutoffPowerLawSpectralModel", "ecpl"]
    _defaults = (
        Parameter("index", 1.5),
        _amplitude(),
        _reference(),
        Parameter("lambda_", 0.1, "TeV-1"),
        Parameter("alpha", 1.0, frozen=True),
    )

    @staticmethod
    def _dnde(energy, index, amplitude, reference, lambda_, alpha):
        return amplitude * (energy / reference) ** (-index) * np.exp(-((lambda_ * energy) ** alpha))


def _exprel2(x):
    """(exp(x) - 1 - x) / x**2, accurate near and at x = 0."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-2
    x_safe = np.where(small, 1.0, x)
    direct = (np.expm1(x_safe) - x_safe) / x_safe**2
    series = 0.5 + x / 6 + x**2 / 24 + x**3 / 120 + x**4 / 720
    return np.where(small, series, direct)


@register("spectral")
class SuperExpCutoffPowerLaw4FGLDR3SpectralModel(SpectralModel):
    """The 4FGL-DR3 PLSuperExpCutoff4 form (Abdollahi et al. 2022, eqs. 2-3).

    With x = E/reference, b = index_2, d = expfactor:
    dnde = amplitude * x ** (d/b - index_1) * exp(d/b**2 * (1 - x**b)), i.e.
    ln(dnde/amplitude) = -index_1 ln x - d (ln x)**2 * (e**y - 1 - y)/y**2, y = b ln x,
    which is evaluated in that form so that small and zero b are exact (b -> 0 is a
    log parabola with beta = d/2).
    """

    tag = ["SuperExpCutoffPowerLaw4FGLDR3SpectralModel", "secpl-4fgl-dr3"]
    _defaults = (
        _amplitude(),
        _reference(),
        Parameter("expfactor", 1e-2),
        Parameter("index_1", 1.5),
        Parameter("index_2", 2.0),
    )

    @staticmethod
    def _dnde(energy, amplitude, reference, expfactor, index_1, index_2):
        log_x = np.log(energy / reference)
        exponent = -index_1 * log_x - expfactor * log_x**2 * _exprel2(index_2 * log_x)
        return amplitude * np.exp(exponent)


@register("spectral")
class SuperExpCutoffPowerLaw4FGLSpectralModel(SpectralModel):
    """The 4FGL-DR1/DR2 PLSuperExpCutoff2 form (Abdollahi et al. 2020, eq. 4).

    dnde = amplitude * (E/reference) ** -index_1 * exp(expfactor * (reference**index_2
    - E**index_2)) with energies in MeV inside the exponential (expfactor in MeV**-index_2).
    """

    tag = ["SuperExpCutoffPowerLaw4FGLSpectralModel", "secpl-4fgl"]
    _defaults = (
        _amplitude(),
        _reference(),
        Parameter("expfactor", 1e-14),
        Parameter("index_1", 1.5),
        Parameter("index_2", 2.0),
    )

    @staticmethod
    def _dnde(energy, amplitude, reference, expfactor, index_1, index_2):
        mev_per_tev = 1e6
        cutoff = expfactor * (
            (reference * mev_per_tev) ** index_2 - (energy * mev_per_tev) ** index_2
        )
        return amplitude * (energy / reference) ** (-index_1) * np.exp(cutoff)


@register("spectral")
class ConstantSpectralModel(SpectralModel):
    """dnde = const at every energy."""

    tag = ["ConstantSpectralModel", "const"]
    _defaults = (Parameter("const", 1e-12, "TeV-1 s-1 cm-2"),)

    @staticmethod
    def _dnde(energy, const):
        return const * np.ones_like(energy)

    @staticmethod
    def _integral(energy_min, energy_max, const):
        return const * (energy_max - energy_min)

    @staticmethod
    def _energy_flux(energy_min, energy_max, const):
        return const * (energy_max**2 - energy_min**2) / 2


@register("spectral")
class PowerLawNormSpectralModel(SpectralModel):
    """A dimensionless factor norm * (E / reference) ** -tilt, e.g. on a background model.

    Calling it returns a dimensionless Quantity; integrals are in TeV.
    """

    tag = ["PowerLawNormSpectralModel", "pl-norm"]
    _defaults = (
        Parameter("norm", 1.0, interp="log"),
        Parameter("tilt", 0.0, frozen=True),
        _reference(),
    )

    @staticmethod
    def _dnde(energy, norm, tilt, reference):
        return norm * (energy / reference) ** (-tilt)

    @staticmethod
    def _integral(energy_min, energy_max, norm, tilt, reference):
        return (
            norm
            * reference
            * powerlaw_integral(energy_min / reference, energy_max / reference, tilt)
        )

    def __call__(self, energy) -> u.Quantity:
        """The factor at `energy` (Quantity), dimensionless."""
        return u.Quantity(self._dnde(_energy_tev(energy), **self.canonical_values()))
