"""Reading GADF FITS files: open (gzip or not), find HDUs, check columns and keywords.

Every failure is a `~gammarules.errors.DataFormatError` naming the file, the HDU and what was
expected.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from astropy.utils.exceptions import AstropyUserWarning

from gammarules.errors import DataFormatError

__all__ = [
    "header_to_meta",
    "open_fits",
    "raise_if_corrupt",
    "require_columns",
    "select_hdu",
    "table_from_hdu",
]

_GZIP_MAGIC = b"\x1f\x8b"

# Keywords describing the layout of a binary table rather than its content.
_STRUCTURAL = {"XTENSION", "BITPIX", "PCOUNT", "GCOUNT", "TFIELDS", "EXTEND", "SIMPLE"}
_STRUCTURAL_PREFIXES = (
    "NAXIS", "TTYPE", "TFORM", "TUNIT", "TZERO", "TSCAL", "TNULL", "TDIM", "TDISP"
)  # fmt: skip
_SKIPPED = {"", "COMMENT", "HISTORY"}


@contextmanager
def open_fits(path, expected="a FITS file"):
    """Open a FITS file (gzip-compressed or not) for reading; yields the `HDUList`.

    HDUs of a compressed file are read lazily, so reading its first HDU does not decompress
    the rest; an uncompressed file is checked to be as long as its headers say. Errors from
    a corrupt or truncated file, at opening or while reading inside the ``with`` block,
    become a `DataFormatError`; ``expected`` says what the file should hold.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found (expected {expected})")
    compressed = _is_gzip(path)
    try:
        with warnings.catch_warnings():
            # Truncation of an uncompressed file is detected below, with a clearer message.
            warnings.filterwarnings("ignore", "File may have been truncated", AstropyUserWarning)
            hdulist = fits.open(path, memmap=False, lazy_load_hdus=compressed)
    except (OSError, EOFError, zlib.error) as err:
        raise _corrupt(path, err, expected) from err
    if not compressed:
        size = path.stat().st_size
        infos = [hdulist.fileinfo(index) for index in range(len(hdulist))]
        end = max(info["datLoc"] + info["datSpan"] for info in infos)
        if end > size:
            hdulist.close()
            raise _corrupt(path, f"{size} bytes, its HDUs need {end}", expected)
    try:
        yield hdulist
    except (OSError, EOFError, zlib.error) as err:
        raise _corrupt(path, err, expected) from err
    finally:
        hdulist.close()


def _is_gzip(path):
    with open(path, "rb") as stream:
        return stream.read(2) == _GZIP_MAGIC


def _corrupt(path, reason, expected):
    kind = "gzip-compressed FITS" if _is_gzip(path) else "FITS"
    return DataFormatError(
        f"{path}: not a readable {kind} file, it is corrupt or truncated ({reason}); "
        f"expected {expected}"
    )


def raise_if_corrupt(path, expected):
    """Raise if the gzip stream of ``path`` is broken (a no-op for uncompressed files).

    A truncated compressed file can look like a complete one with fewer HDUs; call this
    before reporting a missing HDU so that the error names the real problem.
    """
    path = Path(path)
    if not _is_gzip(path):
        return
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 24):
                pass
    except (OSError, EOFError, zlib.error) as err:
        raise _corrupt(path, err, expected) from None


def select_hdu(hdulist, hdu, path):
    """The HDU named ``hdu`` (case-insensitive EXTNAME) or with index ``hdu``."""
    try:
        return hdulist[hdu]
    except (KeyError, IndexError):
        raise_if_corrupt(path, f"an HDU {hdu!r}")
        names = [h.name or f"#{i}" for i, h in enumerate(hdulist)]
        raise DataFormatError(f"{path}: no HDU {hdu!r}; the file has HDUs {names}") from None


def require_columns(hdu, columns, path):
    """Raise unless the table HDU has every one of ``columns``."""
    if not isinstance(hdu, fits.BinTableHDU):
        raise DataFormatError(f"{path}[{hdu.name}]: expected a binary table HDU")
    present = {name.upper() for name in hdu.columns.names}
    missing = [name for name in columns if name.upper() not in present]
    if missing:
        raise DataFormatError(
            f"{path}[{hdu.name}]: missing column(s) {missing}; "
            f"expected {list(columns)}, found {hdu.columns.names}"
        )


def header_to_meta(header):
    """The header as a plain dict, without the keywords describing the table layout."""
    meta = {}
    for key, value in header.items():
        if key in _SKIPPED or key in _STRUCTURAL or key.startswith(_STRUCTURAL_PREFIXES):
            continue
        meta[key] = value
    return meta


def _column_unit(column):
    if not column.unit:
        return None
    return u.Unit(column.unit.strip(), parse_strict="silent")


def table_from_hdu(hdu):
    """An astropy `Table` with the columns (native byte order, with units) and header of ``hdu``.

    Much faster than ``Table.read`` for large event lists: no per-row work.
    """
    data = hdu.data
    table = Table(meta=header_to_meta(hdu.header))
    for column in hdu.columns:
        values = np.asarray(data[column.name])
        if values.dtype.byteorder not in ("=", "|"):
            values = values.astype(values.dtype.newbyteorder("="))
        table[column.name] = values
        unit = _column_unit(column)
        if unit is not None:
            table[column.name].unit = unit
    return table
