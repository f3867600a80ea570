"""A GADF data store: an observation index and an HDU index locating every observation's HDUs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gammarules.data.hdu_index import (
    HDU_INDEX_COLUMNS,
    hdu_locations,
    read_index_table,
    row_to_dict,
)
from gammarules.data.obs_selection import select_observations
from gammarules.data.observation import Observation
from gammarules.errors import DataFormatError

__all__ = ["DataStore"]

HDU_INDEX_NAMES = ("hdu-index.fits.gz", "hdu-index.fits")
OBS_INDEX_NAMES = ("obs-index.fits.gz", "obs-index.fits")


class DataStore:
    """Observations listed in an observation index, their HDUs located by an HDU index.

    Parameters
    ----------
    hdu_table, obs_table : `~astropy.table.Table`
        The HDU index and observation index tables (header keywords in ``meta``).
    hdu_index_path, obs_index_path : path
        The files they were read from: file locations are relative to the HDU index's
        directory (or its ``BASE_DIR`` keyword), and error messages name both.
    """

    def __init__(self, hdu_table, obs_table, hdu_index_path, obs_index_path):
        self.hdu_table = hdu_table
        self.obs_table = obs_table
        self.hdu_index_path = Path(hdu_index_path)
        self.obs_index_path = Path(obs_index_path)
        ids = np.asarray(obs_table["OBS_ID"], dtype=np.int64)
        unique, counts = np.unique(ids, return_counts=True)
        if np.any(counts > 1):
            raise DataFormatError(
                f"{self.obs_index_path}: obs ids {unique[counts > 1].tolist()} appear more "
                "than once; expected one row per observation"
            )
        self._rows = {int(obs_id): row for row, obs_id in enumerate(ids)}
        self._locations = hdu_locations(hdu_table, self.hdu_index_path)

    @classmethod
    def from_dir(cls, path, hdu_index=None, obs_index=None):
        """Open the data store in directory ``path``.

        ``hdu_index`` and ``obs_index`` are file names relative to ``path`` (or absolute);
        by default ``hdu-index.fits.gz`` / ``obs-index.fits.gz``, or the uncompressed names.
        """
        path = Path(path)
        if not path.is_dir():
            raise DataFormatError(
                f"{path}: data store directory not found; expected a directory holding "
                "obs-index.fits[.gz] and hdu-index.fits[.gz]"
            )
        hdu_index_path = _index_file(path, hdu_index, HDU_INDEX_NAMES, "HDU index")
        obs_index_path = _index_file(path, obs_index, OBS_INDEX_NAMES, "observation index")
        hdu_table = read_index_table(hdu_index_path, "HDU_INDEX", HDU_INDEX_COLUMNS)
        obs_table = read_index_table(obs_index_path, "OBS_INDEX", ["OBS_ID"])
        return cls(hdu_table, obs_table, hdu_index_path, obs_index_path)

    def __repr__(self):
        return f"DataStore({self.obs_index_path.parent}, n_obs={len(self.obs_table)})"

    @property
    def obs_ids(self):
        """Observation ids, in the order of the observation index (list of int)."""
        return list(self._rows)

    def obs(self, obs_id):
        """The `~gammarules.data.Observation` with id ``obs_id``."""
        obs_id = int(obs_id)
        if obs_id not in self._rows:
            ids = self.obs_ids
            listed = f"ids {min(ids)} to {max(ids)}" if ids else "no ids"
            raise DataFormatError(
                f"obs id {obs_id} is not in the observation index {self.obs_index_path} "
                f"({len(ids)} observations, {listed})"
            )
        return Observation(
            obs_id,
            self._locations.get(obs_id, {}),
            meta=row_to_dict(self.obs_table, self._rows[obs_id]),
            obs_index_path=self.obs_index_path,
        )

    def get_observations(self, obs_ids=None):
        """Observations for ``obs_ids`` (default: all), in the order given."""
        return [self.obs(obs_id) for obs_id in (self.obs_ids if obs_ids is None else obs_ids)]

    def select(self, **criteria):
        """Sorted ids of the observations passing `select_observations` criteria."""
        try:
            return select_observations(self.obs_table, **criteria)
        except DataFormatError as err:
            raise DataFormatError(f"{self.obs_index_path}: {err}") from err


def _index_file(directory, name, defaults, what):
    candidates = [directory / name] if name else [directory / default for default in defaults]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DataFormatError(
        f"{directory}: no {what} file; expected {' or '.join(c.name for c in candidates)}"
    )
