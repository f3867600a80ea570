"""What every model shares: parameters, covariance, attribute access, dict I/O, copies."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import ClassVar

import astropy.units as u
import numpy as np

from gammarules.errors import ConfigError
from gammarules.models.parameter import Parameter, Parameters, unit_string

# Keys Gammapy leaves out of a compact model file when they equal the class default.
_COMPACT_KEYS = ("min", "max", "error", "interp", "scale_method", "scale_transform")


def check_keys(data: dict, allowed, what: str) -> None:
    """ConfigError naming ``what`` if the model-file entry ``data`` has keys not in ``allowed``."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ConfigError(
            f"{what}: unsupported keys {sorted(unknown)}; expected some of {list(allowed)}"
        )


@lru_cache(maxsize=256)
def unit_factor(unit: u.UnitBase, canonical: u.UnitBase) -> float:
    """Factor taking a value in `unit` to `canonical`."""
    return float(unit.to(canonical))


class CovarianceMixin:
    """Covariance over a model's parameters, kept as errors and a correlation matrix.

    The errors live on the parameters, so ``parameter.error`` and the diagonal always
    agree. A model stores the correlation set on it last; a composite (sky model,
    collection) takes the blocks of its parts from the parts themselves and only the
    cross terms between parts from its own store, so setting a joint covariance on a
    collection sets every component's block too.
    """

    _correlation: tuple[list[Parameter], np.ndarray] | None = None
    parameters: Parameters

    def _submodels(self) -> list:
        return []

    def _correlation_matrix(self, parameters: list[Parameter]) -> np.ndarray:
        corr = np.eye(len(parameters))
        position = {id(par): idx for idx, par in enumerate(parameters)}
        if self._correlation is not None:
            stored_pars, stored = self._correlation
            stored_position = {id(par): idx for idx, par in enumerate(stored_pars)}
            new = [idx for idx, par in enumerate(parameters) if id(par) in stored_position]
            old = [stored_position[id(parameters[idx])] for idx in new]
            corr[np.ix_(new, new)] = stored[np.ix_(old, old)]
        for sub in self._submodels():
            sub_pars = list(sub.parameters.unique_parameters)
            idx = [position[id(par)] for par in sub_pars]
            corr[np.ix_(idx, idx)] = sub._correlation_matrix(sub_pars)
        return corr

    @property
    def covariance(self) -> np.ndarray:
        """Square covariance over ``parameters.unique_parameters``, in the parameters' units."""
        parameters = list(self.parameters.unique_parameters)
        errors = np.array([par.error for par in parameters], dtype=float)
        return self._correlation_matrix(parameters) * np.outer(errors, errors)

    @covariance.setter
    def covariance(self, covariance) -> None:
        parameters = list(self.parameters.unique_parameters)
        covariance = np.asarray(covariance, dtype=float)
        n = len(parameters)
        if covariance.shape != (n, n):
            raise ConfigError(
                f"covariance must be a ({n}, {n}) matrix over the parameters "
                f"{[par.name for par in parameters]}, got shape {covariance.shape}"
            )
        errors = np.sqrt(np.clip(np.diag(covariance), 0, None))
        for par, error in zip(parameters, errors, strict=True):
            par.error = float(error)
        norm = np.outer(errors, errors)
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = np.where(norm > 0, covariance / np.where(norm > 0, norm, 1), 0.0)
        np.fill_diagonal(corr, 1.0)
        self._correlation = (parameters, corr)
        position = {id(par): idx for idx, par in enumerate(parameters)}
        for sub in self._submodels():
            idx = [position[id(par)] for par in sub.parameters.unique_parameters]
            sub.covariance = covariance[np.ix_(idx, idx)]


