"""Event lists (GADF ``EVENTS`` HDU): reconstructed time, direction and energy per event."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import CartesianRepresentation, SkyCoord, UnitSphericalRepresentation
from astropy.wcs import WCS
from regions import CircleAnnulusSkyRegion, CircleSkyRegion

from gammarules.data.fits_io import open_fits, require_columns, select_hdu, table_from_hdu
from gammarules.data.time_ref import TimeReference
from gammarules.errors import DataFormatError

__all__ = ["EventList"]

REQUIRED_COLUMNS = ("TIME", "RA", "DEC", "ENERGY")


class EventList:
    """A list of events: an astropy `Table` plus the time reference of its ``TIME`` column.

    ``TIME`` counts from ``time_ref.epoch``; ``RA``/``DEC`` are ICRS degrees (GADF's
    FK5 J2000 differs from ICRS by less than 0.03 arcsec); every other column of the file
    (``EVENT_ID``, ``DETX``, ``MULTIP``, ...) is kept in `table`. ``table.meta`` holds the
    header keywords.
    """

    def __init__(self, table, time_ref):
        self.table = table
        self.time_ref = time_ref

    @classmethod
    def from_hdu(cls, hdu, filename=""):
        """Read an EVENTS binary table HDU (of file ``filename``, named in error messages)."""
        source = f"{filename}[{hdu.name}]"
        require_columns(hdu, REQUIRED_COLUMNS, filename)
        time_ref = TimeReference.from_header(hdu.header, source)
        table = table_from_hdu(hdu)
        # unit assumed when the column has none, and the physical type it must have
        units = {
            "TIME": (time_ref.unit, u.s),
            "RA": (u.deg, u.deg),
            "DEC": (u.deg, u.deg),
            "ENERGY": (u.Unit(hdu.header.get("EUNIT", "TeV"), parse_strict="silent"), u.TeV),
        }
        for name, (default, expected) in units.items():
            column = table[name]
            column.unit = default if column.unit is None else column.unit
            if not column.unit.is_equivalent(expected):
                raise DataFormatError(
                    f"{source}: column {name} has unit {column.unit!s}; "
                    f"expected a unit like {expected}"
                )
        return cls(table, time_ref)

    @classmethod
    def read(cls, filename, hdu="EVENTS"):
        """Read the event list in HDU ``hdu`` of a GADF FITS file (gzip or not)."""
        with open_fits(filename, expected=f"an event list in HDU {hdu!r}") as hdulist:
            return cls.from_hdu(select_hdu(hdulist, hdu, filename), filename)

    def __len__(self):
        return len(self.table)

    def __repr__(self):
        obs_id = self.meta.get("OBS_ID", "?")
        return f"EventList(obs_id={obs_id}, n_events={len(self)})"

    @property
    def meta(self):
        """Header keywords of the EVENTS HDU (dict)."""
        return self.table.meta

    @property
    def met(self):
        """Event times in seconds since ``time_ref.epoch`` (float array)."""
        return self.table["TIME"].quantity.to_value(u.s).astype(float)

    @property
    def time(self):
        """Event times as `~astropy.time.Time`."""
        return self.time_ref.to_time(self.met * u.s)

    @property
    def radec(self):
        """Event directions as an ICRS `~astropy.coordinates.SkyCoord`."""
        ra = self.table["RA"].quantity.astype(float)
        dec = self.table["DEC"].quantity.astype(float)
        return SkyCoord(ra, dec, frame="icrs")

    @property
    def energy(self):
        """Reconstructed energies (Quantity)."""
        return self.table["ENERGY"].quantity

    def select_mask(self, mask):
        """Events where the boolean array ``mask`` is true."""
        mask = np.asarray(mask)
        if mask.dtype != bool or mask.shape != (len(self),):
            raise DataFormatError(
                f"event mask must be a boolean array of shape ({len(self)},), "
                f"got dtype {mask.dtype} and shape {mask.shape}"
            )
        return EventList(self.table[mask], self.time_ref)

    def select_energy(self, emin=None, emax=None):
        """Events with ``emin <= energy < emax`` (Quantities; None for no bound)."""
        energy = self.energy
        mask = np.ones(len(self), dtype=bool)
        if emin is not None:
            mask &= energy >= u.Quantity(emin)
        if emax is not None:
            mask &= energy < u.Quantity(emax)
        return self.select_mask(mask)

    def select_time(self, tmin=None, tmax=None):
        """Events with ``tmin <= time < tmax`` (`~astropy.time.Time`; None for no bound)."""
        met = self.met
        mask = np.ones(len(self), dtype=bool)
        if tmin is not None:
            mask &= met >= self.time_ref.to_elapsed(tmin)
        if tmax is not None:
            mask &= met < self.time_ref.to_elapsed(tmax)
        return self.select_mask(mask)

    def select_region(self, region, wcs=None):
        """Events inside a `regions` sky region.

        Circles and annuli are tested exactly with angular separations (a circle includes
        its edge; an annulus excludes its inner edge, so it never shares events with the
        circle inside it). Other regions are tested in pixel space of ``wcs``, by default
        a fine gnomonic projection centred on the region (or on the events); great-circle
        polygon edges are straight lines there, so polygons are exact too.
        """
        radec = self.radec
        if isinstance(region, CircleSkyRegion):
            mask = radec.separation(region.center) <= region.radius
        elif isinstance(region, CircleAnnulusSkyRegion):
            separation = radec.separation(region.center)
            mask = (separation > region.inner_radius) & (separation <= region.outer_radius)
        else:
            if wcs is None:
                center = getattr(region, "center", None)
                wcs = _gnomonic_wcs(mean_direction(radec) if center is None else center)
            mask = np.asarray(region.contains(radec, wcs), dtype=bool)
        return self.select_mask(np.asarray(mask, dtype=bool))


def mean_direction(radec):
    """The normalised vector mean of sky directions (ICRS SkyCoord); no RA wrap-around issue."""
    xyz = radec.cartesian.xyz.value.reshape(3, -1).sum(axis=1)
    if not np.any(xyz):
        xyz = np.array([1.0, 0.0, 0.0])
    mean = CartesianRepresentation(*xyz).represent_as(UnitSphericalRepresentation)
    return SkyCoord(mean.lon, mean.lat, frame="icrs")


def _gnomonic_wcs(center, pixel_size_deg=0.001):
    center = center.icrs
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [center.ra.deg, center.dec.deg]
    wcs.wcs.crpix = [0.0, 0.0]
    wcs.wcs.cdelt = [-pixel_size_deg, pixel_size_deg]
    return wcs
