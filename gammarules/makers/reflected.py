"""OFF regions for 1D background estimation: reflected regions and wobble regions.

OFF regions are copies of the ON region rotated around the pointing position, so they
share its offset and hence its acceptance. Positions are found on the sphere (rotation by
position angle about the pointing), which is exact for circular regions; a candidate is
rejected when any excluded pixel centre of the exclusion mask lies inside it.

Exclusion masks follow the convention of the community's FITS files: a `WcsMap` whose
pixels are True (1) where the sky may be used and False (0) where it is excluded.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from regions import CircleSkyRegion

from gammarules.errors import GammarulesError

__all__ = ["ReflectedRegionsFinder", "WobbleRegionsFinder", "events_in_regions", "rotate_region"]


def rotate_region(region, center, angle):
    """The circle ``region`` rotated by ``angle`` (east of north) about ``center``."""
    offset = center.separation(region.center)
    position_angle = center.position_angle(region.center) + Angle(angle)
    new_center = center.directional_offset_by(position_angle, offset)
    return CircleSkyRegion(center=new_center, radius=region.radius)


def _check_circle(region):
    if not isinstance(region, CircleSkyRegion):
        raise GammarulesError(
            "OFF-region finders need a circular ON region (CircleSkyRegion), "
            f"got {type(region).__name__}"
        )


def _excluded_coords(exclusion_mask, center, radius):
    """Sky positions of excluded pixel centres near the circle of ``radius`` about ``center``."""
    if exclusion_mask is None:
        return None
    coords = exclusion_mask.geom.get_coord()
    excluded = ~np.asarray(exclusion_mask.data, dtype=bool)
    coords = coords[excluded]
    if coords.size == 0:
        return None
    near = coords.separation(center) < radius
    return coords[near] if np.any(near) else None


def _overlaps(region, excluded):
    if excluded is None:
        return False
    return bool(np.any(excluded.separation(region.center) < region.radius))


class ReflectedRegionsFinder:
    """Reflected regions: as many non-overlapping rotated copies of the ON region as fit.

    Parameters
    ----------
    angle_increment : Angle
        Rotation step after a candidate was rejected by the exclusion mask.
    min_distance : Angle
        Extra rotation between two neighbouring OFF regions.
    min_distance_input : Angle
        Extra rotation between the ON region and the first and last OFF regions.
    max_region_number : int
        Stop after this many regions.
    """

    def __init__(
        self,
        angle_increment="0.1 rad",
        min_distance="0 rad",
        min_distance_input="0.1 rad",
        max_region_number=10000,
    ):
        self.angle_increment = Angle(angle_increment)
        if self.angle_increment <= 0:
            raise GammarulesError("angle_increment must be positive")
        self.min_distance = Angle(min_distance)
        self.min_distance_input = Angle(min_distance_input)
        self.max_region_number = int(max_region_number)

    def run(self, region, center, exclusion_mask=None):
        """OFF regions for the ON ``region`` around ``center`` (the pointing)."""
        _check_circle(region)
        offset = center.separation(region.center)
        if offset <= region.radius:
            return []
        # angular width of the circle seen from the pointing (on the sphere, tangent lines:
        # sin(half width) = sin(radius) / sin(offset)), plus the required gap
        half_width = np.arcsin(
            np.sin(region.radius.to_value("rad")) / np.sin(offset.to_value("rad"))
        )
        size = Angle(2 * half_width, "rad")
        step = size + self.min_distance
        angle_max = Angle(360, "deg") - step - self.min_distance_input
        excluded = _excluded_coords(exclusion_mask, center, offset + 2 * region.radius)
        regions = []
        angle = step + self.min_distance_input
        while angle < angle_max:
            candidate = rotate_region(region, center, angle)
            if _overlaps(candidate, excluded):
                angle += self.angle_increment
                continue
            regions.append(candidate)
            if len(regions) >= self.max_region_number:
                break
            angle += step
        return regions


class WobbleRegionsFinder:
    """``n_off_regions`` OFF regions evenly spaced in angle around the pointing."""

    def __init__(self, n_off_regions=1):
        if int(n_off_regions) < 1:
            raise GammarulesError(f"n_off_regions must be >= 1, got {n_off_regions}")
        self.n_off_regions = int(n_off_regions)

    def run(self, region, center, exclusion_mask=None):
        _check_circle(region)
        offset = center.separation(region.center)
        excluded = _excluded_coords(exclusion_mask, center, offset + 2 * region.radius)
        step = Angle(360, "deg") / (self.n_off_regions + 1)
        regions = [
            rotate_region(region, center, k * step) for k in range(1, self.n_off_regions + 1)
        ]
        # neighbours (the ON region and the first OFF region included) are `step` apart
        if region.center.separation(regions[0].center) < 2 * region.radius:
            raise GammarulesError(
                f"{self.n_off_regions} wobble OFF region(s) of radius {region.radius} overlap the "
                f"ON region or each other at offset {offset.to(u.deg):.3f}; use fewer regions"
            )
        return [r for r in regions if not _overlaps(r, excluded)]


def events_in_regions(radec: SkyCoord, regions):
    """Boolean mask of the events inside any of ``regions`` (circles, exact separation)."""
    mask = np.zeros(len(radec), dtype=bool)
    for region in regions:
        mask |= radec.separation(region.center) < region.radius
    return mask