class ModelBase(CovarianceMixin):
    """A model defined by an ordered list of parameters with canonical units.

    Subclasses list their parameters with default values, units and flags in
    ``_defaults``; the default units are the canonical ones in which ``evaluate``
    works. Parameters are reachable as attributes (``model.index``); assigning a number
    or quantity to one sets its value, assigning a `Parameter` shares that object
    (a parameter linked between models).
    """

    tag: ClassVar[list[str]] = []
    _defaults: ClassVar[tuple[Parameter, ...]] = ()

    def __init__(self, **values):
        parameters = []
        for default in self._defaults:
            if default.name in values:
                parameters.append(self._make_parameter(default, values.pop(default.name)))
            else:
                parameters.append(default.copy())
        if values:
            raise ConfigError(
                f"{type(self).__name__}: unknown parameters {sorted(values)}; "
                f"expected some of {[par.name for par in self._defaults]}"
            )
        self._parameters = Parameters(parameters)

    @classmethod
    def _make_parameter(cls, default: Parameter, value) -> Parameter:
        if isinstance(value, Parameter):
            what = f"{cls.__name__} parameter '{default.name}'"
            if value.name != default.name:
                raise ConfigError(f"{what}: got a Parameter named '{value.name}'")
            if not value.unit.is_equivalent(default.unit):
                raise ConfigError(
                    f"{what}: expected a unit convertible to '{unit_string(default.unit)}', "
                    f"got '{unit_string(value.unit)}'"
                )
            return value
        par = default.copy()
        cls._set_value(par, default, value)
        return par

    @classmethod
    def _set_value(cls, par: Parameter, default: Parameter, value) -> None:
        """Set a number (in the parameter's unit), quantity or string on `par`."""
        what = f"{cls.__name__} parameter '{default.name}'"
        if not isinstance(value, str | u.Quantity):
            par.value = value
            return
        try:
            quantity = u.Quantity(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{what}: cannot read a quantity from {value!r}") from exc
        if quantity.unit == u.dimensionless_unscaled and default.unit != u.one:
            raise ConfigError(
                f"{what}: expected a quantity in '{unit_string(default.unit)}', got {value!r}"
            )
        try:
            par.quantity = quantity
        except ConfigError as exc:
            raise ConfigError(f"{what}: {exc}") from exc

    @property
    def parameters(self) -> Parameters:
        return self._parameters

    @property
    def type(self) -> str:
        return self.tag[0]

    def __getattr__(self, name):
        parameters = self.__dict__.get("_parameters")
        if name.startswith("_") or parameters is None or name not in parameters.names:
            raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}'")
        return parameters[name]

    def __setattr__(self, name, value):
        parameters = self.__dict__.get("_parameters")
        if parameters is not None and name in parameters.names:
            idx = parameters.index(name)
            if isinstance(value, Parameter):
                parameters._replace(idx, self._make_parameter(self._defaults[idx], value))
            else:
                self._set_value(parameters[idx], self._defaults[idx], value)
        else:
            super().__setattr__(name, value)

    def canonical_factors(self) -> list[float]:
        """Factors taking each parameter's value to the canonical unit of ``evaluate``."""
        return [
            unit_factor(par.unit, default.unit)
            for par, default in zip(self._parameters, self._defaults, strict=True)
        ]

    def canonical_values(self) -> dict[str, float]:
        """Parameter values in the canonical units of ``evaluate`` (TeV, TeV-1 cm-2 s-1...),
        keyed as ``evaluate`` takes them, in the order of ``parameters``."""
        factors = self.canonical_factors()
        return {
            par.name: par.value * factor
            for par, factor in zip(self._parameters, factors, strict=True)
        }

    def _values(self, overrides: dict) -> dict:
        """`canonical_values` with some values replaced (``evaluate`` overrides)."""
        values = self.canonical_values()
        unknown = set(overrides) - set(values)
        if unknown:
            raise ConfigError(
                f"{type(self).__name__}: unknown parameters {sorted(unknown)}; "
                f"expected {list(values)}"
            )
        values.update(overrides)
        return values

    def to_dict(self, full_output: bool = False) -> dict:
        """``{"type": ..., "parameters": [...]}`` as in Gammapy's model files.

        The compact form (default) leaves out the fields that equal the class
        default, as Gammapy does; ``full_output`` writes all of them.
        """
        entries = []
        for par, default in zip(self._parameters, self._defaults, strict=True):
            entry = par.to_dict()
            if not full_output:
                ref = default.to_dict()
                for key in _COMPACT_KEYS:
                    if entry[key] == ref[key] or _both_nan(entry[key], ref[key]):
                        del entry[key]
                if entry["frozen"] == ref["frozen"]:
                    del entry["frozen"]
                if ref["unit"] == "":
                    del entry["unit"]
            entries.append(entry)
        return {"type": self.tag[0], "parameters": entries}

    @classmethod
    def from_dict(cls, data: dict):
        """The model from ``{"type": ..., "parameters": [...]}``; missing fields take defaults."""
        if data.get("type") not in cls.tag:
            raise ConfigError(
                f"{cls.__name__} cannot be built from a model of type {data.get('type')!r}"
            )
        entries = data.get("parameters") or []
        names = [par.name for par in cls._defaults]
        given = {}
        for entry in entries:
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in names:
                raise ConfigError(
                    f"{cls.tag[0]}: unknown parameter {name!r}; expected some of {names}"
                )
            if name in given:
                raise ConfigError(f"{cls.tag[0]}: parameter '{name}' is given twice")
            given[name] = entry
        values = {}
        for default in cls._defaults:
            if default.name in given:
                fields = default.to_dict()
                fields.update(given[default.name])
                try:
                    values[default.name] = Parameter.from_dict(fields)
                except ConfigError as exc:
                    raise ConfigError(f"{cls.tag[0]}: {exc}") from exc
        return cls(**values)

    def copy(self):
        """A deep copy: new parameter objects, same values, errors and correlations."""
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}\n{self._parameters!r}"


def _both_nan(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b)
