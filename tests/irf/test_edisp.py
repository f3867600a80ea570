import numpy as np
import pytest
from astropy import units as u
from irf_tables import bins, cell
from numpy.testing import assert_allclose
from scipy.stats import norm, truncnorm

from gammarules.errors import GammarulesError
from gammarules.irf import EnergyDispersion2D
from gammarules.maps import MapAxis

E_EDGES = np.geomspace(0.1, 100, 16)
M_EDGES = np.linspace(0.2, 3.0, 281)  # bins of 0.01
T_EDGES = np.array([0.0, 1.0, 2.0, 3.0])
BIAS, SIGMA = 0.05, 0.1
SIGMA_OFFSET = np.array([0.1, 0.1, 0.2])  # per offset node: wider at 2.5 deg


def gaussian_matrix(sigmas=SIGMA_OFFSET, scale=1.0):
    """Migration histograms: exact bin averages of N(1 + BIAS, sigma), times ``scale``."""
    cdf = norm.cdf(M_EDGES[:, np.newaxis], loc=1 + BIAS, scale=sigmas)  # (edges, offset)
    pdf = np.diff(cdf, axis=0) / np.diff(M_EDGES)[:, np.newaxis]  # (migra, offset)
    return scale * np.broadcast_to(pdf, (E_EDGES.size - 1, *pdf.shape)).copy()


def write_edisp(write_irf, matrix):
    columns = (
        bins("ENERG", E_EDGES, "TeV") + bins("MIGRA", M_EDGES, "") + bins("THETA", T_EDGES, "deg")
    )
    header = {"HDUCLAS3": "FULL-ENCLOSURE", "HDUCLAS4": "EDISP_2D"}
    return write_irf(columns + [("MATRIX", cell(matrix), "")], header, name="EDISP")


@pytest.fixture
def edisp(write_irf):
    # stored unnormalised (x 250, like CTA 1DC): the pdf is normalised on use
    return EnergyDispersion2D.read(write_edisp(write_irf, gaussian_matrix(scale=250.0)), "EDISP")


def expected_kernel(energy_true, reco_edges, sigma):
    cdf = norm.cdf(
        reco_edges[np.newaxis, :] / energy_true[:, np.newaxis], loc=1 + BIAS, scale=sigma
    )
    return np.diff(cdf, axis=1)


def test_kernel_gaussian_migration(edisp):
    true_axis = MapAxis.from_energy_bounds(0.3, 30, 12, name="energy_true")
    reco_axis = MapAxis.from_energy_bounds(0.2, 50, 17)
    kernel = edisp.to_kernel(0.5 * u.deg, true_axis, reco_axis)
    assert kernel.shape == (12, 17)
    expected = expected_kernel(true_axis.center_in("TeV"), reco_axis.edges_in("TeV"), SIGMA)
    # exact at the migration edges, linear in between: error <= (0.01)^2 / 8 * max|F''|
    assert_allclose(kernel, expected, atol=4e-4)
    assert_allclose(kernel.sum(axis=1), expected.sum(axis=1), atol=1e-6)


def test_kernel_rows_lose_probability_outside_reco_axis(edisp):
    true_axis = MapAxis.from_energy_bounds(0.3, 30, 6, name="energy_true")
    wide = edisp.to_kernel(0 * u.deg, true_axis, MapAxis.from_energy_bounds(0.01, 1000, 40))
    assert_allclose(wide.sum(axis=1), 1.0, rtol=1e-12)
    narrow = edisp.to_kernel(0 * u.deg, true_axis, MapAxis.from_energy_bounds(1, 10, 5))
    energy = true_axis.center_in("TeV")
    kept = norm.cdf(10 / energy, 1 + BIAS, SIGMA) - norm.cdf(1 / energy, 1 + BIAS, SIGMA)
    assert_allclose(narrow.sum(axis=1), kept, atol=4e-4)
    assert narrow.sum(axis=1)[0] < 1e-6  # 0.44 TeV true energy never reaches 1 TeV


