"""MapDatasetMaker and the map safe masks on a synthetic observation with analytic IRFs, and
the H.E.S.S. DR1 Crab acceptance numbers against Gammapy 2.1."""

import fake_observation as fake
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.time import Time

from gammarules.datasets import MapDataset
from gammarules.errors import ConfigError, GammarulesError
from gammarules.irf import Background2D, Background3D
from gammarules.makers import MapDatasetMaker, make_map_dataset
from gammarules.makers.map import fov_coordinates, has_reversed_fov_lon
from gammarules.makers.safe_mask import SafeMaskMaker
from gammarules.maps import Map, MapAxis, WcsGeom

ONTIME_S = 2000.0
BKG_NORM = 1e-3  # s-1 MeV-1 sr-1 at 1 TeV
BKG_SLOPE = 0.3  # log-rate gradient per degree of fov_lon


class GaussianPSFWithProfile(fake.GaussianPSF):
    def evaluate(self, rad, energy_true, offset):
        sigma = np.radians(self.sigma_deg(energy_true))
        theta = np.radians(u.Quantity(rad, "deg").value)
        return np.exp(-0.5 * (theta / sigma) ** 2) / (2 * np.pi * sigma**2) / u.sr


def bkg_energy_axis():
    return MapAxis.from_energy_bounds(0.05, 200, 20, name="energy")


def power_law_rate(energy_axis):
    """BKG_NORM (E / TeV)^-2: exact under log-log interpolation between nodes."""
    return BKG_NORM * energy_axis.center_in("TeV") ** -2.0


def background_2d():
    energy = bkg_energy_axis()
    offset = MapAxis([0.0, 1.0, 2.0, 3.0], name="offset", unit="deg", interp="lin")
    data = np.repeat(power_law_rate(energy)[:, None], offset.nbin, axis=1)
    return Background2D([energy, offset], data, "s-1 MeV-1 sr-1")


def background_3d(alignment="RADEC"):
    energy = bkg_energy_axis()
    fov = np.linspace(-3, 3, 13)
    lon = MapAxis(fov, name="fov_lon", unit="deg", interp="lin")
    lat = MapAxis(fov, name="fov_lat", unit="deg", interp="lin")
    gradient = np.exp(BKG_SLOPE * lon.center_in("deg"))
    data = power_law_rate(energy)[:, None, None] * gradient[None, :, None] * np.ones(12)
    return Background3D([energy, lon, lat], data, "s-1 MeV-1 sr-1", {"FOVALIGN": alignment})


def integral_mev(energy_axis):
    """Integral of (E / TeV)^-2 over each bin, in MeV (E in MeV)."""
    lo, hi = energy_axis.edges_min.to_value("TeV"), energy_axis.edges_max.to_value("TeV")
    return 1e6 * (1 / lo - 1 / hi)


@pytest.fixture(scope="module")
def observation():
    radec, energy = fake.random_events_around([fake.POINTING], 3000, 2.0, seed=3)
    obs = fake.observation(fake.event_list(radec, energy))
    obs.ontime = ONTIME_S * u.s
    obs.psf = GaussianPSFWithProfile()
    obs.bkg = background_2d()
    return obs


@pytest.fixture(scope="module")
def empty():
    reco, true = fake.energy_axes()
    geom = WcsGeom.create(fake.POINTING, 0.1, width=(3.0, 2.0), axes=[reco])
    return MapDataset.create(geom, true, name="empty", binsz_irf=0.5)


@pytest.fixture(scope="module")
def dataset(empty, observation):
    return MapDatasetMaker().run(empty, observation)


def test_counts_match_an_independent_histogram(dataset, observation):
    events = observation.events
    expected = Map(dataset.geom)
    expected.fill_by_coord(events.radec, energy=events.energy)
    np.testing.assert_array_equal(dataset.counts.data, expected.data)
    assert 1000 < dataset.counts.data.sum() < len(events)


def test_exposure_is_analytic(dataset):
    offset = dataset.geom.separation(fake.POINTING).deg
    energy = dataset.energy_axis_true.center_in("TeV")[:, None, None]
    area_cm2 = fake.area_at_nodes_m2(energy) * 1e4 * (1 - fake.AEFF_SLOPE * offset)
    np.testing.assert_allclose(
        dataset.exposure.quantity.to_value("cm2 s"), area_cm2 * fake.LIVETIME_S, rtol=1e-10
    )
    assert dataset.livetime == fake.LIVETIME_S * u.s


