"""WCS sky geometries and 2D sky maps (e.g. exclusion masks)."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from regions import CircleSkyRegion

from gammarules.errors import DataFormatError, GammarulesError

__all__ = ["WcsGeom", "WcsMap"]

_FRAMES = {"icrs": ("RA---", "DEC--"), "galactic": ("GLON-", "GLAT-")}


class WcsGeom:
    """A 2D sky pixelisation: an astropy WCS and a shape ``(ny, nx)``."""

    def __init__(self, wcs, shape):
        self.wcs = wcs
        self.shape = tuple(int(n) for n in shape)

    @classmethod
    def create(cls, skydir, binsz, width=None, npix=None, frame="icrs", proj="CAR"):
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
        return cls(wcs, (ny, nx))

    @property
    def frame(self):
        return "galactic" if self.wcs.wcs.ctype[0].startswith("GLON") else "icrs"

    @property
    def center_skydir(self):
        ny, nx = self.shape
        return self.pix_to_coord((nx - 1) / 2.0, (ny - 1) / 2.0)

    def pix_to_coord(self, x, y):
        return self.wcs.pixel_to_world(x, y)

    def coord_to_pix(self, skycoord):
        return self.wcs.world_to_pixel(skycoord)

    def get_coord(self):
        """Sky coordinates of all pixel centres, shape ``(ny, nx)``."""
        y, x = np.indices(self.shape)
        return self.pix_to_coord(x, y)

    def region_mask(self, regions):
        """True for pixels whose centre is inside any of ``regions`` (regions.SkyRegion).

        Circles are tested by angular separation on the sphere; other shapes in pixel space.
        """
        coords = self.get_coord()
        mask = np.zeros(self.shape, dtype=bool)
        for region in regions:
            if isinstance(region, CircleSkyRegion):
                mask |= coords.separation(region.center) < region.radius
            else:
                mask |= region.contains(coords, self.wcs)
        return mask

    def to_header(self):
        """The WCS keywords (an image HDU takes NAXIS1/NAXIS2 from its data)."""
        return self.wcs.to_header()

    def __eq__(self, other):
        return (
            isinstance(other, WcsGeom)
            and self.shape == other.shape
            and self.wcs.wcs.compare(other.wcs.wcs, tolerance=1e-10)
        )

    def __repr__(self):
        return f"WcsGeom(shape={self.shape}, ctype={list(self.wcs.wcs.ctype)})"


class WcsMap:
    """A 2D sky image on a `WcsGeom`."""

    def __init__(self, geom, data, unit=""):
        data = np.asarray(data)
        if data.shape != geom.shape:
            raise GammarulesError(
                f"WcsMap: data shape {data.shape} does not match geometry {geom.shape}"
            )
        self.geom = geom
        self.data = data
        self.unit = u.Unit(unit)

    @classmethod
    def read(cls, filename, hdu=None):
        """Read a 2D (or 3D with a single plane) FITS image with WCS."""
        try:
            with fits.open(filename) as hdulist:
                if hdu is None:
                    image = next((h for h in hdulist if h.is_image and h.data is not None), None)
                    if image is None:
                        raise DataFormatError(f"{filename}: no image HDU with data found")
                else:
                    try:
                        image = hdulist[hdu]
                    except (KeyError, IndexError):
                        raise DataFormatError(f"{filename}: no HDU {hdu!r}") from None
                data = np.asarray(image.data)
                header = image.header
        except OSError as exc:
            raise DataFormatError(f"{filename}: cannot read FITS image ({exc})") from exc
        while data.ndim > 2 and data.shape[0] == 1:
            data = data[0]
        if data.ndim != 2:
            raise DataFormatError(f"{filename}: expected a 2D image, got shape {data.shape}")
        wcs = WCS(header).celestial
        return cls(WcsGeom(wcs, data.shape), data, header.get("BUNIT", ""))

    def write(self, filename, overwrite=False):
        data = self.data.astype(np.uint8) if self.data.dtype == bool else self.data
        header = self.geom.to_header()
        if self.unit != u.dimensionless_unscaled:
            header["BUNIT"] = self.unit.to_string("fits")
        fits.PrimaryHDU(data=data, header=header).writeto(filename, overwrite=overwrite)

    def get_by_coord(self, skycoord, fill_value=0):
        """Nearest-pixel values at sky positions; ``fill_value`` outside the image."""
        x, y = self.geom.coord_to_pix(skycoord)
        ix, iy = np.round(np.asarray(x)).astype(int), np.round(np.asarray(y)).astype(int)
        ny, nx = self.geom.shape
        inside = (ix >= 0) & (ix < nx) & (iy >= 0) & (iy < ny)
        out = np.full(np.shape(ix), fill_value, dtype=self.data.dtype)
        out[inside] = self.data[iy[inside], ix[inside]]
        return out