def test_evaluate(edisp):
    centers = 0.5 * (M_EDGES[1:] + M_EDGES[:-1])
    pdf = gaussian_matrix()[0, :, 0]  # normalised pdf at offset node 0.5 deg
    assert_allclose(edisp.evaluate(1 * u.TeV, centers, 0.5 * u.deg).value, pdf, rtol=1e-10)
    # linear in migration between bin centres
    mid = 0.5 * (centers[80] + centers[81])
    assert_allclose(edisp.evaluate(1 * u.TeV, mid, 0.5 * u.deg).value, 0.5 * (pdf[80] + pdf[81]))
    # zero outside the migration range
    assert_allclose(edisp.evaluate(1 * u.TeV, [0.1, 3.5], 0.5 * u.deg).value, 0.0)
    # linear in offset between the 1.5 and 2.5 deg nodes (sigma 0.1 and 0.2)
    wide = gaussian_matrix()[0, :, 2]
    wide = wide / (wide * 0.01).sum()  # the 0.2 wide Gaussian is truncated at mu = 0.2
    value = edisp.evaluate(1 * u.TeV, centers[85], 1.9 * u.deg).value
    assert_allclose(value, 0.6 * pdf[85] + 0.4 * wide[85], rtol=1e-10)


def test_bias_and_resolution(edisp):
    energy = [0.5, 3.0, 20.0] * u.TeV
    assert_allclose(edisp.bias(energy, 0.5 * u.deg), BIAS, atol=1e-6)
    # histogram variance: sigma^2 plus the bin width^2 / 12 (Sheppard)
    expected = np.sqrt(SIGMA**2 + 0.01**2 / 12)
    assert_allclose(edisp.resolution(energy, 0.5 * u.deg), expected, rtol=1e-5)
    # the 0.2 wide Gaussian is truncated at mu = 0.2 (4.25 sigma)
    truncated = truncnorm((0.2 - 1 - BIAS) / 0.2, (3.0 - 1 - BIAS) / 0.2, 1 + BIAS, 0.2)
    expected = np.sqrt(truncated.var() + 0.01**2 / 12)
    assert_allclose(edisp.resolution(3 * u.TeV, 2.5 * u.deg), expected, rtol=1e-5)


def test_nodes_without_data_are_skipped(write_irf):
    matrix = gaussian_matrix()
    matrix[7] = 0.0  # no events simulated at that true energy
    edisp = EnergyDispersion2D.read(write_edisp(write_irf, matrix), "EDISP")
    nodes = np.sqrt(E_EDGES[1:] * E_EDGES[:-1])
    between = np.sqrt(nodes[7] * nodes[8]) * u.TeV
    centers = 0.5 * (M_EDGES[1:] + M_EDGES[:-1])
    assert_allclose(
        edisp.evaluate(between, centers, 0.5 * u.deg).value, matrix[8, :, 0], rtol=1e-10
    )
    assert_allclose(edisp.bias(between, 0.5 * u.deg), BIAS, atol=1e-6)


def test_kernel_needs_scalar_offset(edisp):
    axis = MapAxis.from_energy_bounds(1, 10, 3)
    with pytest.raises(GammarulesError, match="offset must be a scalar"):
        edisp.to_kernel([0.5, 1.0] * u.deg, axis.rename("energy_true"), axis)


HESS_ROW_SUMS = [
    0.97932131, 0.9961214, 0.99798407, 0.99895007, 0.99967047, 0.99994187, 0.9999935, 1.0, 1.0,
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9996794, 0.99614055, 0.98583064, 0.95838614, 0.81662104,
]  # fmt: skip
HESS_ROW_5 = [
    1.67209126e-02, 1.17490004e-01, 6.05427074e-01, 2.16413923e-01, 4.05655345e-02,
    3.30313646e-03, 2.12896793e-05, 0, 0, 0,
]  # fmt: skip
MAGIC_ROW_SUMS = [
    0.54411392, 0.82282184, 0.98827408, 0.98499189, 0.98671676, 0.98766022, 0.98742301,
    0.99139327, 0.9945347, 0.99793803, 1.0, 1.0, 0.99810493, 0.99954371, 0.99611086, 0.99744695,
    0.99979088, 0.99610261, 0.98286883, 0.0,
]  # fmt: skip


