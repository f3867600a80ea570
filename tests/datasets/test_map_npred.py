"""Predicted counts of map datasets: forward folding, PSF kernels, caching, background model,
Cash statistic and fits of position and extension on simulated counts."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammarules.datasets import MapDataset
from gammarules.datasets import evaluator as evaluator_module
from gammarules.errors import GammarulesError
from gammarules.fit import Fit
from gammarules.maps import MapAxis, WcsGeom
from gammarules.models import (
    FoVBackgroundModel,
    GaussianSpatialModel,
    Models,
    PointSpatialModel,
    PowerLawSpectralModel,
    SkyModel,
)
from gammarules.stats import cash

CENTER = SkyCoord(83.6, 22.0, unit="deg")
BINSZ = 0.02
SIGMA_PSF = 0.06  # deg
EXPOSURE = 1.5e14  # cm2 s


def gaussian_psf_dataset(n_reco=4, width=2.0, background=0.5, edisp=True):
    """Flat exposure and background, a Gaussian PSF of SIGMA_PSF at all energies and a
    diagonal energy dispersion (true and reco axes equal)."""
    reco = MapAxis.from_energy_bounds(1, 10, n_reco)
    true = reco.rename("energy_true")
    geom = WcsGeom.create(CENTER, BINSZ, width=width, axes=[reco])
    dataset = MapDataset.create(geom, true, name="sim", binsz_irf=0.5)
    dataset.exposure.data[:] = EXPOSURE
    dataset.background.data[:] = background
    rad = np.radians(dataset.psf.irf_map.geom.axes[1].center_in("deg"))
    sigma = np.radians(SIGMA_PSF)
    profile = np.exp(-0.5 * (rad / sigma) ** 2) / (2 * np.pi * sigma**2)
    dataset.psf.irf_map.data[:] = profile[np.newaxis, :, np.newaxis, np.newaxis]
    if edisp:
        dataset.edisp.irf_map.data[:] = np.eye(n_reco)[:, :, np.newaxis, np.newaxis]
    else:
        dataset.edisp = None
    dataset.mask_safe.data[:] = True
    return dataset


def crab_like(spatial):
    spectral = PowerLawSpectralModel(index=2.5, amplitude="3e-11 TeV-1 cm-2 s-1")
    return SkyModel(spectral, spatial, name="src")


def expected_total(dataset, model):
    edges = dataset.energy_axis_true.edges_in("TeV")
    return model.spectral_model.integral_values(edges[:-1], edges[1:]) * EXPOSURE


def test_point_source_npred_is_flux_times_exposure_per_energy():
    """The point-source kernel is divided by the PSF integral within its radius and a
    diagonal edisp keeps every photon: per energy bin, the npred total is the integral flux
    times the exposure, up to the pixelisation of the kernel's circular edge (1e-5)."""
    dataset = gaussian_psf_dataset()
    model = crab_like(PointSpatialModel(lon_0="83.61 deg", lat_0="22.005 deg"))
    dataset.models = Models([model])
    npred = dataset.npred_signal().data
    np.testing.assert_allclose(npred.sum(axis=(1, 2)), expected_total(dataset, model), rtol=1e-5)
    assert dataset.npred().data.sum() == pytest.approx(npred.sum() + 0.5 * npred.size)


def test_psf_kernel_has_the_gaussian_width_and_unit_sum():
    dataset = gaussian_psf_dataset()
    kernel = dataset.psf.get_kernel(CENTER, dataset.geom)
    np.testing.assert_allclose(kernel.sum(axis=(1, 2)), 1, rtol=1e-12)
    half = kernel.shape[-1] // 2
    offsets = np.arange(-half, half + 1) * BINSZ
    r2 = offsets[:, np.newaxis] ** 2 + offsets[np.newaxis, :] ** 2
    # <r^2> = 2 sigma^2 (+ pixel variance 2 * binsz^2 / 12 from averaging over each pixel,
    # - a little from the truncation at 99.9 % containment)
    second_moment = (kernel[0] * r2).sum()
    assert second_moment == pytest.approx(2 * SIGMA_PSF**2 + BINSZ**2 / 6, rel=0.01)
    # truncated at the 99.9 % containment radius of a 2D Gaussian: sigma sqrt(-2 ln 0.001)
    radius = SIGMA_PSF * np.sqrt(-2 * np.log(1e-3))
    assert half * BINSZ == pytest.approx(radius, abs=0.01 + BINSZ)


