"""Reflected and wobble OFF regions: geometry on the sphere, counts, exclusion masks."""

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from regions import CircleSkyRegion, RectangleSkyRegion

from gammarules.errors import GammarulesError
from gammarules.makers.reflected import (
    ReflectedRegionsFinder,
    WobbleRegionsFinder,
    events_in_regions,
    rotate_region,
)
from gammarules.maps import Map, WcsGeom

POINTING = SkyCoord(83.633, 22.514, unit="deg")
MDI_DEG = math.degrees(0.1)  # default min_distance_input, 0.1 rad


def on_region(offset, radius, position_angle=0.0, pointing=POINTING):
    center = pointing.directional_offset_by(position_angle * u.deg, offset * u.deg)
    return CircleSkyRegion(center=center, radius=radius * u.deg)


def circle_step_deg(radius, offset, min_distance=0.0):
    """Rotation between touching circles of ``radius`` at ``offset``, plus ``min_distance``.

    Spherical right triangle pointing / circle centre / tangent point:
    sin(half opening angle) = sin(radius) / sin(offset).
    """
    r, d = math.radians(radius), math.radians(offset)
    return 2 * math.degrees(math.asin(math.sin(r) / math.sin(d))) + min_distance


def expected_count(radius, offset, min_distance=0.0, min_distance_input=MDI_DEG):
    """Number of angles first + k * step (k >= 0) below 360 - step - min_distance_input."""
    step = circle_step_deg(radius, offset, min_distance)
    first = step + min_distance_input
    last = 360 - step - min_distance_input
    return max(0, math.ceil((last - first) / step))


def pa_deg(center, coord):
    return center.position_angle(coord).to_value("deg")


def angle_diff_deg(a, b):
    return (a - b + 180) % 360 - 180


def test_crab_geometry_gives_twelve_regions():
    assert expected_count(0.11, 0.5) == 12
    assert len(ReflectedRegionsFinder().run(on_region(0.5, 0.11), POINTING)) == 12


@pytest.mark.parametrize(
    ("offset", "radius", "min_distance", "min_distance_input", "on_pa"),
    [
        (0.5, 0.11, 0.0, MDI_DEG, 0.0),
        (1.5, 0.11, 0.0, MDI_DEG, 137.0),
        (0.7, 0.2, 3.0, 10.0, -60.0),
        (2.0, 0.8, 0.0, 0.0, 250.0),
        (1.0, 0.3, 12.0, 1.0, 10.0),
    ],
)
def test_reflected_regions_geometry(offset, radius, min_distance, min_distance_input, on_pa):
    region = on_region(offset, radius, on_pa)
    finder = ReflectedRegionsFinder(
        min_distance=Angle(min_distance, "deg"), min_distance_input=Angle(min_distance_input, "deg")
    )
    regions = finder.run(region, POINTING)
    assert len(regions) == expected_count(radius, offset, min_distance, min_distance_input)
    assert len(regions) > 0

    centers = SkyCoord([r.center for r in regions])
    np.testing.assert_allclose(centers.separation(POINTING).deg, offset, rtol=0, atol=1e-9)
    assert all(r.radius.to_value("deg") == pytest.approx(radius, abs=1e-12) for r in regions)

    step = circle_step_deg(radius, offset, min_distance)
    first = step + min_distance_input
    angles = angle_diff_deg(pa_deg(POINTING, centers), pa_deg(POINTING, region.center)) % 360
    np.testing.assert_allclose(angles, first + step * np.arange(len(regions)), atol=1e-9)
    assert angles[-1] < 360 - step - min_distance_input

    # no region overlaps another region or the ON region
    all_centers = SkyCoord([region.center, *centers])
    separations = all_centers[:, None].separation(all_centers[None, :]).deg
    np.fill_diagonal(separations, np.inf)
    assert separations.min() >= 2 * radius - 1e-9
    # neighbours are exactly min_distance further apart than touching circles
    neighbour = centers[1:].separation(centers[:-1]).deg
    d = math.radians(offset)
    chord = 2 * np.degrees(np.arcsin(math.sin(d) * np.sin(np.radians(step) / 2)))
    np.testing.assert_allclose(neighbour, chord, atol=1e-9)
    if min_distance == 0:
        np.testing.assert_allclose(neighbour, 2 * radius, atol=1e-9)
    else:
        assert neighbour.min() > 2 * radius + 1e-6


