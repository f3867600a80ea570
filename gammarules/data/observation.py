"""One observation (run): events, good time intervals, pointing and IRFs, loaded on first use."""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord

from gammarules.data.event_list import EventList, mean_direction
from gammarules.data.fits_io import open_fits, require_columns, select_hdu
from gammarules.data.gti import GTI
from gammarules.errors import DataFormatError

__all__ = ["Observation"]


class Observation:
    """An observation whose HDUs are read lazily (once) from the files an HDU index lists.

    Parameters
    ----------
    obs_id : int
        Observation id.
    locations : dict
        HDU type (``"events"``, ``"gti"``, ``"aeff"``, ...) -> `~gammarules.data.HDULocation`.
    meta : dict, optional
        The observation-index row.
    obs_index_path : path, optional
        The observation index file, for error messages.

    Observation-level keywords (``LIVETIME``, ``RA_PNT``, ...) come from the EVENTS header and,
    where it lacks them, from the observation-index row.
    """

    def __init__(self, obs_id, locations, meta=None, obs_index_path=None):
        self.obs_id = int(obs_id)
        self.locations = dict(locations)
        self.meta = dict(meta or {})
        self._obs_index_path = obs_index_path

    def __repr__(self):
        return f"Observation(obs_id={self.obs_id}, hdus={sorted(self.locations)})"

    def _location(self, hdu_type, required=False):
        location = self.locations.get(hdu_type)
        if location is None and required:
            raise DataFormatError(
                f"obs {self.obs_id}: no {hdu_type!r} HDU in the HDU index; "
                f"found {sorted(self.locations)}"
            )
        if location is not None:
            location.check_file()
        return location

    def _sources(self):
        events = self._location("events", required=True)
        index = f" or observation index {self._obs_index_path}" if self._obs_index_path else ""
        return f"{events}{index}"

    def _keyword(self, key):
        """``key`` from the EVENTS header, else from the observation-index row."""
        for source in (self.events.meta, self.meta):
            value = source.get(key)
            if isinstance(value, str):
                value = value.strip() or None
            if value is not None and not (isinstance(value, float) and math.isnan(value)):
                return value
        return None

    @cached_property
    def events(self):
        """The event list (`~gammarules.data.EventList`)."""
        location = self._location("events", required=True)
        return EventList.read(location.path, hdu=location.hdu_name)

    @cached_property
    def gti(self):
        """Good time intervals; from the EVENTS ``TSTART``/``TSTOP`` if no GTI HDU is listed."""
        location = self._location("gti")
        if location is not None:
            return GTI.read(location.path, hdu=location.hdu_name)
        header, time_ref = self.events.meta, self.events.time_ref
        source = str(self._location("events", required=True))
        bounds = [
            u.Quantity(float(self._header_keyword(header, key, source)), time_ref.unit)
            for key in ("TSTART", "TSTOP")
        ]
        return GTI(*(b.to_value(u.s) for b in bounds), time_ref, source=source)

    @staticmethod
    def _header_keyword(header, key, source):
        if key not in header:
            raise DataFormatError(
                f"{source}: missing header keyword {key} (needed since no GTI HDU is listed)"
            )
        return header[key]

    @cached_property
    def pointing_radec(self):
        """Pointing direction (ICRS `~astropy.coordinates.SkyCoord`).

        From ``RA_PNT``/``DEC_PNT`` of the EVENTS header, else the mean direction of a listed
        POINTING HDU, else the observation-index row.
        """
        header = self.events.meta
        if "RA_PNT" in header and "DEC_PNT" in header:
            return SkyCoord(float(header["RA_PNT"]), float(header["DEC_PNT"]), unit="deg")
        location = self._location("pointing")
        if location is not None:
            return _read_pointing(location)
        ra, dec = self.meta.get("RA_PNT"), self.meta.get("DEC_PNT")
        if ra is None or dec is None:
            raise DataFormatError(
                f"obs {self.obs_id}: no pointing; expected RA_PNT/DEC_PNT in "
                f"{self._sources()}, or a 'pointing' HDU in the HDU index"
            )
        return SkyCoord(float(ra), float(dec), unit="deg")

    @property
    def earth_location(self):
        """The observatory (`~astropy.coordinates.EarthLocation`) from the GEOLON, GEOLAT and
        ALTITUDE keywords (EVENTS header or observation index); DataFormatError if absent."""
        values = [self._keyword(key) for key in ("GEOLON", "GEOLAT", "ALTITUDE")]
        if any(v is None for v in values):
            raise DataFormatError(
                f"{self._sources()}: keywords GEOLON, GEOLAT and ALTITUDE are needed for the "
                "observatory location"
            )
        lon, lat, height = (float(v) for v in values)
        return EarthLocation(lon=lon * u.deg, lat=lat * u.deg, height=height * u.m)

    @property
    def target_radec(self):
        """Target position from ``RA_OBJ``/``DEC_OBJ`` (ICRS SkyCoord), or None if unknown."""
        ra, dec = self._keyword("RA_OBJ"), self._keyword("DEC_OBJ")
        if ra is None or dec is None:
            return None
        return SkyCoord(float(ra), float(dec), unit="deg")

    @property
    def ontime(self):
        """Observation time including dead time: ``ONTIME``, else the summed GTIs (s)."""
        ontime = self._keyword("ONTIME")
        return self.gti.time_sum if ontime is None else float(ontime) * u.s

    @property
    def livetime(self):
        """Dead-time corrected time: ``LIVETIME``, else ``ONTIME * DEADC`` (Quantity s)."""
        livetime = self._keyword("LIVETIME")
        if livetime is not None:
            return float(livetime) * u.s
        deadc = self._keyword("DEADC")
        if deadc is None:
            raise DataFormatError(
                f"obs {self.obs_id}: no LIVETIME, nor DEADC to derive it from ONTIME, in "
                f"{self._sources()}"
            )
        return self.ontime * float(deadc)

    @property
    def deadc(self):
        """Dead-time correction factor ``livetime / ontime`` (0 if ``ontime`` is 0)."""
        ontime = self.ontime.to_value(u.s)
        return 0.0 if ontime == 0 else float(self.livetime.to_value(u.s) / ontime)

    @property
    def tstart(self):
        """Start of the first good time interval (`~astropy.time.Time`).

        The GTIs rather than the EVENTS ``TSTART`` keyword: some files (CTA 1DC) store that
        keyword rounded to 32-bit precision, seconds off.
        """
        return self.gti.time_start.min()

    @property
    def tstop(self):
        """End of the last good time interval (`~astropy.time.Time`)."""
        return self.gti.time_stop.max()

    def _irf(self, hdu_type):
        location = self._location(hdu_type)
        if location is None:
            return None
        from gammarules.irf import load_irf

        return load_irf(location.path, location.hdu_name)

    @cached_property
    def aeff(self):
        """Effective area IRF, or None if the index lists none."""
        return self._irf("aeff")

    @cached_property
    def edisp(self):
        """Energy dispersion IRF, or None if the index lists none."""
        return self._irf("edisp")

    @cached_property
    def psf(self):
        """Point spread function IRF, or None if the index lists none."""
        return self._irf("psf")

    @cached_property
    def bkg(self):
        """Background IRF, or None if the index lists none."""
        return self._irf("bkg")

    @cached_property
    def rad_max(self):
        """Directional cut of point-like IRFs: the RAD_MAX HDU, else a constant from the
        ``RAD_MAX`` keyword of the effective-area header, else None."""
        if self._location("rad_max") is not None:
            return self._irf("rad_max")
        location = self._location("aeff")
        if location is None:
            return None
        header = _read_header(location)
        if header.get("RAD_MAX") is None:
            return None
        from gammarules.irf import RadMax2D

        return RadMax2D.from_constant(float(header["RAD_MAX"]) * u.deg)


def _read_header(location):
    with open_fits(location.path, expected=f"HDU {location.hdu_name!r}") as hdulist:
        return select_hdu(hdulist, location.hdu_name, location.path).header.copy()


def _read_pointing(location):
    with open_fits(location.path, expected=f"a POINTING HDU {location.hdu_name!r}") as hdulist:
        hdu = select_hdu(hdulist, location.hdu_name, location.path)
        require_columns(hdu, ["RA_PNT", "DEC_PNT"], location.path)
        if len(hdu.data) == 0:
            raise DataFormatError(f"{location}: empty POINTING table; expected at least one row")
        radec = SkyCoord(
            np.asarray(hdu.data["RA_PNT"], dtype=float),
            np.asarray(hdu.data["DEC_PNT"], dtype=float),
            unit="deg",
        )
    return mean_direction(radec)