def test_background_2d_is_analytic(dataset):
    solid_angle = dataset.geom.solid_angle().to_value("sr")
    expected = BKG_NORM * integral_mev(dataset.energy_axis)[:, None, None] * solid_angle
    np.testing.assert_allclose(dataset.background.data, expected * ONTIME_S, rtol=1e-9)


def test_fov_coordinates_sign_and_values():
    pointing = SkyCoord(10.0, 0.0, unit="deg")
    east = SkyCoord([11.0, 10.0], [0.0, 2.0], unit="deg")
    lon, lat = fov_coordinates(east, pointing)
    np.testing.assert_allclose(lon, [-1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(lat, [0.0, 2.0], atol=1e-12)
    lon_legacy, _ = fov_coordinates(east, pointing, reverse_lon=True)
    np.testing.assert_allclose(lon_legacy, [1.0, 0.0], atol=1e-12)


def test_background_3d_follows_the_fov_longitude(empty, observation):
    observation.bkg = background_3d()
    try:
        result = MapDatasetMaker(selection=["background"]).run(empty, observation)
    finally:
        observation.bkg = background_2d()
    geom = empty.geom
    fov_lon, _ = fov_coordinates(geom.get_coord(), fake.POINTING)
    solid_angle = geom.solid_angle().to_value("sr")
    expected = (
        BKG_NORM
        * integral_mev(empty.energy_axis)[:, None, None]
        * np.exp(BKG_SLOPE * fov_lon)
        * solid_angle
        * ONTIME_S
    )
    np.testing.assert_allclose(result.background.data, expected, rtol=1e-9)
    # pixel x = 0 is east (larger RA) of the pointing: negative fov_lon, less background
    ny, nx = geom.spatial_shape
    assert result.background.data[0, ny // 2, 0] < result.background.data[0, ny // 2, -1]


def test_background_oversampling_of_a_flat_rate_changes_nothing(empty, observation, dataset):
    maker = MapDatasetMaker(selection=["background"], background_oversampling=3)
    result = maker.run(empty, observation)
    np.testing.assert_allclose(result.background.data, dataset.background.data, rtol=1e-9)


LOCATION = EarthLocation(lon=16.5 * u.deg, lat=-23.27 * u.deg, height=1835 * u.m)


def test_altaz_fov_coordinates_follow_altitude_and_azimuth():
    """ALTAZ-aligned field of view: a point straight above the pointing (altitude + 0.5 deg)
    is at (0, +0.5); one at the same altitude, 0.5 deg along azimuth is at (-0.5, 0) (GADF:
    fov_lon grows towards decreasing azimuth, as towards decreasing RA for RADEC)."""
    frame = AltAz(obstime=Time("2006-01-01T22:00:00"), location=LOCATION)
    pointing = SkyCoord(az=30 * u.deg, alt=60 * u.deg, frame=frame).icrs
    above = SkyCoord(az=30 * u.deg, alt=60.5 * u.deg, frame=frame).icrs
    lon, lat = fov_coordinates(above, pointing, altaz=frame)
    assert (lon, lat) == pytest.approx((0, 0.5), abs=1e-6)
    along = SkyCoord(
        az=30 * u.deg + 0.5 * u.deg / np.cos(np.radians(60)), alt=60 * u.deg, frame=frame
    )
    lon, lat = fov_coordinates(along.icrs, pointing, altaz=frame)
    # a small circle of constant altitude bends from the great circle by
    # 0.5**2 tan(60 deg) / 2 = 0.0038 deg (in rad units) in latitude
    assert lon == pytest.approx(-0.5, abs=1e-3)
    assert lat == pytest.approx(
        np.radians(0.5) ** 2 * np.tan(np.radians(60)) / 2 * 180 / np.pi, rel=0.02
    )


def test_altaz_background_uses_horizontal_field_of_view(empty, observation):
    """FOVALIGN=ALTAZ: the rate at each pixel is taken at its ALTAZ field-of-view position at
    the middle of the observation, which differs from the RADEC one by the parallactic angle."""
    observation.bkg = background_3d("ALTAZ")
    observation.tstart = Time("2006-01-01T21:30:00")
    observation.tstop = Time("2006-01-01T22:30:00")
    observation.earth_location = LOCATION
    try:
        result = MapDatasetMaker(selection=["background"]).run(empty, observation)
    finally:
        observation.bkg = background_2d()
    geom = empty.geom
    frame = AltAz(obstime=Time("2006-01-01T22:00:00"), location=LOCATION)
    fov_lon, _ = fov_coordinates(geom.get_coord(), fake.POINTING, altaz=frame)
    expected = (
        BKG_NORM
        * integral_mev(empty.energy_axis)[:, None, None]
        * np.exp(BKG_SLOPE * fov_lon)
        * geom.solid_angle().to_value("sr")
        * ONTIME_S
    )
    np.testing.assert_allclose(result.background.data, expected, rtol=1e-9)
    radec_lon, _ = fov_coordinates(geom.get_coord(), fake.POINTING)
    assert np.abs(fov_lon - radec_lon).max() > 0.05


def test_unknown_fov_alignment_is_refused(empty, observation):
    observation.bkg = background_3d("GALACTIC")
    try:
        with pytest.raises(GammarulesError, match="FOVALIGN='GALACTIC'"):
            MapDatasetMaker(selection=["background"]).run(empty, observation)
    finally:
        observation.bkg = background_2d()


def test_legacy_hess_header_reverses_fov_lon(observation):
    assert not has_reversed_fov_lon(observation)
    radec, energy = fake.random_events_around([fake.POINTING], 5, 1.0, seed=1)
    events = fake.event_list(radec, energy)
    events.meta.update(CREATOR="SASH FITS::EventListWriter", HDUVERS="0.2")
    assert has_reversed_fov_lon(fake.observation(events))


def test_psf_map_is_the_psf_at_each_coarse_pixel(dataset):
    psf = dataset.psf
    geom = psf.irf_map.geom
    energy_true, rad = geom.axes
    sigma = np.radians(fake.GaussianPSF.sigma_deg(energy_true.center))[:, None]
    theta = np.radians(rad.center_in("deg"))[None, :]
    profile = np.exp(-0.5 * (theta / sigma) ** 2) / (2 * np.pi * sigma**2)
    np.testing.assert_allclose(
        psf.irf_map.data, profile[..., None, None] * np.ones(geom.spatial_shape)
    )
    offset = psf.geom.separation(fake.POINTING).deg
    area = fake.area_at_nodes_m2(energy_true.center_in("TeV"))[:, None, None] * 1e4
    np.testing.assert_allclose(
        psf.exposure_map.data, area * (1 - fake.AEFF_SLOPE * offset) * fake.LIVETIME_S
    )


def test_edisp_map_is_the_kernel_at_each_coarse_pixel(dataset, observation):
    edisp = dataset.edisp
    offset = edisp.geom.separation(fake.POINTING)
    for iy, ix in [(0, 0), (2, 3), (-1, -1)]:
        kernel = observation.edisp.to_kernel(
            offset[iy, ix], dataset.energy_axis_true, dataset.energy_axis
        )
        np.testing.assert_allclose(edisp.irf_map.data[:, :, iy, ix], kernel, rtol=1e-6)
    assert edisp.irf_map.data.shape[:2] == (dataset.energy_axis_true.nbin, dataset.energy_axis.nbin)


def test_safe_mask_offset_max_and_aeff_default(dataset, observation):
    observation.aeff.meta.update(LO_THRES=1.0, HI_THRES=50.0)
    try:
        maker = SafeMaskMaker(["aeff-default", "offset-max"], offset_max="1.2 deg")
        result = maker.run(dataset, observation)
    finally:
        del observation.aeff.meta["LO_THRES"], observation.aeff.meta["HI_THRES"]
    within = dataset.geom.separation(fake.POINTING).deg < 1.2
    edges = dataset.energy_axis.edges_in("TeV")
    in_range = (edges[:-1] >= 1.0 * (1 - 1e-10)) & (edges[1:] <= 50.0 * (1 + 1e-10))
    np.testing.assert_array_equal(result.mask_safe.data, in_range[:, None, None] & within)
    assert 0 < within.sum() < within.size and 0 < in_range.sum() < in_range.size


def test_safe_mask_aeff_max_and_bkg_peak(dataset):
    energy = dataset.energy_axis_true.center_in("TeV")
    area = fake.area_at_nodes_m2(energy)
    # aeff-max on the exposure at the centre pixel: the area rises monotonically
    i = int(np.argmax(area >= 0.3 * area.max()))
    crossing = np.exp(
        np.interp(
            np.log(0.3 * area.max()), np.log(area[i - 1 : i + 1]), np.log(energy[i - 1 : i + 1])
        )
    )
    result = SafeMaskMaker(["aeff-max"], aeff_percent=30).run(dataset)
    lo = dataset.energy_axis.edges_min.to_value("TeV")
    np.testing.assert_array_equal(result.mask_safe.data[:, 0, 0], lo >= crossing * (1 - 1e-10))
    # the background falls with energy: bkg-peak keeps everything
    peak = SafeMaskMaker(["bkg-peak"]).run(dataset)
    assert peak.mask_safe.data.all()
    with pytest.raises(ConfigError, match="edisp-bias"):
        SafeMaskMaker(["edisp-bias"]).run(dataset)


def test_stacking_two_cutouts(empty, observation):
    stacked = empty.copy()
    safe = SafeMaskMaker(["offset-max"], offset_max="0.8 deg")
    parts = []
    for shift in (-0.5, 0.5):
        observation.pointing_radec = fake.POINTING.spherical_offsets_by(shift * u.deg, 0 * u.deg)
        parts.append(make_map_dataset(stacked, observation, "1.6 deg", safe_mask_maker=safe))
        stacked.stack(parts[-1])
    observation.pointing_radec = fake.POINTING
    a, b = parts
    assert a.geom.spatial_shape == (16, 16)
    total = sum(p.counts.data[p.mask_safe.data].sum() for p in parts)
    assert stacked.info_dict()["counts"] == total > 0
    exposure = sum(p.exposure.data[:, p.mask_safe.data.any(axis=0)].sum() for p in parts)
    assert stacked.exposure.data.sum() == pytest.approx(exposure, rel=1e-12)
    assert stacked.mask_safe.data.sum() < a.mask_safe.data.sum() + b.mask_safe.data.sum()
    assert stacked.livetime == 2 * fake.LIVETIME_S * u.s
    # PSF: exposure-weighted mean where the two cutouts overlap (the map centre)
    psf = stacked.psf
    iy, ix = (n // 2 for n in psf.geom.spatial_shape)
    center = psf.geom.pix_to_coord(ix, iy)
    values, weights = [], []
    for p in parts:
        jy, jx = (int(v) for v in np.round(p.psf.geom.coord_to_pix(center)[::-1]))
        values.append(p.psf.irf_map.data[:, :, jy, jx])
        weights.append(p.psf.exposure_map.data[:, jy, jx][:, None])
    expected = (values[0] * weights[0] + values[1] * weights[1]) / (weights[0] + weights[1])
    np.testing.assert_allclose(psf.irf_map.data[:, :, iy, ix], expected)


def test_maker_rejects_unknown_products_and_foreign_grids(empty, dataset):
    with pytest.raises(GammarulesError, match="unknown selection"):
        MapDatasetMaker(selection=["counts", "npred"])
    other = MapDataset.create(
        WcsGeom.create(fake.POINTING, 0.07, width=1.0, axes=[empty.energy_axis]),
        empty.energy_axis_true,
    )
    with pytest.raises(GammarulesError, match="not a cutout"):
        empty.copy().stack(other)


@pytest.mark.data
def test_hess_crab_stacked_counts_exposure_background(hess_dir):
    from gammarules.data import DataStore

    store = DataStore.from_dir(hess_dir)
    reco = MapAxis.from_energy_bounds(1, 10, 10)
    true = MapAxis.from_energy_bounds(0.5, 20, 20, name="energy_true")
    geom = WcsGeom.create(SkyCoord(83.633, 22.014, unit="deg"), 0.02, width=4, axes=[reco])
    stacked = MapDataset.create(geom, true, name="stacked")
    safe = SafeMaskMaker(["aeff-default", "offset-max"], offset_max="2.5 deg")
    for obs in store.get_observations([23523, 23526, 23559, 23592]):
        stacked.stack(make_map_dataset(stacked, obs, "5 deg", safe_mask_maker=safe))
    counts = (stacked.counts.data * stacked.mask_safe.data).sum(axis=(1, 2))
    assert counts.tolist() == [1385, 1028, 889, 733, 579, 449, 360, 298, 253, 195]
    # Gammapy 2.1, MapDatasetMaker + SafeMaskMaker on the same settings (cutout 5 deg around
    # each pointing, stacked): exposure 1.1562546e15 m2 s, background 5899.076 counts (the
    # safe mask covers the whole map). Gammapy integrates the background over each energy
    # bin from the rates at the bin edges; here the power law between nodes is integrated
    # exactly, which is 0.2 % lower in total.
    assert stacked.exposure.quantity.to_value("m2 s").sum() == pytest.approx(1.1562546e15, rel=0.01)
    assert stacked.background.data.sum() == pytest.approx(5899.076, rel=0.01)
    assert stacked.mask_safe.data.all()
    info = stacked.info_dict()
    assert info["counts"] == 6169
    assert info["livetime_s"] == pytest.approx(6313.81, rel=1e-5)
