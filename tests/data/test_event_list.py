import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time
from regions import CircleAnnulusSkyRegion, CircleSkyRegion, PolygonSkyRegion

from gammarules.data import EventList
from gammarules.errors import DataFormatError


def angular_distance_deg(ra1, dec1, ra2, dec2):
    """Haversine formula, written independently of astropy."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    term = np.sin((dec2 - dec1) / 2) ** 2
    term += np.cos(dec1) * np.cos(dec2) * np.sin((ra2 - ra1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(term)))


@pytest.fixture
def events_file(dl3):
    return dl3.write_file("events.fits.gz", [dl3.events_hdu(1)])


@pytest.fixture
def events(events_file):
    return EventList.read(events_file)


def test_read_events(dl3, events):
    table = dl3.events_table(1)
    assert len(events) == dl3.runs[1]["n_events"]
    assert events.energy.unit == u.TeV
    np.testing.assert_array_equal(events.energy.value, table["ENERGY"])
    np.testing.assert_allclose(events.radec.ra.deg, table["RA"], rtol=1e-7)
    np.testing.assert_allclose(events.radec.dec.deg, table["DEC"], rtol=1e-7)
    assert events.radec.frame.name == "icrs"
    # optional columns and header keywords are kept
    np.testing.assert_array_equal(events.table["MULTIP"], table["MULTIP"])
    np.testing.assert_array_equal(events.table["EVENT_ID"], table["EVENT_ID"])
    assert events.meta["OBS_ID"] == 1 and events.meta["OBJECT"] == "Crab Nebula"
    assert "TTYPE1" not in events.meta and "NAXIS2" not in events.meta


def test_event_times_from_time_reference(dl3, events):
    met = dl3.events_table(1)["TIME"]
    assert events.time.scale == "tt"
    np.testing.assert_array_equal(events.met, met)
    # MJDREF = 55000.5 TT, TIME in seconds
    np.testing.assert_allclose((events.time.mjd - (55000.5 + met / 86400)) * 86400, 0, atol=1e-6)


def test_gzip_and_plain_files_agree(dl3, events):
    plain = EventList.read(dl3.write_file("events.fits", [dl3.events_hdu(1)]))
    np.testing.assert_array_equal(plain.met, events.met)
    np.testing.assert_array_equal(plain.energy, events.energy)


def test_energy_unit_converted_from_file(dl3):
    table = dl3.events_table(1)
    table["ENERGY"] = (table["ENERGY"] * 1e6).astype(np.float32)
    table["ENERGY"].unit = "MeV"
    path = dl3.write_file("events_mev.fits", [dl3.events_hdu(1, table=table)])
    events = EventList.read(path)
    reference = dl3.events_table(1)["ENERGY"]
    np.testing.assert_allclose(events.energy.to_value(u.TeV), reference, rtol=1e-6)
    assert len(events.select_energy(1 * u.TeV, 10 * u.TeV)) == np.sum(
        (reference >= 1) & (reference < 10)
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(drop=["ENERGY"]), "missing column.*ENERGY"),
        (dict(drop=["TIME", "RA"]), "missing column.*TIME.*RA"),
        (dict(header={"MJDREFI": None}), "MJDREFI"),
        (dict(header={"TIMESYS": None}), "TIMESYS"),
    ],
)
def test_bad_events_hdu(dl3, kwargs, message):
    path = dl3.write_file("bad_events.fits", [dl3.events_hdu(1, **kwargs)])
    with pytest.raises(DataFormatError, match=message) as info:
        EventList.read(path)
    assert str(path) in str(info.value) and "EVENTS" in str(info.value)


def test_wrong_energy_unit(dl3):
    table = dl3.events_table(1)
    table["ENERGY"].unit = "deg"
    path = dl3.write_file("deg_energy.fits", [dl3.events_hdu(1, table=table)])
    with pytest.raises(DataFormatError, match="column ENERGY has unit deg"):
        EventList.read(path)


def test_missing_file_and_hdu(dl3, tmp_path):
    with pytest.raises(DataFormatError, match="file not found"):
        EventList.read(tmp_path / "nothing.fits")
    path = dl3.write_file("only_gti.fits", [dl3.gti_hdu([1.0], [2.0])])
    with pytest.raises(DataFormatError, match="no HDU 'EVENTS'.*GTI") as info:
        EventList.read(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_gzip(events_file, fraction):
    raw = events_file.read_bytes()
    events_file.write_bytes(raw[: int(len(raw) * fraction)])
    with pytest.raises(DataFormatError, match="corrupt or truncated") as info:
        EventList.read(events_file)
    assert str(events_file) in str(info.value)


def test_truncated_plain_file(dl3):
    path = dl3.write_file("events.fits", [dl3.events_hdu(1)])
    path.write_bytes(path.read_bytes()[:-2880])
    with pytest.raises(DataFormatError, match="corrupt or truncated"):
        EventList.read(path)


def test_not_a_fits_file(tmp_path):
    path = tmp_path / "junk.fits.gz"
    path.write_bytes(b"\x1f\x8b this is no gzip stream" * 10)
    with pytest.raises(DataFormatError, match="junk.fits.gz.*corrupt or truncated"):
        EventList.read(path)


def test_select_energy_and_mask(events):
    energy = events.energy.value
    selected = events.select_energy(1 * u.TeV, 10 * u.TeV)
    assert len(selected) == np.sum((energy >= 1) & (energy < 10))
    assert np.all((selected.energy >= 1 * u.TeV) & (selected.energy < 10 * u.TeV))
    assert len(events.select_energy(emin=1000 * u.GeV)) == np.sum(energy >= 1)
    mask = np.arange(len(events)) % 3 == 0
    np.testing.assert_array_equal(events.select_mask(mask).met, events.met[mask])
    with pytest.raises(DataFormatError, match="boolean array of shape"):
        events.select_mask(np.ones(3, dtype=bool))


def test_select_time(events):
    met = events.met
    epoch = Time(55000.5, format="mjd", scale="tt")
    tmin, tmax = epoch + 1200 * u.s, (epoch + 2000 * u.s).utc
    selected = events.select_time(tmin, tmax)
    assert len(selected) == np.sum((met >= 1200) & (met < 2000)) > 0
    assert np.all(selected.time >= tmin) and np.all(selected.time < tmax)
    assert len(events.select_time(tmin=tmin)) == np.sum(met >= 1200)


def test_select_circle_and_annulus_exactly(events):
    center = SkyCoord(83.633, 22.014, unit="deg")
    ra, dec = events.table["RA"].astype(float), events.table["DEC"].astype(float)
    distance = angular_distance_deg(ra, dec, 83.633, 22.014)
    on = events.select_region(CircleSkyRegion(center, 1.2 * u.deg))
    assert len(on) == np.sum(distance <= 1.2) > 10
    ring = CircleAnnulusSkyRegion(center, 1.2 * u.deg, 2.0 * u.deg)
    off = events.select_region(ring)
    assert len(off) == np.sum((distance > 1.2) & (distance <= 2.0)) > 10
    assert set(on.table["EVENT_ID"]).isdisjoint(off.table["EVENT_ID"])


def test_select_polygon(dl3, events):
    # A square of great-circle edges around the pointing.
    ra0, dec0 = dl3.runs[1]["pointing"]
    vertices = SkyCoord(
        ra0 + np.array([-1, 1, 1, -1]) / np.cos(np.radians(dec0)),
        dec0 + np.array([-1, -1, 1, 1]),
        unit="deg",
    )
    selected = events.select_region(PolygonSkyRegion(vertices))
    ra = events.table["RA"].astype(float)
    dec = events.table["DEC"].astype(float)
    # Well inside / well outside the square; edges bow at most ~0.01 deg from these lines.
    clearly_in = (np.abs(dec - dec0) < 0.95) & (np.abs(ra - ra0) * np.cos(np.radians(dec0)) < 0.95)
    clearly_out = (np.abs(dec - dec0) > 1.05) | (np.abs(ra - ra0) * np.cos(np.radians(dec0)) > 1.05)
    ids = set(selected.table["EVENT_ID"])
    assert set(events.table["EVENT_ID"][clearly_in]) <= ids
    assert ids.isdisjoint(events.table["EVENT_ID"][clearly_out])
    assert clearly_in.sum() > 10


def test_empty_event_list(events):
    empty = events.select_mask(np.zeros(len(events), dtype=bool))
    assert len(empty) == 0 and len(empty.time) == 0
    center = SkyCoord(0, 0, unit="deg")
    assert len(empty.select_region(CircleSkyRegion(center, 1 * u.deg))) == 0
