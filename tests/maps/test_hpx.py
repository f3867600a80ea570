"""HpxGeom: all-sky and cone geometries, coordinates, solid angles, WCS conversion."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import (
    CircleAnnulusSkyRegion,
    CircleSkyRegion,
    PolygonSkyRegion,
    RectangleSkyRegion,
)

from gammarules.errors import GammarulesError
from gammarules.maps import HpxGeom, MapAxis, WcsGeom

GC = SkyCoord(0, 0, unit="deg", frame="galactic")


@pytest.mark.parametrize("nest", [True, False])
def test_allsky_geometry(nest):
    energy = MapAxis.from_energy_bounds(1, 10, 2)
    geom = HpxGeom(16, nest=nest, frame="galactic", axes=[energy])
    assert geom.is_allsky
    assert geom.npix == 12 * 16**2
    assert geom.data_shape == (2, 3072)
    assert geom.ordering == ("NESTED" if nest else "RING")
    np.testing.assert_allclose(geom.solid_angle().sum().to_value("sr"), 4 * np.pi, rtol=1e-12)
    coords = geom.get_coord()
    # pixel centres map back to their own pixels, in both directions through the frame
    idx = geom.coord_to_idx(coords.icrs, energy=[5.0] * 3072 * u.TeV)
    np.testing.assert_array_equal(idx[1], np.arange(3072))
    np.testing.assert_array_equal(idx[0], 1)


def test_cone_selects_pixel_centres_within_radius():
    geom = HpxGeom.create(nside=64, skydir=GC.icrs, width=3 * u.deg, frame="galactic", nest=False)
    coords = HpxGeom(64, nest=False, frame="galactic").get_coord()
    expected = np.nonzero(coords.separation(GC).deg < 3)[0]
    np.testing.assert_array_equal(geom.pixels, expected)
    assert geom.data_shape == (expected.size,)
    np.testing.assert_allclose(
        geom.solid_angle().sum().value, 2 * np.pi * (1 - np.cos(np.radians(3))), rtol=0.03
    )
    assert geom.center_skydir.separation(GC).deg < 0.05
    # positions outside the cone are outside the geometry
    far = SkyCoord([0, 10], [0, 0], unit="deg", frame="galactic")
    np.testing.assert_array_equal(geom.contains(far), [True, False])
    assert geom.coord_to_idx(far)[0][1] == -1


def test_invalid_geometries():
    with pytest.raises(GammarulesError, match="power of 2"):
        HpxGeom(12)
    with pytest.raises(GammarulesError, match="frame"):
        HpxGeom(4, frame="fk5")
    with pytest.raises(GammarulesError, match=r"\[0, 192\)"):
        HpxGeom(4, pixels=[0, 192])


def test_to_wcs_geom_covers_the_pixels():
    allsky = HpxGeom(8, frame="galactic").to_wcs_geom(binsz=2)
    assert allsky.spatial_shape == (90, 180)
    assert allsky.frame == "galactic"
    cone = HpxGeom.create(32, skydir=GC, width=5, frame="galactic")
    wcs = cone.to_wcs_geom(binsz=0.5)
    assert wcs.contains(cone.get_coord()).all()
    assert wcs.projection == "CAR"


def test_cutout_and_interp_weights():
    geom = HpxGeom(16, nest=True)
    cut = geom.cutout(SkyCoord(30, 40, unit="deg"), 20 * u.deg)
    sep = geom.get_coord().separation(SkyCoord(30, 40, unit="deg")).deg
    np.testing.assert_array_equal(cut.pixels, np.nonzero(sep < 10)[0])
    # interpolation weights are healpy's, restricted to the pixels of the cutout
    pos = SkyCoord([30, 31], [40, 41], unit="deg")
    (idx,), w = cut.interp_weights(pos)
    pix, wref = hp.get_interp_weights(16, [30, 31], [40, 41], nest=True, lonlat=True)
    np.testing.assert_array_equal(cut.pixels[idx], pix)
    np.testing.assert_allclose(w, wref)


def _gnomonic_deg(coord, center):
    """Gnomonic plane coordinates (deg) of ``coord`` about ``center`` (same frame)."""
    lon, lat = coord.spherical.lon.rad, coord.spherical.lat.rad
    lon0, lat0 = center.spherical.lon.rad, center.spherical.lat.rad
    cos_c = np.sin(lat0) * np.sin(lat) + np.cos(lat0) * np.cos(lat) * np.cos(lon - lon0)
    x = np.cos(lat) * np.sin(lon - lon0) / cos_c
    y = (np.cos(lat0) * np.sin(lat) - np.sin(lat0) * np.cos(lat) * np.cos(lon - lon0)) / cos_c
    return np.degrees(x), np.degrees(y), cos_c


@pytest.mark.parametrize("nest", [True, False])
def test_region_mask_circles_and_annuli_are_exact(nest):
    geom = HpxGeom.create(128, skydir=GC, width=6, frame="galactic", nest=nest)
    center = SkyCoord(1.0, -0.5, unit="deg", frame="galactic").icrs  # frames differ
    sep = geom.separation(center).deg
    circle = CircleSkyRegion(center, 1.5 * u.deg)
    np.testing.assert_array_equal(geom.region_mask([circle]), sep < 1.5)
    ring = CircleAnnulusSkyRegion(center, 1.0 * u.deg, 2.0 * u.deg)
    np.testing.assert_array_equal(geom.region_mask([ring]), (sep >= 1.0) & (sep < 2.0))
    # a union; a region partly off the cone keeps the cone's pixels only
    far = CircleSkyRegion(SkyCoord(-5.0, 0.0, unit="deg", frame="galactic"), 2 * u.deg)
    far_sep = geom.separation(far.center).deg
    np.testing.assert_array_equal(geom.region_mask([circle, far]), (sep < 1.5) | (far_sep < 2.0))
    allsky = HpxGeom(128, nest=nest, frame="galactic")
    assert 0 < np.sum(far_sep < 2.0) < np.sum(allsky.region_mask([far]))
    assert not geom.region_mask([]).any()


def test_region_mask_other_shapes_in_the_tangent_plane():
    """A rectangle is tested in the gnomonic projection at its centre (computed here by the
    textbook formulae); pixels on the far side of the sky are never inside."""
    geom = HpxGeom(64, nest=True, frame="galactic")
    center = SkyCoord(10, 20, unit="deg", frame="galactic")
    rectangle = RectangleSkyRegion(center, 12 * u.deg, 6 * u.deg)
    x, y, cos_c = _gnomonic_deg(geom.get_coord(), center)
    expected = (cos_c > 0) & (np.abs(x) < 6) & (np.abs(y) < 3)
    mask = geom.region_mask([rectangle])
    assert mask.sum() == expected.sum() > 50
    np.testing.assert_array_equal(mask, expected)
    # the polygon of its corners: great-circle edges, straight in the tangent plane at the
    # mean of the (symmetric) corners, i.e. the same centre
    tangent = WcsGeom.create(center, 0.01, npix=1, frame="galactic", proj="TAN").wcs
    corners = tangent.pixel_to_world([-600, 600, 600, -600], [-300, -300, 300, 300])
    polygon = PolygonSkyRegion(corners)
    np.testing.assert_array_equal(geom.region_mask([polygon]), expected)
    with pytest.raises(GammarulesError, match="CompoundSkyRegion has no center or vertices"):
        geom.region_mask([rectangle | polygon])


def test_repeated_unsorted_pixels_are_sorted_once():
    geom = HpxGeom(4, pixels=[7, 3, 7, 0, 3])
    np.testing.assert_array_equal(geom.pixels, [0, 3, 7])
    with pytest.raises(GammarulesError, match="non-empty"):
        HpxGeom(4, pixels=[])
