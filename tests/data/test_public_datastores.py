"""DL3 access on the public data: H.E.S.S. DL3 DR1, CTA 1DC (GPS) and MAGIC with RAD_MAX."""

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

from gammarules.data import DataStore

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def hess(hess_dir):
    return DataStore.from_dir(hess_dir)


@pytest.fixture(scope="module")
def cta(data_dir):
    return DataStore.from_dir(data_dir / "cta-1dc" / "index" / "gps")


@pytest.fixture(scope="module")
def magic(data_dir):
    return DataStore.from_dir(data_dir / "magic" / "rad_max" / "data")


def test_hess_crab_run(hess):
    obs = hess.obs(23523)
    assert len(obs.events) == 7613
    assert obs.livetime.to_value(u.s) == pytest.approx(1581.7368, abs=1e-4)
    assert obs.ontime.to_value(u.s) == pytest.approx(1687.0)
    assert obs.deadc == pytest.approx(1581.7368 / 1687.0, rel=1e-6)
    assert obs.pointing_radec.ra.deg == pytest.approx(83.6333, abs=1e-4)
    assert obs.pointing_radec.dec.deg == pytest.approx(21.5144, abs=1e-4)
    assert obs.target_radec.separation(SkyCoord(83.6333, 22.0144, unit="deg")).deg < 1e-4
    # TSTART = 123890826 s after MJD 51910.000742870370370241 TT (2001-01-01 UTC)
    mjd = 51910 + 0.000742870370370241 + 123890826 / 86400
    assert abs(obs.tstart.tt.mjd - mjd) * 86400 < 1e-5
    assert obs.tstart.utc.isot == "2004-12-04T22:07:06.000"  # TT - 64.184 s
    assert (obs.tstop - obs.tstart).to_value(u.s) == pytest.approx(1687.0)
    events = obs.events
    assert set(events.table.colnames) == {"EVENT_ID", "TIME", "RA", "DEC", "ENERGY"}
    assert events.meta["TELESCOP"] == "HESS"
    raw_time = fits.getdata(obs.locations["events"].path, "EVENTS")["TIME"]
    mjd = 51910 + 0.000742870370370241 + raw_time / 86400
    np.testing.assert_allclose((events.time.tt.mjd - mjd) * 86400, 0, atol=1e-5)


def test_hess_irfs_through_the_index(hess):
    obs = hess.obs(23523)
    names = [type(irf).__name__ for irf in (obs.aeff, obs.edisp, obs.psf, obs.bkg)]
    assert names == ["EffectiveAreaTable2D", "EnergyDispersion2D", "PSFTable", "Background3D"]
    assert obs.rad_max is None


def test_hess_all_runs_match_the_index(hess):
    table = hess.obs_table
    observations = hess.get_observations()
    assert len(observations) == 105
    counts = [len(obs.events) for obs in observations]
    np.testing.assert_array_equal(counts, table["EVENT_COUNT"])
    livetime = [obs.livetime.to_value(u.s) for obs in observations]
    np.testing.assert_allclose(livetime, table["LIVETIME"], rtol=1e-6)


def test_hess_selections(hess):
    crab = hess.select(cone={"center": (83.633, 22.014), "radius": 5 * u.deg})
    assert crab == [23523, 23526, 23559, 23592]
    assert hess.select(target="crab") == crab
    assert hess.select(target="Crab Nebula") == crab
    # run numbers per target of the DR1 release
    sizes = {"msh1552": 20, "rxj1713": 15, "pks2155_flare": 15, "pks2155_steady": 6}
    sizes["offdata"] = 45
    for tag, size in sizes.items():
        assert len(hess.select(target=tag)) == size
    # the PKS 2155-304 flare runs are one night, 2006 July 29/30
    flare = hess.select(target="pks2155_flare")
    night = (hess.obs(flare[0]).tstart.utc.isot[:10], hess.obs(flare[-1]).tstop.utc.isot[:10])
    assert night == ("2006-07-29", "2006-07-30")
    low_zenith = hess.select(obs_ids=crab, ZEN_PNT=(0, 47))
    table = hess.obs_table
    expected = set(table["OBS_ID"][table["ZEN_PNT"] <= 47]) & set(crab)
    assert low_zenith == sorted(expected) and 0 < len(low_zenith) < 4


def test_cta_1dc_gps(cta):
    assert cta.obs_ids == [110380, 111140, 111159, 111630]
    obs = cta.obs(110380)
    caldb = cta.obs_index_path.parents[2] / "caldb" / "data" / "cta" / "1dc" / "bcf"
    assert obs.locations["aeff"].path == caldb / "South_z20_50h" / "irf_file.fits"
    assert len(obs.events) == 106217 == obs.meta["EVENT_COUNT"]
    assert obs.livetime.to_value(u.s) == pytest.approx(1764.0)
    assert obs.deadc == pytest.approx(0.98)
    assert obs.pointing_radec.galactic.l.wrap_at(180 * u.deg).deg == pytest.approx(0, abs=1e-4)
    assert obs.pointing_radec.galactic.b.deg == pytest.approx(-1.3, abs=1e-4)
    # TSTART = 664502400 s after MJD 51544.5 TT
    assert obs.tstart.tt.isot == "2021-01-21T12:00:00.000"
    assert (obs.tstop - obs.tstart).to_value(u.s) == pytest.approx(1800.0)
    assert set(obs.events.table.colnames) >= {"DETX", "DETY", "MC_ID"}
    assert type(obs.psf).__name__ == "PSF3Gauss"


def test_magic_point_like(magic):
    assert sorted(magic.obs_ids) == [5029747, 5029748]
    obs = magic.obs(5029747)
    assert len(obs.events) == 11189
    assert obs.events.time.scale == "utc"
    assert obs.pointing_radec.ra.deg == pytest.approx(83.98333)
    assert obs.pointing_radec.dec.deg == pytest.approx(22.24389)
    assert obs.deadc == pytest.approx(0.991545, abs=1e-6)
    # MJDREF 52706 UTC + TSTART 333778852.435217 s
    assert obs.tstart.utc.isot == "2013-10-04T04:20:49.435"
    assert type(obs.rad_max).__name__ == "RadMax2D"
    assert obs.psf is None and obs.bkg is None
