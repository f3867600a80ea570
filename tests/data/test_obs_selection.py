import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table
from astropy.time import Time

from gammarules.data import select_observations
from gammarules.errors import ConfigError, DataFormatError

# Epoch of the table: MJD 55000.5 TT
EPOCH = Time(55000.5, format="mjd", scale="tt")


@pytest.fixture
def obs_table():
    table = Table(
        {
            "OBS_ID": [10, 11, 12, 13, 14],
            "RA_PNT": [83.63, 83.63, 84.5, 228.6, 359.9],
            "DEC_PNT": [22.51, 21.51, 22.0, -59.0, 0.0],
            "ZEN_PNT": [30.0, 45.0, 20.0, 38.0, 50.0],
            "N_TELS": [4, 3, 4, 4, 2],
            "OBJECT": ["Crab Nebula", "Crab Nebula", "custom", "MSH 15-52", "Off"],
            "TARGET_TAG": ["crab", "crab", "crab", "msh1552", "offdata"],
            "TSTART": [0.0, 4000.0, 8000.0, 86400.0, 172800.0],
            "TSTOP": [1800.0, 5800.0, 9800.0, 88200.0, 174600.0],
        },
        units={"RA_PNT": "deg", "DEC_PNT": "deg", "ZEN_PNT": "deg", "TSTART": "s", "TSTOP": "s"},
    )
    table.meta.update({"MJDREFI": 55000, "MJDREFF": 0.5, "TIMESYS": "TT", "TIMEUNIT": "s"})
    return table


def distance_deg(ra1, dec1, ra2, dec2):
    """Angular distance by the spherical law of cosines, independent of astropy."""
    ra1, dec1, ra2, dec2 = map(np.radians, (ra1, dec1, ra2, dec2))
    cos = np.sin(dec1) * np.sin(dec2) + np.cos(dec1) * np.cos(dec2) * np.cos(ra1 - ra2)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def test_no_criteria_returns_all_sorted(obs_table):
    obs_table.reverse()
    assert select_observations(obs_table) == [10, 11, 12, 13, 14]


def test_obs_ids(obs_table):
    assert select_observations(obs_table, obs_ids=[13, 10]) == [10, 13]
    with pytest.raises(DataFormatError, match=r"obs ids \[99\] not in"):
        select_observations(obs_table, obs_ids=[10, 99])


@pytest.mark.parametrize(
    "cone",
    [
        (SkyCoord(83.633, 22.014, unit="deg"), 1 * u.deg),
        {"center": SkyCoord(83.633, 22.014, unit="deg"), "radius": "1 deg"},
        {"center": (83.633, 22.014), "radius": 1.0},
        {"lon": "83.633 deg", "lat": "22.014 deg", "radius": 60 * u.arcmin, "frame": "icrs"},
    ],
)
def test_cone_forms(obs_table, cone):
    distance = distance_deg(obs_table["RA_PNT"], obs_table["DEC_PNT"], 83.633, 22.014)
    expected = sorted(obs_table["OBS_ID"][distance <= 1.0])
    assert select_observations(obs_table, cone=cone) == expected == [10, 11, 12]


def test_cone_in_galactic_frame_and_across_ra_zero(obs_table):
    crab = SkyCoord(83.633, 22.014, unit="deg").galactic
    cone = {"lon": crab.l, "lat": crab.b, "radius": "0.6 deg", "frame": "galactic"}
    assert select_observations(obs_table, cone=cone) == [10, 11]
    assert select_observations(obs_table, cone=((0.05, 0.0), 0.2)) == [14]


def test_bad_cone(obs_table):
    with pytest.raises(ConfigError, match="expected 'center' and 'radius'"):
        select_observations(obs_table, cone={"center": (83.6, 22.0)})
    with pytest.raises(ConfigError, match="radius.*not an angle"):
        select_observations(obs_table, cone=((83.6, 22.0), "wide"))
    with pytest.raises(ConfigError, match=r"expected \(center, radius\)"):
        select_observations(obs_table, cone=5)


def test_time_range(obs_table):
    # observations entirely inside the range; bounds inclusive
    tmin, tmax = EPOCH + 4000 * u.s, EPOCH + 9800 * u.s
    assert select_observations(obs_table, time_range=(tmin, tmax)) == [11, 12]
    assert select_observations(obs_table, time_range=(tmin, tmax - 1 * u.s)) == [11]
    # the same instants given in UTC
    assert select_observations(obs_table, time_range=(tmin.utc, tmax.utc)) == [11, 12]
    day = (EPOCH + 0.9 * u.d, EPOCH + 3 * u.d)
    assert select_observations(obs_table, time_range=day) == [13, 14]


def test_time_range_needs_time_reference(obs_table):
    del obs_table.meta["MJDREFI"]
    with pytest.raises(DataFormatError, match="observation table.*MJDREFI"):
        select_observations(obs_table, time_range=(EPOCH, EPOCH + 1 * u.d))


def test_target(obs_table):
    assert select_observations(obs_table, target="CRAB") == [10, 11, 12]
    assert select_observations(obs_table, target="crab nebula") == [10, 11]
    assert select_observations(obs_table, target=["msh 15-52", "offdata"]) == [13, 14]
    assert select_observations(obs_table, target="Vela") == []
    obs_table.remove_columns(["OBJECT", "TARGET_TAG"])
    with pytest.raises(DataFormatError, match="OBJECT.*TARGET_NAME.*TARGET_TAG"):
        select_observations(obs_table, target="crab")


def test_column_ranges(obs_table):
    assert select_observations(obs_table, ZEN_PNT=(20, 40)) == [10, 12, 13]
    assert select_observations(obs_table, zen_pnt=(None, 30)) == [10, 12]
    assert select_observations(obs_table, ZEN_PNT=(np.radians(40) * u.rad, None)) == [11, 14]
    assert select_observations(obs_table, N_TELS=4) == [10, 12, 13]
    assert select_observations(obs_table, OBJECT="crab NEBULA") == [10, 11]
    with pytest.raises(ConfigError, match="ZEN_PNT.*cannot be compared"):
        select_observations(obs_table, ZEN_PNT=(1 * u.s, None))
    with pytest.raises(ConfigError, match="expected \\(min, max\\)"):
        select_observations(obs_table, ZEN_PNT=(1, 2, 3))
    with pytest.raises(DataFormatError, match="no column 'MUONEFF'"):
        select_observations(obs_table, MUONEFF=(0.8, 1.0))


def test_nan_values_never_pass(obs_table):
    obs_table["ZEN_PNT"][1] = np.nan
    assert select_observations(obs_table, ZEN_PNT=(0, 90)) == [10, 12, 13, 14]


def test_criteria_combine(obs_table):
    result = select_observations(
        obs_table,
        cone=((83.633, 22.014), 2.0),
        target="crab",
        time_range=(EPOCH, EPOCH + 6000 * u.s),
        N_TELS=(4, 4),
    )
    assert result == [10]
