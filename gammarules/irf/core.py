"""Common structure of the tabulated IRFs: axes, data, unit, header metadata, reading."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import DataFormatError, GammarulesError
from gammarules.irf.gadf import AXIS_SPECS, GadfTable, open_hdu
from gammarules.irf.interpolation import GridInterpolator

__all__ = ["IRF", "IrfAxes", "to_value"]


def to_value(quantity, unit, name):
    """Plain float array of ``quantity`` in ``unit``; plain numbers are taken to be in ``unit``."""
    try:
        return np.asarray(u.Quantity(quantity, unit).to_value(unit), dtype=float)
    except (u.UnitsError, TypeError, ValueError):
        raise GammarulesError(
            f"{name}: expected a quantity convertible to '{unit}', got {quantity!r}"
        ) from None


def canonical_unit(axis_name):
    """The unit hot code uses for an axis: TeV for energies, deg for angles."""
    return u.Unit(AXIS_SPECS[axis_name][1])


class IrfAxes(tuple):
    """The axes of an IRF in data order; index by position or by axis name."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for axis in self:
                if axis.name == key:
                    return axis
            raise KeyError(f"no axis {key!r}; axes are {self.names}")
        return super().__getitem__(key)

    @property
    def names(self):
        return [axis.name for axis in self]

    @property
    def shape(self):
        return tuple(axis.nbin for axis in self)


class IRF:
    """An IRF tabulated on a grid of `~gammarules.maps.MapAxis`.

    Subclasses set ``tag`` (the HDUCLAS4 value), ``axis_names`` (data dimension order),
    ``data_columns`` (accepted column names, preferred first) and ``default_unit`` (used
    when the column has no unit; the stored unit must be convertible to it).

    Parameters
    ----------
    axes : sequence of `~gammarules.maps.MapAxis`
        Axes in the order of ``axis_names``.
    data : ndarray
        Table of shape ``(axes[0].nbin, ..., axes[-1].nbin)``.
    unit : str or `~astropy.units.Unit`
        Unit of ``data``.
    meta : dict, optional
        Header keywords.
    nodes : dict, optional
        Interpolation nodes per axis name, in the canonical unit; the bin centres by default
        (files that tabulate at nodes rather than in bins give them explicitly).
    """

    tag = ""
    axis_names = ()
    data_columns = ()
    default_unit = ""

    def __init__(self, axes, data, unit="", meta=None, nodes=None):
        self.axes = IrfAxes(axes)
        if self.axes.names != list(self.axis_names):
            raise GammarulesError(
                f"{type(self).__name__}: axes must be {list(self.axis_names)}, "
                f"got {self.axes.names}"
            )
        self.meta = dict(meta or {})
        self._nodes = {axis.name: axis.center_in(canonical_unit(axis.name)) for axis in self.axes}
        self._nodes.update({k: np.asarray(v, dtype=float) for k, v in (nodes or {}).items()})
        self._set_data(data, unit)

    def _set_data(self, data, unit):
        data = np.asarray(data, dtype=float)
        if data.shape != self.axes.shape:
            raise GammarulesError(
                f"{type(self).__name__}: data shape {data.shape} does not match axes "
                f"{self.axes.names} of shape {self.axes.shape}"
            )
        self.data = data
        self.unit = u.Unit(unit)

    @property
    def quantity(self):
        return u.Quantity(self.data, self.unit, copy=False)

    @property
    def is_pointlike(self):
        """True for a point-like IRF (HDUCLAS3 = POINT-LIKE), False for full-enclosure."""
        return str(self.meta.get("HDUCLAS3", "")).strip().upper() == "POINT-LIKE"

    @classmethod
    def read(cls, filename, hdu):
        """Read the IRF stored in HDU ``hdu`` (name or index) of ``filename``."""
        return cls.from_hdu(open_hdu(filename, hdu), source=f"{filename}[{hdu}]")

    @classmethod
    def from_hdu(cls, hdu, source=None):
        """Build the IRF from a GADF `~astropy.io.fits.BinTableHDU`."""
        table = cls._open_table(hdu, source)
        axes, nodes = cls._read_axes(table)
        lengths = {axis.name: axis.nbin for axis in axes}
        data, unit, column = table.array(cls.data_columns, lengths, cls.default_unit)
        check_unit(unit, cls.default_unit, table.source, column)
        return cls(axes, data, unit=unit, meta=table.meta, nodes=nodes)

    @classmethod
    def _open_table(cls, hdu, source):
        table = GadfTable(hdu, source or f"HDU {hdu.name!r}")
        table.check_tag(cls.tag)
        return table

    @classmethod
    def _read_axes(cls, table):
        axes, nodes = [], {}
        for name in cls.axis_names:
            axis, nodes[name] = table.axis(name)
            axes.append(axis)
        return axes, nodes

    def _grid(
        self, values=None, axes=None, extrapolate=(), values_scale="lin", nodes=None, valid=None
    ):
        """Interpolator of ``values`` (default: the data) over the axes named in ``axes``.

        ``values`` has the lengths of those axes' nodes first (default: all axes), then any
        extra dimensions; ``nodes`` may replace the nodes of some axes. Axes named in
        ``extrapolate`` extrapolate linearly up to their outer edges; the others clip to
        their outer nodes. ``valid`` flags the nodes with data (see `GridInterpolator`).
        """
        values = self.data if values is None else values
        names = self.axes.names if axes is None else axes
        node_map = {**self._nodes, **(nodes or {})}
        grid_nodes, scales, bounds = [], [], []
        for name in names:
            axis, node = self.axes[name], node_map[name]
            if name in extrapolate:
                edges = axis.edges_in(canonical_unit(name))
                bounds.append((min(edges[0], node[0]), max(edges[-1], node[-1])))
            else:
                bounds.append((node[0], node[-1]))
            grid_nodes.append(node)
            scales.append(axis.interp)
        return GridInterpolator(
            grid_nodes, values, scales, bounds, values_scale=values_scale, valid=valid
        )

    def __repr__(self):
        axes = ", ".join(f"{a.name}: {a.nbin}" for a in self.axes)
        return f"{type(self).__name__}({axes}; unit={self.unit})"


def check_unit(unit, expected, source, column):
    """Raise `DataFormatError` unless ``unit`` converts to ``expected``."""
    if not u.Unit(unit).is_equivalent(expected):
        raise DataFormatError(
            f"{source}: column {column} has unit '{unit}', expected one convertible to "
            f"'{u.Unit(expected)}'"
        )
