"""Flux maps: named maps on one sky geometry with an energy axis, and a reference spectrum.

Files:

- FITS (GADF-like, as Gammapy writes flux maps): an empty primary HDU with ``SED_TYPE``
  (likelihood), ``N_SIGMA``, ``N_SIGUL`` and the reference spectral model (``REFMODEL``,
  JSON of its YAML form), then per quantity an image HDU named after it in capitals (WCS,
  ``BUNIT``, ``BANDSHDU``) followed by its ``{NAME}_BANDS`` table of energy edges; each map
  also reads with ``Map.read(path, hdu=NAME)``.
- NetCDF (``.nc``): one variable per quantity in the ``gammarules-map`` schema (each reads
  with ``Map.read(path, hdu=name)``), plus the attributes ``product`` ("FluxMaps"),
  ``reference_model`` and ``meta`` (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import xarray as xr
from astropy.io import fits
from astropy.table import Table

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import Map, WcsGeom
from gammarules.models import model_class

__all__ = ["FluxMaps"]

PRODUCT = "FluxMaps"
NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")


def _is_netcdf(path):
    return Path(path).suffix.lower() in NETCDF_SUFFIXES


def _model_to_json(model):
    return json.dumps(model.to_dict()) if model is not None else ""


def _model_from_json(text, source):
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise DataFormatError(f"{source}: reference model is not JSON") from None
    cls = model_class("spectral", data.get("type", "")) if isinstance(data, dict) else None
    if cls is None:
        raise DataFormatError(f"{source}: unknown reference spectral model {text!r}")
    return cls.from_dict(data)


def _bands_hdu(axis, name):
    table = Table(
        {
            "CHANNEL": np.arange(axis.nbin),
            "E_MIN": axis.edges_min,
            "E_MAX": axis.edges_max,
        }
    )
    hdu = fits.table_to_hdu(table)
    hdu.header["AXCOLS1"] = "E_MIN,E_MAX"
    hdu.header["INTERP1"] = axis.interp
    hdu.name = name
    return hdu


class FluxMaps:
    """Maps by quantity name (``norm``, ``flux``, ``sqrt_ts``, ...) sharing one geometry.

    Parameters
    ----------
    maps : dict of str -> Map
        Maps on the same geometry, whose first non-spatial axis is ``energy``.
    reference_model : SpectralModel, optional
        The spectrum that converts ``norm`` to ``flux``.
    meta : dict, optional
        JSON-serialisable metadata (e.g. ``n_sigma``, ``n_sigma_ul``).
    """

    def __init__(self, maps, reference_model=None, meta=None):
        maps = dict(maps)
        if not maps:
            raise GammarulesError("FluxMaps: no maps given")
        geom = next(iter(maps.values())).geom
        for name, m in maps.items():
            if m.geom != geom:
                raise GammarulesError(f"FluxMaps: map '{name}' is on another geometry")
        self.maps = maps
        self.reference_model = reference_model
        self.meta = dict(meta or {})

    @property
    def geom(self):
        return next(iter(self.maps.values())).geom

    @property
    def energy_axis(self):
        return self.geom.axes[0]

    @property
    def available_quantities(self):
        return list(self.maps)

    def __getitem__(self, name):
        if name not in self.maps:
            raise KeyError(f"FluxMaps has no quantity {name!r}; available: {list(self.maps)}")
        return self.maps[name]

    def __contains__(self, name):
        return name in self.maps

    def _attrs(self):
        return {
            "product": PRODUCT,
            "sed_type": "likelihood",
            "reference_model": _model_to_json(self.reference_model),
            "meta": json.dumps(self.meta),
        }

    def write(self, path, overwrite=False):
        """Write NetCDF (``.nc``) or FITS (any other name), see the module docstring."""
        if Path(path).exists() and not overwrite:
            raise GammarulesError(f"{path} exists (use overwrite=True)")
        if _is_netcdf(path):
            ds = xr.merge(
                [m.to_xarray(name) for name, m in self.maps.items()], combine_attrs="override"
            )
            ds.attrs.update(self._attrs())
            ds.to_netcdf(path)
            return
        if not isinstance(self.geom, WcsGeom):
            raise GammarulesError(f"FluxMaps: FITS needs a WCS geometry, got {self.geom!r}")
        primary = fits.PrimaryHDU()
        primary.header["SED_TYPE"] = "likelihood"
        primary.header["N_SIGMA"] = self.meta.get("n_sigma", 1)
        primary.header["N_SIGUL"] = self.meta.get("n_sigma_ul", 2)
        primary.header["REFMODEL"] = _model_to_json(self.reference_model)
        primary.header["META"] = json.dumps(self.meta)
        hdus = [primary]
        for name, m in self.maps.items():
            extname = name.upper()
            header = self.geom.to_header()
            header["BANDSHDU"] = f"{extname}_BANDS"
            header["BUNIT"] = m.unit.to_string("fits")
            hdus.append(fits.ImageHDU(m.data, header, name=extname))
            hdus.append(_bands_hdu(self.energy_axis, f"{extname}_BANDS"))
        fits.HDUList(hdus).writeto(path, overwrite=overwrite)

    @classmethod
    def read(cls, path, reference_model=None):
        """Read a file written by `write`; ``reference_model`` overrides the stored one."""
        if not Path(path).is_file():
            raise DataFormatError(f"{path}: file not found")
        if _is_netcdf(path):
            try:
                with xr.open_dataset(path) as ds:
                    ds = ds.load()
            except (OSError, ValueError) as exc:
                raise DataFormatError(f"{path}: cannot read NetCDF ({exc})") from exc
            if ds.attrs.get("product") != PRODUCT:
                raise DataFormatError(
                    f"{path}: attribute 'product' is {ds.attrs.get('product')!r}, "
                    f"expected {PRODUCT!r}"
                )
            maps = {name: Map.from_xarray(ds, name=name, filename=path) for name in ds.data_vars}
            model_text, meta_text = ds.attrs.get("reference_model", ""), ds.attrs.get("meta")
        else:
            try:
                with fits.open(path) as hdulist:
                    header = hdulist[0].header
                    names = [h.name for h in hdulist[1:] if h.is_image]
                    model_text, meta_text = header.get("REFMODEL", ""), header.get("META")
            except OSError as exc:
                raise DataFormatError(f"{path}: cannot read FITS ({exc})") from exc
            if header.get("SED_TYPE") != "likelihood" or not names:
                raise DataFormatError(
                    f"{path}: expected SED_TYPE 'likelihood' in the primary header and image "
                    "HDUs of flux map quantities"
                )
            maps = {name.lower(): Map.read(path, hdu=name) for name in names}
        try:
            meta = json.loads(meta_text) if meta_text else {}
        except ValueError:
            raise DataFormatError(f"{path}: 'meta' is not JSON") from None
        model = reference_model or _model_from_json(model_text, path)
        return cls(maps, reference_model=model, meta=meta)

    def __repr__(self):
        names = ", ".join(self.maps)
        return f"FluxMaps(geom={self.geom!r}, quantities=[{names}])"
