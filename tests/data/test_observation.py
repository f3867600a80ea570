import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits
from astropy.table import Table

import gammarules.irf
from gammarules.data import DataStore, Observation
from gammarules.errors import DataFormatError

EPOCH_MJD = 55000.5  # TT, the synthetic stores' MJDREF


def store_obs(dl3, obs_id=1, **kwargs):
    return DataStore.from_dir(dl3.store(**kwargs)).obs(obs_id)


def without_index_row(obs):
    """The same observation with an empty observation-index row."""
    return Observation(obs.obs_id, obs.locations, meta={})


def test_observation_keywords(dl3):
    obs = store_obs(dl3)
    assert obs.livetime.unit == u.s and obs.livetime.value == pytest.approx(1530.0)
    assert obs.ontime.value == pytest.approx(1700.0)
    assert obs.deadc == pytest.approx(0.9)
    assert obs.pointing_radec.frame.name == "icrs"
    assert obs.pointing_radec.ra.deg == pytest.approx(83.63)
    assert obs.pointing_radec.dec.deg == pytest.approx(22.51)
    assert obs.target_radec.ra.deg == pytest.approx(83.633)
    assert obs.target_radec.dec.deg == pytest.approx(22.014)
    assert obs.meta["OBS_ID"] == 1 and obs.meta["TARGET_TAG"] == "crab"
    assert obs.meta["LIVETIME"] == pytest.approx(1530.0)


def test_start_and_stop_from_gtis(dl3):
    obs = store_obs(dl3)
    assert len(obs.gti) == 2
    assert obs.tstart.scale == "tt"
    assert abs(obs.tstart.mjd - (EPOCH_MJD + 1000 / 86400)) * 86400 < 1e-6
    assert abs(obs.tstop.mjd - (EPOCH_MJD + 2800 / 86400)) * 86400 < 1e-6
    assert np.all(obs.events.time >= obs.tstart) and np.all(obs.events.time <= obs.tstop)


def test_hdus_are_read_once(dl3):
    obs = store_obs(dl3)
    assert obs.events is obs.events
    assert obs.gti is obs.gti


def test_livetime_fallbacks(dl3):
    obs = store_obs(dl3, events_header={"LIVETIME": None})
    assert obs.livetime.value == pytest.approx(1530.0)  # from the observation index
    obs = without_index_row(obs)
    assert obs.livetime.value == pytest.approx(1700.0 * 0.9)  # ONTIME * DEADC

    obs = without_index_row(store_obs(dl3, events_header={"LIVETIME": None, "DEADC": None}))
    with pytest.raises(DataFormatError, match="no LIVETIME, nor DEADC") as info:
        _ = obs.livetime
    assert "run_000001.fits.gz[EVENTS]" in str(info.value)


def test_ontime_falls_back_to_gti_sum(dl3):
    obs = without_index_row(store_obs(dl3, events_header={"ONTIME": None}))
    assert obs.ontime.value == pytest.approx(1500.0 - 1000.0 + 2800.0 - 1600.0)


def test_gti_from_events_header_when_not_indexed(dl3):
    obs = store_obs(dl3, with_gti=False)
    assert "gti" not in obs.locations
    np.testing.assert_allclose(obs.gti.met_start, [1000.0])
    np.testing.assert_allclose(obs.gti.met_stop, [2800.0])
    obs = store_obs(dl3, with_gti=False, events_header={"TSTART": None})
    with pytest.raises(DataFormatError, match="missing header keyword TSTART"):
        _ = obs.gti


