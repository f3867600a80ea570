"""Axes and geometries of binned data."""

from gammarules.maps.axis import MapAxis
from gammarules.maps.wcs import WcsGeom, WcsMap

__all__ = ["MapAxis", "WcsGeom", "WcsMap"]
