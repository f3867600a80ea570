import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from irf_tables import bins, cell
from numpy.testing import assert_allclose

from gammarules.irf import PSFTable

E_EDGES = np.geomspace(0.1, 100, 7)
T_EDGES = np.array([0.0, 1.0, 2.0, 3.0])
R_EDGES = np.linspace(0.0, 1.0, 201)  # bins of 0.005 deg
E_NODES = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
T_NODES = 0.5 * (T_EDGES[1:] + T_EDGES[:-1])


def sigma_deg(energy, offset):
    return 0.15 * (energy / 0.1) ** -0.2 * (1 + 0.1 * offset)


def gaussian_containment(rad, sigma):
    return 1 - np.exp(-0.5 * (np.asarray(rad) / sigma) ** 2)


def gaussian_table(r_edges=R_EDGES):
    """Bin contents of 2D Gaussians over the exact solid angle of each rad bin (sr-1)."""
    sigma = sigma_deg(E_NODES[:, np.newaxis], T_NODES)[..., np.newaxis]
    contents = np.diff(gaussian_containment(r_edges, sigma), axis=-1)
    solid_angle = 2 * np.pi * -np.diff(np.cos(np.radians(r_edges)))
    return contents / solid_angle  # (energy, offset, rad)


def write_psf(write_irf, table, r_edges=R_EDGES):
    columns = (
        bins("ENERG", E_EDGES, "TeV") + bins("THETA", T_EDGES, "deg") + bins("RAD", r_edges, "deg")
    )
    header = {"HDUCLAS3": "FULL-ENCLOSURE", "HDUCLAS4": "PSF_TABLE"}
    return write_irf(columns + [("RPSF", cell(table), "sr-1")], header, name="PSF")


@pytest.fixture
def psf(write_irf):
    return PSFTable.read(write_psf(write_irf, gaussian_table()), "PSF")


def test_containment_of_gaussian_table(psf):
    rng = np.random.default_rng(3)
    rad = rng.uniform(0, 0.6, 100)
    energy, offset = E_NODES[2], T_NODES[1]
    sigma = sigma_deg(energy, offset)
    result = psf.containment(rad * u.deg, energy * u.TeV, offset * u.deg)
    # exact at the rad edges, linear in solid angle s = r^2 / 2 within a 0.005 deg bin:
    # error <= ds^2 / 8 max|F''(s)| ~ 2.3e-4 for this sigma (0.11 deg)
    assert_allclose(result, gaussian_containment(rad, sigma), atol=3e-4)
    at_edges = psf.containment(R_EDGES[::10] * u.deg, energy * u.TeV, offset * u.deg)
    assert_allclose(at_edges, gaussian_containment(R_EDGES[::10], sigma), atol=1e-12)
    assert_allclose(psf.containment(5 * u.deg, energy * u.TeV, offset * u.deg), 1.0, atol=1e-10)


def test_containment_radius_of_gaussian_table(psf):
    energy, offset = E_NODES[[1, 3, 4]], T_NODES[[0, 1, 2]]
    for fraction in (0.39, 0.68, 0.95):
        expected = sigma_deg(energy, offset) * np.sqrt(-2 * np.log(1 - fraction))
        result = psf.containment_radius(fraction, energy * u.TeV, offset * u.deg)
        assert result.unit == u.deg
        assert_allclose(result.value, expected, rtol=1e-3)
    assert psf.containment_radius(0.0, 1 * u.TeV, 0 * u.deg).value == 0.0


def test_interpolation_between_nodes(psf):
    """Linear in log(E) between nodes: the containment is the weighted mix of the two nodes."""
    energy = E_NODES[1] ** 0.3 * E_NODES[2] ** 0.7
    rad = np.array([0.05, 0.1, 0.2])
    mix = 0.3 * gaussian_containment(rad, sigma_deg(E_NODES[1], 1.5))
    mix += 0.7 * gaussian_containment(rad, sigma_deg(E_NODES[2], 1.5))
    assert_allclose(psf.containment(rad * u.deg, energy * u.TeV, 1.5 * u.deg), mix, atol=3e-4)
    # beyond the energy nodes: the outer node
    outer = psf.containment(rad * u.deg, 1000 * u.TeV, 1.5 * u.deg)
    assert_allclose(outer, gaussian_containment(rad, sigma_deg(E_NODES[-1], 1.5)), atol=3e-4)


