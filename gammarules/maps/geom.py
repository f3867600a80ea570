"""The non-spatial axes of a geometry: checks, look-up, slicing and interpolation weights."""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.maps.axis import MapAxis

__all__ = ["axis_index", "axis_interp_weights", "check_axes", "interp_weights", "slice_axes"]


def check_axes(axes):
    """``axes`` as a list of `MapAxis` with distinct names."""
    axes = list(axes or ())
    for axis in axes:
        if not isinstance(axis, MapAxis):
            raise GammarulesError(f"geometry axes must be MapAxis objects, got {axis!r}")
    names = [a.name for a in axes]
    if len(set(names)) != len(names):
        raise GammarulesError(f"geometry axes must have distinct names, got {names}")
    return axes


def _coords_for(axes, axis_coords):
    unknown = set(axis_coords) - {a.name for a in axes}
    if unknown:
        raise GammarulesError(
            f"unknown axis coordinate(s) {sorted(unknown)}; the axes are {[a.name for a in axes]}"
        )
    missing = [a.name for a in axes if a.name not in axis_coords]
    if missing:
        raise GammarulesError(f"missing coordinate for axis/axes {missing}")
    return [axis_coords[a.name] for a in axes]


def axis_index(axes, axis_coords):
    """Bin index along each axis of the coordinates ``{name: value}``; -1 outside."""
    return tuple(
        axis.coord_to_idx(coord)
        for axis, coord in zip(axes, _coords_for(axes, axis_coords), strict=True)
    )


def axis_interp_weights(axis, coord):
    """Linear interpolation between bin centres (in log for log axes), clamped at the ends.

    Returns ``(i0, i1, w0, w1)``: the value at ``coord`` is ``w0 * v[i0] + w1 * v[i1]``.
    """
    values = u.Quantity(coord, axis.unit).to_value(axis.unit)
    nodes = axis.center.value
    if axis.interp == "log":
        values, nodes = np.log(values), np.log(nodes)
    pos = np.interp(values, nodes, np.arange(nodes.size))
    i0 = np.minimum(np.floor(pos).astype(int), max(nodes.size - 2, 0))
    i1 = np.minimum(i0 + 1, nodes.size - 1)
    w1 = pos - i0
    return i0, i1, 1 - w1, w1


def interp_weights(axes, axis_coords):
    """Corners and weights of the multilinear interpolation over all ``axes``.

    Yields ``(index tuple, weight)`` for each of the 2**len(axes) corners.
    """
    per_axis = [
        axis_interp_weights(axis, coord)
        for axis, coord in zip(axes, _coords_for(axes, axis_coords), strict=True)
    ]
    corners = [((), 1.0)]
    for i0, i1, w0, w1 in per_axis:
        corners = [(idx + (i,), w * wi) for idx, w in corners for i, wi in ((i0, w0), (i1, w1))]
    return corners


def slice_axes(axes, slices):
    """Axes after ``{axis name: slice or int}``; an integer index removes its axis."""
    names = [a.name for a in axes]
    unknown = set(slices) - set(names)
    if unknown:
        raise GammarulesError(f"slice_by_idx: unknown axis {sorted(unknown)}; axes are {names}")
    out = []
    for axis in axes:
        index = slices.get(axis.name, slice(None))
        if isinstance(index, slice):
            start, stop, step = index.indices(axis.nbin)
            if step != 1 or stop <= start:
                raise GammarulesError(
                    f"slice_by_idx: axis '{axis.name}' needs a non-empty slice with step 1"
                )
            out.append(axis.slice(start, stop))
    return out
