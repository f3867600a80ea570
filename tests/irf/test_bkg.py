import numpy as np
import pytest
from astropy import units as u
from irf_tables import bins, cell
from numpy.testing import assert_allclose

from gammarules.errors import GammarulesError
from gammarules.irf import Background2D, Background3D

E_EDGES = np.geomspace(0.1, 100, 10)
XY_EDGES = np.linspace(-3, 3, 13)  # same binning for DETX and DETY
E_NODES = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
XY_NODES = 0.5 * (XY_EDGES[1:] + XY_EDGES[:-1])
NORM, INDEX, SLOPE_LON, SLOPE_LAT = 1e-4, 2.7, 0.3, -0.1  # s-1 MeV-1 sr-1 at 1 TeV


def rate(energy, lon, lat):
    """log(rate) is linear in log(E), lon and lat: exactly reproduced by the interpolation."""
    return NORM * energy**-INDEX * np.exp(SLOPE_LON * lon + SLOPE_LAT * lat)


def rate_3d():
    return rate(*np.meshgrid(E_NODES, XY_NODES, XY_NODES, indexing="ij"))  # (E, lon, lat)


def write_bkg_3d(write_irf, layout, header=None):
    """Two layouts met in real files, with equal DETX / DETY lengths (the ambiguous case)."""
    axes_x, axes_y = bins("DETX", XY_EDGES, "deg"), bins("DETY", XY_EDGES, "deg")
    axes_e = bins("ENERG", E_EDGES, "TeV")
    if layout == "prod5":  # TDIM = (ENERG, DETX, DETY)
        columns = axes_e + axes_x + axes_y + [("BKG", cell(rate_3d()), "s-1 MeV-1 sr-1")]
    else:  # H.E.S.S. DR1: columns DETX, DETY, ENERG but TDIM = (DETY, DETX, ENERG)
        data = cell(rate_3d().transpose(2, 1, 0))
        columns = axes_x + axes_y + axes_e + [("BKG", data, "MeV-1 s-1 sr-1")]
    return write_irf(columns, {"HDUCLAS4": "BKG_3D", **(header or {})}, name="BKG")


@pytest.mark.parametrize("layout", ["prod5", "hess"])
def test_background_3d_orientation_and_values(write_irf, layout):
    bkg = Background3D.read(write_bkg_3d(write_irf, layout), "BKG")
    assert bkg.axes.names == ["energy", "fov_lon", "fov_lat"]
    assert_allclose(bkg.data, rate_3d(), rtol=1e-12)
    rng = np.random.default_rng(5)
    energy = np.exp(rng.uniform(np.log(E_NODES[0]), np.log(E_NODES[-1]), 300))
    lon, lat = rng.uniform(XY_NODES[0], XY_NODES[-1], (2, 300))
    result = bkg.evaluate(energy * u.TeV, lon * u.deg, lat * u.deg)
    assert_allclose(result.to_value("s-1 MeV-1 sr-1"), rate(energy, lon, lat), rtol=1e-10)


def test_background_3d_clips_to_nodes(write_irf):
    bkg = Background3D.read(write_bkg_3d(write_irf, "prod5"), "BKG")
    value = bkg.evaluate(1000 * u.TeV, 5 * u.deg, -5 * u.deg).value
    assert_allclose(value, rate(E_NODES[-1], XY_NODES[-1], XY_NODES[0]), rtol=1e-10)


def test_fov_alignment(write_irf):
    assert Background3D.read(write_bkg_3d(write_irf, "prod5"), "BKG").fov_alignment == "RADEC"
    path = write_bkg_3d(write_irf, "prod5", {"FOVALIGN": "ALTAZ"})
    assert Background3D.read(path, "BKG").fov_alignment == "ALTAZ"


def power_law_integral(e_min, e_max):
    """Integral of NORM E^-INDEX (s-1 MeV-1 sr-1, E in TeV) in s-1 sr-1."""
    antiderivative = lambda e: NORM * e ** (1 - INDEX) / (1 - INDEX) * 1e6  # noqa: E731
    return antiderivative(e_max) - antiderivative(e_min)


def test_integrate_energy_power_law(write_irf):
    bkg = Background3D.read(write_bkg_3d(write_irf, "hess"), "BKG")
    edges = np.array([0.2, 0.5, 0.73, 3.0, 40.0])  # not aligned with the nodes
    lon, lat = np.array([0.25, -1.0]), np.array([0.25, 1.75])
    result = bkg.integrate_energy(edges * u.TeV, lon * u.deg, lat * u.deg)
    assert result.unit == u.Unit("s-1 sr-1")
    assert result.shape == (4, 2)
    spatial = np.exp(SLOPE_LON * lon + SLOPE_LAT * lat)
    expected = power_law_integral(edges[:-1], edges[1:])[:, np.newaxis] * spatial
    assert_allclose(result.value, expected, rtol=1e-10)