def test_first_region_position_angle_east_of_north():
    region = on_region(0.5, 0.11, position_angle=20.0)
    first = ReflectedRegionsFinder().run(region, POINTING)[0]
    expected = 20.0 + circle_step_deg(0.11, 0.5) + MDI_DEG
    assert abs(angle_diff_deg(pa_deg(POINTING, first.center), expected)) < 1e-9
    # east of north: a position angle below 90 deg moves the centre to larger RA
    assert first.center.ra.deg > region.center.ra.deg


def test_max_region_number_keeps_the_first_regions():
    region = on_region(0.5, 0.11)
    every = ReflectedRegionsFinder().run(region, POINTING)
    three = ReflectedRegionsFinder(max_region_number=3).run(region, POINTING)
    assert len(three) == 3
    for a, b in zip(three, every[:3], strict=True):
        assert a.center.separation(b.center).deg < 1e-12


def test_no_regions_when_on_region_holds_the_pointing():
    finder = ReflectedRegionsFinder()
    assert finder.run(CircleSkyRegion(POINTING, 0.11 * u.deg), POINTING) == []
    assert finder.run(on_region(0.1, 0.11), POINTING) == []


def test_reflected_input_errors():
    with pytest.raises(GammarulesError, match="angle_increment must be positive"):
        ReflectedRegionsFinder(angle_increment="0 deg")
    rectangle = RectangleSkyRegion(
        on_region(0.5, 0.1).center, width=0.2 * u.deg, height=0.1 * u.deg
    )
    with pytest.raises(GammarulesError, match="circular ON region.*RectangleSkyRegion"):
        ReflectedRegionsFinder().run(rectangle, POINTING)
    with pytest.raises(GammarulesError, match="RectangleSkyRegion"):
        WobbleRegionsFinder().run(rectangle, POINTING)


def exclusion_disk_mask(disks, binsz=0.01):
    """A usable-sky mask (True = usable) around the pointing with excluded circles."""
    geom = WcsGeom.create(POINTING, binsz, width=2.0, proj="TAN")
    return Map(geom, ~geom.region_mask(disks))


def test_exclusion_removes_exactly_the_overlapping_candidates():
    radius, offset, increment, disk_radius = 0.11, 0.5, 8.0, 0.12
    disk_center = POINTING.directional_offset_by(125 * u.deg, 0.5 * u.deg)
    disk = CircleSkyRegion(disk_center, disk_radius * u.deg)
    mask = exclusion_disk_mask([disk])
    region = on_region(offset, radius)
    finder = ReflectedRegionsFinder(angle_increment=Angle(increment, "deg"))
    regions = finder.run(region, POINTING, mask)

    # the rotation the finder must follow: a candidate that overlaps the disk is skipped and
    # the rotation continues by angle_increment; an accepted one advances by a full step
    step = circle_step_deg(radius, offset)
    angle, expected, rejected = step + MDI_DEG, [], 0
    while angle < 360 - step - MDI_DEG:
        center = POINTING.directional_offset_by(angle * u.deg, offset * u.deg)
        distance = center.separation(disk.center).deg
        # keep the test far from pixelisation effects of the mask (0.01 deg pixels)
        assert abs(distance - (radius + disk_radius)) > 0.02
        if distance < radius + disk_radius:
            angle += increment
            rejected += 1
            continue
        expected.append(angle)
        angle += step
    assert rejected > 0
    assert len(regions) == len(expected) < expected_count(radius, offset)
    angles = pa_deg(POINTING, SkyCoord([r.center for r in regions])) % 360
    np.testing.assert_allclose(angles, expected, atol=1e-9)
    separations = SkyCoord([r.center for r in regions]).separation(disk.center).deg
    assert separations.min() > radius + disk_radius


def test_exclusion_far_away_or_nothing_excluded_changes_nothing():
    region = on_region(0.5, 0.11)
    reference = ReflectedRegionsFinder().run(region, POINTING)
    far = CircleSkyRegion(POINTING.directional_offset_by(45 * u.deg, 0.9 * u.deg), 0.05 * u.deg)
    empty = exclusion_disk_mask([])
    for mask in (exclusion_disk_mask([far]), empty):
        regions = ReflectedRegionsFinder().run(region, POINTING, mask)
        assert len(regions) == len(reference)
        for a, b in zip(regions, reference, strict=True):
            assert a.center.separation(b.center).deg < 1e-12
    assert empty.data.all()


