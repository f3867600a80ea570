"""The time reference of a GADF table: times are stored as elapsed time since an epoch.

The epoch is ``MJDREFI + MJDREFF`` (or ``MJDREF``) days in the time scale ``TIMESYS``; values
are in ``TIMEUNIT`` (default seconds). ``TIMEREF`` says where times are measured: for
``LOCAL`` / ``TOPOCENTER`` the observatory (``GEOLON``, ``GEOLAT``, ``GEOALT`` or
``ALTITUDE``) becomes the `~astropy.time.Time` location, which matters for conversions to
barycentric scales (TDB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy import units as u
from astropy.coordinates import EarthLocation
from astropy.io import fits
from astropy.time import Time, TimeDelta

from gammarules.errors import DataFormatError

__all__ = ["TimeReference"]

_SCALES = {"TT", "TAI", "UTC", "TDB", "TCB", "TCG", "UT1"}
_TOPOCENTRIC = {"LOCAL", "TOPOCENTER"}
_GEOCENTRIC = {"GEOCENTER", "GEOCENTRIC"}


@dataclass(frozen=True)
class TimeReference:
    """Epoch (with scale and location), unit and reference position of stored times."""

    epoch: Time
    unit: u.UnitBase = u.s
    timeref: str = "LOCAL"

    @classmethod
    def from_header(cls, header, source):
        """Read MJDREFI/MJDREFF (or MJDREF), TIMESYS, TIMEUNIT and TIMEREF from ``header``.

        ``source`` names the file and HDU for error messages. Missing ``TIMEUNIT`` means
        seconds and missing ``TIMEREF`` means ``LOCAL``, as GADF prescribes.
        """
        if "MJDREFI" in header:
            if "MJDREFF" not in header:
                raise DataFormatError(f"{source}: MJDREFI given without MJDREFF")
            mjd_int, mjd_frac = float(header["MJDREFI"]), float(header["MJDREFF"])
        elif "MJDREF" in header:
            mjd_int, mjd_frac = divmod(float(header["MJDREF"]), 1.0)
        else:
            raise DataFormatError(
                f"{source}: missing header keyword MJDREFI (with MJDREFF, or MJDREF); "
                "expected the GADF time reference"
            )
        timesys = str(header.get("TIMESYS", "")).strip().upper()
        if timesys not in _SCALES:
            raise DataFormatError(
                f"{source}: header keyword TIMESYS={timesys or None!r}; "
                f"expected one of {sorted(_SCALES)}"
            )
        try:
            unit = u.Unit(str(header.get("TIMEUNIT", "s")).strip() or "s")
            unit.to(u.s)
        except (ValueError, u.UnitConversionError) as err:
            raise DataFormatError(
                f"{source}: header keyword TIMEUNIT={header.get('TIMEUNIT')!r}; "
                "expected a time unit such as 's' or 'd'"
            ) from err
        timeref = str(header.get("TIMEREF", "LOCAL")).strip().upper() or "LOCAL"
        epoch = Time(
            mjd_int,
            mjd_frac,
            format="mjd",
            scale=timesys.lower(),
            location=_location(header, timeref, source),
        )
        return cls(epoch=epoch, unit=unit, timeref=timeref)

    def to_time(self, elapsed):
        """`~astropy.time.Time` of elapsed times (Quantity, or plain numbers in ``unit``)."""
        seconds = u.Quantity(elapsed, self.unit).to_value(u.s)
        return self.epoch + TimeDelta(seconds, format="sec")

    def to_elapsed(self, time):
        """Elapsed seconds (float array) since the epoch of ``time`` (a `~astropy.time.Time`)."""
        return np.asarray((time - self.epoch).to_value(u.s), dtype=float)

    def same_as(self, other):
        """True if times in ``self`` and ``other`` can be compared as plain numbers."""
        return self.epoch.scale == other.epoch.scale and self.epoch == other.epoch


def _location(header, timeref, source):
    if timeref in _GEOCENTRIC:
        return EarthLocation.from_geocentric(0, 0, 0, unit=u.m)
    if timeref not in _TOPOCENTRIC or "GEOLON" not in header or "GEOLAT" not in header:
        return None
    height_key = next((key for key in ("GEOALT", "ALTITUDE") if key in header), None)
    try:
        lon, lat = float(header["GEOLON"]), float(header["GEOLAT"])
        height = float(header[height_key]) if height_key else 0.0
    except ValueError as err:
        raise DataFormatError(
            f"{source}: observatory position GEOLON/GEOLAT/{height_key} is not numeric ({err})"
        ) from err
    height_unit = u.m
    # Some writers (CTA 1DC) give the altitude in km and say so in the card comment.
    if height_key and isinstance(header, fits.Header):
        if header.comments[height_key].strip().lower().startswith("[km]"):
            height_unit = u.km
    return EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, height * height_unit)
