"""The outcome of a likelihood fit: best-fit parameters, covariance, convergence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from astropy.table import Table

from gammarules.models.parameter import unit_string

__all__ = ["FitResult"]


def _json_number(value):
    """A float for JSON, with ``None`` for NaN (which strict JSON cannot hold)."""
    value = float(value)
    return None if np.isnan(value) else value


class FitResult:
    """Result of `~gammarules.fit.Fit.run`.

    Attributes
    ----------
    success : bool
        MIGRAD converged to a valid minimum and, when requested, HESSE gave an accurate
        positive-definite covariance.
    message : str
        Minuit's status of the function minimum.
    total_stat : float
        Summed fit statistic at the best fit.
    nfev : int
        Number of evaluations of the total statistic.
    parameters : `~astropy.table.Table`
        One row per model parameter (free and frozen): model, name, value, error, unit,
        min, max, frozen, at the end of the fit.
    free_parameters : list of str
        Labels (``"{model}.{name}"``) of the fitted parameters, the order of ``covariance``.
    covariance : `~numpy.ndarray` or None
        Covariance of the free parameters in their physical units (None if not computed).
    """

    def __init__(
        self, success, message, total_stat, nfev, parameters, free_parameters, covariance=None
    ):
        self.success = bool(success)
        self.message = message
        self.total_stat = float(total_stat)
        self.nfev = int(nfev)
        self.parameters = parameters
        self.free_parameters = list(free_parameters)
        self.covariance = covariance

    @property
    def converged(self):
        return self.success

    @property
    def correlation(self):
        """Correlation matrix of the free parameters (None without covariance)."""
        if self.covariance is None:
            return None
        sigma = np.sqrt(np.diag(self.covariance))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(sigma, sigma)

    @classmethod
    def from_entries(cls, entries, free_labels, **kwargs):
        """Build the parameter table from ``(label, component, parameter)`` entries."""
        table = Table(
            rows=[
                (
                    component.name,
                    parameter.name,
                    float(parameter.value),
                    float(parameter.error or 0),
                    unit_string(parameter.unit),
                    float(parameter.min),
                    float(parameter.max),
                    bool(parameter.frozen),
                )
                for _, component, parameter in entries
            ],
            names=("model", "name", "value", "error", "unit", "min", "max", "frozen"),
            dtype=(str, str, float, float, str, float, float, bool),
        )
        return cls(parameters=table, free_parameters=free_labels, **kwargs)

    def to_dict(self):
        """JSON-serialisable summary; NaN bounds and matrices entries become ``None``."""
        parameters = [
            {
                "model": row["model"],
                "name": row["name"],
                "value": _json_number(row["value"]),
                "error": _json_number(row["error"]),
                "unit": row["unit"],
                "min": _json_number(row["min"]),
                "max": _json_number(row["max"]),
                "frozen": bool(row["frozen"]),
            }
            for row in self.parameters
        ]

        def matrix(values):
            if values is None:
                return None
            return [[_json_number(x) for x in row] for row in values]

        return {
            "converged": self.success,
            "message": self.message,
            "stat": self.total_stat,
            "nfev": self.nfev,
            "parameters": parameters,
            "free_parameters": self.free_parameters,
            "covariance": matrix(self.covariance),
            "correlation": matrix(self.correlation),
        }

    def write(self, path):
        """Write ``to_dict()`` as a JSON file."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    def __repr__(self):
        return (
            f"FitResult(success={self.success}, total_stat={self.total_stat:.6g}, "
            f"nfev={self.nfev}, message={self.message!r})"
        )
