"""Predicted counts of one sky model in one map dataset (forward folding), with caching.

npred = edisp( PSF * (flux per true-energy bin x spatial integral per pixel x exposure) ).
Because the flux of a true-energy bin is one number for the whole image, the PSF-convolved
spatial response ``R[t] = PSF[t] * (spatial x exposure[t])`` is computed once per set of
spatial parameters, and a change of the spectral parameters only refolds
``npred[r] = sum_t flux[t] edisp[t, r] R[t]``. The model is evaluated on a cutout around its
position (model extent plus PSF kernel); PSF and edisp are taken at the model position and
re-read only when the position moves by more than `POSITION_TOLERANCE` or the model's
evaluation radius grows beyond the cutout.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.maps.kernels import ImageConvolution
from gammarules.models.spatial import offsets

__all__ = ["POSITION_TOLERANCE", "MapEvaluator"]

POSITION_TOLERANCE = 0.1 * u.deg
"""Move of a model beyond which its cutout, PSF kernel and edisp kernel are recomputed."""

RADIUS_HEADROOM = 1.2
"""When a model outgrows its cutout (e.g. its extension grows during a fit), the new cutout
holds it up to this factor times its evaluation radius, so that it is not rebuilt at every
step."""

_SPARSE_MAX_PIXELS = 64


def _values_key(model):
    return tuple(float(p.value) for p in model.parameters) if model is not None else ()


def _convolve(data, kernel, convolution):
    """PSF convolution per true-energy bin; a sum of shifted kernels for compact inputs."""
    if kernel is None:
        return data
    nonzero = np.nonzero(np.any(data != 0, axis=0))
    if len(nonzero[0]) > _SPARSE_MAX_PIXELS:
        return convolution(data)
    out = np.zeros_like(data)
    ny, nx = data.shape[-2:]
    half = kernel.shape[-1] // 2
    for iy, ix in zip(*nonzero, strict=True):
        y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
        x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
        part = kernel[:, y0 - iy + half : y1 - iy + half, x0 - ix + half : x1 - ix + half]
        out[:, y0:y1, x0:x1] += data[:, iy, ix, np.newaxis, np.newaxis] * part
    return out


class MapEvaluator:
    """npred of ``model`` (a SkyModel with a spatial model) in ``dataset`` (a MapDataset)."""

    def __init__(self, model, dataset):
        if model.spatial_model is None:
            raise GammarulesError(
                f"model '{model.name}' has no spatial model; a map dataset needs one"
            )
        self.model = model
        self.dataset = dataset
        energy_true = dataset.energy_axis_true.edges_in("TeV")
        self._energy_true = (energy_true[:-1], energy_true[1:])
        self._position = None
        self._spatial_key = self._spectral_key = None
        self._npred = None

    def _centre(self):
        """(lon_0, lat_0) in deg of the spatial model, or None for models without centre."""
        spatial = self.model.spatial_model
        if "lon_0" not in spatial.parameters.names or spatial.position is None:
            return None
        return spatial.lon_0.quantity.to_value("deg"), spatial.lat_0.quantity.to_value("deg")

    def _radius(self):
        radius = self.model.spatial_model.evaluation_radius
        return np.inf if radius is None else float(u.Quantity(radius, "deg").value)

    def _moved(self):
        if self._position is None:
            return True
        centre = self._centre()
        if centre is None:
            return False
        moved, _ = offsets(*centre, *self._centre_deg)
        return np.degrees(moved) > POSITION_TOLERANCE.to_value("deg")

    def _update_irfs(self):
        """PSF kernel and edisp matrix at the model position."""
        dataset, spatial = self.dataset, self.model.spatial_model
        geom = dataset.geom.to_image()
        position = spatial.position if spatial.position is not None else geom.center_skydir
        self._position = position
        self._centre_deg = self._centre()
        self.kernel = dataset.psf.get_kernel(position, geom) if dataset.psf else None
        self.edisp = dataset.edisp_matrix(position)

    def _update_cutout(self, headroom=1.0):
        """The cutout holding the model up to ``headroom`` times its evaluation radius, and
        the PSF kernel."""
        geom = self.dataset.geom.to_image()
        radius = self._radius()
        self._radius_deg = headroom * radius
        if not (np.isfinite(radius) and geom.contains(self._position)):
            self.slices = (slice(None), slice(None))
            self.geom = geom
        else:
            kernel_size = self.kernel.shape[-1] if self.kernel is not None else 0
            margin = geom.pixel_scale.max() * (2 + kernel_size)
            width = 2 * self._radius_deg * u.deg + margin
            self.slices = geom.cutout_index(self._position, width)
            self.geom = geom.pixel_cutout(self.slices)
        self.convolution = None
        if self.kernel is not None:
            self.convolution = ImageConvolution(self.kernel, self.geom.spatial_shape)
        exposure = self.dataset.exposure.quantity.to_value("cm2 s")
        self.exposure = exposure[(Ellipsis, *self.slices)]
        self._spatial_key = None

    def _response(self):
        """PSF-convolved (spatial integral x exposure) per true-energy bin."""
        spatial = self.model.spatial_model
        if getattr(spatial, "is_energy_dependent", False):
            centres = np.sqrt(self._energy_true[0] * self._energy_true[1]) * u.TeV
            values = spatial.integrate_geom(self.geom, energy=centres)
        else:
            values = spatial.integrate_geom(self.geom)[np.newaxis]
        return _convolve(values * self.exposure, self.kernel, self.convolution)

    def compute_npred(self):
        """``(slices, npred)``: the predicted counts (n_reco, ny, nx) on the cutout ``slices``."""
        if self._moved():
            self._update_irfs()
            self._update_cutout()
        elif self._radius() > self._radius_deg:
            self._update_cutout(RADIUS_HEADROOM)
        spatial_key = _values_key(self.model.spatial_model)
        spectral_key = _values_key(self.model.spectral_model)
        if spatial_key != self._spatial_key:
            self.response = self._response()
            self._spatial_key, self._spectral_key = spatial_key, None
        if spectral_key != self._spectral_key:
            flux = self.model.spectral_model.integral_values(*self._energy_true)
            weights = flux[:, np.newaxis] * self.edisp
            n_true = self.response.shape[0]
            folded = weights.T @ self.response.reshape(n_true, -1)
            self._npred = folded.reshape((-1, *self.response.shape[1:]))
            self._spectral_key = spectral_key
        return self.slices, self._npred
