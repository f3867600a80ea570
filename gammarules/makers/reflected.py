"""OFF regions for 1D background estimation: reflected regions and wobble regions.

OFF regions are copies of the ON region rotated around the pointing position, so they
share its offset and hence its acceptance. Positions are found on the sphere (rotation by
position angle about the pointing), which is exact for circular regions; a candidate is
rejected when any excluded pixel centre of the exclusion mask lies inside it.

Exclusion masks follow the convention of the community's FITS files: a `Map` whose
pixels are True (1) where the sky may be used and False (0) where it is excluded.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from regions import CircleSkyRegion

from gammarules.errors import GammarulesError
from gammarules.maps.sphere import in_any_circle, rotate_about, skycoord_from_vectors, unit_vectors

__all__ = ["ReflectedRegionsFinder", "WobbleRegionsFinder", "events_in_regions", "rotate_region"]


def rotate_region(region, center, angle):
    """The circle ``region`` rotated by ``angle`` (east of north) about ``center``."""
    vector = rotate_about(unit_vectors(region.center), unit_vectors(center), Angle(angle).rad)
    return CircleSkyRegion(center=skycoord_from_vectors(vector), radius=region.radius)


def _check_circle(region):
    if not isinstance(region, CircleSkyRegion):
        raise GammarulesError(
            "OFF-region finders need a circular ON region (CircleSkyRegion), "
            f"got {type(region).__name__}"
        )


def _excluded_vectors(exclusion_mask):
    """Unit vectors of the excluded pixel centres of ``exclusion_mask`` (None if none)."""
    if exclusion_mask is None:
        return None
    excluded = ~np.asarray(exclusion_mask.data, dtype=bool)
    if not excluded.any():
        return None
    return unit_vectors(exclusion_mask.geom.get_coord()[excluded])


def _rotations(region, center, angles):
    """Unit vectors of the centre of ``region`` rotated about ``center`` by each angle (rad)."""
    on, axis = unit_vectors(region.center), unit_vectors(center)
    return np.array([rotate_about(on, axis, angle) for angle in np.atleast_1d(angles)])


def _overlaps(vector, radius, excluded):
    if excluded is None:
        return False
    return bool(in_any_circle(excluded, vector, radius).any())


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
        excluded = _excluded_vectors(exclusion_mask)
        radius = region.radius.to_value("rad")
        vectors = []
        angle = (step + self.min_distance_input).rad
        while angle < angle_max.rad:
            candidate = _rotations(region, center, angle)[0]
            if _overlaps(candidate, radius, excluded):
                angle += self.angle_increment.rad
                continue
            vectors.append(candidate)
            if len(vectors) >= self.max_region_number:
                break
            angle += step.rad
        return _circles(vectors, region.radius)


class WobbleRegionsFinder:
    """``n_off_regions`` OFF regions evenly spaced in angle around the pointing."""

    def __init__(self, n_off_regions=1):
        if int(n_off_regions) < 1:
            raise GammarulesError(f"n_off_regions must be >= 1, got {n_off_regions}")
        self.n_off_regions = int(n_off_regions)

    def run(self, region, center, exclusion_mask=None):
        _check_circle(region)
        offset = center.separation(region.center)
        step = 2 * np.pi / (self.n_off_regions + 1)
        vectors = _rotations(region, center, step * np.arange(1, self.n_off_regions + 1))
        # neighbours (the ON region and the first OFF region included) are `step` apart
        gap = np.arccos(np.clip(vectors[0] @ unit_vectors(region.center), -1, 1))
        if gap < 2 * region.radius.to_value("rad"):
            raise GammarulesError(
                f"{self.n_off_regions} wobble OFF region(s) of radius {region.radius} overlap the "
                f"ON region or each other at offset {offset.to(u.deg):.3f}; use fewer regions"
            )
        excluded = _excluded_vectors(exclusion_mask)
        radius = region.radius.to_value("rad")
        return _circles([v for v in vectors if not _overlaps(v, radius, excluded)], region.radius)


def _circles(vectors, radius):
    if not len(vectors):
        return []
    centers = skycoord_from_vectors(np.array(vectors))
    return [CircleSkyRegion(center=c, radius=radius) for c in centers]


def events_in_regions(radec: SkyCoord, regions):
    """Boolean mask of the events inside any of ``regions`` (circles, exact on the sphere)."""
    if not regions:
        return np.zeros(len(radec), dtype=bool)
    centers = unit_vectors(SkyCoord([r.center for r in regions]))
    radius = np.array([r.radius.to_value("rad") for r in regions])
    cosines = unit_vectors(radec) @ centers.T
    return np.any(cosines > np.cos(radius), axis=1)
