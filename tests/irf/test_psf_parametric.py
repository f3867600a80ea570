import numpy as np
import pytest
from astropy import units as u
from irf_tables import bins, cell
from numpy.testing import assert_allclose
from scipy.integrate import quad

from gammarules.irf import PSF3Gauss, PSFKing

E_EDGES = np.geomspace(0.1, 100, 5)
T_EDGES = np.array([0.0, 1.0, 2.0, 3.0])
E_NODES = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
SHAPE = (E_EDGES.size - 1, T_EDGES.size - 1)


def sigma_1(energy):
    """Linear in log10(E): exactly reproduced by the interpolation (deg)."""
    return 0.1 - 0.02 * np.log10(energy)


def write_table(write_irf, parameters, tag):
    columns = bins("ENERG", E_EDGES, "TeV") + bins("THETA", T_EDGES, "deg")
    for name, (values, unit) in parameters.items():
        columns.append((name, cell(np.broadcast_to(values, SHAPE)), unit))
    return write_irf(columns, {"HDUCLAS4": tag}, name="PSF")


def gauss_parameters(ampl_2=0.3, ampl_3=0.05):
    s1 = sigma_1(E_NODES)[:, np.newaxis]
    return {
        "SCALE": (7.0, ""),  # not a normalisation in real files: not used
        "SIGMA_1": (s1, "deg"),
        "AMPL_2": (ampl_2, ""),
        "SIGMA_2": (2 * s1, "deg"),
        "AMPL_3": (ampl_3, ""),
        "SIGMA_3": (240 * s1, "arcmin"),  # 4 sigma_1, given in arcmin
    }


def enclosed(psf, rad_deg, energy, offset):
    """Numerical integral of 2 pi theta dP/dOmega (flat sky, theta in rad) up to ``rad_deg``."""

    def integrand(theta):
        value = psf.evaluate(np.degrees(theta) * u.deg, energy, offset).to_value("sr-1")
        return 2 * np.pi * theta * value

    return quad(integrand, 0, np.radians(rad_deg), limit=200, epsabs=1e-12)[0]


@pytest.fixture
def gauss(write_irf):
    return PSF3Gauss.read(write_table(write_irf, gauss_parameters(), "PSF_3GAUSS"), "PSF")


def test_triple_gauss_containment(gauss):
    energy, offset = E_NODES[1] * u.TeV, 0.5 * u.deg
    s1 = sigma_1(E_NODES[1])
    sigmas = np.array([s1, 2 * s1, 4 * s1])
    weights = np.array([1, 0.3, 0.05]) * sigmas**2
    weights /= weights.sum()
    rad = np.array([0.02, 0.1, 0.5, 3.0, 50.0])
    expected = (weights * (1 - np.exp(-0.5 * (rad[:, np.newaxis] / sigmas) ** 2))).sum(axis=1)
    assert_allclose(gauss.containment(rad * u.deg, energy, offset), expected, rtol=1e-12)
    # the profile integrates to the containment, and to 1 far out
    for r in (0.1, 0.5, 40.0):
        value = gauss.containment(r * u.deg, energy, offset)
        assert_allclose(enclosed(gauss, r, energy, offset), value, rtol=1e-7)
    assert_allclose(gauss.containment(200 * u.deg, energy, offset), 1.0, rtol=1e-12)


def test_triple_gauss_containment_radius(gauss):
    energy = [0.3, 2.0, 40.0] * u.TeV
    for fraction in (0.5, 0.68, 0.95):
        radius = gauss.containment_radius(fraction, energy, 1.2 * u.deg)
        assert radius.unit == u.deg
        assert_allclose(gauss.containment(radius, energy, 1.2 * u.deg), fraction, rtol=1e-10)


def test_single_gauss_interpolated_in_log_energy(write_irf):
    psf = PSF3Gauss.read(write_table(write_irf, gauss_parameters(0.0, 0.0), "PSF_3GAUSS"), "PSF")
    energy = np.array([0.5, 3.0, 20.0])  # between nodes
    radius = psf.containment_radius(0.68, energy * u.TeV, 2.0 * u.deg)
    assert_allclose(radius.value, sigma_1(energy) * np.sqrt(-2 * np.log(0.32)), rtol=1e-10)
    value = psf.evaluate(0 * u.deg, 3.0 * u.TeV, 2 * u.deg).to_value("sr-1")
    assert_allclose(value, 1 / (2 * np.pi * np.radians(sigma_1(3.0)) ** 2), rtol=1e-10)


