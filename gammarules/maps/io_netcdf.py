"""Sky maps as `xarray` variables (DL4 NetCDF schema ``gammarules-map``, version 1).

- dimensions: one per non-spatial axis (its name), then ``y``, ``x`` (WCS) or ``pixel``
  (HEALPix); an axis ``name`` has coordinates ``name`` (bin centres or nodes) and
  ``name_edges`` (length + 1), both with ``units``, ``interp`` and ``node_type``.
  HEALPix maps have the coordinate ``pixel``: the HEALPix index of each pixel.
- the map variable carries ``units`` ("" = dimensionless), ``dtype`` ("bool" for masks,
  stored as int8) and its geometry: ``geom_type`` ("wcs" or "hpx"), then ``wcs_header``
  (the FITS WCS keywords as text) or ``nside``, ``ordering`` and ``frame``.
- dataset attributes: ``schema``, ``schema_version``, ``gammarules_version``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from astropy import units as u
from astropy.io import fits
from astropy.wcs import WCS

import gammarules
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps.axis import MapAxis
from gammarules.maps.hpx import HpxGeom
from gammarules.maps.wcs import WcsGeom

__all__ = ["SCHEMA", "SCHEMA_VERSION", "map_from_xarray", "map_to_xarray"]

SCHEMA = "gammarules-map"
SCHEMA_VERSION = 1


def _axis_coords(axis):
    attrs = {"units": axis.unit.to_string(), "interp": axis.interp, "node_type": axis.node_type}
    return {
        axis.name: (axis.name, axis.center.value, attrs),
        f"{axis.name}_edges": (f"{axis.name}_edges", axis.edges.value, attrs),
    }


def map_to_xarray(geom, data, unit, name="data"):
    """`xarray.Dataset` with the map as variable ``name``."""
    coords = {}
    for axis in geom.axes:
        coords.update(_axis_coords(axis))
    attrs = {"units": unit.to_string(), "dtype": "bool" if data.dtype == bool else ""}
    if isinstance(geom, WcsGeom):
        spatial = ("y", "x")
        attrs.update(geom_type="wcs", wcs_header=geom.to_header().tostring())
    else:
        spatial = ("pixel",)
        coords["pixel"] = ("pixel", geom.pixel_indices)
        attrs.update(geom_type="hpx", nside=geom.nside, ordering=geom.ordering, frame=geom.frame)
    dims = tuple(a.name for a in geom.axes) + spatial
    values = data.astype(np.int8) if data.dtype == bool else data
    return xr.Dataset(
        {name: (dims, values, attrs)},
        coords=coords,
        attrs={
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "gammarules_version": gammarules.__version__,
        },
    )


def _attr(attrs, key, what, source):
    if key not in attrs:
        raise DataFormatError(f"{source}: {what} has no attribute '{key}'")
    return attrs[key]


def _read_axis(ds, name, source):
    edges_name = f"{name}_edges"
    for key in (name, edges_name):
        if key not in ds.coords:
            raise DataFormatError(f"{source}: coordinate '{key}' is missing")
    coord = ds.coords[name if ds.coords[name].attrs.get("node_type") == "center" else edges_name]
    what = f"coordinate '{coord.name}'"
    try:
        unit = u.Unit(_attr(coord.attrs, "units", what, source))
        interp = _attr(coord.attrs, "interp", what, source)
        if coord.name == name:
            return MapAxis.from_nodes(coord.values, name=name, unit=unit, interp=interp)
        return MapAxis(coord.values, name=name, unit=unit, interp=interp)
    except (ValueError, GammarulesError) as exc:
        raise DataFormatError(f"{source}: {what}: {exc}") from None


def map_from_xarray(ds, name=None, filename=None):
    """``(geom, data, unit)`` of variable ``name`` (default: the only data variable)."""
    source = str(filename) if filename is not None else "xarray.Dataset"
    if ds.attrs.get("schema") != SCHEMA or int(ds.attrs.get("schema_version", -1)) != 1:
        raise DataFormatError(
            f"{source}: schema {ds.attrs.get('schema')!r} version "
            f"{ds.attrs.get('schema_version')}, expected {SCHEMA!r} version {SCHEMA_VERSION}"
        )
    if name is None:
        if len(ds.data_vars) != 1:
            raise DataFormatError(
                f"{source}: give the map variable name, one of {sorted(ds.data_vars)}"
            )
        name = next(iter(ds.data_vars))
    if name not in ds.data_vars:
        raise DataFormatError(f"{source}: variable '{name}' is missing")
    var = ds[name]
    what = f"variable '{name}'"
    geom_type = _attr(var.attrs, "geom_type", what, source)
    spatial = {"wcs": ("y", "x"), "hpx": ("pixel",)}.get(geom_type)
    if spatial is None or var.dims[-len(spatial) :] != spatial:
        raise DataFormatError(
            f"{source}: {what}: geom_type {geom_type!r} with dims {var.dims}; expected 'wcs' "
            "(..., 'y', 'x') or 'hpx' (..., 'pixel')"
        )
    axes = [_read_axis(ds, dim, source) for dim in var.dims[: -len(spatial)]]
    if geom_type == "wcs":
        header = fits.Header.fromstring(_attr(var.attrs, "wcs_header", what, source))
        geom = WcsGeom(WCS(header), var.shape[-2:], axes)
    else:
        nest = _attr(var.attrs, "ordering", what, source) == "NESTED"
        nside = int(_attr(var.attrs, "nside", what, source))
        frame = _attr(var.attrs, "frame", what, source)
        if "pixel" not in ds.coords:
            raise DataFormatError(f"{source}: coordinate 'pixel' is missing")
        try:
            geom = HpxGeom(nside, nest, frame, ds.coords["pixel"].values, axes)
        except GammarulesError as exc:
            raise DataFormatError(f"{source}: {what}: {exc}") from None
        if not np.array_equal(geom.pixel_indices, ds.coords["pixel"].values):
            raise DataFormatError(f"{source}: {what}: pixel list is not sorted and unique")
    try:
        unit = u.Unit(_attr(var.attrs, "units", what, source))
    except ValueError:
        raise DataFormatError(f"{source}: {what} has invalid units") from None
    data = var.values
    if var.attrs.get("dtype") == "bool":
        data = data.astype(bool)
    return geom, data, unit
