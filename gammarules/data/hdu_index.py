"""GADF index tables: the observation index (one row per observation) and the HDU index
(where each HDU of each observation lives)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from gammarules.data.fits_io import (
    open_fits,
    raise_if_corrupt,
    require_columns,
    table_from_hdu,
)
from gammarules.errors import DataFormatError

__all__ = ["HDULocation", "hdu_locations", "read_index_table", "row_to_dict"]

HDU_INDEX_COLUMNS = ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME")


@dataclass(frozen=True)
class HDULocation:
    """Where one HDU of one observation is stored, as listed in an HDU index."""

    obs_id: int
    hdu_type: str
    hdu_class: str
    path: Path
    hdu_name: str
    index_path: Path | None = None

    def __str__(self):
        return f"{self.path}[{self.hdu_name}]"

    def check_file(self):
        """Raise unless the file exists, naming the HDU index that lists it."""
        if not self.path.is_file():
            listed = f" listed in HDU index {self.index_path}" if self.index_path else ""
            raise DataFormatError(
                f"{self.path}: file not found; it is{listed} as the {self.hdu_type!r} HDU "
                f"{self.hdu_name!r} of obs {self.obs_id}"
            )


def read_index_table(path, extname, columns):
    """Read an index table: HDU ``extname`` if present, else the first binary table."""
    with open_fits(path, expected=f"a GADF index table {extname}") as hdulist:
        tables = [hdu for hdu in hdulist if isinstance(hdu, fits.BinTableHDU)]
        if not tables:
            raise_if_corrupt(path, f"a GADF index table {extname}")
            raise DataFormatError(f"{path}: no binary table HDU; expected {extname}")
        hdu = next((hdu for hdu in tables if hdu.name == extname), tables[0])
        require_columns(hdu, columns, path)
        return table_from_hdu(hdu)


def hdu_locations(hdu_table, index_path):
    """Map obs id -> {hdu_type: HDULocation} for the rows of an HDU index table.

    File paths are ``BASE_DIR / FILE_DIR / FILE_NAME``; without ``BASE_DIR`` (or for a relative
    one) they are relative to the directory of the index file.
    """
    index_path = Path(index_path)
    base_dir = index_path.parent / str(hdu_table.meta.get("BASE_DIR", "")).strip()
    locations = {}
    rows = zip(*(hdu_table[name] for name in HDU_INDEX_COLUMNS), strict=True)
    for obs_id, hdu_type, hdu_class, file_dir, file_name, hdu_name in rows:
        obs_id, hdu_type = int(obs_id), str(hdu_type).strip().lower()
        per_obs = locations.setdefault(obs_id, {})
        if hdu_type in per_obs:
            raise DataFormatError(
                f"{index_path}: obs {obs_id} has more than one {hdu_type!r} HDU; expected one"
            )
        path = base_dir / str(file_dir).strip() / str(file_name).strip()
        per_obs[hdu_type] = HDULocation(
            obs_id=obs_id,
            hdu_type=hdu_type,
            hdu_class=str(hdu_class).strip().lower(),
            path=Path(os.path.normpath(path)),
            hdu_name=str(hdu_name).strip(),
            index_path=index_path,
        )
    return locations


def row_to_dict(table, index):
    """Row ``index`` of ``table`` as a dict of Python scalars (NaN floats become None)."""
    result = {}
    for name in table.colnames:
        value = table[name][index]
        value = value.item() if isinstance(value, np.generic) else value
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, float) and math.isnan(value):
            value = None
        elif isinstance(value, str):
            value = value.strip()
        result[name] = value
    return result
