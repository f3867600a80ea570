"""Small synthetic GADF IRF tables for the tests (one-row BINTABLEs with array cells)."""

import numpy as np
from astropy.io import fits


def bins(prefix, edges, unit):
    """``<prefix>_LO`` / ``<prefix>_HI`` axis columns from bin edges."""
    edges = np.asarray(edges, dtype=float)
    return [(f"{prefix}_LO", edges[:-1], unit), (f"{prefix}_HI", edges[1:], unit)]


def cell(data_in_tdim_order):
    """Numpy layout of a cell whose TDIM lists the axes in the order of the given array.

    FITS stores the first TDIM axis fastest, so astropy's array has the axes reversed.
    """
    return np.asarray(data_in_tdim_order, dtype=float).T


def table_hdu(columns, header=None, name="IRF"):
    """One-row BINTABLE from ``(name, numpy cell, unit)`` triples; TDIM from the cell shape."""
    fits_columns = []
    for column_name, values, unit in columns:
        values = np.asarray(values, dtype=np.float64)
        dim = "(" + ",".join(str(n) for n in values.shape[::-1]) + ")" if values.ndim > 1 else None
        fits_columns.append(
            fits.Column(
                name=column_name,
                format=f"{max(values.size, 1)}D",
                unit=unit or None,
                dim=dim,
                array=values[np.newaxis],
            )
        )
    hdu = fits.BinTableHDU.from_columns(fits_columns, name=name)
    for key, value in (header or {}).items():
        hdu.header[key] = value
    return hdu
