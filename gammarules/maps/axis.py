"""Binned axes: energy (true or reconstructed), offset, migration, time."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError

__all__ = ["MapAxis"]


class MapAxis:
    """An axis given by its bin edges.

    Parameters
    ----------
    edges : `~astropy.units.Quantity` or array
        Bin edges, strictly increasing.
    name : str
        Axis name, e.g. ``"energy"`` (reconstructed) or ``"energy_true"``.
    unit : str or `~astropy.units.Unit`
        Unit of ``edges`` when they are given as plain numbers; Quantity edges are
        converted to it unless it is empty.
    interp : {"log", "lin"}
        Interpolation scale; it also sets the bin centres (geometric or arithmetic mean).
    """

    def __init__(self, edges, name="energy", unit="", interp="log"):
        edges = u.Quantity(edges, None if isinstance(edges, u.Quantity) and unit == "" else unit)
        values = np.asarray(edges.value, dtype=float)
        if values.ndim != 1 or values.size < 2:
            raise GammarulesError(f"axis '{name}': need at least two bin edges, got {values}")
        if not np.all(np.diff(values) > 0):
            raise GammarulesError(f"axis '{name}': bin edges must increase strictly")
        if interp not in ("log", "lin"):
            raise GammarulesError(f"axis '{name}': interp must be 'log' or 'lin', got {interp!r}")
        if interp == "log" and values[0] <= 0:
            raise GammarulesError(f"axis '{name}': log axis needs positive edges")
        self._edges = values
        self._unit = edges.unit
        self._nodes = None
        self.name = name
        self.interp = interp

    @classmethod
    def from_energy_bounds(
        cls, energy_min, energy_max, nbin, per_decade=False, unit="TeV", name="energy"
    ):
        """Log-spaced energy axis; ``nbin`` is the total, or per decade if ``per_decade``."""
        emin = u.Quantity(energy_min, unit).to_value(unit)
        emax = u.Quantity(energy_max, unit).to_value(unit)
        if per_decade:
            nbin = int(np.ceil(np.log10(emax / emin) * nbin))
        edges = np.geomspace(emin, emax, int(nbin) + 1)
        return cls(edges, name=name, unit=unit, interp="log")

    @classmethod
    def from_edges(cls, edges, name="energy", unit="", interp="log"):
        return cls(edges, name=name, unit=unit, interp=interp)

    @classmethod
    def from_nodes(cls, nodes, name="energy", unit="", interp="log"):
        """Axis of node values (e.g. energies where a differential quantity is tabulated).

        ``center`` returns the nodes exactly; the edges are the midpoints between nodes
        (geometric for log axes), mirrored at both ends.
        """
        nodes = u.Quantity(nodes, None if isinstance(nodes, u.Quantity) and unit == "" else unit)
        values = np.asarray(nodes.value, dtype=float)
        if values.ndim != 1 or values.size < 2:
            raise GammarulesError(f"axis '{name}': need at least two nodes, got {values}")
        scaled = np.log(values) if interp == "log" and np.all(values > 0) else values
        mid = 0.5 * (scaled[1:] + scaled[:-1])
        edges = np.concatenate([[2 * scaled[0] - mid[0]], mid, [2 * scaled[-1] - mid[-1]]])
        if interp == "log" and np.all(values > 0):
            edges = np.exp(edges)
        axis = cls(edges, name=name, unit=nodes.unit, interp=interp)
        axis._nodes = values
        return axis

    @property
    def node_type(self):
        """``"edges"`` for binned axes, ``"center"`` for axes made from nodes."""
        return "edges" if self._nodes is None else "center"

    @property
    def unit(self):
        return self._unit

    @property
    def nbin(self):
        return self._edges.size - 1

    @property
    def edges(self):
        """Bin edges as a Quantity."""
        return u.Quantity(self._edges, self._unit, copy=False)

    @property
    def edges_min(self):
        return self.edges[:-1]

    @property
    def edges_max(self):
        return self.edges[1:]

    @property
    def center(self):
        """Bin centres: geometric mean for log axes, arithmetic mean for linear ones."""
        if self._nodes is not None:
            return u.Quantity(self._nodes, self._unit, copy=False)
        lo, hi = self._edges[:-1], self._edges[1:]
        values = np.sqrt(lo * hi) if self.interp == "log" else 0.5 * (lo + hi)
        return u.Quantity(values, self._unit, copy=False)

    @property
    def bin_width(self):
        return np.diff(self.edges)

    def edges_in(self, unit):
        """Bin edges as plain floats in ``unit`` (for hot code)."""
        return self.edges.to_value(unit)

    def center_in(self, unit):
        return self.center.to_value(unit)

    def coord_to_idx(self, coord):
        """Index of the bin holding each coordinate (bins are right-open); -1 outside or NaN."""
        values = u.Quantity(coord, self._unit).to_value(self._unit)
        idx = np.searchsorted(self._edges, values, side="right") - 1
        inside = (values >= self._edges[0]) & (values < self._edges[-1])
        return np.where(inside, idx, -1)

    def squash(self):
        """One bin spanning the whole axis."""
        return MapAxis(self.edges[[0, -1]], name=self.name, unit=self.unit, interp=self.interp)

    def slice(self, start, stop):
        """Axis made of bins ``start:stop``."""
        axis = MapAxis(
            self.edges[start : stop + 1], name=self.name, unit=self.unit, interp=self.interp
        )
        if self._nodes is not None:
            axis._nodes = self._nodes[start:stop]
        return axis

    def rename(self, name):
        axis = MapAxis(self.edges, name=name, unit=self.unit, interp=self.interp)
        axis._nodes = self._nodes
        return axis

    def __len__(self):
        return self.nbin

    def __eq__(self, other):
        return (
            isinstance(other, MapAxis)
            and self.name == other.name
            and self.interp == other.interp
            and self.node_type == other.node_type
            and self._edges.shape == other._edges.shape
            and self._unit.is_equivalent(other._unit)
            and np.allclose(self._edges, other.edges.to_value(self._unit), rtol=1e-6, atol=0)
        )

    def __hash__(self):
        return hash((self.name, self.nbin))

    def __repr__(self):
        return (
            f"MapAxis(name={self.name!r}, nbin={self.nbin}, "
            f"edges=[{self._edges[0]:.4g}, {self._edges[-1]:.4g}] {self._unit}, "
            f"interp={self.interp!r})"
        )
