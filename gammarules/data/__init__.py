"""DL3 data access (GADF): data store, observations, event lists, good time intervals."""

from gammarules.data.data_store import DataStore
from gammarules.data.event_list import EventList
from gammarules.data.gti import GTI
from gammarules.data.hdu_index import HDULocation
from gammarules.data.location import ENV_VAR, resolve_data_dir
from gammarules.data.obs_selection import select_observations
from gammarules.data.observation import Observation
from gammarules.data.time_ref import TimeReference

__all__ = [
    "ENV_VAR",
    "DataStore",
    "EventList",
    "GTI",
    "HDULocation",
    "Observation",
    "TimeReference",
    "resolve_data_dir",
    "select_observations",
]
