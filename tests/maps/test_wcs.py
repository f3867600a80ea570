"""WcsGeom: creation, axes, region masks, solid angles, cutouts, upsampling."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammarules.errors import GammarulesError
from gammarules.maps import MapAxis, WcsGeom

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


def test_axes_shapes_and_image_cube_conversion():
    energy = MapAxis.from_energy_bounds(1, 10, 3)
    geom = WcsGeom.create(CRAB, 0.1, npix=(6, 4), axes=[energy])
    assert geom.data_shape == geom.shape == (3, 4, 6)
    assert geom.spatial_shape == (4, 6)
    assert geom.to_image().data_shape == (4, 6)
    assert geom.to_image().to_cube([energy]) == geom
    assert geom.to_image() != geom
    assert WcsGeom(geom.wcs, (3, 4, 6), [energy]) == geom
    with pytest.raises(GammarulesError, match=r"shape \(2, 4, 6\)"):
        WcsGeom(geom.wcs, (2, 4, 6), [energy])
    sliced = geom.slice_by_idx({"energy": slice(1, 3)})
    assert sliced.axes[0].nbin == 2
    np.testing.assert_allclose(sliced.axes[0].edges.value, energy.edges.value[1:])
    assert geom.slice_by_idx({"energy": 0}).axes == []


def test_properties():
    geom = WcsGeom.create(CRAB, 0.05, npix=(40, 20), frame="galactic", proj="AIT")
    assert geom.projection == "AIT"
    np.testing.assert_allclose(geom.pixel_scale.to_value("deg"), [0.05, 0.05])
    np.testing.assert_allclose(geom.width.to_value("deg"), [2.0, 1.0])
    sep = geom.separation(CRAB)
    assert sep.shape == (20, 40)
    np.testing.assert_allclose(sep.deg, geom.get_coord().separation(CRAB).deg)
    inside = SkyCoord([CRAB.ra.deg, CRAB.ra.deg + 5], [CRAB.dec.deg] * 2, unit="deg")
    np.testing.assert_array_equal(geom.contains(inside), [True, False])


@pytest.mark.parametrize(("proj", "binsz"), [("CAR", 1.0), ("AIT", 2.0)])
def test_allsky_solid_angle_is_4pi(proj, binsz):
    geom = WcsGeom.create(
        SkyCoord(0, 0, unit="deg", frame="galactic"),
        binsz,
        width=(360, 180),
        frame="galactic",
        proj=proj,
    )
    omega = geom.solid_angle()
    assert omega.unit == u.sr
    np.testing.assert_allclose(omega.sum().value, 4 * np.pi, rtol=1e-6)
    assert (omega.value >= 0).all()


def test_car_pixel_solid_angle_matches_cos_lat_formula():
    geom = WcsGeom.create(SkyCoord(10, 0, unit="deg"), 0.5, npix=(8, 160), proj="CAR")
    lat = geom.get_coord().dec.rad[:, 0]
    h = np.radians(0.5)
    exact = h * (np.sin(lat + h / 2) - np.sin(lat - h / 2))
    omega = geom.solid_angle().value
    np.testing.assert_allclose(omega, np.repeat(exact[:, None], 8, axis=1), rtol=1e-9)
    # and close to the small-pixel approximation cos(lat) * dlon * dlat
    np.testing.assert_allclose(omega[:, 0], h * h * np.cos(lat), rtol=1e-4)


def test_tan_solid_angle_sums_to_spherical_cap_area():
    geom = WcsGeom.create(CRAB, 0.02, npix=200, proj="TAN")
    # pixels within 1.5 deg of the centre: their total is the area of a cap, up to edge pixels
    mask = geom.separation(CRAB).deg < 1.5
    cap = 2 * np.pi * (1 - np.cos(np.radians(1.5)))
    np.testing.assert_allclose(geom.solid_angle().value[mask].sum(), cap, rtol=3e-3)
    # total = solid angle of the square field of view: half width a in the tangent plane
    a = np.radians(2.0)
    square = 4 * np.arcsin(a * a / (1 + a * a))
    np.testing.assert_allclose(geom.solid_angle().value.sum(), square, rtol=1e-9)


def test_cutout_is_aligned_with_the_parent_grid_and_clipped():
    energy = MapAxis.from_energy_bounds(1, 10, 2)
    geom = WcsGeom.create(CRAB, 0.1, npix=(50, 40), proj="TAN", axes=[energy])
    target = geom.pix_to_coord(12.3, 30.1)
    cut = geom.cutout(target, 1.0)
    assert cut.spatial_shape == (10, 10)
    assert cut.axes == geom.axes
    sy, sx = geom.cutout_index(target, 1.0)
    # every cutout pixel centre is the parent pixel centre it came from
    y, x = np.indices(cut.spatial_shape)
    a = cut.get_coord()
    b = geom.pix_to_coord(x + sx.start, y + sy.start)
    assert a.separation(b).deg.max() < 1e-9
    # first pixel ceil(pos - n / 2), the rule of astropy's Cutout2D (and so of Gammapy)
    assert (sy.start, sx.start) == (26, 8)
    # near the corner: clipped at the edges of the map
    corner = geom.cutout(geom.pix_to_coord(1.2, 1.2), (1.0, 0.6))
    assert corner.spatial_shape == (5, 7)  # rows -1..4 and columns -3..6, clipped at 0
    assert corner.pix_to_coord(0, 0).separation(geom.pix_to_coord(0, 0)).deg < 1e-9
    with pytest.raises(GammarulesError, match="not on the map"):
        geom.cutout(geom.pix_to_coord(-20, -20), 1.0)


def test_upsample_keeps_the_footprint():
    geom = WcsGeom.create(CRAB, 0.1, npix=(6, 4), frame="galactic", proj="CAR")
    fine = geom.upsample(4)
    assert fine.spatial_shape == (16, 24)
    np.testing.assert_allclose(fine.pixel_scale.value, 0.025)
    assert fine.center_skydir.separation(geom.center_skydir).deg < 1e-9
    # the outer pixel edges coincide
    assert fine.pix_to_coord(-0.5, -0.5).separation(geom.pix_to_coord(-0.5, -0.5)).deg < 1e-9
    assert fine.pix_to_coord(23.5, 15.5).separation(geom.pix_to_coord(5.5, 3.5)).deg < 1e-9
    np.testing.assert_allclose(fine.solid_angle().sum(), geom.solid_angle().sum(), rtol=1e-8)


@pytest.mark.parametrize(
    ("proj", "frame", "center"),
    [("CAR", "icrs", (83.6, 22.0)), ("CAR", "galactic", (0, 0)), ("TAN", "icrs", (10, 85))],
)
def test_closed_form_solid_angles_match_numerical_integration(proj, frame, center, monkeypatch):
    """CAR (native rectangles) and TAN (great-circle quadrilaterals) closed forms agree with
    the Gauss-Legendre integral of the area element to its accuracy (~1e-8)."""
    from gammarules.maps import solid_angle

    geom = WcsGeom.create(
        SkyCoord(*center, unit="deg", frame=frame), 0.05, width=(6, 4), frame=frame, proj=proj
    )
    exact = solid_angle.pixel_solid_angle(geom.wcs, geom.spatial_shape)
    monkeypatch.setattr(solid_angle, "_plain_axes", lambda wcs, projection: False)
    numerical = solid_angle.pixel_solid_angle(geom.wcs, geom.spatial_shape)
    np.testing.assert_allclose(exact, numerical, rtol=2e-8)
