"""Reading GADF tables: axes, TDIM / CREF axis order, old column names, format errors."""

import numpy as np
import pytest
from astropy.io import fits
from irf_tables import bins, cell, table_hdu
from numpy.testing import assert_allclose

from gammarules.errors import DataFormatError
from gammarules.irf import EffectiveAreaTable2D, EnergyDispersion2D
from gammarules.irf.gadf import GadfTable

E_EDGES = [0.1, 1.0, 10.0, 100.0]
T_EDGES = [0.0, 1.0, 2.0]
M_EDGES = [0.5, 0.9, 1.1, 1.5, 2.0]


def edisp_values():
    """Distinct values (energy_true, migra, offset) so any axis mix-up shows."""
    return np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2) + 1.0


def edisp_axes_columns(energy_prefix="ENERG"):
    return (
        bins(energy_prefix, E_EDGES, "TeV")
        + bins("MIGRA", M_EDGES, "")
        + bins("THETA", T_EDGES, "deg")
    )


def test_axes_units_and_nodes():
    hdu = table_hdu(bins("ENERG", [100.0, 1000.0, 10000.0], "GeV") + bins("THETA", T_EDGES, "deg"))
    table = GadfTable(hdu, "test")
    axis, nodes = table.axis("energy_true")
    assert axis.name == "energy_true" and axis.interp == "log" and axis.nbin == 2
    assert_allclose(axis.edges_in("TeV"), [0.1, 1, 10])
    assert_allclose(nodes, [np.sqrt(0.1), np.sqrt(10)])  # TeV, log bin centres
    axis, nodes = table.axis("offset")
    assert_allclose(nodes, [0.5, 1.5])


def test_node_axis_when_lo_equals_hi():
    """H.E.S.S. DR1 stores offsets as THETA_LO == THETA_HI: they are nodes, not bins."""
    offsets = [0.0, 0.5, 1.0, 2.0]
    columns = [("THETA_LO", offsets, "deg"), ("THETA_HI", offsets, "deg")]
    axis, nodes = GadfTable(table_hdu(columns), "test").axis("offset")
    assert_allclose(nodes, offsets)
    assert_allclose(axis.edges_in("deg"), [-0.25, 0.25, 0.75, 1.5, 2.5])


@pytest.mark.parametrize("order", ["gadf", "reversed", "flat"])
def test_data_axis_order(write_irf, order):
    values = edisp_values()
    if order == "gadf":  # TDIM = (ENERG, MIGRA, THETA)
        data = cell(values)
    elif order == "reversed":  # TDIM = (THETA, MIGRA, ENERG)
        data = cell(values.transpose(2, 1, 0))
    else:  # no TDIM: flat cell in the GADF order
        data = cell(values).ravel()
    path = write_irf(edisp_axes_columns() + [("MATRIX", data, "")])
    edisp = EnergyDispersion2D.read(path, "IRF")
    assert_allclose(edisp.data, values)


def test_cref_gives_the_order(write_irf):
    values = edisp_values()
    data = cell(values.transpose(1, 0, 2))  # TDIM = (MIGRA, ENERG, THETA)
    header = {"CREF7": "(MIGRA_LO:MIGRA_HI,ENERG_LO:ENERG_HI,THETA_LO:THETA_HI)"}
    path = write_irf(edisp_axes_columns() + [("MATRIX", data, "")], header)
    assert_allclose(EnergyDispersion2D.read(path, "IRF").data, values)


def test_old_true_energy_column_names(write_irf):
    path = write_irf(edisp_axes_columns("ETRUE") + [("MATRIX", cell(edisp_values()), "")])
    edisp = EnergyDispersion2D.read(path, "IRF")
    assert_allclose(edisp.axes["energy_true"].edges_in("TeV"), E_EDGES)


def test_meta_and_single_offset_bin(write_irf):
    header = {"HDUCLAS3": "POINT-LIKE", "OBS_ID": 7}
    columns = bins("ENERG", E_EDGES, "TeV") + bins("THETA", [0.3, 0.5], "deg")
    path = write_irf(columns + [("EFFAREA", cell(np.ones((3, 1))), "m2")], header)
    aeff = EffectiveAreaTable2D.read(path, 1)
    assert aeff.meta["OBS_ID"] == 7 and "TTYPE1" not in aeff.meta
    assert aeff.is_pointlike
    assert aeff.data.shape == (3, 1)


