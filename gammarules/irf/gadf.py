"""Reading GADF IRF tables: one BINTABLE row whose cells hold the axes and the data arrays.

Axis columns come in ``<PREFIX>_LO`` / ``<PREFIX>_HI`` pairs. Data columns are arrays in
FITS axis order (the ``TDIM`` order, first index fastest); astropy returns such a cell with
the axes reversed, e.g. an AEFF with ``TDIM = (96,6)`` (energy, theta) comes out with shape
``(6, 96)``. `GadfTable.array` returns it in the order the caller asks for (see
`GadfTable.fits_axis_order` for how the file order is found).

An axis whose ``_LO`` and ``_HI`` values are equal (e.g. the H.E.S.S. DR1 offset axes)
gives the nodes directly rather than bins; the `MapAxis` then gets edges half-way between
the nodes (in its interpolation scale) and the IRF interpolates on the nodes themselves.
"""

from __future__ import annotations

import re

import numpy as np
from astropy import units as u
from astropy.io import fits

from gammarules.data.fits_io import open_fits, select_hdu
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import MapAxis

__all__ = ["GadfTable", "AXIS_SPECS", "IRF_TAGS", "open_hdu"]

# HDUCLAS4 values of the IRF formats gammarules reads
IRF_TAGS = (
    "AEFF_2D",
    "EDISP_2D",
    "PSF_TABLE",
    "PSF_3GAUSS",
    "PSF_KING",
    "BKG_2D",
    "BKG_3D",
    "RAD_MAX_2D",
)

# axis name -> (column prefixes, first one preferred; default unit; interpolation scale)
AXIS_SPECS = {
    "energy_true": (("ENERG", "ETRUE", "ENERGY"), "TeV", "log"),
    "energy": (("ENERG", "EREC", "ENERGY"), "TeV", "log"),
    "offset": (("THETA", "OFFSET"), "deg", "lin"),
    "migra": (("MIGRA",), "", "lin"),
    "rad": (("RAD",), "deg", "lin"),
    "fov_lon": (("DETX", "FOV_LON"), "deg", "lin"),
    "fov_lat": (("DETY", "FOV_LAT"), "deg", "lin"),
}

_STRUCTURAL = re.compile(
    r"^(XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|TFIELDS|T(TYPE|FORM|UNIT|DIM|NULL|SCAL|ZERO|DISP)\d+"
    r"|CREF\d+|COMMENT|HISTORY|)$"
)


def open_hdu(filename, hdu):
    """The BINTABLE ``hdu`` (name or index) of ``filename``, loaded into memory."""
    with open_fits(filename, expected=f"an IRF in HDU {hdu!r}") as hdulist:
        table = select_hdu(hdulist, hdu, filename)
        if not isinstance(table, fits.BinTableHDU):
            raise DataFormatError(f"{filename}[{hdu}]: expected a BINTABLE HDU")
        _ = table.data  # read the data before the file closes
    return table


def _parse_unit(text, default, source, column):
    """Unit of a column; the generic, FITS and OGIP (e.g. ``1/s/MeV/sr``) spellings are read."""
    text = (text or "").strip()
    if not text:
        return u.Unit(default)
    for fmt in ("generic", "fits", "ogip"):
        try:
            return u.Unit(text, format=fmt)
        except ValueError:
            continue
    raise DataFormatError(f"{source}: column {column} has an unreadable unit {text!r}")