def test_evaluate(psf):
    table = gaussian_table()
    centers = 0.5 * (R_EDGES[1:] + R_EDGES[:-1])
    energy, offset = E_NODES[2] * u.TeV, T_NODES[0] * u.deg
    values = psf.evaluate(centers * u.deg, energy, offset)
    assert values.unit == u.sr**-1
    assert_allclose(values.value, table[2, 0], rtol=1e-10)
    # flat core below the first bin centre, linear between centres, zero beyond the table
    assert_allclose(psf.evaluate(0 * u.deg, energy, offset).value, table[2, 0, 0])
    mid = psf.evaluate(0.5 * (centers[10] + centers[11]) * u.deg, energy, offset).value
    assert_allclose(mid, 0.5 * (table[2, 0, 10] + table[2, 0, 11]))
    assert psf.evaluate(1.2 * u.deg, energy, offset).value == 0.0


def test_truncated_table_and_empty_nodes(write_irf):
    r_edges = np.linspace(0, 0.1, 21)
    table = gaussian_table(r_edges)
    table[0] = 0.0  # no data at the lowest energy
    psf = PSFTable.read(write_psf(write_irf, table, r_edges), "PSF")
    sigma = sigma_deg(E_NODES[1], 0.5)
    total = gaussian_containment(0.1, sigma)
    assert total < 0.68
    assert np.isnan(psf.containment_radius(0.68, E_NODES[1] * u.TeV, 0.5 * u.deg).value)
    assert_allclose(psf.containment(1 * u.deg, E_NODES[1] * u.TeV, 0.5 * u.deg), total)
    # between the empty node and its neighbour: the neighbour alone
    between = np.sqrt(E_NODES[0] * E_NODES[1]) * u.TeV
    result = psf.containment_radius(0.2, between, 0.5 * u.deg).value
    assert_allclose(result, sigma * np.sqrt(-2 * np.log(0.8)), rtol=1e-3)


@pytest.mark.data
def test_hess_dr1(hess_dir):
    path = hess_dir / "data/hess_dl3_dr1_obs_id_023523.fits.gz"
    psf = PSFTable.read(path, "PSF")
    assert psf.data.shape == (32, 6, 144)  # TDIM (32,6,144): energy, offset, rad
    # Independent check: at a node (energy bin 24, offset node 0.5 deg) the containment at
    # the rad edges is the running sum of RPSF x bin solid angle, read with astropy alone.
    hdu = fits.open(path)["PSF"]
    rpsf = hdu.data["RPSF"][0].astype(float)[:, 1, 24]  # astropy order (rad, offset, energy)
    r_edges = np.append(hdu.data["RAD_LO"][0], hdu.data["RAD_HI"][0][-1]).astype(float)
    contents = rpsf * 2 * np.pi * -np.diff(np.cos(np.radians(r_edges)))
    energy = np.sqrt(hdu.data["ENERG_LO"][0][24] * hdu.data["ENERG_HI"][0][24]) * u.TeV
    result = psf.containment(r_edges[1:] * u.deg, energy, 0.5 * u.deg)
    assert_allclose(result, np.cumsum(contents), rtol=1e-6)
    # Reference: Gammapy 2.1 PSF3D.containment_radius(0.68, [1, 10] TeV, 0.5 deg); Gammapy
    # interpolates its containment on its own rad grid, hence the 1e-3 tolerance.
    r68 = psf.containment_radius(0.68, [1, 10] * u.TeV, 0.5 * u.deg).to_value("deg")
    assert_allclose(r68, [0.12262555, 0.1124063], rtol=1e-3)
    # Reference: Gammapy 2.1 PSF3D.containment(rad, 1 TeV, 0.5 deg)
    containment = psf.containment([0.05, 0.1, 0.2] * u.deg, 1 * u.TeV, 0.5 * u.deg)
    assert_allclose(containment, [0.26251425, 0.58385723, 0.8626392], rtol=1e-4)
    # Reference: Gammapy 2.1 PSF3D.evaluate at 0.05 and 0.1 deg, 1 TeV, 0.5 deg (sr-1)
    values = psf.evaluate([0.05, 0.1] * u.deg, 1 * u.TeV, 0.5 * u.deg).value
    assert_allclose(values, [79849.83841, 25579.34922], rtol=1e-8)
