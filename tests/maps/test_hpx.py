"""HpxGeom: all-sky and cone geometries, coordinates, solid angles, WCS conversion."""

import healpy as hp
import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord

from gammarules.errors import GammarulesError
from gammarules.maps import HpxGeom, MapAxis

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