@pytest.mark.data
def test_real_kernels_against_gammapy(data_dir):
    """Reference: Gammapy 2.1 ``EnergyDispersion2D.to_edisp_kernel(offset, true, reco)``.

    True axis 0.5-50 TeV in 20 bins, reco axis 0.5-50 TeV in 10 bins; tolerance 1e-6.
    """
    true_axis = MapAxis.from_energy_bounds(0.5, 50, 20, name="energy_true")
    reco_axis = MapAxis.from_energy_bounds(0.5, 50, 10)
    hess = data_dir / "hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"
    edisp = EnergyDispersion2D.read(hess, "EDISP")
    assert edisp.data.shape == (96, 160, 6)
    kernel = edisp.to_kernel(0.5 * u.deg, true_axis, reco_axis)
    assert_allclose(kernel.sum(axis=1), HESS_ROW_SUMS, atol=1e-6)
    assert_allclose(kernel[5], HESS_ROW_5, atol=1e-6)
    # MAGIC point-like: one offset bin, no data above 40 TeV and at the lowest energies
    magic = data_dir / "magic/rad_max/data/20131004_05029747_DL3_CrabNebula-W0.40+035.fits"
    edisp = EnergyDispersion2D.read(magic, "ENERGY DISPERSION")
    assert edisp.is_pointlike
    kernel = edisp.to_kernel(0.4 * u.deg, true_axis, reco_axis)
    assert_allclose(kernel.sum(axis=1), MAGIC_ROW_SUMS, atol=1e-6)


@pytest.mark.data
def test_cta_migration_normalised(data_dir):
    """Prod5 stores per-bin probabilities (integral 0.01), 1DC unnormalised histograms."""
    true_axis = MapAxis.from_energy_bounds(0.5, 50, 20, name="energy_true")
    reco_axis = MapAxis.from_energy_bounds(0.5, 50, 10)
    prod5 = data_dir / "cta-caldb/Prod5-South-20deg-AverageAz-14MSTs37SSTs.180000s-v0.1.fits.gz"
    edisp = EnergyDispersion2D.read(prod5, "ENERGY DISPERSION")
    widths = np.diff(edisp.axes["migra"].edges_in(""))
    stored = (edisp.data[100, :, 1] * widths).sum()
    assert_allclose(stored, 0.01, rtol=1e-3)
    kernel = edisp.to_kernel(1 * u.deg, true_axis, reco_axis)
    # Reference: Gammapy 2.1 to_edisp_kernel row sums and row 5 (tolerance 1e-6)
    assert_allclose(
        kernel.sum(axis=1)[[0, 1, 10, 19]], [0.88138126, 0.99949111, 1, 0.94789582], atol=1e-6
    )
    assert_allclose(kernel[5, 1:4], [0.00198367, 0.96719591, 0.03082042], atol=1e-6)
    dc1 = data_dir / "cta-1dc/caldb/data/cta/1dc/bcf/South_z20_50h/irf_file.fits"
    edisp = EnergyDispersion2D.read(dc1, "ENERGY DISPERSION")  # ETRUE_LO/ETRUE_HI columns
    stored = (edisp.data[250, :, 1] * np.diff(edisp.axes["migra"].edges_in(""))).sum()
    assert stored > 10
    kernel = edisp.to_kernel(1 * u.deg, true_axis, reco_axis)
    assert_allclose(kernel.sum(axis=1)[2:19], 1.0, atol=1e-6)
