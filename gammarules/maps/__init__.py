"""Axes, sky geometries (WCS, HEALPix) and maps."""

from gammarules.maps.axis import MapAxis
from gammarules.maps.hpx import HpxGeom
from gammarules.maps.map import Map
from gammarules.maps.wcs import WcsGeom

__all__ = ["HpxGeom", "Map", "MapAxis", "WcsGeom"]
