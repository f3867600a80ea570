"""Excess, significance and flux maps (correlated counts, Cash and WStat) and FluxMaps files."""

import numpy as np
import pytest
import xarray as xr
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from scipy.optimize import brentq

from gammarules.datasets import MapDataset, MapDatasetOnOff
from gammarules.errors import ConfigError, DataFormatError, GammarulesError
from gammarules.estimators import ExcessMapEstimator, FluxMaps, residual_significance
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.models import Models, PointSpatialModel, PowerLawSpectralModel, SkyModel

CENTER = SkyCoord(83.6, 22.0, unit="deg")
BINSZ = 0.05
RADIUS = 0.12  # deg: 2.4 pixels, the disk holds the 21 pixels with dx**2 + dy**2 <= 5.76
EXPOSURE = 2e11  # cm2 s
REF_FLUX = 1e-12 * (1 / 1 - 1 / 10)  # power law index 2, 1e-12 at 1 TeV, 1-10 TeV


def disk_sum(image, radius_pix=RADIUS / BINSZ):
    """Sum over the pixels whose centre lies within ``radius_pix`` (zero outside the map),
    by explicit shifts: independent of the FFT convolution."""
    n = int(radius_pix)
    ny, nx = image.shape[-2:]
    padded = np.pad(image, [(0, 0)] * (image.ndim - 2) + [(n, n), (n, n)])
    total = np.zeros(image.shape)
    for dy in range(-n, n + 1):
        for dx in range(-n, n + 1):
            if dx * dx + dy * dy <= radius_pix**2:
                total += padded[..., n + dy : n + dy + ny, n + dx : n + dx + nx]
    return total


