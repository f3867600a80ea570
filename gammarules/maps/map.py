"""`Map`: data on a sky geometry (WCS or HEALPix) with non-spatial axes and a unit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from astropy import units as u

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps.binning import bin_events_healpix, bin_events_wcs, to_frame
from gammarules.maps.geom import interp_weights
from gammarules.maps.hpx import HpxGeom
from gammarules.maps.io_fits import read_fits, write_fits
from gammarules.maps.io_netcdf import map_from_xarray, map_to_xarray
from gammarules.maps.reproject import reproject_data

__all__ = ["Map"]

_NETCDF = (".nc", ".nc4", ".netcdf")


def _is_netcdf(path):
    return Path(path).suffix.lower() in _NETCDF


class Map:
    """Values on the pixels of ``geom`` (a `WcsGeom` or `HpxGeom`), shape ``geom.data_shape``.

    ``data`` defaults to zeros of ``dtype``.
    """

    def __init__(self, geom, data=None, unit="", dtype=float):
        data = np.zeros(geom.data_shape, dtype=dtype) if data is None else np.asarray(data)
        if data.shape != geom.data_shape:
            raise GammarulesError(
                f"Map: data shape {data.shape} does not match geometry {geom.data_shape}"
            )
        self.geom = geom
        self.data = data
        self.unit = u.Unit(unit)

    @classmethod
    def from_geom(cls, geom, data=None, unit="", dtype=float):
        return cls(geom, data, unit, dtype)

    @property
    def quantity(self):
        return u.Quantity(self.data, self.unit, copy=False)

    def copy(self, data=None, geom=None):
        """A copy, optionally with other ``data`` and/or ``geom``."""
        return Map(
            self.geom if geom is None else geom,
            self.data.copy() if data is None else data,
            self.unit,
        )

    @property
    def _n_axes(self):
        return len(self.geom.axes)

    def sum_over_axes(self, keepdims=True):
        """Sum over the non-spatial axes; ``keepdims`` keeps them as single bins."""
        axes = tuple(range(self._n_axes))
        if keepdims:
            geom = self.geom.to_cube([a.squash() for a in self.geom.axes])
        else:
            geom = self.geom.to_image()
        return self.copy(data=self.data.sum(axis=axes, keepdims=keepdims), geom=geom)

    def slice_by_idx(self, slices):
        """Map of ``{axis name: slice or int}``; an integer index drops its axis."""
        geom = self.geom.slice_by_idx(slices)
        index = tuple(slices.get(a.name, slice(None)) for a in self.geom.axes)
        return self.copy(data=self.data[index].copy(), geom=geom)

    def cutout(self, position, width):
        """Map on ``geom.cutout(position, width)`` (same pixels, clipped at the edges)."""
        index = self.geom.cutout_index(position, width)
        return self.copy(
            data=self.data[(Ellipsis, *index)].copy(), geom=self.geom.cutout(position, width)
        )

    def get_by_coord(self, skycoord, fill_value=np.nan, **axis_coords):
        """Values of the pixels holding the positions; ``fill_value`` outside."""
        idx = self.geom.coord_to_idx(skycoord, **axis_coords)
        idx = np.broadcast_arrays(*idx)
        inside = np.all([i >= 0 for i in idx], axis=0)
        dtype = np.result_type(self.data.dtype, np.min_scalar_type(fill_value))
        out = np.full(inside.shape, fill_value, dtype=dtype)
        out[inside] = self.data[tuple(i[inside] for i in idx)]
        return out

    def fill_by_coord(self, skycoord, weights=None, **axis_coords):
        """Add ``weights`` (default 1) to the pixels holding the positions (outside: ignored)."""
        idx = self.geom.coord_to_idx(skycoord, **axis_coords)
        *idx, weights = np.broadcast_arrays(*idx, 1.0 if weights is None else weights)
        inside = np.all([i >= 0 for i in idx], axis=0)
        np.add.at(self.data, tuple(i[inside] for i in idx), weights[inside])

    def fill_events(self, events):
        """Add the counts of ``events`` (an `EventList`), binned in C++ (`maps.binning`).

        The geometry has no non-spatial axis or one reconstructed-energy axis ("energy").
        Events off the map or outside the energy range are not counted.
        """
        geom = self.geom
        names = [a.name for a in geom.axes]
        if names not in ([], ["energy"]):
            raise GammarulesError(
                f"fill_events: the map axes must be none or ['energy'], got {names}"
            )
        energy, edges = (events.energy, geom.axes[0].edges) if names else (None, None)
        lon, lat = to_frame(events.radec, geom.frame)
        if isinstance(geom, HpxGeom):
            counts = bin_events_healpix(lon, lat, geom.nside, geom.nest, energy, edges, geom.pixels)
        else:
            counts = bin_events_wcs(lon, lat, geom.wcs, geom.spatial_shape, energy, edges)
        self.data += counts

    def interp_by_coord(self, skycoord, fill_value=np.nan, **axis_coords):
        """Interpolated values at sky positions and axis coordinates.

        Spatially bilinear (WCS: between pixel centres; HEALPix: healpy's four neighbours);
        along axes linear between bin centres (in log for log axes), clamped at the ends.
        ``fill_value`` off the map.
        """
        (spatial_idx, spatial_w) = self.geom.interp_weights(skycoord)
        total = np.zeros(
            np.broadcast_shapes(spatial_w.shape[1:], *(np.shape(v) for v in axis_coords.values()))
        )
        for axis_idx, axis_w in interp_weights(self.geom.axes, axis_coords):
            for k in range(spatial_w.shape[0]):
                index = axis_idx + tuple(i[k] for i in spatial_idx)
                total = total + self.data[index] * spatial_w[k] * axis_w
        on_map = spatial_w.sum(axis=0) > 0
        return np.where(np.broadcast_to(on_map, total.shape), total, fill_value)

    def reproject_to_geom(self, geom, preserve_counts=False):
        """This map on the spatial pixels of ``geom``, keeping its non-spatial axes.

        Intensity-like maps (default) are interpolated at the new pixel centres (0 off the
        map); with ``preserve_counts`` each pixel's content is spread over the new pixels by
        sub-pixel sampling, so the total inside the new footprint is conserved.
        """
        target = geom.to_cube(self.geom.axes)
        data = reproject_data(self, target, preserve_counts)
        return self.copy(data=data, geom=target)

    def to_wcs(self, binsz=None, proj="CAR"):
        """A HEALPix map sampled on ``geom.to_wcs_geom(binsz, proj)`` for plotting.

        Each WCS pixel takes the value of the HEALPix pixel holding its centre (NaN outside a
        partial map).
        """
        if not isinstance(self.geom, HpxGeom):
            raise GammarulesError("to_wcs: the map is already on a WCS geometry")
        geom = self.geom.to_wcs_geom(binsz, proj)
        image = geom.to_image()
        idx = self.geom.coord_to_idx(image.get_coord())[0]
        values = np.where(idx >= 0, self.data[..., np.maximum(idx, 0)], np.nan)
        return self.copy(data=values, geom=geom)

    def to_xarray(self, name="data"):
        """`xarray.Dataset` with this map as variable ``name`` (schema in `io_netcdf`)."""
        return map_to_xarray(self.geom, self.data, self.unit, name)

    @classmethod
    def from_xarray(cls, ds, name=None, filename=None):
        """Map from variable ``name`` (default: the only one) of an `xarray.Dataset`."""
        return cls(*map_from_xarray(ds, name=name, filename=filename))

    def write(self, path, overwrite=False, hdu=None):
        """Write NetCDF (``.nc``) or FITS (GADF sky-map format; ``hdu`` names the map HDU)."""
        if _is_netcdf(path):
            if Path(path).exists() and not overwrite:
                raise GammarulesError(f"{path} exists (use overwrite=True)")
            self.to_xarray().to_netcdf(path)
        else:
            write_fits(self.geom, self.data, self.unit, path, overwrite=overwrite, hdu=hdu)

    @classmethod
    def read(cls, path, hdu=None):
        """Read NetCDF (``.nc``; ``hdu`` is the variable name) or a FITS sky map."""
        if not _is_netcdf(path):
            return cls(*read_fits(path, hdu=hdu))
        try:
            with xr.open_dataset(path) as ds:
                ds = ds.load()
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{path}: cannot read NetCDF ({exc})") from exc
        return cls.from_xarray(ds, name=hdu, filename=path)

    def __repr__(self):
        return f"Map(geom={self.geom!r}, unit={self.unit!r}, dtype={self.data.dtype})"
