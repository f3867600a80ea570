"""Selecting observations from an observation-index table."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy import units as u
from astropy.coordinates import Angle, SkyCoord
from astropy.time import Time

from gammarules.data.time_ref import TimeReference
from gammarules.errors import ConfigError, DataFormatError

__all__ = ["select_observations"]

TARGET_COLUMNS = ("OBJECT", "TARGET_NAME", "TARGET_TAG")


def select_observations(
    obs_table, obs_ids=None, cone=None, time_range=None, target=None, **column_ranges
):
    """Sorted ids of the observations in ``obs_table`` passing every given criterion.

    Parameters
    ----------
    obs_table : `~astropy.table.Table`
        A GADF observation index (``OBS_ID`` column; others as the criteria need).
    obs_ids : iterable of int, optional
        Keep only these observations; each must be in the table.
    cone : dict or tuple, optional
        Pointing within a cone: ``(center, radius)``, ``{"center": ..., "radius": ...}`` or
        ``{"lon": ..., "lat": ..., "radius": ..., "frame": "icrs"}``. ``center`` is a SkyCoord or
        an (ra, dec) pair; angles may be Quantities, strings like ``"5 deg"`` or degrees.
        Uses ``RA_PNT``/``DEC_PNT``; the edge is included.
    time_range : (Time, Time), optional
        Observations lying entirely inside ``[start, stop]`` (``TSTART``/``TSTOP`` and the
        table's time reference).
    target : str or list of str, optional
        Case-insensitive match of any of the ``OBJECT``, ``TARGET_NAME``, ``TARGET_TAG`` columns.
    **column_ranges
        Column name (case-insensitive) -> ``(min, max)`` (inclusive; either may be None;
        Quantities are converted to the column unit) or a single value to match exactly
        (strings case-insensitively).
    """
    ids = np.asarray(_column(obs_table, "OBS_ID"), dtype=np.int64)
    mask = np.ones(len(ids), dtype=bool)
    if obs_ids is not None:
        wanted = np.unique(np.asarray(list(obs_ids), dtype=np.int64))
        missing = np.setdiff1d(wanted, ids)
        if missing.size:
            raise DataFormatError(f"observation table: obs ids {missing.tolist()} not in it")
        mask &= np.isin(ids, wanted)
    if cone is not None:
        mask &= _cone_mask(obs_table, *_parse_cone(cone))
    if time_range is not None:
        mask &= _time_mask(obs_table, time_range)
    if target is not None:
        mask &= _target_mask(obs_table, target)
    for name, condition in column_ranges.items():
        mask &= _condition_mask(_column(obs_table, name), name, condition)
    return sorted(int(obs_id) for obs_id in ids[mask])


def _column(table, name):
    by_upper = {colname.upper(): colname for colname in table.colnames}
    if name.upper() not in by_upper:
        raise DataFormatError(
            f"observation table: no column {name!r}; the table has {table.colnames}"
        )
    return table[by_upper[name.upper()]]


def _angle(value, what):
    try:
        return Angle(value, unit=None if isinstance(value, str | u.Quantity) else "deg")
    except (ValueError, TypeError, u.UnitsError) as err:
        raise ConfigError(f"cone {what}: {value!r} is not an angle ({err})") from err


def _parse_cone(cone):
    if isinstance(cone, Mapping):
        if "radius" not in cone or not ("center" in cone or {"lon", "lat"} <= cone.keys()):
            raise ConfigError(
                f"cone: got keys {sorted(cone)}; expected 'center' and 'radius', or 'lon', "
                "'lat', 'radius' (and optionally 'frame')"
            )
        center = cone.get("center", (cone.get("lon"), cone.get("lat")))
        frame, radius = cone.get("frame", "icrs"), cone["radius"]
    else:
        try:
            center, radius = cone
        except (TypeError, ValueError) as err:
            raise ConfigError(f"cone: got {cone!r}; expected (center, radius)") from err
        frame = "icrs"
    if not isinstance(center, SkyCoord):
        try:
            lon, lat = center
        except (TypeError, ValueError) as err:
            raise ConfigError(f"cone center: got {center!r}; expected SkyCoord or pair") from err
        center = SkyCoord(_angle(lon, "lon"), _angle(lat, "lat"), frame=frame)
    return center, _angle(radius, "radius")


def _cone_mask(table, center, radius):
    ra = np.asarray(_column(table, "RA_PNT"), dtype=float)
    dec = np.asarray(_column(table, "DEC_PNT"), dtype=float)
    return SkyCoord(ra, dec, unit="deg", frame="icrs").separation(center) <= radius


def _seconds(column, time_ref):
    unit = column.unit if column.unit is not None else time_ref.unit
    return u.Quantity(np.asarray(column, dtype=float), unit).to_value(u.s)


def _time_mask(table, time_range):
    try:
        tmin, tmax = (Time(t) for t in time_range)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"time_range: got {time_range!r}; expected two times") from err
    time_ref = TimeReference.from_header(table.meta, "observation table")
    start = _seconds(_column(table, "TSTART"), time_ref)
    stop = _seconds(_column(table, "TSTOP"), time_ref)
    return (start >= time_ref.to_elapsed(tmin)) & (stop <= time_ref.to_elapsed(tmax))


def _normalized(values):
    return np.char.lower(np.char.strip(np.asarray(values, dtype=str)))


def _target_mask(table, target):
    names = [target] if isinstance(target, str) else list(target)
    columns = [name for name in TARGET_COLUMNS if name in table.colnames]
    if not columns:
        raise DataFormatError(
            f"observation table: none of the columns {list(TARGET_COLUMNS)} needed to select "
            f"by target; the table has {table.colnames}"
        )
    wanted = _normalized(names)
    mask = np.zeros(len(table), dtype=bool)
    for name in columns:
        mask |= np.isin(_normalized(table[name]), wanted)
    return mask


def _condition_mask(column, name, condition):
    values = np.asarray(column)
    if isinstance(condition, tuple | list):
        if len(condition) != 2:
            raise ConfigError(f"{name}: got {condition!r}; expected (min, max) or a value")
        mask = np.ones(len(values), dtype=bool)
        lo, hi = (_in_column_unit(bound, column, name) for bound in condition)
        if lo is not None:
            mask &= values >= lo
        if hi is not None:
            mask &= values <= hi
        return mask
    if values.dtype.kind == "U":
        return _normalized(values) == str(condition).strip().lower()
    return values == _in_column_unit(condition, column, name)


def _in_column_unit(value, column, name):
    if value is None or not isinstance(value, u.Quantity):
        return value
    unit = column.unit if column.unit is not None else u.dimensionless_unscaled
    try:
        return value.to_value(unit)
    except u.UnitConversionError as err:
        raise ConfigError(f"{name}: {value} cannot be compared with unit {unit!s}") from err
