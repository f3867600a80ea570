import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from irf_tables import bins, cell
from numpy.testing import assert_allclose

from gammarules.irf import RadMax2D

E_EDGES = np.geomspace(0.01, 100, 9)
CUTS = np.array([0.3, 0.25, 0.2, 0.15, 0.12, 0.1, 0.1, 0.12])


@pytest.fixture
def rad_max(write_irf):
    columns = bins("ENERG", E_EDGES, "TeV") + bins("THETA", [0.3, 0.5, 1.0], "deg")
    data = np.stack([CUTS, 1.5 * CUTS], axis=1)  # (energy, offset)
    header = {"HDUCLAS3": "POINT-LIKE", "HDUCLAS4": "RAD_MAX_2D"}
    return RadMax2D.read(write_irf(columns + [("RAD_MAX", cell(data), "deg")], header), 1)


def test_bin_values(rad_max):
    assert rad_max.is_pointlike
    # any energy inside a bin gets that bin's cut: the cut was applied bin by bin
    energy = np.sqrt(E_EDGES[1:] * E_EDGES[:-1]) * np.array(
        [0.9, 1.1, 1.0, 1.2, 0.8, 1.0, 1.0, 1.1]
    )
    assert_allclose(rad_max.evaluate(energy * u.TeV, 0.4 * u.deg).to_value("deg"), CUTS)
    assert_allclose(rad_max.evaluate(energy * u.TeV, 0.7 * u.deg).to_value("deg"), 1.5 * CUTS)
    # outside the axes: the outer bins
    result = rad_max.evaluate([1e-4, 1e4] * u.TeV, [[0.0], [3.0]] * u.deg).to_value("deg")
    assert_allclose(result, [[CUTS[0], CUTS[-1]], [1.5 * CUTS[0], 1.5 * CUTS[-1]]])


def test_from_constant():
    rad_max = RadMax2D.from_constant(8.4853 * u.arcmin)
    assert rad_max.is_pointlike
    result = rad_max.evaluate([1e-3, 1, 1e3] * u.TeV, [[0.0], [2.5]] * u.deg)
    assert result.shape == (2, 3)
    assert_allclose(result.to_value("deg"), 8.4853 / 60)


@pytest.mark.data
def test_magic_rad_max(data_dir):
    path = data_dir / "magic/rad_max/data/20131004_05029747_DL3_CrabNebula-W0.40+035.fits"
    rad_max = RadMax2D.read(path, "RAD_MAX")
    assert rad_max.is_pointlike
    table = fits.open(path)["RAD_MAX"].data
    values = table["RAD_MAX"][0].astype(float).ravel()  # TDIM (20, 1): one offset bin
    centers = np.sqrt(table["ENERG_LO"][0] * table["ENERG_HI"][0]).astype(float)
    assert_allclose(rad_max.evaluate(centers * u.TeV, 0.4 * u.deg).value, values, rtol=1e-6)
    assert_allclose(rad_max.evaluate(1 * u.TeV, 0.4 * u.deg).value, 0.1, rtol=1e-6)


@pytest.mark.data
def test_joint_crab_magic_constant_cut(data_dir):
    """The joint-Crab MAGIC file has no RAD_MAX HDU but a RAD_MAX keyword in its IRF headers."""
    path = data_dir / "joint-crab/dl3/magic/run_05029748_DL3.fits"
    header = fits.getheader(path, "EFFECTIVE AREA")
    rad_max = RadMax2D.from_constant(header["RAD_MAX"] * u.deg)
    assert_allclose(rad_max.evaluate(1 * u.TeV, 0.4 * u.deg).value, 0.1414213, rtol=1e-6)
