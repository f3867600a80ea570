"""Map: construction, axis operations, look-up, filling, interpolation, reprojection."""

from types import SimpleNamespace

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammarules.errors import GammarulesError
from gammarules.maps import HpxGeom, Map, MapAxis, WcsGeom

CRAB = SkyCoord(83.633, 22.014, unit="deg")
GC = SkyCoord(0, 0, unit="deg", frame="galactic")
ENERGY = MapAxis.from_energy_bounds(1, 100, 4, unit="TeV")


def test_construction_and_units():
    geom = WcsGeom.create(CRAB, 0.1, npix=(5, 4), axes=[ENERGY])
    m = Map.from_geom(geom, unit="cm-2 s-1")
    assert m.data.shape == (4, 4, 5) and (m.data == 0).all()
    assert m.quantity.unit == u.Unit("cm-2 s-1")
    assert Map(geom, dtype=bool).data.dtype == bool
    with pytest.raises(GammarulesError, match=r"\(4, 5\).*\(4, 4, 5\)"):
        Map(geom, np.zeros((4, 5)))
    copy = m.copy()
    copy.data[0, 0, 0] = 1
    assert m.data[0, 0, 0] == 0


def test_sum_and_slice_over_axes():
    geom = WcsGeom.create(CRAB, 0.1, npix=(3, 2), axes=[ENERGY])
    data = np.arange(24.0).reshape(4, 2, 3)
    m = Map(geom, data, unit="ct")
    summed = m.sum_over_axes()
    assert summed.geom.axes[0].nbin == 1
    np.testing.assert_array_equal(summed.data[0], data.sum(axis=0))
    image = m.sum_over_axes(keepdims=False)
    assert image.geom == geom.to_image() and image.unit == u.ct
    part = m.slice_by_idx({"energy": slice(1, 3)})
    np.testing.assert_array_equal(part.data, data[1:3])
    np.testing.assert_allclose(part.geom.axes[0].edges.value, ENERGY.edges.value[1:4])
    plane = m.slice_by_idx({"energy": 2})
    np.testing.assert_array_equal(plane.data, data[2])
    assert plane.geom.axes == []
    with pytest.raises(GammarulesError, match="unknown axis"):
        m.slice_by_idx({"time": 0})


def test_cutout_takes_the_parent_pixels():
    geom = WcsGeom.create(GC, 0.1, npix=(40, 30), frame="galactic", axes=[ENERGY])
    m = Map(geom, np.random.default_rng(1).random(geom.data_shape))
    cut = m.cutout(geom.pix_to_coord(20, 10), 0.5)
    assert cut.data.shape == (4, 5, 5)
    np.testing.assert_array_equal(cut.data, m.data[:, 8:13, 18:23])
    hpx = Map(HpxGeom(32, frame="galactic"), np.arange(12 * 32**2))
    small = hpx.cutout(GC, 4 * u.deg)
    np.testing.assert_array_equal(small.data, small.geom.pixels)


def test_get_and_fill_by_coord():
    geom = WcsGeom.create(CRAB, 0.1, npix=(7, 5), proj="TAN", axes=[ENERGY])
    m = Map(geom, np.arange(4 * 35).reshape(4, 5, 7))
    iy, ix = np.array([0, 2, 4]), np.array([0, 3, 6])
    coords = geom.pix_to_coord(ix + 0.3, iy - 0.4)
    energy = [1.5, 20, 99] * u.TeV
    np.testing.assert_array_equal(m.get_by_coord(coords, energy=energy), m.data[[0, 2, 3], iy, ix])
    far = SkyCoord(CRAB.ra.deg + 3, CRAB.dec.deg, unit="deg")
    assert np.isnan(m.get_by_coord(far, energy=2 * u.TeV))
    assert m.get_by_coord(CRAB, energy=200 * u.TeV, fill_value=-1) == -1
    with pytest.raises(GammarulesError, match="missing coordinate.*energy"):
        m.get_by_coord(CRAB)

    counts = Map.from_geom(geom)
    positions = geom.pix_to_coord(np.array([1, 1, 1, 5, 60]), np.array([2, 2, 2, 0, 0]))
    counts.fill_by_coord(positions, energy=[2, 2, 50, 2, 2] * u.TeV)
    assert counts.data.sum() == 4
    assert counts.data[0, 2, 1] == 2 and counts.data[3, 2, 1] == 1 and counts.data[0, 0, 5] == 1


def test_interp_by_coord_is_bilinear_and_log_linear():
    geom = WcsGeom.create(GC, 0.1, npix=(20, 10), frame="galactic", proj="CAR", axes=[ENERGY])
    y, x = np.indices(geom.spatial_shape)
    log_e = np.log(ENERGY.center.value)[:, None, None]
    m = Map(geom, 2 * x + 3 * y + 5 * log_e)
    px, py = np.array([3.25, 10.5, 0.0]), np.array([4.75, 2.0, 9.0])
    energy = np.array([2.0, 30.0, 5.0]) * u.TeV
    values = m.interp_by_coord(geom.pix_to_coord(px, py), energy=energy)
    np.testing.assert_allclose(values, 2 * px + 3 * py + 5 * np.log(energy.value), rtol=1e-9)
    far = SkyCoord(20, 0, unit="deg", frame="galactic")
    assert np.isnan(m.interp_by_coord(far, energy=2 * u.TeV))


