"""Estimators of science products from fitted datasets: flux points in the GADF SED format."""

from gammarules.estimators.excess_map import ExcessMapEstimator, residual_significance
from gammarules.estimators.flux_maps import FluxMaps
from gammarules.estimators.flux_points import FluxPoints
from gammarules.estimators.flux_points_estimator import FluxPointsEstimator

__all__ = [
    "ExcessMapEstimator",
    "FluxMaps",
    "FluxPoints",
    "FluxPointsEstimator",
    "residual_significance",
]
