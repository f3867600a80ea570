import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.time import Time

from gammarules.data import TimeReference
from gammarules.errors import DataFormatError


def header(**cards):
    result = fits.Header()
    for key, value in cards.items():
        result[key] = value
    return result


def test_known_mjd_in_tt():
    ref = TimeReference.from_header(header(MJDREFI=55000, MJDREFF=0.5, TIMESYS="TT"), "x")
    time = ref.to_time(np.array([0.0, 2 * 86400.0 + 3600.0]))
    assert time.scale == "tt"
    expected = np.array([55000.5, 55002.5 + 1 / 24])
    np.testing.assert_allclose((time.mjd - expected) * 86400, 0, atol=1e-6)
    assert ref.unit == u.s and ref.timeref == "LOCAL"


def test_hess_epoch_is_2001_utc_midnight():
    # H.E.S.S. MJDREF: 2001-01-01 00:00:00 UTC written in TT, i.e. + (32 leap s + 32.184 s).
    ref = TimeReference.from_header(
        header(MJDREFI=51910, MJDREFF=0.000742870370370241, TIMESYS="TT"), "x"
    )
    assert ref.to_time(0.0).utc.isot == "2001-01-01T00:00:00.000"
    assert ref.to_time(86400.0).utc.isot == "2001-01-02T00:00:00.000"


def test_utc_elapsed_seconds_cross_a_leap_second():
    # A leap second ended 2012-06-30 (MJD 56108): 86401 s after its start is 2012-07-01 00:00.
    ref = TimeReference.from_header(header(MJDREFI=56108, MJDREFF=0.0, TIMESYS="UTC"), "x")
    assert ref.to_time(86401.0).isot == "2012-07-01T00:00:00.000"
    assert ref.to_time(86400.0).isot == "2012-06-30T23:59:60.000"


def test_timeunit_days_and_single_mjdref():
    ref = TimeReference.from_header(header(MJDREF=50000.25, TIMESYS="TAI", TIMEUNIT="d"), "x")
    time = ref.to_time(1.5)
    assert time.scale == "tai"
    assert abs(time.mjd - 50001.75) * 86400 < 1e-6
    assert ref.to_time(1.5 * u.d) == time


def test_round_trip_through_elapsed_seconds():
    ref = TimeReference.from_header(header(MJDREFI=51910, MJDREFF=0.25, TIMESYS="TT"), "x")
    met = np.array([0.0, 1.25e8, 4.5e8 + 0.123456])
    np.testing.assert_allclose(ref.to_elapsed(ref.to_time(met)), met, rtol=0, atol=1e-6)
    # 2010-01-01 00:00 UTC is MJD 55197 + 66.184 s in TT (34 leap seconds + 32.184 s).
    utc = Time("2010-01-01T00:00:00", scale="utc")
    expected = (55197 - 51910.25) * 86400 + 66.184
    assert abs(ref.to_elapsed(utc) - expected) < 1e-6


def test_observatory_location_from_header():
    cards = header(MJDREFI=1, MJDREFF=0.0, TIMESYS="TT", GEOLON=16.5, GEOLAT=-23.27)
    cards["ALTITUDE"] = (2.15, "[km] altitude of array centre")
    location = TimeReference.from_header(cards, "x").epoch.location
    geodetic = location.to_geodetic()
    assert abs(geodetic.lon.deg - 16.5) < 1e-9 and abs(geodetic.lat.deg + 23.27) < 1e-9
    assert abs(geodetic.height.to_value(u.m) - 2150) < 1e-6
    cards["ALTITUDE"] = (1835.0, "altitude in m")
    height = TimeReference.from_header(cards, "x").epoch.location.to_geodetic().height
    assert abs(height.to_value(u.m) - 1835) < 1e-6


def test_geocentric_and_barycentric_locations():
    cards = header(MJDREFI=1, MJDREFF=0.0, TIMESYS="TT", GEOLON=16.5, GEOLAT=-23.27)
    cards["TIMEREF"] = "GEOCENTER"
    location = TimeReference.from_header(cards, "x").epoch.location
    assert np.allclose(u.Quantity(location.geocentric).to_value(u.m), 0)
    cards["TIMEREF"] = "SOLARSYSTEM"
    assert TimeReference.from_header(cards, "x").epoch.location is None


@pytest.mark.parametrize(
    ("cards", "message"),
    [
        (dict(MJDREFF=0.5, TIMESYS="TT"), "MJDREFI"),
        (dict(MJDREFI=55000, TIMESYS="TT"), "MJDREFF"),
        (dict(MJDREFI=55000, MJDREFF=0.5), "TIMESYS"),
        (dict(MJDREFI=55000, MJDREFF=0.5, TIMESYS="MJD"), "TIMESYS"),
        (dict(MJDREFI=55000, MJDREFF=0.5, TIMESYS="TT", TIMEUNIT="m"), "TIMEUNIT"),
        (dict(MJDREFI=1, MJDREFF=0.0, TIMESYS="TT", GEOLON="east", GEOLAT=1.0), "GEOLON"),
    ],
)
def test_bad_time_reference(cards, message):
    with pytest.raises(DataFormatError, match=message) as info:
        TimeReference.from_header(header(**cards), "run.fits[EVENTS]")
    assert "run.fits[EVENTS]" in str(info.value)
