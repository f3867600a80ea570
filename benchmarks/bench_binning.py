"""Events -> all-sky counts cubes for the 105 runs of H.E.S.S. DL3 DR1, against reading them.

The issue's target: binning all events into one cube takes at most twice the time of reading
and gunzipping the event files. The data collection is ``$GAMMARULES_DATA`` (default
/work/shared/data), as in bench_spectrum.py.
"""

import gzip

import numpy as np
from astropy.wcs import WCS
from bench_spectrum import DATASTORE, data_dir
from registry import workload

from gammarules.data import DataStore
from gammarules.maps.binning import bin_events_healpix, bin_events_wcs, to_frame

N_EVENTS = 1_046_156  # events in the 105 runs of DR1
ENERGY_EDGES = np.geomspace(0.1, 100, 13)  # TeV, 4 bins per decade
BINSZ = 0.2  # deg
SHAPE = (900, 1800)  # all-sky in AIT at BINSZ
NSIDE = 256


def all_sky_wcs():
    """Galactic AIT all-sky map centred on the Galactic centre, BINSZ pixels."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["GLON-AIT", "GLAT-AIT"]
    wcs.wcs.crval = [0.0, 0.0]
    wcs.wcs.cdelt = [-BINSZ, BINSZ]
    wcs.wcs.crpix = [(SHAPE[1] + 1) / 2, (SHAPE[0] + 1) / 2]
    return wcs


def read_event_lists():
    store = DataStore.from_dir(data_dir() / DATASTORE)
    return [store.obs(obs_id).events for obs_id in store.obs_ids]


def galactic_events(event_lists):
    """Galactic longitudes, latitudes (deg) and energies (TeV) of all events, concatenated."""
    positions = [to_frame(events.radec, "galactic") for events in event_lists]
    lon = np.concatenate([p[0] for p in positions])
    lat = np.concatenate([p[1] for p in positions])
    energy = np.concatenate([events.energy.to_value("TeV") for events in event_lists])
    return lon, lat, energy


def bin_all_sky(event_lists, n_threads=0):
    lon, lat, energy = galactic_events(event_lists)
    return bin_events_wcs(lon, lat, all_sky_wcs(), SHAPE, energy, ENERGY_EDGES, n_threads)


@workload(items=N_EVENTS, unit="events")
def hess_dr1_gunzip():
    """Gunzip the 105 DR1 files into memory (lower bound of any reader)."""
    files = sorted((data_dir() / DATASTORE / "data").glob("*.fits.gz"))
    return lambda: [gzip.decompress(path.read_bytes()) for path in files]


@workload(items=N_EVENTS, unit="events")
def hess_dr1_read_events():
    """Read the 105 DR1 event lists (DataStore, gunzip, FITS table, units)."""
    return read_event_lists


@workload(items=N_EVENTS, unit="events")
def hess_dr1_bin_allsky():
    """All DR1 events (read in the setup) -> Galactic AIT all-sky cube, all threads."""
    event_lists = read_event_lists()
    return lambda: bin_all_sky(event_lists)


@workload(items=N_EVENTS, unit="events")
def hess_dr1_bin_allsky_1thread():
    """All DR1 events (read in the setup) -> Galactic AIT all-sky cube, one thread."""
    event_lists = read_event_lists()
    return lambda: bin_all_sky(event_lists, n_threads=1)


@workload(items=N_EVENTS, unit="events")
def hess_dr1_bin_healpix():
    """All DR1 events (read in the setup) -> Galactic HEALPix cube, nside 256, all threads."""
    event_lists = read_event_lists()

    def run():
        lon, lat, energy = galactic_events(event_lists)
        return bin_events_healpix(lon, lat, NSIDE, True, energy, ENERGY_EDGES)

    return run


@workload(items=N_EVENTS, unit="events")
def hess_dr1_read_and_bin_allsky():
    """Read the 105 DR1 event lists and bin them into the Galactic AIT all-sky cube."""
    return lambda: bin_all_sky(read_event_lists())
