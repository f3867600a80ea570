"""Events -> counts: C++ projections and HEALPix indices against astropy/wcslib and healpy."""

import warnings

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.wcs import WCS

from gammarules.errors import GammarulesError
from gammarules.maps.binning import (
    bin_events_healpix,
    bin_events_wcs,
    healpix_pixels,
    native_pole,
    to_frame,
    wcs_world_to_pixel,
)

CENTERS = [(0.0, 0.0), (83.63, 22.01), (266.4, -28.9)]
EDGES = np.geomspace(0.1, 100, 6)


def make_wcs(proj, center, binsz, shape, frame="icrs", lonpole=None, latpole=None):
    ny, nx = shape
    prefix = ("RA---", "DEC--") if frame == "icrs" else ("GLON-", "GLAT-")
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = [prefix[0] + proj, prefix[1] + proj]
    wcs.wcs.crval = center
    wcs.wcs.cdelt = [-binsz, binsz]
    wcs.wcs.crpix = [(nx + 1) / 2, (ny + 1) / 2]
    if lonpole is not None:
        wcs.wcs.lonpole = lonpole
    if latpole is not None:
        wcs.wcs.latpole = latpole
    return wcs


def events_near(center, radius, n, seed):
    """Positions uniform in a cap of ``radius`` deg around ``center``, plus some all-sky, and
    energies spread over (and beyond) EDGES."""
    rng = np.random.default_rng(seed)
    n_sky = n // 10
    cos_r = np.cos(np.radians(radius))
    offset = np.degrees(np.arccos(rng.uniform(cos_r, 1, n - n_sky)))
    angle = rng.uniform(0, 360, n - n_sky)
    cap = SkyCoord(*center, unit="deg").directional_offset_by(angle * u.deg, offset * u.deg)
    lon = np.concatenate([cap.ra.deg, rng.uniform(0, 360, n_sky)])
    lat = np.concatenate([cap.dec.deg, np.degrees(np.arcsin(rng.uniform(-1, 1, n_sky)))])
    energy = 10 ** rng.uniform(-1.3, 2.2, n)
    return lon, lat, energy


