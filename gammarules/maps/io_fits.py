"""Sky maps in FITS, GADF sky-map format (WCS image / HEALPix BINTABLE + BANDS table).

Non-spatial axes are described by a BANDS table named by the ``BANDSHDU`` keyword (or the
Fermi tables ``EBOUNDS``/``ENERGIES``): one row per band, ``AXCOLS{i}`` lists its columns
for the ``i``-th non-spatial FITS axis (two columns: bin edges, one column: nodes). Rows run
over the bands with the first FITS axis (the last `MapAxis`) fastest.
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS, FITSFixedWarning

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps.axis import MapAxis
from gammarules.maps.hpx import HpxGeom
from gammarules.maps.lazy import healpy as hp
from gammarules.maps.wcs import WcsGeom

__all__ = ["read_fits", "write_fits"]

_COORDSYS = {"icrs": "CEL", "galactic": "GAL"}
_FRAME_OF = {"C": "icrs", "E": "icrs", "G": "galactic"}


def _columns(axis):
    name = axis.name.upper()
    if axis.node_type == "center":
        return [name]
    if axis.name == "energy":
        return ["E_MIN", "E_MAX"]
    return [f"{name}_MIN", f"{name}_MAX"]


def _bands_hdu(axes, extname):
    shape = tuple(a.nbin for a in axes)
    band_idx = np.unravel_index(np.arange(int(np.prod(shape))), shape)
    table = Table({"CHANNEL": np.arange(len(band_idx[0]))})
    header = {}
    for i, (axis, idx) in enumerate(zip(axes[::-1], band_idx[::-1], strict=True), start=1):
        cols = _columns(axis)
        if axis.node_type == "center":
            table[cols[0]] = axis.center[idx]
        else:
            table[cols[0]], table[cols[1]] = axis.edges_min[idx], axis.edges_max[idx]
        header[f"AXCOLS{i}"] = ",".join(cols)
        header[f"INTERP{i}"] = axis.interp
    hdu = fits.table_to_hdu(table)
    hdu.header.update(header)
    hdu.name = extname
    return hdu, header


def _bands_name(axes, hdu):
    if hdu is not None:
        return f"{hdu}_BANDS"
    if len(axes) == 1 and axes[0].name == "energy":
        return "EBOUNDS" if axes[0].node_type == "edges" else "ENERGIES"
    return "BANDS"


def write_fits(geom, data, unit, path, overwrite=False, hdu=None):
    """Write a map; the map HDU is the primary (WCS) or ``SKYMAP`` (HEALPix) unless ``hdu``."""
    data = data.astype(np.uint8) if data.dtype == bool else data
    hdus = [fits.PrimaryHDU()]
    header = {}
    if geom.axes:
        bands, header = _bands_hdu(geom.axes, _bands_name(geom.axes, hdu))
        header["BANDSHDU"] = bands.name
    if unit != u.dimensionless_unscaled:
        header["BUNIT"] = unit.to_string("fits")
    if isinstance(geom, WcsGeom):
        image_header = geom.to_header()
        image_header.update(header)
        if hdu is None:
            hdus = [fits.PrimaryHDU(data, image_header)]
        else:
            hdus.append(fits.ImageHDU(data, image_header, name=hdu))
    else:
        hdus.append(_hpx_hdu(geom, data, header, hdu or "SKYMAP"))
    if geom.axes:
        hdus.append(bands)
    fits.HDUList(hdus).writeto(path, overwrite=overwrite)


def _hpx_hdu(geom, data, header, extname):
    planes = data.reshape(-1, geom.npix)
    columns = {} if geom.is_allsky else {"PIX": geom.pixel_indices}
    columns.update({f"CHANNEL{k}": plane for k, plane in enumerate(planes)})
    hdu = fits.BinTableHDU(Table(columns), name=extname)
    hdu.header.update(
        {
            "PIXTYPE": "HEALPIX",
            "ORDERING": geom.ordering,
            "NSIDE": geom.nside,
            "ORDER": int(np.log2(geom.nside)),
            "COORDSYS": _COORDSYS[geom.frame],
            "INDXSCHM": "IMPLICIT" if geom.is_allsky else "EXPLICIT",
            "FIRSTPIX": 0,
            "LASTPIX": geom.npix_sky - 1,
            **header,
        }
    )
    return hdu


def _is_map_hdu(hdu):
    if isinstance(hdu, fits.BinTableHDU):
        return hdu.header.get("PIXTYPE", "").upper() == "HEALPIX"
    return hdu.is_image and hdu.data is not None and hdu.data.ndim >= 2


def _select(hdulist, hdu, where):
    if hdu is None:
        found = next((h for h in hdulist if _is_map_hdu(h)), None)
        if found is None:
            raise DataFormatError(f"{where}: no image HDU with data or HEALPix table found")
        return found
    try:
        return hdulist[hdu]
    except (KeyError, IndexError):
        raise DataFormatError(f"{where}: no HDU {hdu!r}") from None


def read_fits(path, hdu=None):
    """``(geom, data, unit)`` of the map in HDU ``hdu`` (default: the first map HDU)."""
    try:
        with fits.open(path) as hdulist:
            found = _select(hdulist, hdu, path)
            where = f"{path}, HDU '{found.name}'"
            if isinstance(found, fits.BinTableHDU):
                geom, data = _read_hpx(found, hdulist, path)
            elif found.is_image and found.data is not None:
                geom, data = _read_wcs(found, hdulist, path)
            else:
                raise DataFormatError(f"{where}: not an image or a HEALPix table")
            unit = _unit(found.header.get("BUNIT", ""), where)
            data = data.astype(data.dtype.newbyteorder("="), copy=False)
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read FITS sky map ({exc})") from exc
    return geom, data, unit


def _unit(text, where):
    try:
        return u.Unit(text.strip() if isinstance(text, str) else text)
    except ValueError:
        raise DataFormatError(f"{where}: invalid BUNIT {text!r}") from None


def _read_wcs(hdu, hdulist, path):
    where = f"{path}, HDU '{hdu.name}'"
    data = np.asarray(hdu.data)
    if data.ndim < 2:
        raise DataFormatError(f"{where}: expected an image, got shape {data.shape}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            wcs = WCS(hdu.header).celestial
    except Exception as exc:  # astropy raises several types for broken headers
        raise DataFormatError(f"{where}: invalid WCS ({exc})") from None
    if wcs.naxis != 2:
        raise DataFormatError(f"{where}: no celestial WCS (CTYPE1/CTYPE2)")
    axes = []
    if data.ndim > 2:
        axes = _axes_for(int(np.prod(data.shape[:-2])), hdu, hdulist, path)
    if axes is None:
        while data.ndim > 2 and data.shape[0] == 1:
            data = data[0]
        if data.ndim > 2:
            raise DataFormatError(
                f"{where}: expected a 2D image or a BANDSHDU, EBOUNDS or ENERGIES table for the "
                f"non-spatial axes of shape {data.shape}"
            )
        axes = []
    if tuple(a.nbin for a in axes) != data.shape[:-2]:
        raise DataFormatError(
            f"{where}: data shape {data.shape} does not match the bands "
            f"{[(a.name, a.nbin) for a in axes]}"
        )
    return WcsGeom(wcs, data.shape[-2:], axes), data


def _read_hpx(hdu, hdulist, path):
    where = f"{path}, HDU '{hdu.name}'"
    header = hdu.header
    for key in ("NSIDE", "ORDERING"):
        if key not in header:
            raise DataFormatError(f"{where}: keyword {key} missing")
    scheme = header.get("INDXSCHM", "IMPLICIT").upper()
    if scheme not in ("IMPLICIT", "EXPLICIT"):
        raise DataFormatError(f"{where}: INDXSCHM {scheme!r} not supported (IMPLICIT, EXPLICIT)")
    ordering = header["ORDERING"].upper()
    if ordering not in ("NESTED", "RING"):
        raise DataFormatError(f"{where}: ORDERING must be NESTED or RING, got {ordering!r}")
    frame = _FRAME_OF.get(str(header.get("COORDSYS", "C")).upper()[:1])
    if frame is None:
        raise DataFormatError(f"{where}: COORDSYS {header['COORDSYS']!r} not supported")
    names = [n for n in hdu.columns.names if n.upper() != "PIX"]
    if not names:
        raise DataFormatError(f"{where}: no data columns")
    planes = np.stack([np.asarray(hdu.data[n]).reshape(-1) for n in names])
    pixels = None
    if scheme == "EXPLICIT":
        if "PIX" not in [n.upper() for n in hdu.columns.names]:
            raise DataFormatError(f"{where}: INDXSCHM EXPLICIT needs a PIX column")
        pixels = np.asarray(hdu.data["PIX"], dtype=np.int64)
        order = np.argsort(pixels)
        pixels, planes = pixels[order], planes[:, order]
    nside = int(header["NSIDE"])
    if pixels is None and planes.shape[1] != hp.nside2npix(nside):
        raise DataFormatError(
            f"{where}: {planes.shape[1]} rows, expected {hp.nside2npix(nside)} for NSIDE {nside}"
        )
    axes = None
    if "BANDSHDU" in header or len(planes) > 1:
        axes = _axes_for(len(planes), hdu, hdulist, path)
        if axes is None:
            raise DataFormatError(
                f"{where}: {len(planes)} channels but no BANDSHDU, EBOUNDS or ENERGIES table"
            )
    data = (
        planes[0]
        if axes is None
        else planes.reshape(tuple(a.nbin for a in axes) + planes.shape[1:])
    )
    try:
        geom = HpxGeom(nside, ordering == "NESTED", frame, pixels, axes or ())
    except GammarulesError as exc:
        raise DataFormatError(f"{where}: {exc}") from None
    return geom, data


def _axes_for(n_bands, hdu, hdulist, path):
    """Non-spatial axes of a map HDU from its BANDS table (None if there is none)."""
    header = hdu.header
    name = header.get("BANDSHDU")
    if name is None:
        name = next((n for n in ("EBOUNDS", "ENERGIES") if n in hdulist), None)
        if name is None:
            return None
    if name not in hdulist:
        raise DataFormatError(f"{path}, HDU '{hdu.name}': BANDS table {name!r} not found")
    axes = _read_bands(hdulist[name], header, f"{path}, HDU '{name}'")
    if int(np.prod([a.nbin for a in axes])) != n_bands:
        raise DataFormatError(
            f"{path}, HDU '{name}': {[a.nbin for a in axes]} bands do not match the "
            f"{n_bands} planes of HDU '{hdu.name}'"
        )
    return axes


def _axis_name(cols):
    if [c.upper() for c in cols] == ["E_MIN", "E_MAX"]:
        return "energy"
    name = cols[0].upper()
    return (name[:-4] if len(cols) == 2 and name.endswith("_MIN") else name).lower()


def _axcols(bands, header, where):
    found = []
    while True:
        key = f"AXCOLS{len(found) + 1}"
        cols = bands.header.get(key, header.get(key))
        if not cols:
            break
        found.append([c.strip() for c in cols.split(",")])
    if found:
        return found
    names = [n.upper() for n in bands.columns.names]
    if {"E_MIN", "E_MAX"} <= set(names):
        return [[bands.columns.names[names.index(n)] for n in ("E_MIN", "E_MAX")]]
    if "ENERGY" in names:
        return [[bands.columns.names[names.index("ENERGY")]]]
    raise DataFormatError(f"{where}: no AXCOLS keywords and no E_MIN/E_MAX or ENERGY columns")


def _read_bands(bands, header, where):
    """Axes (in data order) of a BANDS table; each axis's bins in order of first appearance."""
    if not isinstance(bands, fits.BinTableHDU):
        raise DataFormatError(f"{where}: expected a BANDS table")
    table = Table.read(bands)
    axes = []
    for i, cols in enumerate(_axcols(bands, header, where), start=1):
        missing = [c for c in cols if c not in table.colnames]
        if missing:
            raise DataFormatError(f"{where}: column(s) {missing} missing")
        name = _axis_name(cols)
        default = "MeV" if bands.name == "ENERGIES" else "keV"
        key = np.stack([np.asarray(table[c], dtype=float) for c in cols], axis=-1)
        first = np.sort(np.unique(key, axis=0, return_index=True)[1])
        values = [
            u.Quantity(key[first, k], table[c].unit or (default if "energy" in name else ""))
            for k, c in enumerate(cols)
        ]
        if values[0].unit.is_equivalent("TeV") and values[0].unit != u.TeV:
            values = [v.to("TeV") for v in values]
        interp = bands.header.get(f"INTERP{i}", header.get(f"INTERP{i}"))
        interp = interp or ("log" if "energy" in name else "lin")
        try:
            if len(values) == 1:
                axis = MapAxis.from_nodes(values[0], name=name, interp=interp)
            else:
                edges = np.append(values[0].value, values[1].value[-1]) * values[0].unit
                axis = MapAxis(edges, name=name, interp=interp)
        except GammarulesError as exc:
            raise DataFormatError(f"{where}: {exc}") from None
        axes.insert(0, axis)
    return axes
