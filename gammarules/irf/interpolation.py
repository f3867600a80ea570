"""Vectorised multilinear interpolation of IRF tables.

IRF tables are sampled on rectilinear grids (one node array per axis). `GridInterpolator`
evaluates them at arbitrary broadcast coordinate arrays, fast enough for 10^6 points:
per axis one ``searchsorted`` and one weight, then a weighted sum over the 2^d grid
corners gathered from the flattened table.

Rules, per axis:

- the coordinate is transformed to the axis scale (``log`` for energies, ``lin`` otherwise)
  and the nodes are placed on that scale;
- the coordinate is first clipped to ``bounds``; between an outer node and its bound the
  value is extrapolated linearly from the two outermost nodes. ``bounds`` equal to the
  outer nodes means "clip to the nearest node";
- an axis with a single node is constant.

With ``values_scale="log"`` the logarithm of the values is interpolated (a power law
between nodes); zeros stay zero nearby and no extrapolation is done in log space, so the
bounds are always the outer nodes.

Nodes flagged as not ``valid`` (no data, e.g. an all-zero pdf) are left out: the result is
the weighted sum over the valid corners divided by their summed weight, and zero where no
corner is valid.
"""

from __future__ import annotations

import numpy as np

__all__ = ["GridInterpolator"]

# log of a zero value: exp() of any weighted mean involving it underflows to ~0
_LOG_ZERO = -1000.0


def _to_scale(values, scale):
    values = np.asarray(values, dtype=float)
    if scale == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(values)
    return values


class GridInterpolator:
    """Multilinear interpolation on a rectilinear grid.

    Parameters
    ----------
    nodes : sequence of 1D arrays
        Node coordinates of each axis (increasing), in plain units.
    values : ndarray
        Table of shape ``(len(nodes[0]), ..., len(nodes[-1]), *extra)``; trailing ``extra``
        dimensions are carried along (several quantities interpolated at once).
    scales : sequence of {"log", "lin"}
        Coordinate scale of each axis.
    bounds : sequence of (float, float)
        Range each coordinate is clipped to before interpolation.
    values_scale : {"lin", "log"}
        Interpolate the values or their logarithm.
    valid : bool ndarray, optional
        Nodes holding data, broadcastable to the grid shape; all by default.
    """

    def __init__(self, nodes, values, scales, bounds, values_scale="lin", valid=None):
        values = np.asarray(values, dtype=float)
        self.ndim = len(nodes)
        grid_shape = tuple(len(n) for n in nodes)
        if values.shape[: self.ndim] != grid_shape:
            raise ValueError(f"values shape {values.shape} does not match nodes {grid_shape}")
        self._extra = values.shape[self.ndim :]
        self._scales = tuple(scales)
        self._nodes = [_to_scale(n, s) for n, s in zip(nodes, scales, strict=True)]
        self._log_values = values_scale == "log"
        if self._log_values:
            bounds = [(n[0], n[-1]) for n in nodes]
            values = np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), _LOG_ZERO)
        self._bounds = [tuple(_to_scale(b, s)) for b, s in zip(bounds, scales, strict=True)]
        self._table = values.reshape((-1, *self._extra))
        self._valid = None
        if valid is not None and not np.all(valid):
            self._valid = np.broadcast_to(valid, grid_shape).astype(float).ravel()
        self._strides = np.cumprod((1,) + grid_shape[:0:-1])[::-1]

    def _axis_index_weight(self, axis, coord):
        nodes = self._nodes[axis]
        lo, hi = self._bounds[axis]
        x = np.clip(_to_scale(coord, self._scales[axis]), lo, hi)
        if nodes.size == 1:
            return np.zeros(x.shape, dtype=np.intp), np.zeros(x.shape)
        idx = np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, nodes.size - 2)
        x0 = nodes[idx]
        return idx, (x - x0) / (nodes[idx + 1] - x0)

    def __call__(self, *coords):
        """Interpolated values at the broadcast coordinates; shape ``(*broadcast, *extra)``.

        Indices and weights are computed on each coordinate array before broadcasting, so an
        outer-product grid (e.g. energies ``(n, 1, 1)`` x offsets ``(ny, nx)``) costs one
        search per distinct coordinate.
        """
        if len(coords) != self.ndim:
            raise ValueError(f"expected {self.ndim} coordinate arrays, got {len(coords)}")
        coords = [np.asarray(c, dtype=float) for c in coords]
        shape = np.broadcast_shapes(*(c.shape for c in coords))
        base = np.zeros(shape, dtype=np.intp)
        moving = []
        for axis, coord in enumerate(coords):
            idx, weight = self._axis_index_weight(axis, coord)
            base = base + idx * self._strides[axis]
            if self._nodes[axis].size > 1:
                moving.append((self._strides[axis], weight))
        base = base.ravel()
        size = base.size
        expand = (slice(None),) + (np.newaxis,) * len(self._extra)
        result = np.zeros((size, *self._extra))
        coverage = np.zeros(size)
        for corner in range(2 ** len(moving)):
            step = 0
            weight = np.ones(())
            for k, (stride, w) in enumerate(moving):
                if (corner >> k) & 1:
                    step += stride
                    weight = weight * w
                else:
                    weight = weight * (1.0 - w)
            flat = base + step
            weight = np.broadcast_to(weight, shape).ravel()
            if self._valid is not None:
                weight = weight * self._valid[flat]
                coverage += weight
            result += weight[expand] * self._table[flat]
        if self._valid is not None:
            covered = coverage != 0
            result = np.where(covered[expand], result / np.where(covered, coverage, 1)[expand], 0)
            if self._log_values:
                result = np.where(covered[expand], result, _LOG_ZERO)
        if self._log_values:
            result = np.exp(result)
        return result.reshape(shape + self._extra)
