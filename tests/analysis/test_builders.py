"""Builders: analysis-step objects from config sections, with unit checks naming the key."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammarules.analysis.builders import (
    energy_axis,
    exclusion_mask,
    region_finder,
    safe_mask_maker,
    sky_circle,
)
from gammarules.errors import ConfigError, DataFormatError
from gammarules.makers.reflected import ReflectedRegionsFinder, WobbleRegionsFinder
from gammarules.makers.safe_mask import SafeMaskMaker
from gammarules.maps import Map, WcsGeom

CRAB = SkyCoord(83.633, 22.014, unit="deg")


def test_sky_circle_icrs():
    region = sky_circle({"lon": "83.633 deg", "lat": "22.014 deg", "radius": "6.6 arcmin"}, "on")
    assert isinstance(region, CircleSkyRegion)
    assert region.center.separation(CRAB).deg < 1e-12
    assert region.radius.unit == u.deg
    assert region.radius.value == pytest.approx(0.11, rel=1e-14)


def test_sky_circle_galactic_is_converted_to_icrs():
    cfg = {"frame": "galactic", "lon": "184.5575 deg", "lat": "-5.7843 deg", "radius": "0.5 deg"}
    region = sky_circle(cfg, "exclusion")
    assert region.center.frame.name == "icrs"
    assert region.center.galactic.l.deg == pytest.approx(184.5575, abs=1e-9)
    assert region.center.galactic.b.deg == pytest.approx(-5.7843, abs=1e-9)
    assert region.center.separation(CRAB).deg < 0.01  # the Crab in galactic coordinates


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ({"lon": "1 deg", "lat": "2 TeV", "radius": "1 deg"}, "'geometry.on_region.lat'"),
        ({"lon": "1 s", "lat": "2 deg", "radius": "1 deg"}, "'geometry.on_region.lon'"),
        ({"lon": "1 deg", "lat": "2 deg", "radius": "0 deg"}, "'geometry.on_region.radius'"),
        ({"lon": "1 deg", "lat": "2 deg", "radius": "-0.1 deg"}, "must be positive"),
    ],
)
def test_sky_circle_errors_name_the_key(cfg, message):
    with pytest.raises(ConfigError, match=message):
        sky_circle(cfg, "geometry.on_region")


def test_energy_axis_per_decade_and_units():
    cfg = {"min": "100 GeV", "max": "40 TeV", "nbin": 10, "per_decade": True}
    axis = energy_axis(cfg, "geometry.energy", "energy")
    assert (axis.name, axis.nbin, axis.unit) == ("energy", 27, u.TeV)
    np.testing.assert_allclose(axis.edges_in("TeV")[[0, -1]], [0.1, 40], rtol=1e-14)

    total = energy_axis({"min": "1 TeV", "max": "30 TeV", "nbin": 5}, "flux_points", "energy_true")
    assert (total.name, total.nbin) == ("energy_true", 5)
    np.testing.assert_allclose(total.edges_in("TeV"), np.geomspace(1, 30, 6), rtol=1e-14)


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        ("10 TeV", "1 TeV", "need 0 < min < max"),
        ("1 TeV", "1000 GeV", "need 0 < min < max"),
        ("0 TeV", "1 TeV", "need 0 < min < max"),
        ("1 deg", "10 TeV", "'geometry.energy_true.min'"),
    ],
)
def test_energy_axis_errors_name_the_key(low, high, message):
    with pytest.raises(ConfigError, match=message) as info:
        energy_axis({"min": low, "max": high, "nbin": 3}, "geometry.energy_true", "energy_true")
    assert "geometry.energy_true" in str(info.value)


def test_exclusion_mask_from_regions():
    disk = {"frame": "galactic", "lon": "184.557 deg", "lat": "-5.784 deg", "radius": "0.3 deg"}
    far = {"lon": "85 deg", "lat": "22.014 deg", "radius": "0.2 deg"}
    cfg = {"regions": [disk, far], "map": {"binsz": "0.05 deg", "npix": 80, "proj": "TAN"}}
    mask = exclusion_mask(cfg, CRAB)
    assert mask.geom.shape == (80, 80)
    assert mask.geom.center_skydir.separation(CRAB).deg < 1e-10
    assert mask.data.dtype == bool

    coords = mask.geom.get_coord()
    centers = SkyCoord([sky_circle(disk, "d").center, sky_circle(far, "f").center])
    inside = (coords.separation(centers[0]).deg < 0.3) | (coords.separation(centers[1]).deg < 0.2)
    np.testing.assert_array_equal(mask.data, ~inside)
    # excluded pixels cover the two disks: pi (0.3^2 + 0.2^2) deg2 in 0.05 deg pixels
    assert (~mask.data).sum() == pytest.approx(np.pi * (0.3**2 + 0.2**2) / 0.05**2, rel=0.05)


def test_exclusion_mask_default_map_and_nothing_to_exclude():
    mask = exclusion_mask({"regions": []}, CRAB)
    assert mask.geom.shape == (300, 300)
    assert mask.geom.wcs.wcs.ctype[0] == "RA---TAN"
    assert mask.data.all()
    assert exclusion_mask(None, CRAB) is None
    assert exclusion_mask({}, CRAB) is None


def test_exclusion_mask_from_file(tmp_path):
    geom = WcsGeom.create(CRAB, 0.1, npix=(9, 7), frame="galactic")
    data = np.ones(geom.shape, dtype=np.uint8)
    data[2:4, 3:7] = 0
    (tmp_path / "masks").mkdir()
    Map(geom, data).write(tmp_path / "masks" / "exclusion.fits")
    for data_dir in (tmp_path, str(tmp_path)):
        mask = exclusion_mask({"file": "masks/exclusion.fits"}, CRAB, data_dir)
        assert mask.data.dtype == bool
        np.testing.assert_array_equal(mask.data, data == 1)
        assert mask.geom == geom
    absolute = exclusion_mask({"file": str(tmp_path / "masks" / "exclusion.fits")}, CRAB)
    np.testing.assert_array_equal(absolute.data, data == 1)
    with pytest.raises(DataFormatError, match="absent.fits"):
        exclusion_mask({"file": "absent.fits"}, CRAB, tmp_path)


def test_region_finder():
    assert isinstance(region_finder({"method": "reflected"}), ReflectedRegionsFinder)
    wobble = region_finder({"method": "wobble", "n_off_regions": 3})
    assert isinstance(wobble, WobbleRegionsFinder) and wobble.n_off_regions == 3
    assert region_finder({"method": "wobble"}).n_off_regions == 1
    with pytest.raises(ConfigError, match="'background.n_off_regions' applies to method 'wobble'"):
        region_finder({"method": "reflected", "n_off_regions": 2})


def test_safe_mask_maker():
    cfg = {"methods": ["aeff-max", "offset-max"], "aeff_percent": 15, "offset_max": "150 arcmin"}
    maker = safe_mask_maker(cfg)
    assert isinstance(maker, SafeMaskMaker)
    assert maker.methods == ("aeff-max", "offset-max")
    assert maker.aeff_percent == 15
    assert maker.offset_max.to_value("deg") == pytest.approx(2.5, rel=1e-14)
    assert safe_mask_maker(None) is None
    assert safe_mask_maker({}) is None
    with pytest.raises(ConfigError, match="'reduction.safe_mask.offset_max'"):
        safe_mask_maker({"methods": ["offset-max"], "offset_max": "2 TeV"})
    with pytest.raises(ConfigError, match="aeff-mean"):
        safe_mask_maker({"methods": ["aeff-mean"]})