def reference_counts(lon, lat, energy, wcs, shape):
    """numpy.histogramdd on astropy's pixel coordinates, and the events within 1e-9 pixel of a
    pixel edge (there the two may differ by rounding)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, y = wcs.world_to_pixel_values(lon, lat)
    ny, nx = shape
    ok = np.isfinite(x) & np.isfinite(y)
    sample = np.stack([energy[ok], y[ok], x[ok]], axis=1)
    bins = [EDGES, np.arange(ny + 1) - 0.5, np.arange(nx + 1) - 0.5]
    counts, _ = np.histogramdd(sample, bins=bins)
    distance = np.minimum(np.abs(x - np.round(x + 0.5) + 0.5), np.abs(y - np.round(y + 0.5) + 0.5))
    return counts, ok & (distance < 1e-9)


@pytest.mark.parametrize("frame", ["icrs", "galactic"])
@pytest.mark.parametrize("center", CENTERS)
@pytest.mark.parametrize("proj", ["CAR", "TAN", "AIT", "SIN", "ZEA"])
def test_wcs_counts_match_astropy_histogramdd(proj, center, frame):
    shape = (90, 110)
    wcs = make_wcs(proj, center, 0.05, shape, frame)
    lon, lat, energy = events_near(center, 3.0, 40_000, seed=len(proj) + int(center[0]))
    counts = bin_events_wcs(lon, lat, wcs, shape, energy, EDGES)
    expected, near_edge = reference_counts(lon, lat, energy, wcs, shape)
    assert counts.shape == (5, *shape)
    assert counts.dtype == np.int64
    assert near_edge.sum() <= 1
    keep = ~near_edge
    if near_edge.any():
        counts = bin_events_wcs(lon[keep], lat[keep], wcs, shape, energy[keep], EDGES)
        expected, _ = reference_counts(lon[keep], lat[keep], energy[keep], wcs, shape)
    assert counts.sum() > 20_000  # most events of the cap are on the map and in EDGES
    np.testing.assert_array_equal(counts, expected)


@pytest.mark.parametrize(
    ("proj", "binsz", "shape"), [("AIT", 0.5, (360, 720)), ("CAR", 1.0, (180, 360))]
)
def test_all_sky_maps_match_astropy(proj, binsz, shape):
    rng = np.random.default_rng(3)
    n = 100_000
    lon = rng.uniform(-180, 540, n)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    energy = 10 ** rng.uniform(-1, 2, n)
    wcs = make_wcs(proj, (0.0, 0.0), binsz, shape, "galactic")
    counts = bin_events_wcs(lon, lat, wcs, shape, energy, EDGES)
    expected, near_edge = reference_counts(lon, lat, energy, wcs, shape)
    assert near_edge.sum() == 0
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == np.sum((energy >= EDGES[0]) & (energy < EDGES[-1]))


@pytest.mark.parametrize("proj", ["CAR", "AIT", "TAN", "ZEA"])
@pytest.mark.parametrize(
    ("center", "lonpole", "latpole"),
    [
        ((0.0, 0.0), None, None),
        ((83.63, 22.01), None, None),
        ((83.63, 22.01), 30.0, None),
        ((83.63, 22.01), None, -90.0),
        ((266.4, -28.9), None, None),
        ((266.4, -28.9), None, -90.0),
        ((10.0, 89.0), None, None),
        ((200.0, -60.0), 180.0, None),
    ],
)
def test_native_pole_matches_wcslib(proj, center, lonpole, latpole):
    wcs = make_wcs(proj, center, 0.1, (10, 10), lonpole=lonpole, latpole=latpole)
    alpha_p, delta_p, phi_p = native_pole(wcs)
    wcs.wcs.set()
    euler = wcs.wcs.cel.euler  # wcslib: alpha_p, 90 - delta_p, phi_p, ...
    assert (alpha_p - euler[0] + 180) % 360 - 180 == pytest.approx(0, abs=1e-9)
    assert delta_p == pytest.approx(90 - euler[1], abs=1e-9)
    assert phi_p == pytest.approx(euler[2], abs=1e-12)


@pytest.mark.parametrize("proj", ["CAR", "TAN", "SIN", "ZEA", "AIT"])
def test_pixel_coordinates_match_astropy(proj):
    """Sub-pixel agreement on a 0.02 deg grid: differences far below 1e-9 pixel."""
    shape = (250, 250)
    wcs = make_wcs(proj, (83.63, 22.01), 0.02, shape)
    lon, lat, _ = events_near((83.63, 22.01), 3.0, 20_000, seed=5)
    x, y = wcs_world_to_pixel(lon, lat, wcs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x_ref, y_ref = wcs.world_to_pixel_values(lon, lat)
    np.testing.assert_array_equal(np.isnan(x), np.isnan(x_ref))
    on_map = (np.abs(x_ref - 125) < 500) & (np.abs(y_ref - 125) < 500)
    assert np.max(np.abs(x - x_ref)[on_map]) < 1e-9
    assert np.max(np.abs(y - y_ref)[on_map]) < 1e-9


def test_tan_far_hemisphere_not_counted():
    wcs = make_wcs("TAN", (0.0, 0.0), 1.0, (10, 10))
    # the antipode-side point (180, 0) would project onto the centre without the check
    counts = bin_events_wcs([0.0, 180.0, 179.0], [0.0, 0.0, 1.0], wcs, (10, 10))
    assert counts.sum() == 1
    assert counts[5, 4] + counts[4, 4] + counts[4, 5] + counts[5, 5] == 1


def test_energy_bins_are_half_open_and_outliers_dropped():
    wcs = make_wcs("CAR", (0.0, 0.0), 1.0, (4, 4))
    energy = np.array([1.0, 2.0, 3.0, 0.5, 3.5, np.nan, 2.5, 2.5])
    lon = np.array([0.2, 0.2, 0.2, 0.2, 0.2, 0.2, np.nan, 30.0])
    lat = np.full(energy.shape, 0.2)
    counts = bin_events_wcs(lon, lat, wcs, (4, 4), energy, [1.0, 2.0, 3.0])
    # (0.2, 0.2) deg: x = 1.5 - 0.2 = 1.3 -> pixel 1; y = 1.5 + 0.2 = 1.7 -> pixel 2
    assert counts[:, 2, 1].tolist() == [1, 1]
    assert counts.sum() == 2


def test_rotated_wcs_goes_through_astropy():
    shape = (60, 80)
    wcs = make_wcs("CAR", (83.63, 22.01), 0.05, shape)
    angle = np.radians(25)
    wcs.wcs.pc = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    lon, lat, energy = events_near((83.63, 22.01), 2.0, 20_000, seed=8)
    counts = bin_events_wcs(lon, lat, wcs, shape, energy, EDGES)
    expected, near_edge = reference_counts(lon, lat, energy, wcs, shape)
    assert near_edge.sum() == 0
    np.testing.assert_array_equal(counts, expected)
    x, y = wcs_world_to_pixel(lon, lat, wcs)
    np.testing.assert_array_equal(np.stack([x, y]), np.stack(wcs.world_to_pixel_values(lon, lat)))


def test_unsupported_projection_goes_through_astropy():
    shape = (90, 180)
    wcs = make_wcs("MOL", (0.0, 0.0), 2.0, shape, "galactic")
    rng = np.random.default_rng(2)
    lon = rng.uniform(0, 360, 20_000)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 20_000)))
    energy = np.ones_like(lon)
    counts = bin_events_wcs(lon, lat, wcs, shape)
    expected, _ = reference_counts(lon, lat, energy, wcs, shape)
    np.testing.assert_array_equal(counts, expected.sum(axis=0))


def random_sphere(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-360, 720, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


@pytest.mark.parametrize("nest", [False, True])
@pytest.mark.parametrize("nside", [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
def test_healpix_pixels_match_healpy(nside, nest):
    lon, lat = random_sphere(50_000, seed=nside)
    # the poles, the cap/belt boundaries |z| = 2/3, longitudes beyond [0, 360)
    lat[:6] = [90, -90, np.degrees(np.arcsin(2 / 3)), -np.degrees(np.arcsin(2 / 3)), 5, 45]
    lon[:6] = [0, 90, 190, 280, 370, -95]
    expected = hp.ang2pix(nside, lon, lat, nest=nest, lonlat=True)
    np.testing.assert_array_equal(healpix_pixels(nside, lon, lat, nest), expected)


@pytest.mark.parametrize("nside", [3, 5, 100, 1000])
def test_healpix_ring_any_nside(nside):
    lon, lat = random_sphere(50_000, seed=nside)
    expected = hp.ang2pix(nside, lon, lat, nest=False, lonlat=True)
    np.testing.assert_array_equal(healpix_pixels(nside, lon, lat, False), expected)


@pytest.mark.parametrize("nest", [False, True])
def test_healpix_counts_and_partial_maps(nest):
    nside = 16
    lon, lat = random_sphere(60_000, seed=4)
    energy = 10 ** np.random.default_rng(5).uniform(-1.5, 2.5, lon.size)
    pix = hp.ang2pix(nside, lon, lat, nest=nest, lonlat=True)
    ebin = np.searchsorted(EDGES, energy, side="right") - 1
    ok = (ebin >= 0) & (ebin < len(EDGES) - 1)
    expected = np.bincount(ebin[ok] * hp.nside2npix(nside) + pix[ok], minlength=5 * 3072)
    expected = expected.reshape(5, 3072)
    counts = bin_events_healpix(lon, lat, nside, nest, energy, EDGES)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(
        bin_events_healpix(lon, lat, nside, nest), np.bincount(pix, minlength=3072)
    )
    pixels = np.random.default_rng(6).permutation(3072)[:500]
    partial = bin_events_healpix(lon, lat, nside, nest, energy, EDGES, pixels=pixels)
    np.testing.assert_array_equal(partial, expected[:, pixels])


@pytest.fixture(scope="module")
def many_events():
    """2^19 events (above the threading threshold of the kernels, 2^18) around the Crab."""
    rng = np.random.default_rng(9)
    n = 2**19
    lon = rng.normal(83.63, 3.0, n)
    lat = rng.normal(22.01, 3.0, n)
    return lon, lat, 10 ** rng.uniform(-1.3, 2.2, n)


@pytest.mark.parametrize("n_threads", [2, 3, 4])
def test_threads_give_the_single_thread_result(many_events, n_threads):
    lon, lat, energy = many_events
    wcs = make_wcs("CAR", (83.63, 22.01), 0.1, (100, 100))
    # few bins: one histogram per thread; many bins: per-event indices counted at the end
    for binning in [
        lambda t: bin_events_wcs(lon, lat, wcs, (100, 100), energy, EDGES, n_threads=t),
        lambda t: bin_events_healpix(lon, lat, 256, True, energy, EDGES, n_threads=t),
    ]:
        single = binning(1)
        assert single.sum() > lon.size // 2
        np.testing.assert_array_equal(binning(n_threads), single)


def test_to_frame_matches_astropy():
    lon, lat = random_sphere(10_000, seed=10)
    icrs = SkyCoord(lon, lat, unit="deg", frame="icrs")
    l_gal, b_gal = to_frame(icrs, "galactic")
    galactic = SkyCoord(l_gal, b_gal, unit="deg", frame="galactic")
    assert np.max(galactic.separation(icrs.galactic).deg) < 1e-9
    assert np.all((l_gal >= 0) & (l_gal < 360))
    ra, dec = to_frame(icrs.galactic, "icrs")
    assert np.max(SkyCoord(ra, dec, unit="deg").separation(icrs).deg) < 1e-9
    ra, dec = to_frame(icrs, "icrs")
    np.testing.assert_array_equal(ra, icrs.ra.deg)


def test_quantities_are_converted():
    wcs = make_wcs("TAN", (83.63, 22.01), 0.1, (20, 20))
    lon, lat, energy = events_near((83.63, 22.01), 1.0, 5_000, seed=11)
    plain = bin_events_wcs(lon, lat, wcs, (20, 20), energy, EDGES)
    quantities = bin_events_wcs(
        np.radians(lon) * u.rad, lat * u.deg, wcs, (20, 20), energy * 1e3 * u.GeV, EDGES * u.TeV
    )
    np.testing.assert_array_equal(plain, quantities)


def test_bad_inputs_raise():
    wcs = make_wcs("CAR", (0.0, 0.0), 1.0, (4, 4))
    with pytest.raises(GammarulesError, match="same shape"):
        bin_events_wcs([1.0, 2.0], [1.0], wcs, (4, 4))
    with pytest.raises(GammarulesError, match="both energy and energy_edges"):
        bin_events_wcs([1.0], [1.0], wcs, (4, 4), energy=[1.0])
    with pytest.raises(GammarulesError, match="strictly increasing"):
        bin_events_wcs([1.0], [1.0], wcs, (4, 4), [1.0], [1.0, 1.0, 2.0])
    with pytest.raises(GammarulesError, match="one per event"):
        bin_events_wcs([1.0], [1.0], wcs, (4, 4), [1.0, 2.0], [1.0, 2.0])
    with pytest.raises(GammarulesError, match=r"\(ny, nx\)"):
        bin_events_wcs([1.0], [1.0], wcs, (4, 0))
    with pytest.raises(GammarulesError, match="lon has unit s"):
        bin_events_wcs([1.0] * u.s, [1.0], wcs, (4, 4))
    with pytest.raises(GammarulesError, match="2 celestial axes"):
        bin_events_wcs([1.0], [1.0], WCS(naxis=2), (4, 4))
    ill = make_wcs("CAR", (83.63, 22.01), 1.0, (4, 4), lonpole=180.0)
    with pytest.raises(GammarulesError, match="WCS is invalid"):
        bin_events_wcs([1.0], [1.0], ill, (4, 4))
    with pytest.raises(GammarulesError, match="no native pole"):
        native_pole(ill)
    with pytest.raises(GammarulesError, match="power of 2"):
        bin_events_healpix([1.0], [1.0], 3, nest=True)
    with pytest.raises(GammarulesError, match="must not repeat"):
        bin_events_healpix([1.0], [1.0], 2, nest=True, pixels=[1, 2, 1])
    with pytest.raises(GammarulesError, match=r"0 \.\. 47"):
        bin_events_healpix([1.0], [1.0], 2, nest=True, pixels=[48])
    with pytest.raises(GammarulesError, match="frame must be"):
        to_frame(SkyCoord(1, 1, unit="deg"), "fk4")


@pytest.mark.data
def test_hess_run_23523_counts(data_dir):
    from gammarules.data import DataStore

    events = DataStore.from_dir(data_dir / "hess-dl3-dr1").obs(23523).events
    lon, lat = to_frame(events.radec, "icrs")
    energy = events.energy.to_value("TeV")
    edges = np.geomspace(0.5, 50, 9)

    # CAR map of 4 x 3 deg around the Crab: the footprint from astropy's pixel coordinates
    shape = (150, 200)
    wcs = make_wcs("CAR", (83.63, 22.01), 0.02, shape)
    counts = bin_events_wcs(lon, lat, wcs, shape, energy, edges)
    x, y = wcs.world_to_pixel_values(lon, lat)
    inside = (x >= -0.5) & (x < 199.5) & (y >= -0.5) & (y < 149.5)
    in_energy = (energy >= edges[0]) & (energy < edges[-1])
    assert 0 < counts.sum() == np.sum(inside & in_energy) < len(events)
    assert bin_events_wcs(lon, lat, wcs, shape).sum() == inside.sum()

    # Galactic HEALPix: all-sky holds every event; a 1 deg cone holds the events in its pixels
    l_gal, b_gal = to_frame(events.radec, "galactic")
    nside = 256
    assert bin_events_healpix(l_gal, b_gal, nside, True).sum() == len(events)
    crab = SkyCoord(83.63, 22.01, unit="deg").galactic
    cone = hp.query_disc(nside, hp.ang2vec(crab.l.deg, crab.b.deg, lonlat=True), np.radians(1))
    cone = hp.ring2nest(nside, cone)
    partial = bin_events_healpix(l_gal, b_gal, nside, True, energy, edges, pixels=cone)
    in_cone = np.isin(hp.ang2pix(nside, l_gal, b_gal, nest=True, lonlat=True), cone)
    assert 0 < partial.sum() == np.sum(in_cone & in_energy)
