"""Exact solid angle of the pixels of a WCS grid.

Closed forms where the pixel edges are simple curves on the sphere: CAR pixels are
rectangles in native longitude and latitude (area = d(phi) x d(sin theta), unchanged by the
rotation to celestial coordinates); TAN pixels have great-circle edges (spherical
quadrilaterals, two triangles of Van Oosterom & Strackee 1983). Otherwise the area element
of the projection (|dv/dx x dv/dy| of the unit vector v, by finite differences) is
integrated over each pixel with 3 x 3 Gauss-Legendre points. Pixels cut by the boundary of
the projection (e.g. the ellipse of an all-sky AIT map) are split into 8 x 8 cells; a cut
cell counts the area of its valid polygon (corners inside plus the boundary crossings of its
edges, found by bisection) times the area element there.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pixel_solid_angle"]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(3)
_GL_NODES, _GL_WEIGHTS = _GL_NODES / 2, _GL_WEIGHTS / 2
_CELLS = 8
_STEP = 1e-4  # finite-difference step (pixels)
_BISECTIONS = 40


def _unit_vectors(wcs, x, y):
    lon, lat = np.radians(wcs.wcs_pix2world(x, y, 0))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], -1)


def _derivative(wcs, x, y, dx, dy):
    """d(unit vector)/d(pixel) along (dx, dy); one-sided next to the projection boundary."""
    centre, plus, minus = (_unit_vectors(wcs, x + s * dx, y + s * dy) for s in (0, 1, -1))
    step = dx + dy
    out = np.where(
        np.isnan(plus),
        (centre - minus) / step,
        np.where(np.isnan(minus), (plus - centre) / step, (plus - minus) / (2 * step)),
    )
    return np.where(np.isnan(centre), np.nan, out)


def _area_density(wcs, x, y):
    """Solid angle per unit pixel area (sr) at pixel coordinates; 0 off the projection."""
    dvdx = _derivative(wcs, x, y, _STEP, 0)
    dvdy = _derivative(wcs, x, y, 0, _STEP)
    return np.nan_to_num(np.linalg.norm(np.cross(dvdx, dvdy), axis=-1), nan=0.0)


def _valid(wcs, x, y):
    return np.isfinite(wcs.wcs_pix2world(x, y, 0)[0])


def _crossing(wcs, ax, ay, bx, by):
    """Point of the projection boundary between valid a and invalid b (bisection)."""
    for _ in range(_BISECTIONS):
        mx, my = (ax + bx) / 2, (ay + by) / 2
        ok = _valid(wcs, mx, my)
        ax, ay = np.where(ok, mx, ax), np.where(ok, my, ay)
        bx, by = np.where(ok, bx, mx), np.where(ok, by, my)
    return ax, ay


def _cut_cells_area(wcs, x0, y0, size):
    """Solid angle of the valid part of square cells (lower-left corner, side ``size``)."""
    cx = x0[:, None] + size * np.array([0, 1, 1, 0])
    cy = y0[:, None] + size * np.array([0, 0, 1, 1])
    ok = _valid(wcs, cx, cy)
    nx, ny, nok = np.roll(cx, -1, 1), np.roll(cy, -1, 1), np.roll(ok, -1, 1)
    change = ok != nok
    # crossing on each edge whose validity changes (from the valid end)
    ax, ay = np.where(ok, cx, nx), np.where(ok, cy, ny)
    bx, by = np.where(ok, nx, cx), np.where(ok, ny, cy)
    sx, sy = _crossing(wcs, ax[change], ay[change], bx[change], by[change])
    px = np.full(cx.shape + (2,), np.nan)
    py = np.full(cy.shape + (2,), np.nan)
    px[..., 0], py[..., 0] = np.where(ok, cx, np.nan), np.where(ok, cy, np.nan)
    px[..., 1][change], py[..., 1][change] = sx, sy
    px, py = px.reshape(len(x0), 8), py.reshape(len(x0), 8)
    area = np.zeros(len(x0))
    centroid_x, centroid_y = np.zeros(len(x0)), np.zeros(len(x0))
    for i in range(len(x0)):
        keep = ~np.isnan(px[i])
        vx, vy = px[i][keep], py[i][keep]
        if vx.size < 3:
            continue
        area[i] = 0.5 * abs(np.dot(vx, np.roll(vy, -1)) - np.dot(vy, np.roll(vx, -1)))
        centroid_x[i], centroid_y[i] = vx.mean(), vy.mean()
    return area * _area_density(wcs, centroid_x, centroid_y)


def _plain_axes(wcs, projection):
    """True for a 2D ``projection`` WCS with no rotation matrix and default native parameters."""
    w = wcs.wcs
    return (
        all(str(c).endswith(f"-{projection}") for c in w.ctype)
        and not w.has_cd()
        and np.allclose(w.get_pc(), np.eye(2), rtol=0, atol=1e-12)
        and not w.get_pv()
    )


def _car_solid_angle(wcs, shape):
    ny, nx = shape
    w = wcs.wcs
    theta = (np.arange(ny + 1) + 0.5 - w.crpix[1]) * w.cdelt[1]
    band = np.abs(np.diff(np.sin(np.radians(np.clip(theta, -90, 90)))))
    return np.outer(band, np.full(nx, np.radians(abs(w.cdelt[0]))))


def _triangle(a, b, c):
    """Solid angle of the spherical triangle of unit vectors ``a``, ``b``, ``c``."""
    numerator = np.abs(np.einsum("...i,...i->...", a, np.cross(b, c)))
    denominator = 1 + np.einsum("...i,...i->...", a, b)
    denominator += np.einsum("...i,...i->...", b, c) + np.einsum("...i,...i->...", c, a)
    return 2 * np.arctan2(numerator, denominator)


def _tan_solid_angle(wcs, shape):
    ny, nx = shape
    yc, xc = np.mgrid[0 : ny + 1, 0 : nx + 1] - 0.5
    v = _unit_vectors(wcs, xc, yc)
    if np.isnan(v).any():
        return None
    p00, p01, p10, p11 = v[:-1, :-1], v[:-1, 1:], v[1:, :-1], v[1:, 1:]
    return _triangle(p00, p01, p11) + _triangle(p00, p11, p10)


def pixel_solid_angle(wcs, shape):
    """Solid angle (sr) of each pixel of the 2D WCS ``wcs``, array of ``shape`` (ny, nx)."""
    if _plain_axes(wcs, "CAR"):
        return _car_solid_angle(wcs, shape)
    if _plain_axes(wcs, "TAN"):
        exact = _tan_solid_angle(wcs, shape)
        if exact is not None:
            return exact
    ny, nx = shape
    out = np.empty(shape)
    nodes_y, nodes_x = (g.ravel() for g in np.meshgrid(_GL_NODES, _GL_NODES, indexing="ij"))
    weights = np.outer(_GL_WEIGHTS, _GL_WEIGHTS).ravel()
    px = np.arange(nx)[:, None] + nodes_x
    for iy in range(ny):
        out[iy] = _area_density(wcs, px, iy + nodes_y + np.zeros_like(px)) @ weights

    yc, xc = np.mgrid[0 : ny + 1, 0 : nx + 1] - 0.5
    good = np.pad(_valid(wcs, xc, yc), 1)
    near = np.zeros(shape, dtype=bool)  # a valid corner in the 3 x 3 pixel neighbourhood
    for oy in range(4):
        for ox in range(4):
            near |= good[oy : oy + ny, ox : ox + nx]
    bad = ~good[1:-1, 1:-1]
    cut_y, cut_x = np.nonzero(near & (bad[:-1, :-1] | bad[1:, :-1] | bad[:-1, 1:] | bad[1:, 1:]))
    if cut_y.size == 0:
        return out
    size = 1.0 / _CELLS
    cells = np.arange(_CELLS) * size - 0.5
    oy, ox = (g.ravel() for g in np.meshgrid(cells, cells, indexing="ij"))
    x0 = (cut_x[:, None] + ox).ravel()
    y0 = (cut_y[:, None] + oy).ravel()
    corners_ok = _valid(wcs, x0[:, None] + [0, size, size, 0], y0[:, None] + [0, 0, size, size])
    full = corners_ok.all(axis=1)
    partial = corners_ok.any(axis=1) & ~full
    cell_area = np.zeros(x0.size)
    centres = (x0[full] + size / 2, y0[full] + size / 2)
    cell_area[full] = _area_density(wcs, *centres) * size**2
    cell_area[partial] = _cut_cells_area(wcs, x0[partial], y0[partial], size)
    out[cut_y, cut_x] = cell_area.reshape(cut_y.size, -1).sum(axis=1)
    return out
