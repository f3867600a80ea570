import numpy as np
import pytest
from astropy import units as u
from irf_tables import bins, cell
from numpy.testing import assert_allclose

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.irf import EffectiveAreaTable2D

E_EDGES = np.geomspace(0.01, 100, 13)
T_EDGES = np.array([0.0, 0.5, 1.0, 2.0, 3.0])


def f_energy(energy):
    """Linear in log10(E): exactly reproduced by the log-energy interpolation."""
    return 1e5 * (np.log10(energy) + 2.5)


def g_offset(offset):
    return 1.0 - 0.25 * offset


@pytest.fixture
def aeff_path(write_irf):
    e_nodes = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
    t_nodes = 0.5 * (T_EDGES[1:] + T_EDGES[:-1])
    area = f_energy(e_nodes)[:, np.newaxis] * g_offset(t_nodes)  # m2, (energy, offset)
    columns = bins("ENERG", E_EDGES, "TeV") + bins("THETA", T_EDGES, "deg")
    header = {"HDUCLAS3": "FULL-ENCLOSURE", "HDUCLAS4": "AEFF_2D", "LO_THRES": 0.3}
    return write_irf(columns + [("EFFAREA", cell(area), "m2")], header, name="AEFF")


def test_evaluate_separable_area(aeff_path):
    aeff = EffectiveAreaTable2D.read(aeff_path, "AEFF")
    assert aeff.axes.names == ["energy_true", "offset"]
    assert aeff.data.shape == (12, 4)
    rng = np.random.default_rng(0)
    e_nodes = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
    energy = np.exp(rng.uniform(np.log(e_nodes[0]), np.log(e_nodes[-1]), 200))
    offset = rng.uniform(0.25, 2.5, 200)
    expected = f_energy(energy) * g_offset(offset) * 1e4  # cm2
    result = aeff.evaluate(energy * u.TeV, offset * u.deg)
    assert result.unit == u.cm**2
    assert_allclose(result.value, expected, rtol=1e-10)
    # broadcasting, and GeV / arcmin inputs
    grid = aeff.evaluate([[1000.0], [3000.0]] * u.GeV, [30.0, 60.0, 90.0] * u.arcmin)
    assert grid.shape == (2, 3)
    assert_allclose(grid[1, 2].value, f_energy(3.0) * g_offset(1.5) * 1e4, rtol=1e-10)


def test_extrapolation(aeff_path):
    aeff = EffectiveAreaTable2D.read(aeff_path, "AEFF")
    e_last = np.sqrt(E_EDGES[-1] * E_EDGES[-2])
    # energy: constant beyond the outer log bin centre
    assert_allclose(
        aeff.evaluate(500 * u.TeV, 1 * u.deg).value, f_energy(e_last) * g_offset(1) * 1e4
    )
    # offset: linear down to the first edge (0 deg) and up to the last edge (3 deg) ...
    assert_allclose(aeff.evaluate(1 * u.TeV, 0 * u.deg).value, f_energy(1) * g_offset(0) * 1e4)
    assert_allclose(aeff.evaluate(1 * u.TeV, 3 * u.deg).value, f_energy(1) * g_offset(3) * 1e4)
    # ... and constant beyond it
    assert_allclose(aeff.evaluate(1 * u.TeV, 5 * u.deg).value, f_energy(1) * g_offset(3) * 1e4)


def test_negative_extrapolation_is_clipped(write_irf):
    columns = bins("ENERG", [1, 10], "TeV") + bins("THETA", [0, 1, 2, 4], "deg")
    area = np.array([[3.0, 1.0, 0.0]])  # falls to zero at the 3 deg node
    path = write_irf(columns + [("EFFAREA", cell(area), "m2")])
    aeff = EffectiveAreaTable2D.read(path, 1)
    assert aeff.evaluate(2 * u.TeV, 4 * u.deg).value == 0.0  # linear extrapolation gives < 0


def test_thresholds_and_flags(aeff_path, write_irf):
    aeff = EffectiveAreaTable2D.read(aeff_path, "AEFF")
    assert aeff.lo_threshold == 0.3 * u.TeV
    assert aeff.hi_threshold is None
    assert not aeff.is_pointlike
    path = write_irf(
        bins("ENERG", [1, 10], "TeV") + bins("THETA", [0, 1], "deg") + [("EFFAREA", [[1.0]], "m2")],
        {"LO_THRES": "low"},
    )
    with pytest.raises(DataFormatError, match=r"\[1\]: keyword LO_THRES='low' is not an energy"):
        EffectiveAreaTable2D.read(path, 1)


def test_bad_coordinates(aeff_path):
    aeff = EffectiveAreaTable2D.read(aeff_path, "AEFF")
    with pytest.raises(
        GammarulesError, match="energy_true: expected a quantity convertible to 'TeV'"
    ):
        aeff.evaluate(1 * u.deg, 1 * u.deg)


@pytest.mark.data
def test_hess_dr1_against_gammapy(hess_dir):
    path = hess_dir / "data" / "hess_dl3_dr1_obs_id_023523.fits.gz"
    aeff = EffectiveAreaTable2D.read(path, "AEFF")
    assert aeff.data.shape == (96, 6)  # TDIM (96,6): energy x offset
    assert aeff.unit == u.m**2
    assert_allclose(aeff.lo_threshold.to_value("TeV"), 0.870963589956081)
    assert_allclose(aeff.hi_threshold.to_value("TeV"), 100.0)
    # Reference: Gammapy 2.1 EffectiveAreaTable2D.evaluate on the same file (cm2); same
    # interpolation inside the table, so agreement to float precision.
    result = aeff.evaluate([1, 1.234, 5.67] * u.TeV, 0.5 * u.deg).to_value("cm2")
    assert_allclose(result, [2.30773935e09, 2.71966138e09, 5.98530614e09], rtol=1e-7)
    # 0.5 deg is an offset node (THETA_LO == THETA_HI) and 1 TeV lies between two energy
    # nodes: the value lies between the two table values
    column = aeff.data[:, 1] * 1e4
    i = np.searchsorted(aeff.axes["energy_true"].center_in("TeV"), 1.0)
    assert min(column[i - 1], column[i]) <= result[0] <= max(column[i - 1], column[i])


@pytest.mark.data
def test_cta_and_magic_against_gammapy(data_dir):
    cases = [
        ("cta-caldb/Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz", 0.5,
         [7.35946814e09, 8.62362855e09, 1.78946946e10]),
        ("cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits", 0.5,
         [8.84833970e09, 1.06509946e10, 3.33990663e10]),
        ("magic/rad_max/data/20131004_05029747_DL3_CrabNebula-W0.40+035.fits", 0.4,
         [9.32969712e08, 1.01093035e09, 1.26600738e09]),
    ]  # fmt: skip
    for filename, offset, reference in cases:
        aeff = EffectiveAreaTable2D.read(data_dir / filename, "EFFECTIVE AREA")
        # Reference: Gammapy 2.1 EffectiveAreaTable2D.evaluate at 1, 1.234, 5.67 TeV (cm2)
        result = aeff.evaluate([1, 1.234, 5.67] * u.TeV, offset * u.deg).to_value("cm2")
        assert_allclose(result, reference, rtol=1e-7, err_msg=filename)
    assert aeff.is_pointlike
