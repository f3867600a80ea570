"""Flux points in the GADF SED format: likelihood (norm) representation and flux conversions.

The estimator produces the ``likelihood`` SED type: the best-fit ``norm`` of a reference
model in each energy bin with its errors, upper limit and statistic profile, plus the
reference model's ``ref_dnde`` (at ``e_ref``), ``ref_e2dnde``, ``ref_flux`` and
``ref_eflux`` (over ``[e_min, e_max]``). Any other SED type follows by multiplying the norm
columns with the matching reference column, e.g. ``dnde_ul = norm_ul * ref_dnde``.
"""

from __future__ import annotations

from pathlib import Path

from astropy import units as u
from astropy.io import fits
from astropy.table import Table

from gammarules.errors import DataFormatError, GammarulesError

__all__ = ["SED_TYPES", "SED_UNITS", "FluxPoints"]

SED_TYPES = ("likelihood", "dnde", "e2dnde", "flux", "eflux")

SED_UNITS = {
    "energy": u.Unit("TeV"),
    "dnde": u.Unit("cm-2 s-1 TeV-1"),
    "e2dnde": u.Unit("TeV cm-2 s-1"),
    "flux": u.Unit("cm-2 s-1"),
    "eflux": u.Unit("TeV cm-2 s-1"),
}
"""Units the estimator writes (canonical gammarules units)."""

REQUIRED_COLUMNS = {
    "likelihood": ("e_ref", "e_min", "e_max", "norm", "ref_dnde", "ref_flux", "ref_eflux"),
    "dnde": ("e_ref", "dnde"),
    "e2dnde": ("e_ref", "e2dnde"),
    "flux": ("e_min", "e_max", "flux"),
    "eflux": ("e_min", "e_max", "eflux"),
}

NORM_SUFFIXES = ("", "_err", "_errn", "_errp", "_ul", "_scan")
"""Columns ``norm{suffix}`` that convert to ``{sed_type}{suffix}``."""

EXTRA_COLUMNS = (
    "ts",
    "sqrt_ts",
    "is_ul",
    "counts",
    "npred",
    "npred_excess",
    "stat",
    "stat_null",
    "stat_scan",
    "success",
)
"""Columns copied unchanged into every SED type."""

FITS_SUFFIXES = (".fits", ".fit", ".fits.gz", ".fit.gz")


def _table_format(path):
    name = str(path).lower()
    if name.endswith(FITS_SUFFIXES):
        return "fits"
    if name.endswith(".ecsv"):
        return "ascii.ecsv"
    raise DataFormatError(
        f"{path}: unknown flux points file type; expected a name ending in "
        f"{', '.join(FITS_SUFFIXES)} or .ecsv"
    )


def _check_sed_type(sed_type):
    if sed_type not in SED_TYPES:
        raise GammarulesError(f"flux points: SED type must be one of {SED_TYPES}, got {sed_type!r}")


