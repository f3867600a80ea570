"""DL4 NetCDF schema of spectrum datasets (read and written through `xarray`).

Schema ``gammarules-spectrum-dataset``, version 1:

- dimensions ``energy`` (n_reco), ``energy_true`` (n_true), ``energy_edges`` (n_reco + 1),
  ``energy_true_edges`` (n_true + 1); coordinates of the same names hold bin centres and
  edges, each with ``units`` (an energy unit) and ``interp`` ("log" or "lin").
- variables, each with ``units`` ("" = dimensionless): counts, mask_safe, mask_fit
  (``energy``); exposure [cm2 s] (``energy_true``); edisp (``energy_true``, ``energy``);
  background (``energy``, SpectrumDataset only, optional); counts_off, acceptance,
  acceptance_off (``energy``, SpectrumDatasetOnOff only). Masks are stored as int8 0/1.
- attributes: schema, schema_version, dataset_type, name, livetime + livetime_units,
  geometry (the ON region as DS9 text, "" if none), provenance (JSON; "null" if none),
  meta (JSON of the remaining meta entries), gammarules_version (of the writer).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr
from astropy import units as u
from regions import SkyRegion

import gammarules
from gammarules.datasets.spectrum import SpectrumDataset, SpectrumDatasetOnOff
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import MapAxis

__all__ = ["SCHEMA", "SCHEMA_VERSION", "dataset_to_xarray", "dataset_from_xarray"]

SCHEMA = "gammarules-spectrum-dataset"
SCHEMA_VERSION = 1

_DATASET_TYPES = {cls.__name__: cls for cls in (SpectrumDataset, SpectrumDatasetOnOff)}

# variable -> (dims, unit)
_COMMON = {
    "counts": (("energy",), ""),
    "exposure": (("energy_true",), "cm2 s"),
    "edisp": (("energy_true", "energy"), ""),
    "mask_safe": (("energy",), ""),
    "mask_fit": (("energy",), ""),
}
_ONOFF = {
    "counts_off": (("energy",), ""),
    "acceptance": (("energy",), ""),
    "acceptance_off": (("energy",), ""),
}
_MASKS = ("mask_safe", "mask_fit")
_REQUIRED_ATTRS = (
    "schema",
    "schema_version",
    "dataset_type",
    "name",
    "livetime",
    "livetime_units",
    "geometry",
    "provenance",
    "meta",
)


def _axis_coords(axis):
    attrs = {"units": axis.unit.to_string(), "interp": axis.interp}
    return {
        axis.name: (axis.name, axis.center.value, attrs),
        f"{axis.name}_edges": (f"{axis.name}_edges", axis.edges.value, attrs),
    }


def _json(value, what, dataset):
    try:
        return json.dumps(value)
    except TypeError as error:
        raise GammarulesError(
            f"dataset '{dataset.name}': {what} must be JSON-serialisable to be written: {error}"
        ) from None


def dataset_to_xarray(dataset):
    """`xarray.Dataset` holding ``dataset`` in the schema of this module."""
    variables = {
        "counts": dataset.counts,
        "exposure": dataset.exposure.to_value("cm2 s"),
        "edisp": dataset.edisp,
        "mask_safe": dataset.mask_safe.astype(np.int8),
        "mask_fit": dataset.mask_fit.astype(np.int8),
    }
    specs = dict(_COMMON)
    if isinstance(dataset, SpectrumDatasetOnOff):
        specs.update(_ONOFF)
        variables.update(
            counts_off=dataset.counts_off,
            acceptance=dataset.acceptance,
            acceptance_off=dataset.acceptance_off,
        )
    elif dataset.background is not None:
        specs["background"] = (("energy",), "")
        variables["background"] = dataset.background

    meta = dict(dataset.meta)
    region = meta.pop("region", None)
    if isinstance(region, SkyRegion):
        region = region.serialize(format="ds9")
    provenance = meta.pop("provenance", None)
    attrs = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "dataset_type": type(dataset).__name__,
        "name": dataset.name,
        "livetime": dataset.livetime.to_value("s"),
        "livetime_units": "s",
        "geometry": "" if region is None else str(region),
        "provenance": _json(provenance, "meta['provenance']", dataset),
        "meta": _json(meta, "meta", dataset),
        "gammarules_version": gammarules.__version__,
    }
    coords = {**_axis_coords(dataset.energy_axis), **_axis_coords(dataset.energy_axis_true)}
    data_vars = {
        key: (specs[key][0], values, {"units": specs[key][1]}) for key, values in variables.items()
    }
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def _unit(attrs, what, source):
    if "units" not in attrs:
        raise DataFormatError(f"{source}: {what} has no 'units' attribute")
    try:
        return u.Unit(attrs["units"])
    except ValueError:
        raise DataFormatError(f"{source}: {what} has invalid units {attrs['units']!r}") from None


def _read_axis(ds, name, source):
    edges_name = f"{name}_edges"
    for key in (name, edges_name):
        if key not in ds.coords:
            raise DataFormatError(f"{source}: coordinate '{key}' is missing")
    edges = ds.coords[edges_name]
    if edges.dims != (edges_name,) or edges.size != ds.sizes.get(name, -1) + 1:
        raise DataFormatError(
            f"{source}: coordinate '{edges_name}' must have dims ('{edges_name}',) and "
            f"length len('{name}') + 1"
        )
    unit = _unit(edges.attrs, f"coordinate '{edges_name}'", source)
    if not unit.is_equivalent(u.TeV):
        raise DataFormatError(f"{source}: coordinate '{edges_name}' has unit {unit}, not energy")
    try:
        return MapAxis(edges.values, name=name, unit=unit, interp=edges.attrs.get("interp", "log"))
    except GammarulesError as error:
        raise DataFormatError(f"{source}: coordinate '{edges_name}': {error}") from None


def _read_variable(ds, key, dims, unit, source):
    if key not in ds.data_vars:
        raise DataFormatError(
            f"{source}: variable '{key}' is missing (dims {dims}, units {unit!r})"
        )
    variable = ds[key]
    if variable.dims != dims:
        raise DataFormatError(
            f"{source}: variable '{key}' has dims {variable.dims}, expected {dims}"
        )
    found = _unit(variable.attrs, f"variable '{key}'", source)
    try:
        factor = found.to(unit)
    except u.UnitConversionError:
        raise DataFormatError(
            f"{source}: variable '{key}' has units {found.to_string()!r}, expected {unit!r}"
        ) from None
    if key in _MASKS:
        return variable.values.astype(bool)
    return variable.values * factor if factor != 1 else variable.values


def _read_attr(ds, key, source):
    if key not in ds.attrs:
        raise DataFormatError(f"{source}: attribute '{key}' is missing")
    return ds.attrs[key]


def dataset_from_xarray(ds, filename=None, expected=SpectrumDataset):
    """Dataset from an `xarray.Dataset` after checking the schema.

    Raises `DataFormatError` naming ``filename`` (or "xarray.Dataset") and what was missing
    or wrong; also if the dataset type is not ``expected`` or a subclass of it.
    """
    source = str(filename) if filename is not None else "xarray.Dataset"
    attrs = {key: _read_attr(ds, key, source) for key in _REQUIRED_ATTRS}
    if attrs["schema"] != SCHEMA or int(attrs["schema_version"]) != SCHEMA_VERSION:
        raise DataFormatError(
            f"{source}: schema {attrs['schema']!r} version {attrs['schema_version']}, "
            f"expected {SCHEMA!r} version {SCHEMA_VERSION}"
        )
    cls = _DATASET_TYPES.get(attrs["dataset_type"])
    if cls is None or not issubclass(cls, expected):
        raise DataFormatError(
            f"{source}: dataset_type {attrs['dataset_type']!r} is not a {expected.__name__}"
        )
    livetime_unit = _unit({"units": attrs["livetime_units"]}, "attribute 'livetime'", source)
    if not livetime_unit.is_equivalent(u.s):
        raise DataFormatError(f"{source}: livetime_units {attrs['livetime_units']!r} is not a time")
    livetime = u.Quantity(float(attrs["livetime"]), livetime_unit)

    specs = dict(_COMMON)
    if cls is SpectrumDatasetOnOff:
        specs.update(_ONOFF)
    elif "background" in ds.data_vars:
        specs["background"] = (("energy",), "")
    values = {key: _read_variable(ds, key, *spec, source) for key, spec in specs.items()}

    try:
        meta = json.loads(attrs["meta"])
        provenance = json.loads(attrs["provenance"])
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{source}: attribute meta/provenance is not JSON: {error}") from None
    if attrs["geometry"]:
        meta["region"] = str(attrs["geometry"])
    if provenance is not None:
        meta["provenance"] = provenance
    return cls(
        energy_axis=_read_axis(ds, "energy", source),
        energy_axis_true=_read_axis(ds, "energy_true", source),
        livetime=livetime,
        name=str(attrs["name"]),
        meta=meta,
        **values,
    )


def write_dataset(dataset, path, overwrite=False):
    """Write ``dataset`` to a NetCDF4 file."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise GammarulesError(f"{path}: file exists (use overwrite=True)")
    ds = dataset_to_xarray(dataset)
    encoding = {key: {"_FillValue": None} for key in list(ds.data_vars) + list(ds.coords)}
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.to_netcdf(path, engine="netcdf4", encoding=encoding)


def read_dataset(path, expected=SpectrumDataset):
    """Read a dataset written by `write_dataset`; checks the schema."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    try:
        with xr.open_dataset(
            path, engine="netcdf4", mask_and_scale=False, decode_times=False, decode_timedelta=False
        ) as ds:
            ds.load()
    except (OSError, ValueError) as error:
        raise DataFormatError(f"{path}: not a readable NetCDF4 file ({error})") from None
    return dataset_from_xarray(ds, filename=path, expected=expected)