class GadfTable:
    """One-row GADF IRF table with helpers to build axes and data arrays.

    Parameters
    ----------
    hdu : `~astropy.io.fits.BinTableHDU`
        The IRF HDU.
    source : str
        Name used in error messages, e.g. ``"file.fits[AEFF]"``.
    """

    def __init__(self, hdu, source):
        self.source = source
        self.header = hdu.header
        nrows = 0 if hdu.data is None else len(hdu.data)
        if nrows != 1:
            raise DataFormatError(f"{source}: expected one table row, found {nrows}")
        self._row = hdu.data[0]
        self._columns = {c.name.upper(): c for c in hdu.columns}
        self._order = [c.name.upper() for c in hdu.columns]
        self._prefix = {}

    @property
    def hduclas4(self):
        return str(self.header.get("HDUCLAS4", "")).strip().upper()

    def check_tag(self, tag):
        """Raise if HDUCLAS4 names another supported IRF format than ``tag``."""
        if self.hduclas4 in IRF_TAGS and self.hduclas4 != tag:
            raise DataFormatError(f"{self.source}: HDUCLAS4 is {self.hduclas4}, expected {tag}")

    @property
    def meta(self):
        """Header keywords, without the table-structure ones."""
        return {k: v for k, v in self.header.items() if not _STRUCTURAL.match(k)}

    def has_column(self, name):
        return name.upper() in self._columns

    def column(self, name, default_unit=""):
        """Values of the cell ``name`` as a float array, and its unit."""
        key = name.upper()
        if key not in self._columns:
            raise DataFormatError(
                f"{self.source}: missing column {name}; columns are {self._order}"
            )
        column = self._columns[key]
        unit = _parse_unit(column.unit, default_unit, self.source, name)
        values = np.asarray(self._row[column.name], dtype=float)
        return values, unit

    def axis(self, name):
        """`MapAxis` ``name`` from its ``_LO``/``_HI`` columns, and its interpolation nodes."""
        prefixes, default_unit, interp = AXIS_SPECS[name]
        prefix = next((p for p in prefixes if self.has_column(f"{p}_LO")), None)
        if prefix is None:
            wanted = " or ".join(f"{p}_LO/{p}_HI" for p in prefixes)
            raise DataFormatError(f"{self.source}: missing axis columns {wanted} ({name})")
        target = u.Unit(default_unit)
        lo, unit = self.column(f"{prefix}_LO", default_unit)
        hi, unit_hi = self.column(f"{prefix}_HI", default_unit)
        for column, col_unit in ((f"{prefix}_LO", unit), (f"{prefix}_HI", unit_hi)):
            if not col_unit.is_equivalent(target):
                raise DataFormatError(
                    f"{self.source}: column {column} has unit '{col_unit}', expected one "
                    f"convertible to '{target}'"
                )
        lo, hi = np.atleast_1d(lo), np.atleast_1d(hi) * unit_hi.to(unit)
        if lo.shape != hi.shape or lo.size == 0:
            raise DataFormatError(f"{self.source}: columns {prefix}_LO/{prefix}_HI differ in size")
        self._prefix[name] = prefix
        if np.allclose(lo, hi, rtol=1e-6, atol=0):
            axis, nodes = self._axis_from_nodes(lo, name, unit, interp, prefix)
        else:
            axis, nodes = self._axis_from_bins(lo, hi, name, unit, interp, prefix)
        return axis, (nodes * unit).to_value(target)

    def _axis_from_bins(self, lo, hi, name, unit, interp, prefix):
        if not np.allclose(lo[1:], hi[:-1], rtol=1e-5, atol=1e-8):
            raise DataFormatError(f"{self.source}: bins {prefix}_LO/{prefix}_HI are not contiguous")
        try:
            axis = MapAxis(np.append(lo, hi[-1]), name=name, unit=unit, interp=interp)
        except GammarulesError as exc:
            raise DataFormatError(f"{self.source}: bad {prefix} bins ({exc})") from None
        return axis, axis.center.value

    def _axis_from_nodes(self, nodes, name, unit, interp, prefix):
        if nodes.size < 2 or not np.all(np.diff(nodes) > 0):
            raise DataFormatError(
                f"{self.source}: {prefix}_LO == {prefix}_HI needs at least two increasing nodes"
            )
        x = np.log(nodes) if interp == "log" else nodes
        mid = 0.5 * (x[1:] + x[:-1])
        edges = np.concatenate([[2 * x[0] - mid[0]], mid, [2 * x[-1] - mid[-1]]])
        edges = np.exp(edges) if interp == "log" else edges
        return MapAxis(edges, name=name, unit=unit, interp=interp), nodes

    def array(self, candidates, axes, default_unit):
        """Data cell named by the first present of ``candidates``, with dims in ``axes`` order.

        ``axes`` maps axis names to their lengths, in the GADF recommended order; all must
        have been read with `axis` first. See `fits_axis_order` for the order in the file.
        """
        name = next((c for c in candidates if self.has_column(c)), None)
        if name is None:
            raise DataFormatError(
                f"{self.source}: missing data column {' or '.join(candidates)}; "
                f"columns are {self._order}"
            )
        values, unit = self.column(name, default_unit)
        fits_order = self.fits_axis_order(name, values.shape, axes)
        fits_shape = tuple(axes[a] for a in fits_order)
        values = values.reshape(fits_shape[::-1]).T  # dims now in FITS order
        perm = [fits_order.index(a) for a in axes]
        return np.ascontiguousarray(np.transpose(values, perm)), unit, name

    def fits_axis_order(self, column, shape, axes):
        """Axis names in FITS (TDIM) order of the cell ``column`` of numpy ``shape``.

        The ``CREFn`` keyword gives it when present. Otherwise the TDIM order is the GADF
        recommended one (``axes``) or its reverse, whichever matches the cell shape, the
        recommended one when both do. Both occur: e.g. the CTA Prod5 BKG has
        ``TDIM = (ENERG, DETX, DETY)``, the H.E.S.S. DR1 BKG ``(DETY, DETX, ENERG)`` (its
        column order DETX, DETY, ENERG notwithstanding: its low-energy rate rises toward the
        zenith along the second numpy axis, i.e. DETX, as the pointing geometry predicts).
        """
        names = list(axes)
        lengths = [axes[a] for a in names]
        index = self._order.index(column.upper()) + 1
        cref = str(self.header.get(f"CREF{index}", "")).strip()
        if cref:
            by_prefix = {self._prefix[a]: a for a in names}
            prefixes = [p.split(":")[0].strip().upper() for p in cref.strip("()").split(",")]
            prefixes = [p[:-3] if p.endswith("_LO") else p for p in prefixes]
            order = [by_prefix.get(p) for p in prefixes]
            if sorted(filter(None, order)) == sorted(names) and len(order) == len(names):
                return self._check_shape(column, shape, order, axes)
        size = int(np.prod(lengths))
        if len(shape) <= 1 and int(np.prod(shape)) == size:
            return names
        for order in (names, names[::-1]):
            if _same_shape(shape, [axes[a] for a in order][::-1]):
                return order
        raise DataFormatError(
            f"{self.source}: column {column} has shape {tuple(shape)}, expected "
            f"{tuple(lengths[::-1])} or {tuple(lengths)} for axes {names} of lengths {lengths}"
        )

    def _check_shape(self, column, shape, order, axes):
        expected = [axes[a] for a in order][::-1]
        ok = _same_shape(shape, expected) or (
            len(shape) <= 1 and int(np.prod(shape)) == int(np.prod(expected))
        )
        if not ok:
            raise DataFormatError(
                f"{self.source}: column {column} has shape {tuple(shape)}, expected "
                f"{tuple(expected)} from CREF order {order}"
            )
        return order


def _same_shape(shape, expected):
    """Equal shapes, ignoring length-one dimensions (e.g. a single offset bin)."""
    return [n for n in shape if n != 1] == [n for n in expected if n != 1]
