"""Good time intervals (GADF ``GTI`` HDU: ``START`` and ``STOP`` columns)."""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.time import Time

from gammarules.data.fits_io import header_to_meta, open_fits, require_columns, select_hdu
from gammarules.data.time_ref import TimeReference
from gammarules.errors import DataFormatError, GammarulesError

__all__ = ["GTI"]


class GTI:
    """Good time intervals, stored as elapsed seconds since ``time_ref.epoch``.

    Parameters
    ----------
    met_start, met_stop : array
        Interval bounds in seconds since the reference epoch (mission elapsed time).
    time_ref : `~gammarules.data.TimeReference`
        The reference epoch and time scale.
    meta : dict, optional
        Header keywords.
    source : str
        What the intervals were read from, for error messages.
    """

    def __init__(self, met_start, met_stop, time_ref, meta=None, source="GTI"):
        self._start = np.atleast_1d(np.asarray(met_start, dtype=float))
        self._stop = np.atleast_1d(np.asarray(met_stop, dtype=float))
        if self._start.shape != self._stop.shape or self._start.ndim != 1:
            raise DataFormatError(
                f"{source}: START and STOP must be 1-d arrays of equal length, "
                f"got shapes {self._start.shape} and {self._stop.shape}"
            )
        if not (np.all(np.isfinite(self._start)) and np.all(np.isfinite(self._stop))):
            raise DataFormatError(f"{source}: START and STOP must be finite")
        bad = np.flatnonzero(self._stop < self._start)
        if bad.size:
            raise DataFormatError(
                f"{source}: interval(s) {bad.tolist()} end before they start (STOP < START)"
            )
        self.time_ref = time_ref
        self.meta = dict(meta or {})

    @classmethod
    def from_time_intervals(cls, time_start, time_stop, time_ref=None):
        """GTI from `~astropy.time.Time` bounds; ``time_ref`` defaults to the first start."""
        time_start, time_stop = Time(time_start), Time(time_stop)
        if time_ref is None:
            if time_start.size == 0:
                raise GammarulesError("GTI.from_time_intervals: no intervals and no time_ref")
            time_ref = TimeReference(epoch=time_start.ravel()[0])
        return cls(time_ref.to_elapsed(time_start), time_ref.to_elapsed(time_stop), time_ref)

    @classmethod
    def from_hdu(cls, hdu, filename=""):
        """Read a GADF GTI binary table HDU (of file ``filename``, named in error messages)."""
        source = f"{filename}[{hdu.name}]"
        require_columns(hdu, ["START", "STOP"], filename)
        if len(hdu.data) == 0:
            raise DataFormatError(f"{source}: empty GTI table; expected at least one interval")
        time_ref = TimeReference.from_header(hdu.header, source)
        bounds = []
        for name in ("START", "STOP"):
            column = hdu.columns[name]
            unit = u.Unit(column.unit) if column.unit else time_ref.unit
            values = np.asarray(hdu.data[name], dtype=float)
            bounds.append(u.Quantity(values, unit).to_value(u.s))
        return cls(*bounds, time_ref, meta=header_to_meta(hdu.header), source=source)

    @classmethod
    def read(cls, filename, hdu="GTI"):
        """Read the GTI HDU ``hdu`` of a FITS file."""
        with open_fits(filename, expected=f"a GTI HDU {hdu!r}") as hdulist:
            return cls.from_hdu(select_hdu(hdulist, hdu, filename), filename)

    def __len__(self):
        return len(self._start)

    def __repr__(self):
        return f"GTI(n_intervals={len(self)}, time_sum={self.time_sum:.1f})"

    @property
    def met_start(self):
        """Interval starts, seconds since the reference epoch."""
        return self._start.copy()

    @property
    def met_stop(self):
        """Interval stops, seconds since the reference epoch."""
        return self._stop.copy()

    @property
    def time_start(self):
        """Interval starts as `~astropy.time.Time`."""
        return self.time_ref.to_time(self._start * u.s)

    @property
    def time_stop(self):
        """Interval stops as `~astropy.time.Time`."""
        return self.time_ref.to_time(self._stop * u.s)

    @property
    def time_delta(self):
        """Interval durations (Quantity, s)."""
        return (self._stop - self._start) * u.s

    @property
    def time_sum(self):
        """Summed duration of all intervals (Quantity, s); overlaps count twice."""
        return self.time_delta.sum()

    def _new(self, start, stop):
        return GTI(start, stop, self.time_ref)

    def _met_of(self, time):
        return self.time_ref.to_elapsed(Time(time))

    def select_time(self, tmin, tmax):
        """Intervals clipped to ``[tmin, tmax]`` (`~astropy.time.Time`); empty ones dropped."""
        start = np.maximum(self._start, self._met_of(tmin))
        stop = np.minimum(self._stop, self._met_of(tmax))
        keep = stop > start
        return self._new(start[keep], stop[keep])

    def _other_in_own_frame(self, other):
        if self.time_ref.same_as(other.time_ref):
            return other._start, other._stop
        return self._met_of(other.time_start), self._met_of(other.time_stop)

    def normalized(self):
        """Sorted, non-overlapping intervals covering the same times (touching ones merged)."""
        return self._new(*_merge(self._start, self._stop))

    def union(self, other):
        """Times in ``self`` or ``other``, as sorted disjoint intervals in ``self``'s frame."""
        start, stop = self._other_in_own_frame(other)
        return self._new(
            *_merge(np.concatenate([self._start, start]), np.concatenate([self._stop, stop]))
        )

    def intersection(self, other):
        """Times in both ``self`` and ``other``, as sorted disjoint intervals."""
        a_start, a_stop = _merge(self._start, self._stop)
        b_start, b_stop = _merge(*self._other_in_own_frame(other))
        # For each interval of a, the range [first, last) of intervals of b overlapping it.
        first = np.searchsorted(b_stop, a_start, side="right")
        last = np.searchsorted(b_start, a_stop, side="left")
        counts = np.clip(last - first, 0, None)
        a_index = np.repeat(np.arange(len(a_start)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        b_index = np.repeat(first, counts) + offsets
        start = np.maximum(a_start[a_index], b_start[b_index])
        stop = np.minimum(a_stop[a_index], b_stop[b_index])
        keep = stop > start
        return self._new(start[keep], stop[keep])


def _merge(start, stop):
    """Sorted disjoint intervals covering the union of ``[start, stop]``."""
    if len(start) == 0:
        return start, stop
    order = np.argsort(start, kind="stable")
    start, stop = start[order], stop[order]
    reach = np.maximum.accumulate(stop)
    opens = np.ones(len(start), dtype=bool)
    opens[1:] = start[1:] > reach[:-1]
    first = np.flatnonzero(opens)
    return start[first], np.maximum.reduceat(stop, first)
