"""Model parameters: a value with unit, error, bounds and frozen flag, and their collection."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

import astropy.units as u
import numpy as np

from gammarules.errors import ConfigError

SCALE_METHODS = ("scale10", "factor1", None)
INTERP_METHODS = ("lin", "log")
DICT_KEYS = (
    "name",
    "value",
    "unit",
    "error",
    "min",
    "max",
    "frozen",
    "interp",
    "scale_method",
    "scale_transform",
)


def _as_unit(unit, what: str) -> u.UnitBase:
    try:
        return u.Unit(unit)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: invalid unit {unit!r}") from exc


def unit_string(unit: u.UnitBase) -> str:
    """A unit as Gammapy writes it in model files: FITS style ('TeV-1 s-1 cm-2'), '' if none."""
    if unit == u.dimensionless_unscaled:
        return ""
    try:
        return unit.to_string("fits")
    except ValueError:
        return unit.to_string()


def _value_in(value, unit: u.UnitBase, what: str) -> float:
    """A float in `unit` from a number (taken as already in `unit`), Quantity or string."""
    if isinstance(value, str):
        try:
            value = u.Quantity(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{what}: cannot read a quantity from {value!r}") from exc
    if isinstance(value, u.Quantity):
        try:
            return float(value.to_value(unit))
        except u.UnitConversionError as exc:
            raise ConfigError(
                f"{what}: expected a unit convertible to '{unit_string(unit)}', "
                f"got '{unit_string(value.unit)}'"
            ) from exc
    try:
        return float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{what}: expected a number, got {value!r}") from exc


class Parameter:
    """A model parameter.

    ``value = factor * scale``: optimisers work on ``factor`` (order one after
    `autoscale`), everything else on ``value``. ``min``/``max`` (NaN = unbounded) are
    bounds for the fitter, in the parameter's unit; setting a value outside them is
    allowed. ``interp``, ``scale_method`` and ``scale_transform`` follow Gammapy's model
    files and are kept for a faithful round trip.
    """

    def __init__(
        self,
        name: str,
        value,
        unit="",
        error=0.0,
        min=np.nan,
        max=np.nan,
        frozen: bool = False,
        interp: str = "lin",
        scale_method: str | None = "scale10",
        scale_transform: str = "lin",
    ):
        self.name = str(name)
        what = f"parameter '{self.name}'"
        if isinstance(value, str | u.Quantity) and unit in ("", None):
            quantity = u.Quantity(value) if isinstance(value, str) else value
            unit = quantity.unit
        self._unit = _as_unit(unit, what)
        self.scale = 1.0
        self._factor = _value_in(value, self._unit, what)
        self.error = _value_in(error, self._unit, f"{what} error")
        self.min = _value_in(min, self._unit, f"{what} min")
        self.max = _value_in(max, self._unit, f"{what} max")
        if self.min > self.max:
            raise ConfigError(f"{what}: min ({self.min}) is larger than max ({self.max})")
        self.frozen = bool(frozen)
        if interp not in INTERP_METHODS:
            raise ConfigError(f"{what}: interp must be one of {INTERP_METHODS}, got {interp!r}")
        self.interp = interp
        if scale_method not in SCALE_METHODS:
            raise ConfigError(
                f"{what}: scale_method must be one of {SCALE_METHODS}, got {scale_method!r}"
            )
        self.scale_method = scale_method
        self.scale_transform = scale_transform

    @property
    def unit(self) -> u.UnitBase:
        return self._unit

    @property
    def value(self) -> float:
        return self._factor * self.scale

    @value.setter
    def value(self, value):
        self._factor = _value_in(value, self._unit, f"parameter '{self.name}'") / self.scale

    @property
    def quantity(self) -> u.Quantity:
        return u.Quantity(self.value, self._unit)

    @quantity.setter
    def quantity(self, quantity):
        """Set value and unit together; the new unit must be convertible to the old one."""
        quantity = u.Quantity(quantity)
        _value_in(quantity, self._unit, f"parameter '{self.name}'")
        self._unit = quantity.unit
        self._factor = float(quantity.value) / self.scale

    @property
    def factor(self) -> float:
        return self._factor

    @factor.setter
    def factor(self, factor):
        self._factor = float(factor)

    @property
    def factor_min(self) -> float:
        return self.min / self.scale

    @property
    def factor_max(self) -> float:
        return self.max / self.scale

    @property
    def factor_error(self) -> float:
        return self.error / self.scale

    def autoscale(self) -> None:
        """Choose ``scale`` so ``factor`` is of order one (``scale10``) or one (``factor1``)."""
        value = self.value
        if self.scale_method == "scale10" and value != 0 and np.isfinite(value):
            self.scale = float(10 ** np.floor(np.log10(abs(value))))
        elif self.scale_method == "factor1" and value != 0 and np.isfinite(value):
            self.scale = value
        else:
            self.scale = 1.0
        self._factor = value / self.scale

    def to_dict(self) -> dict:
        """Every field, as Gammapy writes them with ``full_output=True``."""
        return {
            "name": self.name,
            "value": self.value,
            "unit": unit_string(self._unit),
            "error": self.error,
            "min": self.min,
            "max": self.max,
            "frozen": self.frozen,
            "interp": self.interp,
            "scale_method": self.scale_method,
            "scale_transform": self.scale_transform,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Parameter:
        unknown = set(data) - set(DICT_KEYS) - {"is_norm"}
        if unknown:
            raise ConfigError(
                f"parameter {data.get('name')!r}: unsupported keys {sorted(unknown)}; "
                f"expected some of {list(DICT_KEYS)}"
            )
        if "name" not in data or "value" not in data:
            raise ConfigError(f"parameter {data!r}: 'name' and 'value' are required")
        return cls(**{key: data[key] for key in DICT_KEYS if key in data})

    def copy(self) -> Parameter:
        return copy.copy(self)

    def __repr__(self) -> str:
        return (
            f"Parameter(name={self.name!r}, value={self.value:.6g}, unit='{self._unit}', "
            f"error={self.error:.3g}, min={self.min}, max={self.max}, frozen={self.frozen})"
        )


class Parameters:
    """An ordered collection of `Parameter` objects (the same objects, not copies)."""

    def __init__(self, parameters: Iterable[Parameter] = ()):
        self._parameters = list(parameters)
        for par in self._parameters:
            if not isinstance(par, Parameter):
                raise ConfigError(f"Parameters holds Parameter objects, got {par!r}")

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters)

    def __add__(self, other: Parameters) -> Parameters:
        return Parameters([*self, *other])

    def __contains__(self, key) -> bool:
        if isinstance(key, Parameter):
            return any(par is key for par in self._parameters)
        return key in self.names

    def index(self, key) -> int:
        """Position of a parameter given by object, name or position."""
        if isinstance(key, Parameter):
            for idx, par in enumerate(self._parameters):
                if par is key:
                    return idx
            raise ConfigError(f"parameter '{key.name}' is not in this collection")
        if isinstance(key, int | np.integer):
            if not -len(self) <= key < len(self):
                raise ConfigError(f"parameter index {key} out of range for {len(self)} parameters")
            return int(key) % len(self)
        matches = [idx for idx, name in enumerate(self.names) if name == key]
        if not matches:
            raise ConfigError(f"no parameter named {key!r}; available: {self.names}")
        if len(matches) > 1:
            raise ConfigError(
                f"parameter name {key!r} is ambiguous here: it occurs {len(matches)} times"
            )
        return matches[0]

    def __getitem__(self, key):
        if isinstance(key, slice):
            return Parameters(self._parameters[key])
        return self._parameters[self.index(key)]

    def _replace(self, index: int, parameter: Parameter) -> None:
        self._parameters[index] = parameter

    @property
    def names(self) -> list[str]:
        return [par.name for par in self._parameters]

    @property
    def values(self) -> np.ndarray:
        return np.array([par.value for par in self._parameters], dtype=float)

    def set_values(self, values) -> None:
        """Set every parameter's value, in order, from an array (frozen ones too)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self),):
            raise ConfigError(f"expected {len(self)} values, got an array of shape {values.shape}")
        for par, value in zip(self._parameters, values, strict=True):
            par.value = value

    @property
    def errors(self) -> np.ndarray:
        return np.array([par.error for par in self._parameters], dtype=float)

    @property
    def min(self) -> np.ndarray:
        return np.array([par.min for par in self._parameters], dtype=float)

    @property
    def max(self) -> np.ndarray:
        return np.array([par.max for par in self._parameters], dtype=float)

    @property
    def free_parameters(self) -> Parameters:
        return Parameters(par for par in self._parameters if not par.frozen)

    @property
    def unique_parameters(self) -> Parameters:
        """The collection without repeats of the same object (shared parameters), in order."""
        seen = set()
        unique = []
        for par in self._parameters:
            if id(par) not in seen:
                seen.add(id(par))
                unique.append(par)
        return Parameters(unique)

    def __repr__(self) -> str:
        lines = [f"{'name':>12} {'value':>13} {'error':>10} {'unit':>16} frozen"]
        for par in self._parameters:
            lines.append(
                f"{par.name:>12} {par.value:13.6g} {par.error:10.3g} "
                f"{str(par.unit):>16} {par.frozen}"
            )
        return "\n".join(lines)
