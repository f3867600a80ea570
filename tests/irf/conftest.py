"""Fixtures of the IRF tests."""

import pytest
from astropy.io import fits
from irf_tables import table_hdu


@pytest.fixture
def write_irf(tmp_path):
    """Write ``table_hdu(columns, header, name)`` to a new FITS file; returns its path."""
    counter = iter(range(10**6))

    def write(columns, header=None, name="IRF"):
        path = tmp_path / f"irf_{next(counter)}.fits"
        hdulist = fits.HDUList([fits.PrimaryHDU(), table_hdu(columns, header, name)])
        hdulist.writeto(path)
        return path

    return write
