"""Predicted counts of one sky model in one map dataset (forward folding), with caching.

npred = edisp( PSF * (flux per true-energy bin x spatial integral per pixel x exposure) ).
Because the flux of a true-energy bin is one number for the whole image, the PSF-convolved
spatial response ``R[t] = PSF[t] * (spatial x exposure[t])`` is computed once per set of
spatial parameters, and a change of the spectral parameters only refolds
``npred[r] = sum_t flux[t] edisp[t, r] R[t]``. The model is evaluated on a cutout around its
position (model extent, PSF kernel and `POSITION_TOLERANCE`), rebuilt when the position moves
further or the extent outgrows it. PSF kernel and edisp are those at the model position,
bilinear between the coarse IRF pixels, so that npred is a continuous function of the
position with no dependence on the history of a fit.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u

from gammarules.errors import GammarulesError
from gammarules.maps.kernels import ImageConvolution
from gammarules.maps.wcs import clamped_bilinear
from gammarules.models.spatial import PointSpatialModel, offsets

__all__ = ["POSITION_TOLERANCE", "MapEvaluator"]

POSITION_TOLERANCE = 0.1 * u.deg
"""Move of a model beyond which its cutout is rebuilt (the cutout has this margin)."""

RADIUS_HEADROOM = 1.2
"""When a model outgrows its cutout (e.g. its extension grows during a fit), the new cutout
holds it up to this factor times its evaluation radius, so that it is not rebuilt at every
step."""

_SPARSE_MAX_PIXELS = 64


def _values_key(model):
    return tuple(float(p.value) for p in model.parameters) if model is not None else ()


def _place(values, iy, ix, out):
    """Add ``values`` (n, k, k) centred on pixel (iy, ix) to ``out`` (n, ny, nx), clipped."""
    ny, nx = out.shape[-2:]
    half = values.shape[-1] // 2
    y0, y1 = max(iy - half, 0), min(iy + half + 1, ny)
    x0, x1 = max(ix - half, 0), min(ix + half + 1, nx)
    if y1 > y0 and x1 > x0:
        out[:, y0:y1, x0:x1] += values[
            :, y0 - iy + half : y1 - iy + half, x0 - ix + half : x1 - ix + half
        ]
    return out


def _shifted_kernels(data, nonzero, kernel):
    """Convolution of ``data`` (n, ny, nx), non-zero only at the pixels ``nonzero``."""
    out = np.zeros_like(data)
    for iy, ix in zip(*nonzero, strict=True):
        _place(data[:, iy, ix, np.newaxis, np.newaxis] * kernel, iy, ix, out)
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
        self._is_point = isinstance(model.spatial_model, PointSpatialModel)
        energy_true = dataset.energy_axis_true.edges_in("TeV")
        self._energy_true = (energy_true[:-1], energy_true[1:])
        self._cutout_centre = self._irf_centre = None
        self._radius_deg = 0.0
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

    def _position(self):
        spatial = self.model.spatial_model
        return spatial.position if spatial.position is not None else self.dataset.geom.center_skydir

    def _undersampled(self):
        """True once the model's smallest scale fell below half of that at the cutout's
        creation (its sub-pixel sampling is then too coarse)."""
        scale = self.model.spatial_model._scale()
        return scale is not None and self._scale is not None and scale < 0.5 * self._scale

    def _moved(self):
        """True if the model left its cutout's tolerance (or has no cutout yet)."""
        if self._cutout_centre is None:
            return True
        centre = self._centre()
        if centre is None:
            return False
        moved, _ = offsets(*centre, *self._cutout_centre)
        return np.degrees(moved) > POSITION_TOLERANCE.to_value("deg")

    def _update_irfs(self):
        """PSF kernel (and its convolution) and edisp matrix at the model position, both
        continuous in the position (bilinear between the coarse IRF pixels)."""
        dataset = self.dataset
        position = self._position()
        self._irf_centre = self._centre()
        self.kernel = None
        if dataset.psf is not None and not self._is_point:
            self.kernel = dataset.psf.get_kernel(position, dataset.geom)
        self.edisp = dataset.edisp_matrix(self._lon_lat() if self._centre() else position)
        self._convolution = None
        self._spatial_key = self._spectral_key = None

    def _convolve(self, data):
        """PSF convolution per true-energy bin: a sum of shifted kernels for compact inputs,
        FFTs (kernel transforms kept until the kernel changes) otherwise."""
        if self.kernel is None:
            return data
        nonzero = np.nonzero(np.any(data != 0, axis=0))
        if len(nonzero[0]) <= _SPARSE_MAX_PIXELS:
            return _shifted_kernels(data, nonzero, self.kernel)
        if self._convolution is None:
            self._convolution = ImageConvolution(self.kernel, self.geom.spatial_shape)
        return self._convolution(data)

    def _update_cutout(self, headroom=1.0):
        """The cutout holding the model up to ``headroom`` times its evaluation radius, plus
        `POSITION_TOLERANCE` and the PSF kernel."""
        geom = self.dataset.geom.to_image()
        radius = self._radius()
        position = self._position()
        self._radius_deg = headroom * radius
        self._cutout_centre = self._centre()
        if not (np.isfinite(radius) and geom.contains(position)):
            self.slices = (slice(None), slice(None))
            self.geom = geom
        else:
            psf = self.dataset.psf
            kernel_size = 2 * psf.kernel_half_size(geom) + 1 if psf is not None else 0
            margin = geom.pixel_scale.max() * (2 + kernel_size) + 2 * POSITION_TOLERANCE
            width = 2 * self._radius_deg * u.deg + margin
            self.slices = geom.cutout_index(position, width)
            self.geom = geom.pixel_cutout(self.slices)
        exposure = self.dataset.exposure.quantity.to_value("cm2 s")
        self.exposure = exposure[(Ellipsis, *self.slices)]
        # sub-pixel sampling fixed with the cutout: a factor switching with the extension
        # during a fit would make npred jump
        pixel = float(np.sqrt(np.median(self.geom.solid_angle().to_value("deg2"))))
        self.oversampling = self.model.spatial_model._oversampling(pixel)
        self._scale = self.model.spatial_model._scale()
        self._irf_centre = None

    def _lon_lat(self):
        """Model centre (lon, lat) in deg in the frame of the dataset's map."""
        spatial = self.model.spatial_model
        if spatial.frame == self.dataset.geom.frame:
            return self._centre()
        coord = self._position().transform_to(self.dataset.geom.frame).spherical
        return coord.lon.deg, coord.lat.deg

    def _point_response(self):
        """A point source: the exposure at its position times the PSF kernel placed at its
        exact (sub-pixel) position, so that npred is smooth in the position."""
        response = np.zeros(self.exposure.shape)
        lon, lat = self._lon_lat()
        x, y = (float(v) for v in self.geom.wcs.wcs_world2pix(lon, lat, 0))
        ny, nx = self.geom.spatial_shape
        if not (-0.5 < x < nx - 0.5 and -0.5 < y < ny - 0.5):
            return response
        ix, iy = int(np.floor(x + 0.5)), int(np.floor(y + 0.5))
        kernel = self.dataset.psf.point_kernel((lon, lat), self.geom, (x - ix, y - iy))
        nodes = clamped_bilinear(x, y, self.geom.spatial_shape)
        exposure = sum(self.exposure[(slice(None), *node)] * w for node, w in nodes)
        return _place(kernel * exposure[:, np.newaxis, np.newaxis], iy, ix, response)

    def _response(self):
        """PSF-convolved (spatial integral x exposure) per true-energy bin."""
        spatial = self.model.spatial_model
        if self._is_point and self.dataset.psf is not None:
            return self._point_response()
        if getattr(spatial, "is_energy_dependent", False):
            centres = np.sqrt(self._energy_true[0] * self._energy_true[1]) * u.TeV
            values = spatial.integrate_geom(self.geom, self.oversampling, energy=centres)
        else:
            values = spatial.integrate_geom(self.geom, self.oversampling)[np.newaxis]
        return self._convolve(values * self.exposure)

    def compute_npred(self):
        """``(slices, npred)``: the predicted counts (n_reco, ny, nx) on the cutout ``slices``."""
        if self._moved():
            self._update_cutout()
        elif self._radius() > self._radius_deg or self._undersampled():
            self._update_cutout(RADIUS_HEADROOM)
        if self._irf_centre is None or self._centre() != self._irf_centre:
            self._update_irfs()
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
