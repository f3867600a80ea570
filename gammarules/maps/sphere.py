"""Geometry on the celestial sphere with unit vectors (fast, vectorised, ICRS).

Used where many positions meet many circles (events in OFF regions, candidate regions
against excluded pixels); exact on the sphere, no projection.
"""

from __future__ import annotations

import numpy as np
from astropy.coordinates import SkyCoord

__all__ = ["in_any_circle", "rotate_about", "skycoord_from_vectors", "unit_vectors"]


def unit_vectors(coord):
    """Unit vectors (..., 3) of sky positions in ICRS."""
    icrs = coord.icrs
    ra, dec = icrs.ra.rad, icrs.dec.rad
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def skycoord_from_vectors(vectors):
    """ICRS SkyCoord of unit vectors (..., 3)."""
    x, y, z = np.moveaxis(np.asarray(vectors, dtype=float), -1, 0)
    ra = np.degrees(np.arctan2(y, x)) % 360
    dec = np.degrees(np.arctan2(z, np.hypot(x, y)))
    return SkyCoord(ra, dec, unit="deg", frame="icrs")


def rotate_about(vectors, axis, angle):
    """Rotate ``vectors`` about the direction ``axis`` by ``angle`` (rad), east of north.

    A positive angle increases the position angle (measured from north through east) of the
    rotated position as seen from ``axis``: on the sky seen from inside the sphere this is
    counter-clockwise, i.e. a right-handed rotation by ``-angle`` about ``axis``.
    """
    vectors = np.asarray(vectors, dtype=float)
    k = np.asarray(axis, dtype=float)
    c, s = np.cos(-angle), np.sin(-angle)
    return (
        vectors * c
        + np.cross(k, vectors) * s
        + np.outer(vectors @ k, k).reshape(vectors.shape) * (1 - c)
    )


def in_any_circle(vectors, centers, radius):
    """True for the positions inside any of the circles (centres (m, 3), common radius in rad).

    ``radius`` may also be an array with one radius per position (e.g. RAD_MAX per event).
    """
    vectors = np.asarray(vectors, dtype=float).reshape(-1, 3)
    centers = np.asarray(centers, dtype=float).reshape(-1, 3)
    if centers.size == 0 or vectors.size == 0:
        return np.zeros(len(vectors), dtype=bool)
    cos_radius = np.cos(np.asarray(radius, dtype=float))
    cosines = vectors @ centers.T
    return np.any(cosines > np.reshape(cos_radius, (-1, 1)), axis=1)
