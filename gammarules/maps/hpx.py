"""HEALPix sky geometries (through healpy): all-sky or a list of pixels, plus axes."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleAnnulusSkyRegion, CircleSkyRegion

from gammarules.errors import GammarulesError
from gammarules.maps.geom import axis_index, check_axes, slice_axes
from gammarules.maps.lazy import healpy as hp
from gammarules.maps.sphere import skycoord_from_vectors, unit_vectors
from gammarules.maps.wcs import WcsGeom

__all__ = ["HpxGeom"]

_FRAMES = ("icrs", "galactic")


def _lonlat(skycoord, frame):
    sph = SkyCoord(skycoord).transform_to(frame).spherical
    return sph.lon.deg, sph.lat.deg


class HpxGeom:
    """HEALPix pixelisation of order ``nside`` in ``frame``; ``pixels`` (sorted HEALPix indices
    in the given ordering) selects part of the sky, None is the whole sky.

    The data shape is ``(*[a.nbin for a in axes], n_pixels_in_geom)``.
    """

    def __init__(self, nside, nest=True, frame="icrs", pixels=None, axes=()):
        nside = int(nside)
        if nside < 1 or (nside & (nside - 1)):
            raise GammarulesError(f"HpxGeom: nside must be a power of 2, got {nside}")
        if frame not in _FRAMES:
            raise GammarulesError(f"frame must be one of {list(_FRAMES)}, got {frame!r}")
        self.nside = nside
        self.nest = bool(nest)
        self.frame = frame
        self.axes = check_axes(axes)
        if pixels is not None:
            # sort and drop repeats (np.unique hashes: tens of times slower on large lists)
            pixels = np.sort(np.asarray(pixels, dtype=np.int64).ravel())
            if pixels.size == 0 or pixels[0] < 0 or pixels[-1] >= self.npix_sky:
                raise GammarulesError(
                    f"HpxGeom: pixels must be a non-empty list in [0, {self.npix_sky})"
                )
            pixels = pixels[np.insert(np.diff(pixels) > 0, 0, True)]
            if pixels.size == self.npix_sky:
                pixels = None
        self.pixels = pixels

    @classmethod
    def create(cls, nside, skydir=None, width=None, nest=True, frame="icrs", axes=None):
        """All-sky geometry, or the cone of radius ``width`` (deg) around ``skydir``.

        A pixel belongs to the cone if its centre does (GADF region ``DISK``).
        """
        geom = cls(nside, nest=nest, frame=frame, axes=axes or ())
        if skydir is None:
            return geom
        radius = u.Quantity(width, "deg").to_value("rad")
        lon, lat = _lonlat(skydir, frame)
        pixels = hp.query_disc(nside, hp.ang2vec(lon, lat, lonlat=True), radius, nest=nest)
        if pixels.size == 0:
            raise GammarulesError(f"HpxGeom.create: no pixel centre within {width} of {skydir}")
        return cls(nside, nest=nest, frame=frame, pixels=pixels, axes=axes or ())

    @property
    def npix_sky(self):
        return hp.nside2npix(self.nside)

    @property
    def npix(self):
        """Number of pixels in the geometry."""
        return self.npix_sky if self.pixels is None else self.pixels.size

    @property
    def is_allsky(self):
        return self.pixels is None

    @property
    def ordering(self):
        return "NESTED" if self.nest else "RING"

    @property
    def spatial_shape(self):
        return (self.npix,)

    @property
    def data_shape(self):
        return tuple(a.nbin for a in self.axes) + self.spatial_shape

    @property
    def pixel_indices(self):
        """HEALPix index of each pixel of the geometry."""
        return np.arange(self.npix_sky) if self.pixels is None else self.pixels

    @property
    def pixel_scale(self):
        """Square root of the pixel solid angle (Quantity deg)."""
        return u.Quantity(hp.nside2resol(self.nside), "rad").to("deg")

    def _frame_coord(self, lon, lat):
        return SkyCoord(lon, lat, unit="deg", frame=self.frame)

    def get_coord(self):
        """Sky coordinates of the pixel centres, shape ``(npix,)``."""
        lon, lat = hp.pix2ang(self.nside, self.pixel_indices, nest=self.nest, lonlat=True)
        return self._frame_coord(lon, lat)

    @property
    def center_skydir(self):
        """Centre of the pixels (direction of their mean unit vector; (0, 0) for all-sky)."""
        if self.is_allsky:
            return self._frame_coord(0.0, 0.0)
        mean = unit_vectors(self.get_coord()).mean(axis=0)
        return skycoord_from_vectors(mean / np.linalg.norm(mean)).transform_to(self.frame)

    def solid_angle(self):
        """Solid angle of each pixel (all equal), Quantity sr ``(npix,)``."""
        return u.Quantity(np.full(self.npix, hp.nside2pixarea(self.nside)), "sr")

    def _local_index(self, hpx_index):
        """Position of HEALPix indices in the geometry's pixel list; -1 if absent."""
        if self.pixels is None:
            return hpx_index
        pos = np.clip(np.searchsorted(self.pixels, hpx_index), 0, self.pixels.size - 1)
        return np.where(self.pixels[pos] == hpx_index, pos, -1)

    def coord_to_idx(self, skycoord, **axis_coords):
        """Index tuple in data order (axes, then pixel) of each position; -1 outside."""
        lon, lat = _lonlat(skycoord, self.frame)
        ipix = hp.ang2pix(self.nside, lon, lat, nest=self.nest, lonlat=True)
        return axis_index(self.axes, axis_coords) + (self._local_index(ipix),)

    def contains(self, skycoord):
        return self.coord_to_idx(skycoord)[-1] >= 0

    def separation(self, position):
        return self.get_coord().separation(position)

    def interp_weights(self, skycoord):
        """Bilinear HEALPix weights (healpy): index tuple and weights, each ``(4, *shape)``.

        Neighbours missing from a partial geometry get zero weight; the others are
        renormalised.
        """
        lon, lat = _lonlat(skycoord, self.frame)
        ipix, w = hp.get_interp_weights(self.nside, lon, lat, nest=self.nest, lonlat=True)
        idx = self._local_index(ipix)
        w = np.where(idx >= 0, w, 0.0)
        total = w.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(total > 0, w / total, 0.0)
        return (np.maximum(idx, 0),), w

    def subpixel_coords(self, factor):
        """Centres of the ``factor**2`` nested sub-pixels of each pixel, SkyCoord (f*f, npix).

        ``factor`` must be a power of 2.
        """
        nested = self.pixel_indices
        if not self.nest:
            nested = hp.ring2nest(self.nside, nested)
        n_sub = factor * factor
        children = nested[None, :] * n_sub + np.arange(n_sub)[:, None]
        lon, lat = hp.pix2ang(self.nside * factor, children, nest=True, lonlat=True)
        return self._frame_coord(lon, lat)

    def _disc_index(self, center, radius):
        """Sorted positions in the geometry of the pixels whose centre is within ``radius``
        (Quantity or deg) of ``center`` (healpy ``query_disc``: fast for any nside)."""
        lon, lat = _lonlat(center, self.frame)
        radius = u.Quantity(radius, "deg").to_value("rad")
        ipix = hp.query_disc(self.nside, hp.ang2vec(lon, lat, lonlat=True), radius, nest=self.nest)
        index = self._local_index(ipix)
        return np.sort(index[index >= 0])

    def region_mask(self, regions):
        """True for pixels whose centre is inside any of ``regions`` (regions.SkyRegion).

        Circles and circle annuli (centres at ``inner <= d < outer``) are exact on the
        sphere; other shapes are tested in a gnomonic (TAN) projection centred on the region
        (on the mean of a polygon's vertices), where great-circle edges are straight.
        """
        mask = np.zeros(self.npix, dtype=bool)
        for region in regions:
            if isinstance(region, CircleSkyRegion):
                mask[self._disc_index(region.center, region.radius)] = True
            elif isinstance(region, CircleAnnulusSkyRegion):
                ring = np.zeros(self.npix, dtype=bool)
                ring[self._disc_index(region.center, region.outer_radius)] = True
                ring[self._disc_index(region.center, region.inner_radius)] = False
                mask |= ring
            else:
                mask |= self._tangent_plane_mask(region)
        return mask

    def _tangent_plane_mask(self, region):
        if hasattr(region, "center"):
            center = region.center
        elif hasattr(region, "vertices"):
            mean = unit_vectors(region.vertices).mean(axis=0)
            center = skycoord_from_vectors(mean / np.linalg.norm(mean))
        else:
            raise GammarulesError(f"region_mask: {type(region).__name__} has no center or vertices")
        tangent = WcsGeom.create(center, 0.01, npix=1, frame=self.frame, proj="TAN")
        return np.asarray(region.contains(self.get_coord(), tangent.wcs), dtype=bool)

    def cutout_index(self, position, width):
        """Indices of the pixels whose centre is within ``width / 2`` of ``position``."""
        index = self._disc_index(position, u.Quantity(width, "deg") / 2)
        if index.size == 0:
            raise GammarulesError(f"cutout: no pixel within {width} / 2 of {position}")
        return (index,)

    def cutout(self, position, width):
        """Partial geometry of the pixels within ``width / 2`` of ``position``."""
        (index,) = self.cutout_index(position, width)
        return HpxGeom(self.nside, self.nest, self.frame, self.pixel_indices[index], self.axes)

    def to_wcs_geom(self, binsz=None, proj="CAR"):
        """A WCS geometry covering this one, for plotting.

        All-sky: the whole sky centred on (0, 0); partial: a square around the pixels.
        ``binsz`` (deg) defaults to half the HEALPix pixel size.
        """
        binsz = self.pixel_scale.value / 2 if binsz is None else u.Quantity(binsz, "deg").value
        if self.is_allsky:
            return WcsGeom.create(
                self._frame_coord(0.0, 0.0),
                binsz,
                width=(360, 180),
                frame=self.frame,
                proj=proj,
                axes=self.axes,
            )
        center = self.center_skydir
        radius = self.separation(center).deg.max() + self.pixel_scale.value
        return WcsGeom.create(
            center, binsz, width=2 * radius, frame=self.frame, proj=proj, axes=self.axes
        )

    def to_image(self):
        return HpxGeom(self.nside, self.nest, self.frame, self.pixels)

    def to_cube(self, axes):
        return HpxGeom(self.nside, self.nest, self.frame, self.pixels, axes)

    def slice_by_idx(self, slices):
        axes = slice_axes(self.axes, slices)
        return HpxGeom(self.nside, self.nest, self.frame, self.pixels, axes)

    def __eq__(self, other):
        return (
            isinstance(other, HpxGeom)
            and (self.nside, self.nest, self.frame) == (other.nside, other.nest, other.frame)
            and self.axes == other.axes
            and np.array_equal(self.pixel_indices, other.pixel_indices)
        )

    def __repr__(self):
        return (
            f"HpxGeom(nside={self.nside}, ordering={self.ordering}, frame={self.frame!r}, "
            f"npix={self.npix}, axes={[a.name for a in self.axes]})"
        )
