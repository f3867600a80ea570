"""Likelihood fitting of models to datasets with iminuit: best fit, covariance, profiles."""

from gammarules.fit.fit import Fit
from gammarules.fit.result import FitResult

__all__ = ["Fit", "FitResult"]