def aeff_columns(data=None, unit="m2"):
    data = cell(np.ones((3, 2))) if data is None else data
    return bins("ENERG", E_EDGES, "TeV") + bins("THETA", T_EDGES, "deg") + [("EFFAREA", data, unit)]


def test_error_missing_file(tmp_path):
    with pytest.raises(
        DataFormatError, match=r"nothere.fits: file not found \(expected an IRF in HDU"
    ):
        EffectiveAreaTable2D.read(tmp_path / "nothere.fits", "AEFF")


def test_error_missing_hdu(write_irf):
    path = write_irf(aeff_columns(), name="AEFF")
    with pytest.raises(
        DataFormatError, match=r"no HDU 'EDISP'; the file has HDUs \['PRIMARY', 'AEFF'\]"
    ):
        EffectiveAreaTable2D.read(path, "EDISP")


def test_error_not_a_table(write_irf):
    path = write_irf(aeff_columns())
    with pytest.raises(DataFormatError, match=r"\[0\]: expected a BINTABLE HDU"):
        EffectiveAreaTable2D.read(path, 0)


def test_error_not_fits(tmp_path):
    path = tmp_path / "junk.fits"
    path.write_text("not a FITS file")
    with pytest.raises(DataFormatError, match="junk.fits"):
        EffectiveAreaTable2D.read(path, 1)


def test_error_missing_data_column(write_irf):
    path = write_irf(aeff_columns()[:-1], name="AEFF")
    with pytest.raises(DataFormatError, match=r"\[AEFF\]: missing data column EFFAREA"):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_missing_axis(write_irf):
    path = write_irf(aeff_columns()[2:], name="AEFF")
    with pytest.raises(DataFormatError, match="missing axis columns ENERG_LO/ENERG_HI or ETRUE"):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_axis_unit(write_irf):
    columns = bins("ENERG", E_EDGES, "m") + aeff_columns()[2:]
    path = write_irf(columns, name="AEFF")
    with pytest.raises(
        DataFormatError, match="column ENERG_LO has unit 'm', expected one convertible to 'TeV'"
    ):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_data_unit(write_irf):
    path = write_irf(aeff_columns(unit="s"), name="AEFF")
    with pytest.raises(
        DataFormatError, match="column EFFAREA has unit 's', expected one convertible to 'm2'"
    ):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_unreadable_unit(write_irf):
    path = write_irf(aeff_columns(unit="furlongs^^2"), name="AEFF")
    with pytest.raises(DataFormatError, match="column EFFAREA has an unreadable unit 'furlongs"):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_data_shape(write_irf):
    path = write_irf(aeff_columns(data=cell(np.ones((3, 3)))), name="AEFF")
    with pytest.raises(
        DataFormatError, match=r"column EFFAREA has shape \(3, 3\), expected \(2, 3\)"
    ):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_gaps_between_bins(write_irf):
    columns = [("ENERG_LO", [0.1, 2.0], "TeV"), ("ENERG_HI", [1.0, 10.0], "TeV")]
    path = write_irf(columns + aeff_columns(data=cell(np.ones((2, 2))))[2:], name="AEFF")
    with pytest.raises(DataFormatError, match="bins ENERG_LO/ENERG_HI are not contiguous"):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_row_count(tmp_path):
    hdu = table_hdu(aeff_columns(), name="AEFF")
    hdu = fits.BinTableHDU(data=hdu.data[:0], header=hdu.header)
    path = tmp_path / "empty.fits"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    with pytest.raises(
        DataFormatError, match=r"empty.fits\[AEFF\]: expected one table row, found 0"
    ):
        EffectiveAreaTable2D.read(path, "AEFF")


def test_error_other_irf_class(write_irf):
    path = write_irf(aeff_columns(), {"HDUCLAS4": "AEFF_2D"}, name="AEFF")
    with pytest.raises(DataFormatError, match="HDUCLAS4 is AEFF_2D, expected EDISP_2D"):
        EnergyDispersion2D.read(path, "AEFF")
