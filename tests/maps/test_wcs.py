"""WcsGeom and WcsMap: creation, circular region masks, FITS round trip, look-up."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.table import Table
from regions import CircleSkyRegion

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import WcsGeom, WcsMap

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def haversine_deg(lon1, lat1, lon2, lat2):
    """Great-circle distance (deg) between positions given in degrees."""
    lon1, lat1, lon2, lat2 = (np.radians(v) for v in (lon1, lat1, lon2, lat2))
    s = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return np.degrees(2 * np.arcsin(np.sqrt(s)))


@pytest.mark.parametrize("proj", ["CAR", "TAN"])
def test_create_icrs_centre_shape_and_pixel_size(proj):
    geom = WcsGeom.create(CRAB, 0.02, width=2, proj=proj)
    assert geom.shape == (100, 100)
    assert geom.frame == "icrs"
    assert list(geom.wcs.wcs.ctype) == [f"RA---{proj}", f"DEC--{proj}"]
    assert geom.center_skydir.separation(CRAB).deg < 1e-10
    # neighbouring pixels at the reference point are binsz apart
    cx, cy = geom.coord_to_pix(CRAB)
    step = geom.pix_to_coord(cx + 1, cy).separation(geom.pix_to_coord(cx, cy)).deg
    np.testing.assert_allclose(step, 0.02, rtol=1e-6)
    # longitude increases to the left (east), as on the sky
    assert geom.pix_to_coord(cx - 1, cy).ra.deg > CRAB.ra.deg


def test_create_galactic_from_icrs_position_and_rectangular_npix():
    geom = WcsGeom.create(CRAB, 0.1 * u.deg, npix=(30, 20), frame="galactic", proj="CAR")
    assert geom.shape == (20, 30)
    assert geom.frame == "galactic"
    assert list(geom.wcs.wcs.ctype) == ["GLON-CAR", "GLAT-CAR"]
    np.testing.assert_allclose(geom.wcs.wcs.crval, [CRAB.galactic.l.deg, CRAB.galactic.b.deg])
    assert geom.center_skydir.separation(CRAB).deg < 1e-10


def test_create_width_per_axis():
    geom = WcsGeom.create(CRAB, 0.05, width=(3, 1))
    assert geom.shape == (20, 60)


def test_create_unknown_frame():
    with pytest.raises(GammarulesError, match="frame must be one of"):
        WcsGeom.create(CRAB, 0.1, npix=10, frame="fk4")


@pytest.mark.parametrize(
    ("frame", "proj", "center"),
    [
        ("icrs", "TAN", CRAB),
        ("icrs", "CAR", SkyCoord(40, 70, unit="deg")),
        ("galactic", "CAR", CRAB),
    ],
)
def test_region_mask_is_exact_separation_for_circles(frame, proj, center):
    geom = WcsGeom.create(center, 0.05, npix=(120, 100), frame=frame, proj=proj)
    region = CircleSkyRegion(
        center.directional_offset_by(30 * u.deg, 0.9 * u.deg).galactic, 1.3 * u.deg
    )
    mask = geom.region_mask([region])

    y, x = np.indices(geom.shape)
    lon, lat = geom.wcs.all_pix2world(x, y, 0)
    c = region.center.transform_to(frame).spherical
    distance = haversine_deg(lon, lat, c.lon.deg, c.lat.deg)
    np.testing.assert_array_equal(mask, distance < 1.3)
    # and the count matches the area of the spherical cap over the pixel solid angle
    cap = 2 * np.pi * (1 - np.cos(np.radians(1.3)))
    pixel = geom.wcs.proj_plane_pixel_area().to_value("sr")
    np.testing.assert_allclose(mask.sum(), cap / pixel, rtol=0.02)


def test_region_mask_union_and_empty():
    geom = WcsGeom.create(CRAB, 0.02, npix=50, proj="TAN")
    a = CircleSkyRegion(CRAB, 0.1 * u.deg)
    b = CircleSkyRegion(CRAB.directional_offset_by(90 * u.deg, 0.3 * u.deg), 0.15 * u.deg)
    np.testing.assert_array_equal(
        geom.region_mask([a, b]), geom.region_mask([a]) | geom.region_mask([b])
    )
    assert not (geom.region_mask([a]) & geom.region_mask([b])).any()
    assert not geom.region_mask([]).any()


def test_map_fits_round_trip(tmp_path):
    geom = WcsGeom.create(CRAB, 0.05, npix=(12, 8), frame="galactic", proj="TAN")
    data = np.arange(96, dtype=float).reshape(8, 12) * 0.5
    path = tmp_path / "image.fits"
    WcsMap(geom, data, unit="cm-2 s-1").write(path)
    back = WcsMap.read(path)
    assert back.geom == geom
    assert back.unit == u.Unit("cm-2 s-1")
    np.testing.assert_array_equal(back.data, data)
    assert back.geom.center_skydir.separation(CRAB).deg < 1e-9


def test_boolean_map_is_written_as_integers(tmp_path):
    geom = WcsGeom.create(CRAB, 0.1, npix=6)
    mask = np.zeros(geom.shape, dtype=bool)
    mask[1:3, 2:5] = True
    path = tmp_path / "mask.fits"
    WcsMap(geom, mask).write(path)
    with fits.open(path) as hdulist:
        assert hdulist[0].data.dtype.kind in "iu"
    back = WcsMap.read(path, hdu=0)
    np.testing.assert_array_equal(back.data.astype(bool), mask)
    assert back.unit == u.dimensionless_unscaled


def test_read_single_plane_cube_from_extension(tmp_path):
    geom = WcsGeom.create(CRAB, 0.1, npix=(5, 4))
    header = geom.to_header()
    cube = np.arange(20.0).reshape(1, 4, 5)
    path = tmp_path / "cube.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(cube, header, name="MASK")]).writeto(path)
    for hdu in (None, "MASK", 1):
        back = WcsMap.read(path, hdu=hdu)
        np.testing.assert_array_equal(back.data, cube[0])
        assert back.geom == geom


def test_read_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.fits"
    with pytest.raises(DataFormatError, match="missing.fits"):
        WcsMap.read(missing)

    table_only = tmp_path / "table.fits"
    fits.HDUList([fits.PrimaryHDU(), fits.table_to_hdu(Table({"A": [1, 2]}))]).writeto(table_only)
    with pytest.raises(DataFormatError, match="table.fits.*no image HDU"):
        WcsMap.read(table_only)

    geom = WcsGeom.create(CRAB, 0.1, npix=4)
    image = tmp_path / "image.fits"
    WcsMap(geom, np.ones(geom.shape)).write(image)
    with pytest.raises(DataFormatError, match="image.fits.*no HDU 'EXCLUSION'"):
        WcsMap.read(image, hdu="EXCLUSION")
    with pytest.raises(DataFormatError, match="no HDU 3"):
        WcsMap.read(image, hdu=3)

    cube = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.zeros((2, 4, 4)), geom.to_header()).writeto(cube)
    with pytest.raises(DataFormatError, match=r"cube.fits.*2D image.*\(2, 4, 4\)"):
        WcsMap.read(cube)


def test_map_shape_must_match_geometry():
    geom = WcsGeom.create(CRAB, 0.1, npix=(4, 3))
    with pytest.raises(GammarulesError, match=r"\(4, 3\).*\(3, 4\)"):
        WcsMap(geom, np.zeros((4, 3)))


def test_get_by_coord_nearest_pixel_and_fill_value():
    geom = WcsGeom.create(CRAB, 0.1, npix=(7, 5), proj="TAN")
    data = np.arange(35).reshape(5, 7)
    image = WcsMap(geom, data)
    iy, ix = np.array([0, 2, 4, 3]), np.array([0, 3, 6, 1])
    # pixel centres shifted by less than half a pixel still hit the same pixel
    coords = geom.pix_to_coord(ix + 0.3, iy - 0.4)
    np.testing.assert_array_equal(image.get_by_coord(coords), data[iy, ix])

    outside = SkyCoord([CRAB.ra.deg + 2, CRAB.ra.deg], [CRAB.dec.deg, CRAB.dec.deg], unit="deg")
    np.testing.assert_array_equal(image.get_by_coord(outside, fill_value=-7), [-7, 17])
    assert image.get_by_coord(CRAB) == data[2, 3]