def test_point_source_centroid_follows_sub_pixel_moves():
    dataset = gaussian_psf_dataset()
    spatial = PointSpatialModel(lon_0="83.6 deg", lat_0="22.0 deg")
    dataset.models = Models([crab_like(spatial)])
    y, x = np.indices(dataset.geom.spatial_shape)

    def centroid():
        image = dataset.npred_signal().data.sum(axis=0)
        return (image * x).sum() / image.sum(), (image * y).sum() / image.sum()

    x0, y0 = centroid()
    spatial.lat_0.value = 22.0 + 0.3 * BINSZ
    x1, y1 = centroid()
    # the kernel is evaluated at the exact sub-pixel position; its circular edge on the pixel
    # grid shifts the centroid by less than 1e-3 pixel
    assert (x1 - x0, y1 - y0) == pytest.approx((0, 0.3), abs=1e-3)


def test_extended_source_npred_and_cutout_keep_the_flux():
    """A Gaussian (sigma 0.1 deg) far from the edges: the cutout holds its 5 sigma extent
    (with headroom) plus the PSF kernel, and the total is the flux times the exposure."""
    dataset = gaussian_psf_dataset()
    model = crab_like(GaussianSpatialModel(lon_0="83.5 deg", lat_0="22.1 deg", sigma="0.1 deg"))
    dataset.models = [model]
    npred = dataset.npred_signal().data
    np.testing.assert_allclose(npred.sum(axis=(1, 2)), expected_total(dataset, model), rtol=1e-5)
    evaluator = next(iter(dataset._evaluators.values()))
    assert evaluator.geom.spatial_shape[0] < dataset.geom.spatial_shape[0]


def test_spectral_changes_reuse_the_convolved_spatial_response(monkeypatch):
    dataset = gaussian_psf_dataset()
    spatial = GaussianSpatialModel(lon_0="83.6 deg", lat_0="22.0 deg", sigma="0.1 deg")
    model = crab_like(spatial)
    dataset.models = Models([model])
    calls = []
    original = evaluator_module.MapEvaluator._response

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(evaluator_module.MapEvaluator, "_response", counting)
    first = dataset.npred_signal().data
    model.spectral_model.amplitude.value *= 2
    second = dataset.npred_signal().data
    assert len(calls) == 1
    np.testing.assert_allclose(second, 2 * first, rtol=1e-12)
    spatial.sigma.value = 0.12
    dataset.npred_signal()
    assert len(calls) == 2


def test_background_model_norm_and_tilt_at_bin_centres():
    dataset = gaussian_psf_dataset()
    background = FoVBackgroundModel("sim")
    background.spectral_model.norm.value = 1.2
    background.spectral_model.tilt.value = 0.3
    dataset.models = Models([background])
    assert dataset.background_model is background
    energy = dataset.energy_axis.center_in("TeV")
    expected = 0.5 * 1.2 * energy ** (-0.3)
    np.testing.assert_allclose(dataset.npred_background().data[:, 3, 7], expected, rtol=1e-12)
    other = FoVBackgroundModel("other-dataset")
    dataset.models = Models([other])
    assert dataset.background_model is None
    np.testing.assert_allclose(dataset.npred_background().data, 0.5)