def test_triple_gauss_nodes_without_data(write_irf):
    parameters = gauss_parameters(0.0, 0.0)
    s1 = np.broadcast_to(parameters["SIGMA_1"][0], SHAPE).copy()
    s1[0] = 0.0  # below threshold: no PSF
    parameters["SIGMA_1"] = (s1, "deg")
    psf = PSF3Gauss.read(write_table(write_irf, parameters, "PSF_3GAUSS"), "PSF")
    between = np.sqrt(E_NODES[0] * E_NODES[1]) * u.TeV
    radius = psf.containment_radius(0.68, between, 0.5 * u.deg).value
    assert_allclose(radius, sigma_1(E_NODES[1]) * np.sqrt(-2 * np.log(0.32)), rtol=1e-10)


GAMMA, SIGMA = 2.5, 0.08


@pytest.fixture
def king(write_irf):
    sigma = np.full(SHAPE, SIGMA)
    sigma[:, 2] = 2 * SIGMA  # wider at the 2.5 deg offset node
    parameters = {"GAMMA": (GAMMA, ""), "SIGMA": (sigma, "deg")}
    return PSFKing.read(write_table(write_irf, parameters, "PSF_KING"), "PSF")


def test_king_normalisation_and_containment(king):
    energy, offset = 1 * u.TeV, 0.5 * u.deg
    for r in (0.05, 0.3, 2.0):
        value = king.containment(r * u.deg, energy, offset)
        assert_allclose(enclosed(king, r, energy, offset), value, rtol=1e-7)
        base = 1 + (r / SIGMA) ** 2 / (2 * GAMMA)
        assert_allclose(value, 1 - base ** (1 - GAMMA), rtol=1e-12)
    assert_allclose(enclosed(king, 60.0, energy, offset), 1.0, rtol=1e-7)
    assert_allclose(king.containment(180 * u.deg, energy, offset), 1.0, rtol=1e-9)


def test_king_containment_radius(king):
    radius = king.containment_radius([0.5, 0.68, 0.95], 1 * u.TeV, 0.5 * u.deg)
    assert_allclose(king.containment(radius, 1 * u.TeV, 0.5 * u.deg), [0.5, 0.68, 0.95], rtol=1e-12)
    # linear in offset: 2.0 deg is half-way between the 1.5 and 2.5 deg nodes (sigma, 2 sigma)
    wide = king.containment_radius(0.68, 1 * u.TeV, 2.0 * u.deg)
    expected = king.containment_radius(0.68, 1 * u.TeV, 0.5 * u.deg) * (0.5 * 1 + 0.5 * 2)
    assert_allclose(wide, expected, rtol=1e-12)


def test_king_invalid_gamma(write_irf):
    parameters = {"GAMMA": (0.8, ""), "SIGMA": (SIGMA, "deg")}
    psf = PSFKing.read(write_table(write_irf, parameters, "PSF_KING"), "PSF")
    assert psf.evaluate(0.1 * u.deg, 1 * u.TeV, 0.5 * u.deg).value == 0.0
    assert np.isnan(psf.containment_radius(0.68, 1 * u.TeV, 0.5 * u.deg).value)


@pytest.mark.data
def test_cta_triple_gauss_against_gammapy(data_dir):
    cases = [
        ("cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits", [0.05125, 0.03725],
         [384187.23083922, 153112.24265539, 5729.36269492]),
        ("cta-caldb/Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz",
         [0.05625, 0.03375], [324931.56849979, 152899.67508748, 10355.55046792]),
    ]  # fmt: skip
    for filename, r68, values in cases:
        psf = PSF3Gauss.read(data_dir / filename, "POINT SPREAD FUNCTION")
        # Reference: Gammapy 2.1 EnergyDependentMultiGaussPSF.evaluate (sr-1) at 0.02, 0.05,
        # 0.1 deg, 1 TeV, 0.5 deg: same normalised triple Gauss, float precision.
        result = psf.evaluate([0.02, 0.05, 0.1] * u.deg, 1 * u.TeV, 0.5 * u.deg).to_value("sr-1")
        assert_allclose(result, values, rtol=1e-7, err_msg=filename)
        # Reference: Gammapy 2.1 containment_radius(0.68, [1, 10] TeV, 0.5 deg), which Gammapy
        # reads off a 0.0005 deg rad grid: tolerance 3e-4 deg.
        result = psf.containment_radius(0.68, [1, 10] * u.TeV, 0.5 * u.deg).to_value("deg")
        assert_allclose(result, r68, atol=3e-4, err_msg=filename)
