"""Reprojection of map data onto the spatial pixels of another geometry."""

from __future__ import annotations

import numpy as np

__all__ = ["reproject_data"]

# target pixels per sub-pixel side: sub-pixels are at most this fraction of a target pixel
_SUBSAMPLING = 4
_MAX_FACTOR = 16


def _sampling_factor(source, target):
    """Sub-pixels per side of a source pixel (a power of 2 for HEALPix)."""
    ratio = source.pixel_scale.min().value / target.pixel_scale.min().value
    factor = int(np.clip(np.ceil(_SUBSAMPLING * ratio), 1, _MAX_FACTOR))
    return 1 << int(np.ceil(np.log2(factor)))


def reproject_data(m, target, preserve_counts=False):
    """Data of map ``m`` on ``target`` (a geometry with the same non-spatial axes).

    Interpolation (bilinear, 0 off the source map) at the target pixel centres; or, with
    ``preserve_counts``, each source pixel split into equal sub-pixels whose content goes
    to the target pixel holding the sub-pixel centre (total conserved within the target).
    """
    planes = m.data.reshape(-1, int(np.prod(m.geom.spatial_shape)))
    n_target = int(np.prod(target.spatial_shape))
    if not preserve_counts:
        (idx, w) = m.geom.interp_weights(target.to_image().get_coord().ravel())
        flat = np.ravel_multi_index(idx, m.geom.spatial_shape)
        out = np.einsum("pkn,kn->pn", planes[:, flat], w)
        return out.reshape(target.data_shape)
    factor = _sampling_factor(m.geom, target)
    coords = m.geom.subpixel_coords(factor)
    idx = target.to_image().coord_to_idx(coords.ravel())
    inside = np.all([i >= 0 for i in idx], axis=0)
    dest = np.ravel_multi_index(tuple(i[inside] for i in idx), target.spatial_shape)
    source = np.broadcast_to(np.arange(planes.shape[1]), coords.shape).ravel()[inside]
    out = np.empty((planes.shape[0], n_target))
    for p, plane in enumerate(planes):
        out[p] = np.bincount(dest, weights=plane[source], minlength=n_target)
    return (out / factor**2).reshape(target.data_shape)