def test_stat_sum_is_cash_over_safe_and_fit_mask():
    dataset = gaussian_psf_dataset()
    rng = np.random.default_rng(3)
    dataset.counts.data[:] = rng.poisson(0.5, dataset.geom.data_shape)
    dataset.models = Models([crab_like(PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"))])
    dataset.mask_safe.data[0] = False
    fit_mask = dataset.mask_safe.copy()
    fit_mask.data[:] = True
    fit_mask.data[:, :10] = False
    dataset.mask_fit = fit_mask
    mask = dataset.mask_safe.data & fit_mask.data
    expected = cash(dataset.counts.data, dataset.npred().data)[mask].sum()
    assert dataset.stat_sum() == pytest.approx(expected, rel=1e-10)


def test_dataset_without_edisp_needs_equal_energy_axes():
    dataset = gaussian_psf_dataset(edisp=False)
    model = crab_like(PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"))
    dataset.models = [model]
    total = dataset.npred_signal().data.sum(axis=(1, 2))
    np.testing.assert_allclose(total, expected_total(dataset, model), rtol=1e-5)
    shifted = MapAxis.from_energy_bounds(0.9, 10, 4, name="energy_true")
    dataset.exposure = dataset.exposure.copy(geom=dataset.exposure.geom.to_cube([shifted]))
    dataset.models = [model]
    with pytest.raises(GammarulesError, match="no edisp map and different true and reco"):
        dataset.npred_signal()


def test_sky_model_without_spatial_part_is_refused():
    dataset = gaussian_psf_dataset()
    dataset.models = [SkyModel(PowerLawSpectralModel(), name="spectrum-only")]
    with pytest.raises(GammarulesError, match="'spectrum-only' has no spatial model"):
        dataset.npred()


def test_fit_recovers_position_extension_and_spectrum_of_simulated_source():
    """Poisson counts from a Gaussian source on a flat background (seeded): the fit finds
    every true value within 3 sigma of its error, and the error of sigma is the expected
    ~sigma_tot / sqrt(2 N) * sigma_tot / sigma = 0.0018 deg for N ~ 3000 counts and
    sigma_tot = sqrt(0.1**2 + 0.06**2) (PSF)."""
    truth = {"lon_0": 83.62, "lat_0": 21.98, "sigma": 0.1, "index": 2.5, "amplitude": 3e-11}
    dataset = gaussian_psf_dataset(width=1.6)
    spatial = GaussianSpatialModel(lon_0=truth["lon_0"], lat_0=truth["lat_0"], sigma=truth["sigma"])
    model = crab_like(spatial)
    dataset.models = Models([model, FoVBackgroundModel("sim")])
    dataset.fake(random_state=42)
    assert 2500 < dataset.npred_signal().data.sum() < 3500
    for name, start in (("lon_0", 83.6), ("lat_0", 22.0), ("sigma", 0.15)):
        getattr(spatial, name).value = start
    model.spectral_model.index.value = 2.0
    model.spectral_model.amplitude.value = 1e-11
    result = Fit().run([dataset])
    assert result.success
    fitted = {**{k: getattr(spatial, k) for k in ("lon_0", "lat_0", "sigma")}}
    fitted.update(index=model.spectral_model.index, amplitude=model.spectral_model.amplitude)
    for name, value in truth.items():
        parameter = fitted[name]
        assert abs(parameter.value - value) < 3 * parameter.error, name
    assert spatial.sigma.error == pytest.approx(0.002, rel=0.5)
    assert dataset.background_model.spectral_model.norm.value == pytest.approx(1, abs=0.02)


def test_fake_is_reproducible_with_a_seed():
    dataset = gaussian_psf_dataset()
    dataset.models = [crab_like(PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"))]
    dataset.fake(random_state=1)
    first = dataset.counts.data.copy()
    dataset.fake(random_state=1)
    np.testing.assert_array_equal(dataset.counts.data, first)
    assert first.sum() == pytest.approx(dataset.npred().data.sum(), rel=0.02)
    assert u.Quantity(dataset.livetime).unit == u.s


def test_flux_points_on_a_map_dataset_recover_the_simulated_spectrum():
    """Flux points of a point source on simulated counts: each norm (data over the true
    model) is 1 within 3 sigma, and the counts column sums the masked counts of the bin."""
    from gammarules.estimators import FluxPointsEstimator

    dataset = gaussian_psf_dataset()
    model = crab_like(PointSpatialModel(lon_0="83.6 deg", lat_0="22 deg"))
    dataset.models = Models([model, FoVBackgroundModel("sim")])
    dataset.fake(random_state=7)
    edges = dataset.energy_axis.edges
    table = FluxPointsEstimator(energy_edges=edges[::2]).run([dataset]).to_table("likelihood")
    assert len(table) == 2
    pulls = (table["norm"] - 1) / table["norm_err"]
    assert np.all(np.abs(pulls) < 3)
    assert np.all(table["norm_err"] < 0.1)
    np.testing.assert_allclose(
        np.ravel(table["counts"]),
        [dataset.counts.data[:2].sum(), dataset.counts.data[2:].sum()],
    )


def test_frozen_data_statistic_equals_the_full_sum():
    """Within frozen_data the background-only bins outside the source cutouts are summed in
    closed form: same value as the bin-by-bin Cash sum (also with empty-background bins and
    a tilted background model), and it follows parameter changes."""
    dataset = gaussian_psf_dataset(width=3.0)
    rng = np.random.default_rng(5)
    dataset.background.data[:] = rng.uniform(0.2, 2.0, dataset.geom.data_shape)
    dataset.background.data[:, :5, :] = 0.0
    dataset.counts.data[:] = rng.poisson(0.8, dataset.geom.data_shape)
    dataset.counts.data[:, :5, :] = 0.0
    background = FoVBackgroundModel("sim")
    background.spectral_model.tilt.value = 0.2
    model = crab_like(GaussianSpatialModel(lon_0="83.7 deg", lat_0="22.1 deg", sigma="0.1 deg"))
    dataset.models = Models([model, background])
    full = dataset.stat_sum()
    with dataset.frozen_data():
        assert dataset.stat_sum() == pytest.approx(full, rel=1e-10)
        background.spectral_model.norm.value = 1.3
        model.spatial_model.lon_0.value = 83.65
        changed = dataset.stat_sum()
    assert dataset.stat_sum() == pytest.approx(changed, rel=1e-10)
    assert changed != pytest.approx(full, rel=1e-6)