def test_integrate_energy_beyond_nodes_and_numerically(write_irf):
    bkg = Background3D.read(write_bkg_3d(write_irf, "prod5"), "BKG")
    edges = [0.05, 0.1, 150.0, 300.0] * u.TeV
    result = bkg.integrate_energy(edges, 0.0 * u.deg, 0.0 * u.deg).value
    # beyond the outer nodes the rate is constant (the value at the node)
    low = rate(E_NODES[0], 0, 0) * 1e6
    high = rate(E_NODES[-1], 0, 0) * 1e6
    expected_0 = low * (0.1 - 0.05)
    expected_1 = low * (E_NODES[0] - 0.1) + power_law_integral(E_NODES[0], E_NODES[-1])
    expected_1 += high * (150 - E_NODES[-1])
    assert_allclose(result, [expected_0, expected_1, high * 150], rtol=1e-10)
    # independent: fine trapezoid of evaluate
    energy = np.geomspace(0.3, 20, 20001)
    values = bkg.evaluate(energy * u.TeV, 0.7 * u.deg, -0.4 * u.deg).to_value("s-1 TeV-1 sr-1")
    trapezoid = np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(energy))
    integral = bkg.integrate_energy([0.3, 20] * u.TeV, 0.7 * u.deg, -0.4 * u.deg).value
    assert_allclose(integral, trapezoid, rtol=1e-6)


def test_integrate_energy_bad_edges(write_irf):
    bkg = Background3D.read(write_bkg_3d(write_irf, "prod5"), "BKG")
    with pytest.raises(GammarulesError, match="energy_edges must be increasing"):
        bkg.integrate_energy([1.0, 0.5] * u.TeV, 0 * u.deg, 0 * u.deg)


@pytest.fixture
def bkg_2d(write_irf):
    t_edges = np.linspace(0, 3, 7)
    t_nodes = 0.5 * (t_edges[1:] + t_edges[:-1])
    data = NORM * E_NODES[:, np.newaxis] ** -INDEX * np.exp(-0.5 * t_nodes)
    data[:, -1] = 0.0  # nothing at the edge of the field of view
    columns = bins("ENERG", E_EDGES, "TeV") + bins("THETA", t_edges, "deg")
    columns.append(("BGD", cell(data), "1/s/MeV/sr"))  # old name and OGIP unit (CTA 1DC)
    return Background2D.read(write_irf(columns, {"HDUCLAS4": "BKG_2D"}, name="BKG"), "BKG")


def test_background_2d(bkg_2d):
    assert bkg_2d.axes.names == ["energy", "offset"]
    energy = np.array([0.4, 2.0, 30.0])
    offset = np.array([0.5, 1.0, 2.0])
    result = bkg_2d.evaluate(energy * u.TeV, offset * u.deg).to_value("s-1 MeV-1 sr-1")
    assert_allclose(result, NORM * energy**-INDEX * np.exp(-0.5 * offset), rtol=1e-10)
    assert bkg_2d.evaluate(1 * u.TeV, 2.75 * u.deg).value == 0.0
    integral = bkg_2d.integrate_energy([0.5, 5.0] * u.TeV, [0.5, 2.75] * u.deg).value
    assert_allclose(integral[0], [power_law_integral(0.5, 5.0) * np.exp(-0.25), 0.0], rtol=1e-10)


@pytest.mark.data
def test_real_backgrounds_against_gammapy(data_dir):
    """Reference: Gammapy 2.1 Background3D.evaluate at (0.5 TeV, 0.3, 0.5 deg),
    (1 TeV, 1.2, -1.1 deg), (3 TeV, -0.7, 1.9 deg) in s-1 MeV-1 sr-1; tolerance 1e-6.

    The H.E.S.S. case fixes the axis orientation: its TDIM is (DETY, DETX, ENERG).
    """
    cases = [
        ("hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz", "BKG",
         [3.95309629e-04, 3.54318232e-04, 2.29865955e-05]),
        ("cta-caldb/Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz", "BACKGROUND",
         [6.73801100e-04, 1.15198662e-04, 7.36011494e-06]),
        ("cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits", "BACKGROUND",
         [7.97768898e-04, 1.24303442e-04, 1.13684201e-05]),
    ]  # fmt: skip
    for filename, hdu, reference in cases:
        bkg = Background3D.read(data_dir / filename, hdu)
        assert bkg.fov_alignment == "RADEC"
        result = bkg.evaluate(
            [0.5, 1, 3] * u.TeV, [0.3, 1.2, -0.7] * u.deg, [0.5, -1.1, 1.9] * u.deg
        )
        assert_allclose(result.to_value("s-1 MeV-1 sr-1"), reference, rtol=1e-6, err_msg=filename)