def test_pointing_fallbacks(dl3):
    obs = store_obs(dl3, 2, events_header={"RA_PNT": None})
    assert obs.pointing_radec.dec.deg == pytest.approx(21.51)  # observation index

    pointing = Table({"TIME": [0.0, 1.0], "RA_PNT": [359.5, 0.5], "DEC_PNT": [10.0, 10.0]})
    dl3.write_file("pnt.fits", [fits.BinTableHDU(pointing, name="POINTING")])
    row = (2, "pointing", "pointing", ".", "pnt.fits", "POINTING")
    obs = store_obs(dl3, 2, events_header={"RA_PNT": None}, extra_rows=[row])
    # the mean of the two directions, across RA = 0
    assert obs.pointing_radec.ra.wrap_at(180 * u.deg).deg == pytest.approx(0.0, abs=1e-9)
    assert obs.pointing_radec.dec.deg == pytest.approx(10.0, abs=1e-3)

    obs = without_index_row(store_obs(dl3, 2, events_header={"DEC_PNT": None}))
    with pytest.raises(DataFormatError, match="no pointing; expected RA_PNT/DEC_PNT"):
        _ = obs.pointing_radec


def test_target_unknown(dl3):
    obs = without_index_row(store_obs(dl3, events_header={"RA_OBJ": None}))
    assert obs.target_radec is None


def test_missing_events_hdu(dl3):
    obs = Observation(7, {}, meta={})
    with pytest.raises(DataFormatError, match="obs 7: no 'events' HDU in the HDU index"):
        _ = obs.events


def test_absent_irfs_are_none(dl3):
    obs = store_obs(dl3)
    assert (obs.aeff, obs.edisp, obs.psf, obs.bkg, obs.rad_max) == (None,) * 5


def irf_rows(dl3, header=None):
    aeff = fits.BinTableHDU(Table({"ENERG_LO": [[1.0]]}), name="EFFECTIVE AREA")
    aeff.header.update(header or {})
    dl3.write_file("irf/irf_file.fits", [aeff])
    return [
        (obs_id, "aeff", "aeff_2d", "irf", "irf_file.fits", "EFFECTIVE AREA") for obs_id in (1, 2)
    ]


def test_irfs_loaded_through_load_irf(dl3, monkeypatch):
    calls = []

    def record(filename, hdu):
        calls.append((filename, hdu))
        return ("irf", len(calls))

    monkeypatch.setattr(gammarules.irf, "load_irf", record, raising=False)
    obs = store_obs(dl3, extra_rows=irf_rows(dl3))
    assert obs.aeff == ("irf", 1)
    assert obs.aeff == ("irf", 1)  # cached: loaded once
    assert calls == [(dl3.root / "irf" / "irf_file.fits", "EFFECTIVE AREA")]
    assert obs.psf is None and len(calls) == 1


def test_irf_file_missing(dl3):
    rows = irf_rows(dl3)
    (dl3.root / "irf" / "irf_file.fits").unlink()
    obs = store_obs(dl3, extra_rows=rows)
    with pytest.raises(DataFormatError, match="irf_file.fits: file not found.*'aeff' HDU"):
        _ = obs.aeff


def test_rad_max_absent_without_keyword(dl3):
    obs = store_obs(dl3, extra_rows=irf_rows(dl3))
    assert obs.rad_max is None


def test_rad_max_from_aeff_keyword(dl3):
    if not hasattr(gammarules.irf, "RadMax2D"):
        pytest.skip("gammarules.irf.RadMax2D is not available yet")
    obs = store_obs(dl3, extra_rows=irf_rows(dl3, header={"RAD_MAX": 0.15}))
    rad_max = obs.rad_max
    value = rad_max.evaluate(energy=[0.1, 10] * u.TeV, offset=[0.4, 0.4] * u.deg)
    np.testing.assert_allclose(value.to_value(u.deg), 0.15)


def test_earth_location_from_keywords(dl3):
    header = {"GEOLON": 16.5002222222222, "GEOLAT": -23.2717777777778, "ALTITUDE": 1835.0}
    location = store_obs(dl3, events_header=header).earth_location
    assert location.lon.deg == pytest.approx(16.5002222222222)
    assert location.lat.deg == pytest.approx(-23.2717777777778)
    assert location.height.to_value("m") == pytest.approx(1835.0)
    obs = without_index_row(store_obs(dl3, events_header={"GEOLON": None}))
    with pytest.raises(DataFormatError, match="GEOLON, GEOLAT and ALTITUDE"):
        _ = obs.earth_location