def cash_sqrt_ts(n_on, mu_bkg):
    """Signed sqrt of 2 (n ln(n / b) - (n - b)): the likelihood ratio of a Poisson count."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ts = 2 * (np.where(n_on > 0, n_on * np.log(n_on / mu_bkg), 0) - (n_on - mu_bkg))
    return np.sign(n_on - mu_bkg) * np.sqrt(ts)


def li_ma(n_on, n_off, alpha):
    """Li & Ma (1983) equation 17."""
    total = n_on + n_off
    term_on = n_on * np.log((1 + alpha) / alpha * n_on / total)
    term_off = n_off * np.log((1 + alpha) * n_off / total)
    ts = np.clip(2 * (term_on + term_off), 0, None)  # rounding near zero excess
    return np.sign(n_on - alpha * n_off) * np.sqrt(ts)


def make_dataset(n_reco=3, seed=1, background=2.0, mask_safe=None):
    """Random counts over a flat background; flat exposure; true axis = reco axis (no edisp)."""
    reco = MapAxis.from_energy_bounds(1, 10, n_reco)
    geom = WcsGeom.create(CENTER, BINSZ, npix=(30, 24), axes=[reco])
    rng = np.random.default_rng(seed)
    exposure = Map(geom.to_image().to_cube([reco.rename("energy_true")]), unit="m2 s")
    exposure.data[:] = EXPOSURE * 1e-4
    return MapDataset(
        counts=Map(geom, rng.poisson(background * 1.3, geom.data_shape).astype(float)),
        exposure=exposure,
        background=Map(geom, np.full(geom.data_shape, background)),
        mask_safe=None if mask_safe is None else Map(geom, mask_safe),
        name="synthetic",
    )


def test_cash_maps_are_disk_sums_against_the_background():
    dataset = make_dataset()
    maps = ExcessMapEstimator(correlation_radius=f"{RADIUS} deg").run(dataset)
    n_on = disk_sum(dataset.counts.data.sum(axis=0))
    mu_bkg = disk_sum(dataset.background.data.sum(axis=0))
    assert maps.geom.data_shape == (1, 24, 30)
    assert maps.energy_axis.edges_in("TeV") == pytest.approx([1, 10])
    np.testing.assert_allclose(maps["counts"].data[0], n_on, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(maps["npred_background"].data[0], mu_bkg, rtol=1e-12)
    np.testing.assert_allclose(maps["npred_excess"].data[0], n_on - mu_bkg, atol=1e-9)
    np.testing.assert_allclose(maps["npred"].data[0], n_on, atol=1e-9)
    np.testing.assert_allclose(maps["npred_excess_err"].data[0], np.sqrt(n_on), atol=1e-9)
    np.testing.assert_allclose(maps["sqrt_ts"].data[0], cash_sqrt_ts(n_on, mu_bkg), atol=1e-8)
    np.testing.assert_allclose(maps["ts"].data, maps["sqrt_ts"].data ** 2, rtol=1e-10)
    # 21 pixels in the disk at the centre, 8 of them in the map at a corner
    assert mu_bkg[12, 15] == pytest.approx(21 * 3 * 2.0)
    assert mu_bkg[0, 0] == pytest.approx(8 * 3 * 2.0)


def test_upper_limits_and_errors_solve_the_likelihood_ratio():
    dataset = make_dataset(n_reco=1, seed=3, background=0.2)
    dataset.counts.data[:, :3, :3] = 0  # an empty disk in the corner
    n_sigma_ul = 3
    maps = ExcessMapEstimator(
        RADIUS * u.deg, n_sigma=2, n_sigma_ul=n_sigma_ul, selection_optional="all"
    ).run(dataset)
    n_on = maps["counts"].data[0]
    mu_bkg = maps["npred_background"].data[0]
    upper = maps["npred_excess_ul"].data[0]
    np.testing.assert_allclose(maps["npred_excess_err"].data[0], 2 * np.sqrt(n_on), atol=1e-9)

    def rise(signal, n, b):
        """-2 log L(signal) above its minimum at signal = n - b."""
        mu = b + signal
        return 2 * (mu - n - n * np.log(mu / n)) - n_sigma_ul**2

    for iy, ix in [(12, 15), (5, 20), (20, 3), (1, 28)]:
        n, b = n_on[iy, ix], mu_bkg[iy, ix]
        expected = brentq(rise, n - b, n + 100, args=(n, b), xtol=1e-12)
        assert upper[iy, ix] == pytest.approx(expected, rel=1e-9)
    # no counts: the limit is measured from zero signal, 2 (b + s) - 2 b = n_sigma_ul**2
    assert n_on[0, 0] == 0
    assert upper[0, 0] == pytest.approx(n_sigma_ul**2 / 2)


def test_safe_mask_energy_groups_and_invalid_pixels():
    mask = np.ones((4, 24, 30), dtype=bool)
    mask[0, :, :10] = False  # lowest energy bin unsafe on the left
    mask[:, :, 27:] = False  # right edge unsafe at every energy
    dataset = make_dataset(n_reco=4, mask_safe=mask)
    edges = dataset.energy_axis.edges_in("TeV")
    # 2.0 and 5.0 TeV move to the nearest edges 1.778 and 5.623
    estimator = ExcessMapEstimator(RADIUS * u.deg, energy_edges=[1, 2, 5, 10] * u.TeV)
    maps = estimator.run(dataset)
    np.testing.assert_allclose(maps.energy_axis.edges_in("TeV"), edges[[0, 1, 3, 4]])
    assert maps.geom.data_shape == (3, 24, 30)
    counts = dataset.counts.data * mask
    for group, (start, stop) in enumerate([(0, 1), (1, 3), (3, 4)]):
        expected = disk_sum(counts[start:stop].sum(axis=0))
        got = maps["counts"].data[group]
        used = mask[start:stop].any(axis=0)
        np.testing.assert_allclose(got[used], expected[used], atol=1e-9)
        assert np.isnan(got[~used]).all()
        assert np.isnan(maps["sqrt_ts"].data[group][~used]).all()
    # a fit mask removes bins like the safe mask
    fit_mask = np.ones_like(mask)
    fit_mask[:, :5] = False
    masked = dataset.copy(mask_fit=Map(dataset.geom, fit_mask))
    result = ExcessMapEstimator(RADIUS * u.deg).run(masked)["counts"].data[0]
    expected = disk_sum((dataset.counts.data * mask * fit_mask).sum(axis=0))
    used = (mask & fit_mask).any(axis=0)
    np.testing.assert_allclose(result[used], expected[used], atol=1e-9)
    assert np.isnan(result[:5]).all()


def test_flux_of_a_point_source_with_the_reference_spectrum():
    """Counts of a point source with 3x the reference spectrum in one pixel over a flat
    background, flat exposure and no PSF: the disk around it measures norm = 3."""
    dataset = make_dataset(n_reco=3)
    dataset.counts.data[:] = dataset.background.data
    edges = dataset.energy_axis.edges_in("TeV")
    ref_counts = 1e-12 * (1 / edges[:-1] - 1 / edges[1:]) * EXPOSURE
    dataset.counts.data[:, 12, 15] += 3 * ref_counts
    maps = ExcessMapEstimator(RADIUS * u.deg, selection_optional=["ul"]).run(dataset)
    assert maps["npred_excess"].data[0, 12, 15] == pytest.approx(3 * ref_counts.sum())
    assert maps["norm"].data[0, 12, 15] == pytest.approx(3, rel=1e-10)
    assert maps["flux"].data[0, 12, 15] == pytest.approx(3 * REF_FLUX, rel=1e-10)
    assert maps["flux"].unit == u.Unit("cm-2 s-1")
    n_on = maps["counts"].data[0, 12, 15]
    assert maps["norm_err"].data[0, 12, 15] == pytest.approx(np.sqrt(n_on) / ref_counts.sum())
    ratio = maps["flux_ul"].data / maps["npred_excess_ul"].data
    np.testing.assert_allclose(ratio, REF_FLUX / ref_counts.sum(), rtol=1e-10)
    # another reference spectrum: the flux of the group stays the integral of that model
    steep = PowerLawSpectralModel(index=3, amplitude=1e-12, reference=1)
    other = ExcessMapEstimator(RADIUS * u.deg, spectral_model=steep).run(dataset)
    steep_counts = steep.integral_values(edges[:-1], edges[1:]).sum() * EXPOSURE
    assert other["norm"].data[0, 12, 15] == pytest.approx(3 * ref_counts.sum() / steep_counts)
    assert other["flux"].data[0, 12, 15] == pytest.approx(
        other["norm"].data[0, 12, 15] * steep.integral_values(1, 10)
    )


def test_residual_significance_after_the_source_model():
    """Counts = prediction of background plus a point source: significant before the model
    is set, zero residual significance with it."""
    dataset = make_dataset(n_reco=2)
    source = SkyModel(
        PowerLawSpectralModel(index=2, amplitude="1e-9 TeV-1 cm-2 s-1"),
        PointSpatialModel(lon_0="83.6 deg", lat_0="22.0 deg"),
        name="src",
    )
    dataset.models = Models([source])
    dataset.counts.data[:] = dataset.npred().data
    dataset.models = None
    before = residual_significance(dataset, f"{RADIUS} deg").data[0]
    assert np.nanmax(before) > 5
    dataset.models = Models([source])
    after = residual_significance(dataset, f"{RADIUS} deg")
    np.testing.assert_allclose(after.data, 0, atol=1e-6)
    estimator = ExcessMapEstimator(f"{RADIUS} deg").run(dataset)
    np.testing.assert_array_equal(estimator["sqrt_ts"].data, after.data)


def make_on_off(n_reco=1, seed=5, alpha_spread=0.0):
    """On/off dataset: off counts of 5x the background, alpha 0.2 (times 1 +- alpha_spread)."""
    dataset = make_dataset(n_reco=n_reco, seed=seed)
    rng = np.random.default_rng(seed + 1)
    shape = dataset.geom.data_shape
    counts_off = Map(dataset.geom, rng.poisson(10.0, shape).astype(float))
    acceptance_off = Map(dataset.geom, 5 * rng.uniform(1 - alpha_spread, 1 + alpha_spread, shape))
    return MapDatasetOnOff.from_map_dataset(
        dataset, counts_off, Map(dataset.geom, np.ones(shape)), acceptance_off
    )


def test_on_off_maps_are_li_and_ma_of_correlated_counts():
    dataset = make_on_off()
    maps = ExcessMapEstimator(RADIUS * u.deg, selection_optional=["ul"]).run(dataset)
    n_on = disk_sum(dataset.counts.data[0])
    n_off = disk_sum(dataset.counts_off.data[0])
    np.testing.assert_allclose(maps["sqrt_ts"].data[0], li_ma(n_on, n_off, 0.2), atol=1e-6)
    np.testing.assert_allclose(maps["npred_background"].data[0], 0.2 * n_off, rtol=1e-10)
    np.testing.assert_allclose(maps["npred_excess"].data[0], n_on - 0.2 * n_off, atol=1e-9)
    np.testing.assert_allclose(
        maps["npred_excess_err"].data[0], np.sqrt(n_on + 0.04 * n_off), rtol=1e-10
    )


def test_on_off_alpha_with_and_without_correlated_off_counts():
    """Varying alpha: correlated off counts use the off-count weighted mean alpha (the sum of
    the pixels' background estimates); uncorrelated (ring) off counts use the pixel's own off
    counts with the correlated acceptance over the pixel's off acceptance."""
    dataset = make_on_off(alpha_spread=0.3)
    alpha = dataset.alpha.data[0]
    n_on = disk_sum(dataset.counts.data[0])
    off = dataset.counts_off.data[0]
    correlated = ExcessMapEstimator(RADIUS * u.deg).run(dataset)
    background = disk_sum(alpha * off)
    np.testing.assert_allclose(correlated["npred_background"].data[0], background, rtol=1e-10)
    expected = li_ma(n_on, disk_sum(off), background / disk_sum(off))
    np.testing.assert_allclose(correlated["sqrt_ts"].data[0], expected, atol=1e-6)
    ring = ExcessMapEstimator(RADIUS * u.deg, correlate_off=False).run(dataset)
    ring_alpha = disk_sum(dataset.acceptance.data[0]) / dataset.acceptance_off.data[0]
    np.testing.assert_allclose(ring["npred_background"].data[0], ring_alpha * off, rtol=1e-10)
    np.testing.assert_allclose(ring["sqrt_ts"].data[0], li_ma(n_on, off, ring_alpha), atol=1e-6)


def test_on_off_energy_groups_keep_the_background_estimate():
    dataset = make_on_off(n_reco=2, alpha_spread=0.3)
    dataset.counts_off.data[:, 10:16, 10:16] = 0  # no off counts in the centre's disk
    estimator = ExcessMapEstimator(RADIUS * u.deg, n_sigma_ul=2, selection_optional="all")
    maps = estimator.run(dataset)
    alpha = dataset.alpha.data
    background = disk_sum((alpha * dataset.counts_off.data).sum(axis=0))
    np.testing.assert_allclose(maps["npred_background"].data[0], background, atol=1e-10)
    # alpha from the acceptances where the disk holds no off counts: the pixel stays valid
    assert maps["npred_background"].data[0, 13, 13] == 0
    assert np.isfinite(maps["sqrt_ts"].data[0, 13, 13])
    # the upper limit solves WStat(n_on, n_off, alpha, ul) - WStat(best) = 4, with the
    # profiled background maximising the on/off likelihood
    n_on = disk_sum(dataset.counts.data.sum(axis=0))[6, 20]
    n_off = disk_sum(dataset.counts_off.data.sum(axis=0))[6, 20]
    eff_alpha = background[6, 20] / n_off

    def minus_two_log_l(signal):
        b = np.linspace(1e-3, 3 * n_off, 200001)  # off-region background, profiled on a grid
        mu_on = signal + eff_alpha * b
        return np.min(2 * (mu_on + b - n_on * np.log(mu_on) - n_off * np.log(b)))

    best = minus_two_log_l(n_on - eff_alpha * n_off)
    upper = maps["npred_excess_ul"].data[0, 6, 20]
    assert minus_two_log_l(upper) - best == pytest.approx(4, abs=1e-3)


def test_on_off_residual_significance_with_a_source_model():
    dataset = make_on_off(n_reco=2)
    source = SkyModel(
        PowerLawSpectralModel(index=2, amplitude="1e-9 TeV-1 cm-2 s-1"),
        PointSpatialModel(lon_0="83.6 deg", lat_0="22.0 deg"),
        name="src",
    )
    dataset.models = Models([source])
    dataset.counts.data[:] = dataset.alpha.data * dataset.counts_off.data
    dataset.counts.data += dataset.npred_signal().data
    with_model = residual_significance(dataset, RADIUS * u.deg).data
    np.testing.assert_allclose(with_model, 0, atol=1e-6)
    dataset.models = None
    assert np.nanmax(ExcessMapEstimator(RADIUS * u.deg).run(dataset)["sqrt_ts"].data) > 5


def test_estimator_configuration_errors():
    with pytest.raises(ConfigError, match="correlation_radius must be in deg"):
        ExcessMapEstimator(correlation_radius="0.1 TeV")
    with pytest.raises(ConfigError, match="correlation_radius must be > 0"):
        ExcessMapEstimator(correlation_radius="-0.1 deg")
    with pytest.raises(ConfigError, match="n_sigma_ul must be > 0"):
        ExcessMapEstimator(n_sigma_ul=0)
    with pytest.raises(ConfigError, match="unknown selection_optional"):
        ExcessMapEstimator(selection_optional=["errn-errp"])
    with pytest.raises(ConfigError, match="energy_edges must be in TeV"):
        ExcessMapEstimator(energy_edges=[1, 10] * u.deg)
    dataset = make_dataset()
    with pytest.raises(ConfigError, match="select no bin"):
        ExcessMapEstimator(energy_edges=[20, 30] * u.TeV).run(dataset)
    with pytest.raises(ConfigError, match="at least two"):
        ExcessMapEstimator(energy_edges=[2] * u.TeV).run(dataset)


@pytest.fixture
def flux_maps():
    mask = np.ones((2, 24, 30), dtype=bool)
    mask[:, :, :4] = False
    dataset = make_dataset(n_reco=2, mask_safe=mask)
    return ExcessMapEstimator(RADIUS * u.deg, energy_edges=[1, 3.16, 10] * u.TeV).run(dataset)


@pytest.mark.parametrize("name", ["maps.fits", "maps.fits.gz", "maps.nc"])
def test_flux_maps_round_trip(flux_maps, tmp_path, name):
    path = tmp_path / name
    flux_maps.write(path)
    back = FluxMaps.read(path)
    assert back.available_quantities == flux_maps.available_quantities
    assert back.geom == flux_maps.geom
    assert back.energy_axis == flux_maps.energy_axis
    for quantity in flux_maps.available_quantities:
        np.testing.assert_array_equal(back[quantity].data, flux_maps[quantity].data)
        assert back[quantity].unit == flux_maps[quantity].unit
    assert back.meta == flux_maps.meta
    assert back.reference_model.to_dict() == flux_maps.reference_model.to_dict()
    # each quantity is a sky map of its own
    single = Map.read(path, hdu="SQRT_TS" if name != "maps.nc" else "sqrt_ts")
    np.testing.assert_array_equal(single.data, flux_maps["sqrt_ts"].data)
    with pytest.raises(GammarulesError, match="exists"):
        flux_maps.write(path)
    flux_maps.write(path, overwrite=True)


def test_flux_maps_fits_layout(flux_maps, tmp_path):
    path = tmp_path / "maps.fits"
    flux_maps.write(path)
    with fits.open(path) as hdulist:
        assert hdulist[0].header["SED_TYPE"] == "likelihood"
        assert hdulist[0].header["N_SIGUL"] == 2
        assert u.Unit(hdulist["FLUX"].header["BUNIT"]) == u.Unit("cm-2 s-1")
        assert hdulist["FLUX"].header["BANDSHDU"] == "FLUX_BANDS"
        np.testing.assert_allclose(hdulist["FLUX_BANDS"].data["E_MAX"], [3.16227766, 10])


def test_flux_maps_errors(flux_maps, tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        FluxMaps.read(tmp_path / "missing.fits")
    other = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((3, 3))).writeto(other)
    with pytest.raises(DataFormatError, match="SED_TYPE 'likelihood'"):
        FluxMaps.read(other)
    netcdf = tmp_path / "other.nc"
    xr.Dataset({"x": ("a", [1.0])}, attrs={"product": "Something"}).to_netcdf(netcdf)
    with pytest.raises(DataFormatError, match="attribute 'product'"):
        FluxMaps.read(netcdf)
    with pytest.raises(KeyError, match="no quantity 'dnde'"):
        flux_maps["dnde"]
    image = Map(flux_maps.geom.to_image())
    with pytest.raises(GammarulesError, match="another geometry"):
        FluxMaps({"norm": flux_maps["norm"], "ts": image})


@pytest.mark.data
def test_hess_run_23523_against_gammapy(hess_dir):
    """Gammapy 2.1 on the same dataset (run 23523; 4 x 4 deg CAR at 0.02 deg around the Crab;
    reco 1-10 TeV in 10 bins, true 0.5-20 TeV in 20; MapDatasetMaker; no safe mask;
    correlation radius 0.1 deg): max sqrt_ts 18.4877 at pixel (x, y) = (99, 99); at the
    Crab (pixel (99, 100)) counts 91, excess 84.8486, sqrt_ts 17.9065, flux 1.42121e-11,
    flux_err 1.59784e-12 cm-2 s-1 and excess upper limit 105.283; in the groups 1-1.995-10
    TeV sqrt_ts 12.2406, 13.1553 and flux 9.37662e-12, 5.46213e-12 cm-2 s-1.

    The counts are identical; the background here is 0.11 % lower at the Crab (the power law
    between the IRF nodes is integrated exactly, Gammapy uses the rates at the bin edges),
    which moves sqrt_ts by 0.03 %; the reference counts of the flux differ by 0.04 % (edisp
    kernel). With Gammapy's own counts, background and exposure arrays this estimator
    reproduces its sqrt_ts to 1e-7 (median; 1e-3 at worst, where Gammapy's float32 maps
    round). Tolerance: 0.2 %.
    """
    from gammarules.data import DataStore
    from gammarules.makers import MapDatasetMaker

    observation = DataStore.from_dir(hess_dir).obs(23523)
    crab = SkyCoord(83.633, 22.014, unit="deg")
    reco = MapAxis.from_energy_bounds(1, 10, 10)
    true = MapAxis.from_energy_bounds(0.5, 20, 20, name="energy_true")
    geom = WcsGeom.create(crab, 0.02, width=4, axes=[reco])
    dataset = MapDatasetMaker().run(MapDataset.create(geom, true, name="23523"), observation)
    maps = ExcessMapEstimator("0.1 deg", selection_optional="all").run(dataset)
    sqrt_ts = maps["sqrt_ts"].data[0]
    assert np.unravel_index(np.nanargmax(sqrt_ts), sqrt_ts.shape) == (99, 99)
    assert np.nanmax(sqrt_ts) == pytest.approx(18.4877, rel=2e-3)
    at_crab = {name: maps[name].data[0, 100, 99] for name in maps.available_quantities}
    assert at_crab["counts"] == pytest.approx(91, abs=1e-9)
    expected = {
        "npred_excess": 84.8486,
        "sqrt_ts": 17.9065,
        "flux": 1.42121e-11,
        "flux_err": 1.59784e-12,
        "npred_excess_ul": 105.283,
    }
    for name, value in expected.items():
        assert at_crab[name] == pytest.approx(value, rel=2e-3), name
    groups = ExcessMapEstimator("0.1 deg", energy_edges=[1, 2, 10] * u.TeV).run(dataset)
    np.testing.assert_allclose(groups.energy_axis.edges_in("TeV"), [1, 1.99526, 10], rtol=1e-5)
    np.testing.assert_allclose(groups["sqrt_ts"].data[:, 100, 99], [12.2406, 13.1553], rtol=2e-3)
    np.testing.assert_allclose(
        groups["flux"].data[:, 100, 99], [9.37662e-12, 5.46213e-12], rtol=2e-3
    )
