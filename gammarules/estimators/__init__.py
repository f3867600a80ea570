"""Estimators of science products from fitted datasets: flux points in the GADF SED format."""

from gammarules.estimators.flux_points import FluxPoints
from gammarules.estimators.flux_points_estimator import FluxPointsEstimator

__all__ = ["FluxPoints", "FluxPointsEstimator"]