def test_hpx_interp_matches_smooth_function():
    geom = HpxGeom(64, nest=False, frame="galactic")
    lon, lat = geom.get_coord().l.rad, geom.get_coord().b.rad
    m = Map(geom, np.cos(lat) * np.cos(lon))
    pos = SkyCoord([10.3, -40.2, 100.0], [5.1, 30.3, -60.0], unit="deg", frame="galactic")
    expected = np.cos(pos.b.rad) * np.cos(pos.l.rad)
    np.testing.assert_allclose(m.interp_by_coord(pos), expected, atol=2e-3)


def test_reproject_interpolates_intensity():
    source = WcsGeom.create(GC, 0.05, npix=(120, 80), frame="galactic", proj="CAR")
    coords = source.get_coord()
    m = Map(source, 1 + 0.5 * coords.l.wrap_at("180d").deg + coords.b.deg)
    target = WcsGeom.create(GC.icrs, 0.08, npix=(30, 30), frame="icrs", proj="TAN")
    out = m.reproject_to_geom(target)
    t = target.get_coord().galactic
    expected = 1 + 0.5 * t.l.wrap_at("180d").deg + t.b.deg
    np.testing.assert_allclose(out.data, expected, atol=1e-3)


def test_reproject_preserve_counts_conserves_the_sum():
    source = WcsGeom.create(GC, 0.1, npix=(40, 30), frame="galactic", proj="CAR", axes=[ENERGY])
    rng = np.random.default_rng(3)
    m = Map(source, rng.poisson(5.0, source.data_shape).astype(float))
    # a larger ICRS TAN map holding the whole source map: every count lands somewhere
    target = WcsGeom.create(GC.icrs, 0.07, npix=(90, 90), frame="icrs", proj="TAN")
    out = m.reproject_to_geom(target, preserve_counts=True)
    assert out.geom.axes == source.axes
    np.testing.assert_allclose(out.data.sum(axis=(1, 2)), m.data.sum(axis=(1, 2)), rtol=1e-12)
    # and locally: the counts within 1 deg of the centre agree to the edge-pixel level
    inner_src = m.data[:, source.separation(GC).deg < 1].sum()
    inner_tgt = out.data[:, target.separation(GC).deg < 1].sum()
    np.testing.assert_allclose(inner_tgt, inner_src, rtol=0.03)
    # HEALPix -> WCS keeps the total too
    hpx = Map(HpxGeom.create(64, skydir=GC, width=2, frame="galactic"))
    hpx.data[:] = 1.0
    onto = hpx.reproject_to_geom(target, preserve_counts=True)
    np.testing.assert_allclose(onto.data.sum(), hpx.data.sum(), rtol=1e-12)


def test_hpx_to_wcs_for_plotting():
    geom = HpxGeom.create(32, skydir=GC, width=10, frame="galactic", nest=False)
    coords = geom.get_coord()
    m = Map(geom, coords.b.deg + 2 * coords.l.wrap_at("180d").deg)
    image = m.to_wcs(binsz=0.5)
    assert image.geom.frame == "galactic"
    wcs_coords = image.geom.get_coord()
    # each WCS pixel shows the HEALPix pixel holding its centre; NaN outside the cone
    inside = ~np.isnan(image.data)
    sep = wcs_coords.separation(GC).deg
    assert inside[sep < 8].all() and not inside[sep > 12].any()
    truth = wcs_coords.b.deg + 2 * wcs_coords.l.wrap_at("180d").deg
    pixel_size = geom.pixel_scale.to_value("deg")
    assert np.abs(image.data[inside] - truth[inside]).max() < 3 * pixel_size
    with pytest.raises(GammarulesError, match="already"):
        image.to_wcs()


def _events(n, seed=3):
    """Duck-typed event list: ICRS positions around the Crab and energies (TeV)."""
    rng = np.random.default_rng(seed)
    radec = SkyCoord(
        CRAB.ra.deg + rng.normal(0, 1.5, n), CRAB.dec.deg + rng.normal(0, 1.5, n), unit="deg"
    )
    return SimpleNamespace(radec=radec, energy=rng.uniform(0.5, 150, n) * u.TeV)


def test_fill_events_on_hpx_and_wcs():
    """Counts per pixel and energy bin as healpy (Galactic NESTED cone) and astropy (TAN)
    bin them; events outside the map or the energy range are dropped; filling adds."""
    events = _events(5000)
    ebin = ENERGY.coord_to_idx(events.energy)
    hpx = Map(HpxGeom.create(64, skydir=CRAB, width=3, frame="galactic", axes=[ENERGY]))
    hpx.fill_events(events)
    gal = events.radec.galactic
    ipix = hp.ang2pix(64, gal.l.deg, gal.b.deg, nest=True, lonlat=True)
    local = np.searchsorted(hpx.geom.pixels, ipix).clip(0, hpx.geom.npix - 1)
    keep = (hpx.geom.pixels[local] == ipix) & (ebin >= 0)
    expected = np.zeros(hpx.geom.data_shape)
    np.add.at(expected, (ebin[keep], local[keep]), 1)
    np.testing.assert_array_equal(hpx.data, expected)
    assert 0 < hpx.data.sum() < len(ebin)

    wcs = Map(WcsGeom.create(CRAB, 0.2, npix=(20, 15), proj="TAN"), dtype=np.int64)
    wcs.fill_events(events)
    wcs.fill_events(events)
    x, y = wcs.geom.wcs.world_to_pixel(events.radec)
    image, _, _ = np.histogram2d(y, x, bins=[np.arange(16) - 0.5, np.arange(21) - 0.5])
    np.testing.assert_array_equal(wcs.data, 2 * image)

    with pytest.raises(GammarulesError, match=r"none or \['energy'\], got \['energy_true'\]"):
        Map(HpxGeom(8, axes=[ENERGY.rename("energy_true")])).fill_events(events)
