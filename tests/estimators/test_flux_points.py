"""Flux points tables: SED type conversions and GADF FITS / ECSV files."""

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table
from numpy.testing import assert_allclose

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.estimators import FluxPoints


@pytest.fixture
def likelihood_table():
    e_min = np.array([0.1, 1.0, 10.0])
    e_max = np.array([1.0, 10.0, 100.0])
    e_ref = np.sqrt(e_min * e_max)
    table = Table(meta={"SED_TYPE": "likelihood", "UL_CONF": 0.9545})
    table["e_ref"] = e_ref * u.TeV
    table["e_min"] = e_min * u.TeV
    table["e_max"] = e_max * u.TeV
    table["ref_dnde"] = 1e-11 * e_ref**-2 * u.Unit("cm-2 s-1 TeV-1")
    table["ref_flux"] = 1e-11 * (1 / e_min - 1 / e_max) * u.Unit("cm-2 s-1")
    table["ref_eflux"] = 1e-11 * np.log(e_max / e_min) * u.Unit("TeV cm-2 s-1")
    table["norm"] = [1.2, 0.8, 0.1]
    table["norm_err"] = [0.1, 0.2, 0.5]
    table["norm_errn"] = [0.09, 0.18, 0.4]
    table["norm_errp"] = [0.11, 0.22, 0.6]
    table["norm_ul"] = [1.4, 1.25, 1.3]
    table["ts"] = [150.0, 20.0, 0.5]
    table["is_ul"] = [False, False, True]
    table["norm_scan"] = np.tile([0.5, 1.0, 2.0], (3, 1))
    table["stat_scan"] = [[3.0, 1.0, 5.0], [2.0, 1.5, 4.0], [0.2, 0.8, 3.0]]
    return table


def test_conversion_to_every_sed_type(likelihood_table):
    points = FluxPoints(likelihood_table)
    norm = likelihood_table["norm_ul"].data
    e_ref = likelihood_table["e_ref"].data
    dnde = points.to_table("dnde")
    assert dnde.meta["SED_TYPE"] == "dnde"
    assert dnde["dnde_ul"].unit == u.Unit("cm-2 s-1 TeV-1")
    assert_allclose(dnde["dnde_ul"], norm * 1e-11 * e_ref**-2, rtol=1e-12)
    e2dnde = points.to_table("e2dnde")  # from ref_dnde * e_ref**2: no ref_e2dnde column
    assert_allclose(e2dnde["e2dnde_ul"], norm * 1e-11, rtol=1e-12)
    assert e2dnde["e2dnde"].unit == u.Unit("TeV cm-2 s-1")
    flux = points.to_table("flux")
    assert_allclose(flux["flux_errp"], [0.11 * 9e-11, 0.22 * 9e-12, 0.6 * 9e-13], rtol=1e-12)
    eflux = points.to_table("eflux")
    assert_allclose(
        eflux["eflux_scan"][1], [0.5e-11 * np.log(10), 1e-11 * np.log(10), 2e-11 * np.log(10)]
    )
    for table in (dnde, e2dnde, flux, eflux):
        assert list(table["is_ul"]) == [False, False, True]
        assert_allclose(table["stat_scan"], likelihood_table["stat_scan"])
        assert "norm" not in table.colnames
    assert_allclose(points.to_table("likelihood")["norm"], [1.2, 0.8, 0.1])


@pytest.mark.parametrize("suffix", [".fits", ".ecsv"])
@pytest.mark.parametrize("sed_type", ["likelihood", "dnde", "flux"])
def test_write_read_round_trip(likelihood_table, tmp_path, suffix, sed_type):
    points = FluxPoints(likelihood_table)
    path = tmp_path / f"points{suffix}"
    points.write(path, sed_type=sed_type)
    read = FluxPoints.read(path)
    assert read.sed_type == sed_type
    expected = points.to_table(sed_type)
    assert read.table.colnames == expected.colnames
    for name in expected.colnames:
        assert_allclose(
            u.Quantity(read.table[name]).value, u.Quantity(expected[name]).value, rtol=1e-15
        )
        assert u.Quantity(read.table[name]).unit == u.Quantity(expected[name]).unit
    with pytest.raises(OSError):
        points.write(path, sed_type=sed_type)
    points.write(path, sed_type=sed_type, overwrite=True)


def test_fits_header_carries_sed_type(likelihood_table, tmp_path):
    path = tmp_path / "points.fits"
    FluxPoints(likelihood_table).write(path, sed_type="e2dnde")
    header = fits.getheader(path, "FLUX_POINTS")
    assert header["SED_TYPE"] == "e2dnde"
    assert header["UL_CONF"] == pytest.approx(0.9545)
    assert FluxPoints.read(path).sed_type == "e2dnde"


def test_only_likelihood_tables_convert(likelihood_table):
    dnde = FluxPoints(FluxPoints(likelihood_table).to_table("dnde"))
    assert dnde.sed_type == "dnde"
    assert_allclose(dnde.energy_ref, likelihood_table["e_ref"])
    with pytest.raises(GammarulesError, match="cannot be converted to 'flux'"):
        dnde.to_table("flux")
    with pytest.raises(GammarulesError, match="SED type must be one of"):
        dnde.to_table("npred")


def test_construction_errors(likelihood_table):
    with pytest.raises(GammarulesError, match="SED type must be one of"):
        FluxPoints(Table(meta={"SED_TYPE": "spectrum"}))
    likelihood_table.remove_column("ref_flux")
    with pytest.raises(GammarulesError, match="missing columns \\['ref_flux'\\]"):
        FluxPoints(likelihood_table)


def test_read_errors(likelihood_table, tmp_path):
    with pytest.raises(DataFormatError, match="not found"):
        FluxPoints.read(tmp_path / "missing.fits")
    with pytest.raises(DataFormatError, match="unknown flux points file type"):
        FluxPoints.read(tmp_path / "points.txt")
    path = tmp_path / "points.fits"
    FluxPoints(likelihood_table).write(path)
    present = "no HDU 'SED'; HDUs present: \\['PRIMARY', 'FLUX_POINTS'\\]"
    with pytest.raises(DataFormatError, match=present):
        FluxPoints.read(path, hdu="SED")
    with pytest.raises(DataFormatError, match="HDU PRIMARY: expected a table HDU"):
        FluxPoints.read(path, hdu="PRIMARY")

    no_type = likelihood_table.copy()
    del no_type.meta["SED_TYPE"]
    no_type.write(tmp_path / "no_type.ecsv")
    with pytest.raises(DataFormatError, match="no_type.ecsv: missing the SED_TYPE keyword"):
        FluxPoints.read(tmp_path / "no_type.ecsv")

    wrong_type = likelihood_table.copy()
    wrong_type.meta["SED_TYPE"] = "sed"
    wrong_type.write(tmp_path / "wrong.fits")
    with pytest.raises(DataFormatError, match="SED_TYPE is 'sed'"):
        FluxPoints.read(tmp_path / "wrong.fits", hdu=1)

    missing = likelihood_table.copy()
    missing.meta["SED_TYPE"] = "flux"
    missing.write(tmp_path / "missing_column.ecsv")
    with pytest.raises(DataFormatError, match="missing column 'flux' required by SED_TYPE"):
        FluxPoints.read(tmp_path / "missing_column.ecsv")
