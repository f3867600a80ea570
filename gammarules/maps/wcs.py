"""WCS sky geometries: a celestial pixel grid (astropy WCS) plus non-spatial axes."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS, WCSCOMPARE_ANCILLARY
from regions import CircleSkyRegion

from gammarules.errors import GammarulesError
from gammarules.maps.geom import axis_index, check_axes, slice_axes
from gammarules.maps.solid_angle import pixel_solid_angle

__all__ = ["WcsGeom"]

_FRAMES = {"icrs": ("RA---", "DEC--"), "galactic": ("GLON-", "GLAT-")}


def clamped_bilinear(x, y, shape):
    """Bilinear weights of the pixel centres around the pixel coordinates (x, y) (floats),
    clamped at the edges of a ``shape`` (ny, nx) image: ``[((iy, ix), weight), ...]`` with
    positive weights summing to one."""
    ny, nx = shape
    x, y = float(np.clip(x, 0, nx - 1)), float(np.clip(y, 0, ny - 1))
    x0, y0 = min(int(x), max(nx - 2, 0)), min(int(y), max(ny - 2, 0))
    x1, y1 = min(x0 + 1, nx - 1), min(y0 + 1, ny - 1)
    fx, fy = x - x0, y - y0
    weights = {}
    for node, weight in (
        ((y0, x0), (1 - fx) * (1 - fy)),
        ((y0, x1), fx * (1 - fy)),
        ((y1, x0), (1 - fx) * fy),
        ((y1, x1), fx * fy),
    ):
        weights[node] = weights.get(node, 0.0) + weight
    return [(node, weight) for node, weight in weights.items() if weight > 0]


class WcsGeom:
    """A sky pixelisation: an astropy WCS, a spatial shape ``(ny, nx)`` and non-spatial axes.

    ``shape`` may be the spatial shape or the full data shape ``(*axes, ny, nx)``; a WCS with
    more than two axes (e.g. read from a cube header) is reduced to its celestial part.
    """

    def __init__(self, wcs, shape, axes=()):
        self.wcs = wcs.celestial if wcs.naxis > 2 else wcs
        self.axes = check_axes(axes)
        shape = tuple(int(n) for n in shape)
        if len(shape) not in (2, 2 + len(self.axes)) or (
            len(shape) > 2 and shape[:-2] != tuple(a.nbin for a in self.axes)
        ):
            raise GammarulesError(
                f"WcsGeom: shape {shape} does not match (ny, nx) or the axes "
                f"{[a.name for a in self.axes]}"
            )
        self.spatial_shape = shape[-2:]
        self._solid_angle = None
        self._coord = None

    @classmethod
    def create(cls, skydir, binsz, width=None, npix=None, frame="icrs", proj="CAR", axes=None):
        """Geometry centred on ``skydir`` with square pixels of ``binsz`` (deg).

        Give either ``width`` (deg, scalar or (lon, lat)) or ``npix`` (scalar or (nx, ny)).
        """
        if frame not in _FRAMES:
            raise GammarulesError(f"frame must be one of {sorted(_FRAMES)}, got {frame!r}")
        binsz = u.Quantity(binsz, "deg").value
        if npix is None:
            width = np.broadcast_to(u.Quantity(width, "deg").value, (2,))
            npix = np.round(width / binsz).astype(int)
        nx, ny = np.broadcast_to(npix, (2,)).astype(int)
        center = SkyCoord(skydir).transform_to(frame)
        lon, lat = center.spherical.lon.deg, center.spherical.lat.deg
        wcs = WCS(naxis=2)
        wcs.wcs.ctype = [_FRAMES[frame][0] + proj, _FRAMES[frame][1] + proj]
        wcs.wcs.crval = [lon, lat]
        wcs.wcs.cdelt = [-binsz, binsz]
        wcs.wcs.crpix = [(nx + 1) / 2.0, (ny + 1) / 2.0]
        wcs.wcs.cunit = ["deg", "deg"]
        if frame == "icrs":
            wcs.wcs.radesys = "ICRS"
        return cls(wcs, (ny, nx), axes or ())

    @property
    def data_shape(self):
        """``(*[a.nbin for a in axes], ny, nx)``."""
        return tuple(a.nbin for a in self.axes) + self.spatial_shape

    shape = data_shape

    @property
    def frame(self):
        return "galactic" if self.wcs.wcs.ctype[0].startswith("GLON") else "icrs"

    @property
    def projection(self):
        """Projection code, e.g. ``"CAR"``."""
        return self.wcs.wcs.ctype[0][-3:]

    @property
    def pixel_scale(self):
        """Pixel size at the reference point, ``[lon, lat]`` (Quantity deg)."""
        return u.Quantity(np.abs(self.wcs.wcs.cdelt), "deg")

    @property
    def width(self):
        """Footprint ``[lon, lat]`` (Quantity deg): number of pixels times the pixel size."""
        ny, nx = self.spatial_shape
        return self.pixel_scale * np.array([nx, ny])

    @property
    def center_skydir(self):
        ny, nx = self.spatial_shape
        return self.pix_to_coord((nx - 1) / 2.0, (ny - 1) / 2.0)

    def pix_to_coord(self, x, y):
        return self.wcs.pixel_to_world(x, y)

    def coord_to_pix(self, skycoord):
        """Pixel coordinates ``(x, y)`` (0-based, floats; NaN where not projectable)."""
        return self.wcs.world_to_pixel(skycoord)

    def get_coord(self):
        """Sky coordinates of all pixel centres, shape ``(ny, nx)`` (computed once)."""
        if self._coord is None:
            y, x = np.indices(self.spatial_shape)
            self._coord = self.pix_to_coord(x, y)
        return self._coord

    def _spatial_idx(self, skycoord):
        x, y = (np.asarray(v) for v in self.coord_to_pix(skycoord))
        ny, nx = self.spatial_shape
        with np.errstate(invalid="ignore"):
            ix, iy = np.floor(x + 0.5), np.floor(y + 0.5)
            inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        return np.where(inside, iy, -1).astype(int), np.where(inside, ix, -1).astype(int)

    def coord_to_idx(self, skycoord, **axis_coords):
        """Index tuple in data order (axes, then y, x) of each position; -1 outside."""
        return axis_index(self.axes, axis_coords) + self._spatial_idx(skycoord)

    def contains(self, skycoord):
        """True where a position falls on a pixel of the map."""
        return self._spatial_idx(skycoord)[0] >= 0

    def separation(self, position):
        """Angular distance (Angle, ``(ny, nx)``) of each pixel centre from ``position``."""
        return self.get_coord().separation(position)

    def interp_weights(self, skycoord):
        """Bilinear weights on pixel centres: index tuples and weights, each ``(4, *shape)``.

        Positions between the outer pixel centres and the map edge take the edge values;
        positions off the map get zero weights.
        """
        x, y = (np.asarray(v, dtype=float) for v in self.coord_to_pix(skycoord))
        ny, nx = self.spatial_shape
        with np.errstate(invalid="ignore"):
            inside = (x > -0.5) & (x < nx - 0.5) & (y > -0.5) & (y < ny - 0.5)
        x = np.clip(np.nan_to_num(x), 0, nx - 1)
        y = np.clip(np.nan_to_num(y), 0, ny - 1)
        x0 = np.minimum(np.floor(x), max(nx - 2, 0)).astype(int)
        y0 = np.minimum(np.floor(y), max(ny - 2, 0)).astype(int)
        fx, fy = x - x0, y - y0
        x1, y1 = np.minimum(x0 + 1, nx - 1), np.minimum(y0 + 1, ny - 1)
        iy = np.stack([y0, y0, y1, y1])
        ix = np.stack([x0, x1, x0, x1])
        w = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]) * inside
        return (iy, ix), w

    def region_mask(self, regions):
        """True for pixels whose centre is inside any of ``regions`` (regions.SkyRegion).

        Circles are tested by angular separation on the sphere; other shapes in pixel space.
        """
        coords = self.get_coord()
        mask = np.zeros(self.spatial_shape, dtype=bool)
        for region in regions:
            if isinstance(region, CircleSkyRegion):
                mask |= coords.separation(region.center) < region.radius
            else:
                mask |= region.contains(coords, self.wcs)
        return mask

    def solid_angle(self):
        """Exact solid angle of each pixel, Quantity sr ``(ny, nx)``."""
        if self._solid_angle is None:
            self._solid_angle = pixel_solid_angle(self.wcs, self.spatial_shape)
        return u.Quantity(self._solid_angle, "sr")

    def subpixel_coords(self, factor):
        """Centres of ``factor x factor`` sub-pixels of each pixel, SkyCoord (f*f, ny*nx)."""
        sub = (np.arange(factor) + 0.5) / factor - 0.5
        sy, sx = (g.ravel()[:, None] for g in np.meshgrid(sub, sub, indexing="ij"))
        y, x = (g.ravel()[None, :] for g in np.indices(self.spatial_shape))
        return self.pix_to_coord(x + sx, y + sy)

    def cutout_index(self, position, width):
        """``(slice_y, slice_x)`` of the pixels of a cutout (see `cutout`)."""
        width = np.broadcast_to(u.Quantity(width, "deg").value, (2,))
        npix = np.maximum(np.round(width / self.pixel_scale.value).astype(int), 1)
        x, y = (float(v) for v in self.coord_to_pix(position))
        if not (np.isfinite(x) and np.isfinite(y)):
            raise GammarulesError(f"cutout: position {position} is not on the map")
        ny, nx = self.spatial_shape
        slices = []
        for c, n, size in ((y, npix[1], ny), (x, npix[0], nx)):
            start = int(np.ceil(c - n / 2))
            start, stop = max(start, 0), min(start + n, size)
            if stop <= start:
                raise GammarulesError(f"cutout: position {position} is not on the map")
            slices.append(slice(start, stop))
        return tuple(slices)

    def cutout(self, position, width):
        """Geometry of ``width`` (deg, scalar or (lon, lat)) around ``position``.

        Same pixel grid (the cutout pixels are pixels of this geometry), clipped at the map
        edges.
        """
        return self.pixel_cutout(self.cutout_index(position, width))

    def pixel_cutout(self, slices):
        """Geometry of the pixels ``(slice_y, slice_x)`` of this one (same grid)."""
        sy, sx = slices
        wcs = self.wcs.deepcopy()
        wcs.wcs.crpix = wcs.wcs.crpix - [sx.start, sy.start]
        return WcsGeom(wcs, (sy.stop - sy.start, sx.stop - sx.start), self.axes)

    def upsample(self, factor):
        """Geometry with pixels ``factor`` times smaller on the same footprint."""
        factor = int(factor)
        wcs = self.wcs.deepcopy()
        wcs.wcs.cdelt = wcs.wcs.cdelt / factor
        wcs.wcs.crpix = (wcs.wcs.crpix - 0.5) * factor + 0.5
        ny, nx = self.spatial_shape
        return WcsGeom(wcs, (ny * factor, nx * factor), self.axes)

    def to_image(self):
        """The same spatial geometry without non-spatial axes."""
        return WcsGeom(self.wcs, self.spatial_shape)

    def to_cube(self, axes):
        """The same spatial geometry with ``axes``."""
        return WcsGeom(self.wcs, self.spatial_shape, axes)

    def slice_by_idx(self, slices):
        """Geometry of ``{axis name: slice or int}``; an int index drops its axis."""
        return WcsGeom(self.wcs, self.spatial_shape, slice_axes(self.axes, slices))

    def to_header(self):
        """The celestial WCS keywords (an image HDU takes NAXISn from its data)."""
        return self.wcs.to_header()

    def __eq__(self, other):
        return (
            isinstance(other, WcsGeom)
            and self.spatial_shape == other.spatial_shape
            and self.axes == other.axes
            and self.wcs.wcs.compare(other.wcs.wcs, cmp=WCSCOMPARE_ANCILLARY, tolerance=1e-10)
        )

    def __repr__(self):
        return (
            f"WcsGeom(shape={self.data_shape}, ctype={list(self.wcs.wcs.ctype)}, "
            f"axes={[a.name for a in self.axes]})"
        )