def test_rotate_region_keeps_offset_and_radius():
    region = on_region(0.8, 0.2, position_angle=30.0)
    rotated = rotate_region(region, POINTING, Angle(100, "deg"))
    assert rotated.center.separation(POINTING).deg == pytest.approx(0.8, abs=1e-12)
    assert rotated.radius == region.radius
    assert abs(angle_diff_deg(pa_deg(POINTING, rotated.center), 130.0)) < 1e-9


@pytest.mark.parametrize("n_off", [1, 3, 5])
def test_wobble_regions_evenly_spaced(n_off):
    region = on_region(0.7, 0.11, position_angle=-40.0)
    regions = WobbleRegionsFinder(n_off_regions=n_off).run(region, POINTING)
    assert len(regions) == n_off
    centers = SkyCoord([r.center for r in regions])
    np.testing.assert_allclose(centers.separation(POINTING).deg, 0.7, atol=1e-9)
    expected = -40.0 + 360.0 / (n_off + 1) * np.arange(1, n_off + 1)
    diff = angle_diff_deg(pa_deg(POINTING, centers), expected)
    np.testing.assert_allclose(diff, 0, atol=1e-9)


def test_wobble_overlap_is_an_error():
    # 3 regions 90 deg apart at 0.5 deg: sin(s/2) = sin(0.5 deg) sin(45 deg), s = 0.707 deg
    assert len(WobbleRegionsFinder(3).run(on_region(0.5, 0.35), POINTING)) == 3
    with pytest.raises(GammarulesError, match="overlap"):
        WobbleRegionsFinder(3).run(on_region(0.5, 0.36), POINTING)
    with pytest.raises(GammarulesError, match="overlap"):
        WobbleRegionsFinder(1).run(CircleSkyRegion(POINTING, 0.1 * u.deg), POINTING)
    with pytest.raises(GammarulesError, match="n_off_regions must be >= 1"):
        WobbleRegionsFinder(0)


def test_wobble_drops_excluded_regions():
    region = on_region(0.5, 0.11)
    disk = CircleSkyRegion(POINTING.directional_offset_by(180 * u.deg, 0.5 * u.deg), 0.05 * u.deg)
    regions = WobbleRegionsFinder(3).run(region, POINTING, exclusion_disk_mask([disk]))
    angles = pa_deg(POINTING, SkyCoord([r.center for r in regions])) % 360
    np.testing.assert_allclose(angles, [90, 270], atol=1e-9)


def test_events_in_regions_exact_separation():
    regions = [on_region(0.5, 0.1, 0.0), on_region(0.5, 0.1, 180.0)]
    c0, c1 = regions[0].center, regions[1].center
    events = SkyCoord(
        [
            c0,
            c0.directional_offset_by(10 * u.deg, 0.0999 * u.deg),
            c0.directional_offset_by(10 * u.deg, 0.1001 * u.deg),
            c1.directional_offset_by(200 * u.deg, 0.05 * u.deg),
            POINTING,
        ]
    )
    np.testing.assert_array_equal(
        events_in_regions(events, regions), [True, True, False, True, False]
    )
    assert not events_in_regions(events, []).any()


@pytest.mark.data
def test_hess_crab_runs_match_the_analytic_count(hess_dir):
    from gammarules.data import DataStore

    store = DataStore.from_dir(hess_dir)
    on = CircleSkyRegion(SkyCoord(83.633, 22.014, unit="deg"), 0.11 * u.deg)
    for obs_id in (23523, 23559):
        pointing = store.obs(obs_id).pointing_radec
        offset = pointing.separation(on.center).deg
        regions = ReflectedRegionsFinder().run(on, pointing)
        assert len(regions) == expected_count(0.11, offset)
    # the 0.5 deg wobble run gives the 12 regions Gammapy 2.1 also finds
    assert len(ReflectedRegionsFinder().run(on, store.obs(23523).pointing_radec)) == 12