class FluxPoints:
    """A table of flux points of one SED type (GADF SED format).

    Parameters
    ----------
    table : `~astropy.table.Table`
        One row per energy bin, with the columns required by ``sed_type`` and units.
    sed_type : str, optional
        One of `SED_TYPES`; defaults to ``table.meta["SED_TYPE"]``.
    """

    def __init__(self, table, sed_type=None):
        sed_type = sed_type or table.meta.get("SED_TYPE")
        _check_sed_type(sed_type)
        missing = [name for name in REQUIRED_COLUMNS[sed_type] if name not in table.colnames]
        if missing:
            raise GammarulesError(
                f"flux points of SED type {sed_type!r}: missing columns {missing}"
            )
        self.table = table
        self.sed_type = sed_type
        self.table.meta["SED_TYPE"] = sed_type

    def __len__(self):
        return len(self.table)

    @property
    def energy_ref(self):
        return u.Quantity(self.table["e_ref"])

    @property
    def energy_min(self):
        return u.Quantity(self.table["e_min"])

    @property
    def energy_max(self):
        return u.Quantity(self.table["e_max"])

    def _reference(self, sed_type):
        """The reference model in ``sed_type`` (``ref_e2dnde`` follows from ``ref_dnde``)."""
        if sed_type == "e2dnde" and "ref_e2dnde" not in self.table.colnames:
            return u.Quantity(self.table["ref_dnde"]) * self.energy_ref**2
        return u.Quantity(self.table[f"ref_{sed_type}"])

    def to_table(self, sed_type="likelihood"):
        """The flux points as a table of ``sed_type`` (a new table).

        Conversion from the likelihood type multiplies each ``norm*`` column by the reference
        column (``norm_ul * ref_flux -> flux_ul`` etc.); energy columns and the columns in
        `EXTRA_COLUMNS` are kept. A table of another SED type can only be returned as is.
        """
        _check_sed_type(sed_type)
        if sed_type == self.sed_type:
            return self.table.copy()
        if self.sed_type != "likelihood":
            raise GammarulesError(
                f"flux points of SED type {self.sed_type!r} cannot be converted to {sed_type!r}: "
                "only the likelihood type holds the norm and reference model columns"
            )
        reference = self._reference(sed_type).to(SED_UNITS[sed_type])
        table = Table(meta=dict(self.table.meta))
        for name in ("e_ref", "e_min", "e_max"):
            table[name] = self.table[name]
        for suffix in NORM_SUFFIXES:
            name = f"norm{suffix}"
            if name in self.table.colnames:
                values = self.table[name].data
                ref = reference.reshape((-1,) + (1,) * (values.ndim - 1))
                table[f"{sed_type}{suffix}"] = values * ref
        for name in EXTRA_COLUMNS:
            if name in self.table.colnames:
                table[name] = self.table[name]
        table.meta["SED_TYPE"] = sed_type
        return table

    def write(self, path, sed_type="likelihood", overwrite=False, hdu="FLUX_POINTS"):
        """Write as FITS (BINTABLE named ``hdu``) or ECSV, chosen by the file extension.

        The ``SED_TYPE`` keyword (header or ECSV meta) records the SED type.
        """
        table = self.to_table(sed_type)
        file_format = _table_format(path)
        if file_format == "fits":
            table.meta["EXTNAME"] = hdu
        table.write(path, format=file_format, overwrite=overwrite)

    @classmethod
    def read(cls, path, hdu="FLUX_POINTS"):
        """Read flux points written in the GADF SED format (FITS or ECSV).

        Raises
        ------
        DataFormatError
            If the file, HDU, ``SED_TYPE`` keyword or a required column is missing.
        """
        path = Path(path)
        file_format = _table_format(path)
        where = f"{path} HDU {hdu}" if file_format == "fits" else f"{path}"
        if not path.is_file():
            raise DataFormatError(f"{path}: flux points file not found")
        try:
            if file_format == "fits":
                with fits.open(path) as hdus:
                    if hdu not in hdus:
                        names = [h.name for h in hdus]
                        raise DataFormatError(f"{path}: no HDU {hdu!r}; HDUs present: {names}")
                    if not isinstance(hdus[hdu], fits.BinTableHDU | fits.TableHDU):
                        raise DataFormatError(f"{where}: expected a table HDU")
                    table = Table.read(hdus[hdu])
            else:
                table = Table.read(path, format=file_format)
        except (KeyError, ValueError, TypeError, OSError) as error:
            raise DataFormatError(f"{where}: cannot read a flux points table ({error})") from None
        sed_type = table.meta.get("SED_TYPE")
        if sed_type is None:
            raise DataFormatError(f"{where}: missing the SED_TYPE keyword (one of {SED_TYPES})")
        if sed_type not in SED_TYPES:
            raise DataFormatError(f"{where}: SED_TYPE is {sed_type!r}, expected one of {SED_TYPES}")
        for name in REQUIRED_COLUMNS[sed_type]:
            if name not in table.colnames:
                raise DataFormatError(
                    f"{where}: missing column {name!r} required by SED_TYPE {sed_type!r}"
                )
        table.meta.pop("EXTNAME", None)
        return cls(table, sed_type=sed_type)

    def __repr__(self):
        return f"FluxPoints(sed_type={self.sed_type!r}, n_points={len(self)})"
