"""Reduced (DL4) 3D datasets: counts, exposure and background cubes with PSF and edisp maps.

NetCDF schema ``gammarules-map-dataset``, version 1: every map is one variable written as in
`gammarules.maps.io_netcdf` (``units``, bin-edge coordinates, geometry in the variable's
attributes). Maps on the fine geometry have dims ``(axis, y, x)``; the IRF maps on the coarse
geometry ``(axes, y_irf, x_irf)``. Variables: counts, exposure [cm2 s], background (optional),
mask_safe, mask_fit (optional, int8), psf [sr-1] with psf_exposure, edisp with
edisp_exposure (optional). Attributes: schema, schema_version, dataset_type, name, livetime
(s), meta (JSON), gammarules_version.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr
from astropy import units as u

import gammarules
from gammarules.datasets.evaluator import MapEvaluator
from gammarules.errors import DataFormatError, GammarulesError
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.maps.io_netcdf import SCHEMA as MAP_SCHEMA
from gammarules.maps.io_netcdf import SCHEMA_VERSION as MAP_SCHEMA_VERSION
from gammarules.maps.wcs import clamped_bilinear
from gammarules.stats import CashCountsStatistic, cash, cash_sum

__all__ = ["SCHEMA", "SCHEMA_VERSION", "EDispKernelMap", "MapDataset", "PSFMap", "paste_slices"]

SCHEMA = "gammarules-map-dataset"
SCHEMA_VERSION = 1

_IRF_DIMS = {"y": "y_irf", "x": "x_irf"}


def paste_slices(parent, child):
    """``(slice_y, slice_x)`` of the pixels of ``child`` (a cutout geometry) in ``parent``.

    Raises `GammarulesError` unless both share one pixel grid and ``child`` lies inside.
    """
    pw, cw = parent.wcs.wcs, child.wcs.wcs
    shift = pw.crpix - cw.crpix
    same_grid = (
        list(pw.ctype) == list(cw.ctype)
        and np.allclose(pw.crval, cw.crval, rtol=0, atol=1e-10)
        and np.allclose(pw.cdelt, cw.cdelt, rtol=1e-10, atol=0)
        and np.allclose(shift, np.round(shift), rtol=0, atol=1e-6)
    )
    x0, y0 = (int(v) for v in np.round(shift))
    ny, nx = child.spatial_shape
    inside = x0 >= 0 and y0 >= 0 and y0 + ny <= parent.spatial_shape[0]
    if not (same_grid and inside and x0 + nx <= parent.spatial_shape[1]):
        raise GammarulesError(
            f"stack: geometry {child!r} is not a cutout of the pixel grid of {parent!r}"
        )
    return slice(y0, y0 + ny), slice(x0, x0 + nx)


def _bounding_box(shape, slices_list):
    """``(slice_y, slice_x)`` enclosing all the given slices of a ``shape`` image (empty box
    at the origin for none)."""
    ny, nx = shape
    ranges = [(sy.indices(ny)[:2], sx.indices(nx)[:2]) for sy, sx in slices_list]
    if not ranges:
        return slice(0, 0), slice(0, 0)
    y0, y1 = min(r[0][0] for r in ranges), max(r[0][1] for r in ranges)
    x0, x1 = min(r[1][0] for r in ranges), max(r[1][1] for r in ranges)
    return slice(y0, y1), slice(x0, x1)


def _exposure_weighted(stacked, weight, other, other_weight, slices):
    """Average of two IRF maps weighted by their exposure maps, in place on ``stacked``."""
    index = (Ellipsis, *slices)
    shape = other_weight.data.shape[:1] + (1,) * (other.data.ndim - 3) + other.data.shape[-2:]
    w_self = weight.data[index].reshape(shape)
    w_other = other_weight.data.reshape(shape)
    total = w_self + w_other
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (stacked.data[index] * w_self + other.data * w_other) / total
    stacked.data[index] = np.where(total > 0, mean, stacked.data[index])
    weight.data[index] += other_weight.data


class IrfMap:
    """An IRF tabulated on a coarse sky grid: ``irf_map`` (axes ``energy_true`` first, then
    the IRF's own axes) and ``exposure_map`` (cm2 s, ``energy_true``) used as stacking weight.
    """

    variable = ""

    def __init__(self, irf_map, exposure_map):
        if irf_map.geom.axes[0].name != "energy_true":
            raise GammarulesError(f"{type(self).__name__}: first axis must be 'energy_true'")
        self.irf_map = irf_map
        self.exposure_map = exposure_map
        self._kernels = {}

    @classmethod
    def create(cls, geom, energy_axis_true, axis, binsz_irf, unit=""):
        """Zero maps on a geometry of ``binsz_irf`` (deg) pixels covering ``geom``."""
        width = geom.width.to_value("deg")
        coarse = WcsGeom.create(
            geom.center_skydir,
            binsz_irf,
            npix=np.maximum(np.ceil(width / u.Quantity(binsz_irf, "deg").value), 1).astype(int),
            frame=geom.frame,
            proj=geom.projection,
        )
        irf = Map(coarse.to_cube([energy_axis_true, axis]), unit=unit)
        return cls(irf, Map(coarse.to_cube([energy_axis_true]), unit="cm2 s"))

    @property
    def geom(self):
        """The coarse spatial geometry."""
        return self.irf_map.geom.to_image()

    def copy(self):
        return type(self)(self.irf_map.copy(), self.exposure_map.copy())

    def cutout(self, position, width):
        """Cutout of ``width`` plus one coarse pixel on each side."""
        width = u.Quantity(width, "deg") + 2 * self.geom.pixel_scale.max()
        return type(self)(
            self.irf_map.cutout(position, width), self.exposure_map.cutout(position, width)
        )

    def stack(self, other):
        """Exposure-weighted average of ``other`` (on a cutout of this grid) into this map."""
        slices = paste_slices(self.geom, other.geom)
        _exposure_weighted(
            self.irf_map, self.exposure_map, other.irf_map, other.exposure_map, slices
        )
        self._kernels = {}

    def node_weights(self, position):
        """Bilinear weights of the coarse pixel centres around ``position`` (clamped at the
        edges of the coarse map): ``[((iy, ix), weight), ...]``. ``position``: a SkyCoord or
        ``(lon, lat)`` in deg in the frame of the map."""
        if isinstance(position, tuple):
            x, y = (float(v) for v in self.geom.wcs.wcs_world2pix(*position, 0))
        else:
            x, y = (float(np.asarray(v)) for v in self.geom.coord_to_pix(position))
        if not (np.isfinite(x) and np.isfinite(y)):
            raise GammarulesError(f"{type(self).__name__}: position {position} not projectable")
        return clamped_bilinear(x, y, self.geom.spatial_shape)

    def values_at(self, position):
        """The IRF at ``position`` (as in `node_weights`), bilinear between coarse pixel
        centres; shape ``irf_map`` without the spatial axes."""
        data = self.irf_map.data
        return sum(data[..., iy, ix] * w for (iy, ix), w in self.node_weights(position))

    def to_xarray(self):
        parts = [
            self.irf_map.to_xarray(self.variable),
            self.exposure_map.to_xarray(f"{self.variable}_exposure"),
        ]
        return xr.merge([p.rename(_IRF_DIMS) for p in parts], combine_attrs="override")

    @classmethod
    def from_xarray(cls, ds, filename=None):
        maps = [
            _read_map(ds, name, filename, irf=True)
            for name in (cls.variable, f"{cls.variable}_exposure")
        ]
        return cls(*maps)


class PSFMap(IrfMap):
    """PSF dP/dOmega (sr-1) versus ``energy_true`` and ``rad`` on a coarse sky grid.

    The values are the IRF's at the rad bin centres, not renormalised over the rad axis.
    """

    variable = "psf"

    @staticmethod
    def default_rad_axis():
        """0 - 0.66 deg in 66 bins."""
        return MapAxis(np.linspace(0, 0.66, 67), name="rad", unit="deg", interp="lin")

    def containment_radius(self, values, fraction):
        """Smallest rad-bin edge (deg) containing ``fraction`` of every energy's PSF
        ``values`` (..., n_true, n_rad), counted within the rad axis."""
        edges = np.radians(self.irf_map.geom.axes[1].edges_in("deg"))
        rings = 2 * np.pi * (np.cos(edges[:-1]) - np.cos(edges[1:]))
        cumulative = np.cumsum(values * rings, axis=-1)
        total = cumulative[..., -1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            reached = cumulative >= fraction * total
        first = np.where(total[..., 0] > 0, reached.argmax(axis=-1), 0)
        return float(np.degrees(edges[1:][first.max()]))

    def kernel_half_size(self, geom, containment=0.999):
        """Half size (pixels of ``geom``) of the PSF kernels: the radius holding
        ``containment`` of the PSF at every coarse pixel and energy, at least one pixel."""
        pixel = float(geom.pixel_scale.to_value("deg").mean())
        key = ("half", pixel, containment)
        if key not in self._kernels:
            data = np.moveaxis(self.irf_map.data, (-2, -1), (0, 1))
            radius = self.containment_radius(data, containment)
            self._kernels[key] = max(int(np.ceil(radius / pixel)), 1)
        return self._kernels[key]

    def get_kernel(self, position, geom, containment=0.999, oversampling=5):
        """PSF kernels ``(n_true, k, k)`` on the pixel grid of ``geom`` at ``position``.

        The kernels of the coarse pixels around ``position`` mixed with bilinear weights, so
        that the kernel changes continuously with the position (as fits need); energies
        without PSF at any of these pixels (no exposure) get a delta kernel. A coarse
        pixel's kernel: each pixel is the PSF averaged over ``oversampling**2`` sub-pixels
        (linear interpolation in rad between the bin centres), normalised to a sum of one.
        All kernels share one size: the radius holding ``containment`` of the PSF at every
        coarse pixel and energy.
        """
        pixel = float(geom.pixel_scale.to_value("deg").mean())
        half = self.kernel_half_size(geom, containment)
        nodes = self._kernels.setdefault((pixel, containment, oversampling), {})
        total, weights = 0.0, 0.0
        for node, weight in self.node_weights(position):
            if node not in nodes:
                nodes[node] = self._node_kernel(node, pixel, half, oversampling)
            kernel, valid = nodes[node]
            total = total + weight * kernel
            weights = weights + weight * valid
        weights = np.reshape(weights, (-1, 1, 1))
        delta = np.zeros((2 * half + 1,) * 2)
        delta[half, half] = 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weights > 0, total / weights, delta)

    def point_kernel(self, position, geom, offset, containment=0.999, oversampling=3):
        """PSF kernels ``(n_true, k, k)`` of a point source at ``position``, which lies at
        ``offset`` = (dx, dy) pixels (each in [-0.5, 0.5]) from the centre pixel of the kernel
        (one pixel wider than `get_kernel`'s, so that the whole circle fits at any offset).

        The PSF (bilinear between the coarse pixels) summed over ``oversampling**2``
        sub-pixels within the radius of `get_kernel`'s kernels (tapered to zero over the last
        pixel, so that the edge moves smoothly over the pixels), normalised to a sum of one:
        smooth in the position. An energy without PSF gets a delta kernel.
        """
        pixel = float(geom.pixel_scale.to_value("deg").mean())
        size = self.kernel_half_size(geom, containment)
        radius = size * pixel
        half = size + 1  # one pixel more than the radius: the circle fits at any offset
        profile = self.values_at(position)
        rad = self.irf_map.geom.axes[1].center_in("deg")
        sub = (np.arange(oversampling) + 0.5) / oversampling - 0.5
        n = 2 * half + 1
        grid = np.arange(-half, half + 1)[:, np.newaxis] + sub
        dx = (grid - offset[0]).ravel() * pixel
        dy = (grid - offset[1]).ravel() * pixel
        r = np.hypot(dx[np.newaxis, :], dy[:, np.newaxis])
        taper = _edge_taper(r, radius, pixel)
        # the kernel is linear in the profile: kernels = profile @ basis, where basis[k] is
        # the (tapered, pixel-summed) weight of rad node k in linear interpolation
        pixel_index = (np.arange(n).repeat(oversampling)[:, np.newaxis] * n) + np.arange(n).repeat(
            oversampling
        )[np.newaxis, :]
        r, taper, pixel_index = r.ravel(), taper.ravel(), pixel_index.ravel()
        low = np.clip(np.searchsorted(rad, r, side="right") - 1, 0, rad.size - 2)
        frac = np.clip((r - rad[low]) / (rad[low + 1] - rad[low]), 0.0, 1.0)
        taper = np.where(r > rad[-1], 0.0, taper)
        size = rad.size * n * n
        basis = np.bincount(low * n * n + pixel_index, (1 - frac) * taper, minlength=size)
        basis += np.bincount((low + 1) * n * n + pixel_index, frac * taper, minlength=size)
        kernels = profile @ basis.reshape(rad.size, n * n)
        sums = kernels.sum(axis=1, keepdims=True)
        delta = np.zeros(n * n)
        delta[half * n + half] = 1.0
        kernels = np.where(sums > 0, kernels / np.where(sums > 0, sums, 1), delta)
        return kernels.reshape(-1, n, n)

    def _node_kernel(self, node, pixel, half, oversampling):
        values = self.irf_map.data[(Ellipsis, *node)]
        rad = self.irf_map.geom.axes[1].center_in("deg")
        sub = (np.arange(oversampling) + 0.5) / oversampling - 0.5
        offsets = (np.arange(-half, half + 1)[:, np.newaxis] + sub).ravel() * pixel
        r = np.hypot(offsets[:, np.newaxis], offsets[np.newaxis, :])
        n = 2 * half + 1
        kernels = np.empty((len(values), n, n))
        for i, profile in enumerate(values):
            dense = np.interp(r, rad, profile, right=0.0)
            kernels[i] = dense.reshape(n, oversampling, n, oversampling).sum(axis=(1, 3))
        sums = kernels.sum(axis=(1, 2), keepdims=True)
        valid = sums[:, 0, 0] > 0
        return np.where(valid[:, None, None], kernels / np.where(sums > 0, sums, 1), 0.0), valid


def _edge_taper(r, radius, width):
    """1 within ``radius - width``, falling as cos**2 to 0 at ``radius``: a kernel edge that
    moves smoothly over the pixels."""
    x = np.clip((r - (radius - width)) / width, 0, 1)
    return np.cos(0.5 * np.pi * x) ** 2


class EDispKernelMap(IrfMap):
    """Energy dispersion kernels (``energy_true`` x ``energy``) on a coarse sky grid."""

    variable = "edisp"


def _read_map(ds, name, filename, irf=False):
    source = str(filename) if filename is not None else "xarray.Dataset"
    if name not in ds.data_vars:
        raise DataFormatError(f"{source}: variable '{name}' is missing")
    edges = [f"{dim}_edges" for dim in ds[name].dims if f"{dim}_edges" in ds.coords]
    part = ds[[name]].assign_coords({key: ds.coords[key] for key in edges})
    if irf:
        if not set(_IRF_DIMS.values()) <= set(part[name].dims):
            raise DataFormatError(
                f"{source}: variable '{name}' needs dims {tuple(_IRF_DIMS.values())}"
            )
        part = part.rename({v: k for k, v in _IRF_DIMS.items()})
    part.attrs = {"schema": MAP_SCHEMA, "schema_version": MAP_SCHEMA_VERSION}
    return Map.from_xarray(part, name=name, filename=source)


def _check_unit(m, unit, name, source):
    if not m.unit.is_equivalent(unit):
        raise DataFormatError(
            f"{source}: variable '{name}' has units '{m.unit}', expected {unit!r}"
        )
    return m.copy(data=m.quantity.to_value(unit)) if m.unit != u.Unit(unit) else m


class MapDataset:
    """Counts, exposure and background cubes of one or more observations, and the models
    that predict them (sky models with spatial parts, a `FoVBackgroundModel`).

    Parameters
    ----------
    counts : Map (energy, y, x)
    exposure : Map (energy_true, y, x), cm2 s
    background : Map (energy, y, x) of predicted counts, or None
    psf : `PSFMap` or None
    edisp : `EDispKernelMap` or None
    mask_safe, mask_fit : Map of bool (energy, y, x) or None (None: all bins usable)
    livetime : Quantity (s)
    """

    MAP_FIELDS = ("counts", "exposure", "background", "mask_safe", "mask_fit")
    """Constructor keywords that are maps on the dataset's spatial pixels."""
    IRF_FIELDS = ("psf", "edisp")
    DATASET_TYPE = "MapDataset"
    _UNITS = {"exposure": "cm2 s"}

    def __init__(
        self,
        counts,
        exposure,
        background=None,
        psf=None,
        edisp=None,
        mask_safe=None,
        mask_fit=None,
        name="",
        meta=None,
        models=None,
        livetime=0 * u.s,
    ):
        if counts.geom.axes[0].name != "energy" or exposure.geom.axes[0].name != "energy_true":
            raise GammarulesError(
                "MapDataset: counts need an 'energy' axis and exposure an 'energy_true' axis"
            )
        for key, value in (
            ("background", background),
            ("mask_safe", mask_safe),
            ("mask_fit", mask_fit),
        ):
            if value is not None and value.geom != counts.geom:
                raise GammarulesError(f"MapDataset: {key} geometry differs from the counts")
        self.counts = counts
        self.exposure = exposure
        self.background = background
        self.psf = psf
        self.edisp = edisp
        self.mask_safe = mask_safe
        self.mask_fit = mask_fit
        self.name = name
        self.meta = dict(meta or {})
        self.models = models
        self.livetime = u.Quantity(livetime, "s")

    @property
    def models(self):
        """The models (`Models`, list of components or None) the dataset predicts from."""
        return self._models

    @models.setter
    def models(self, models):
        self._models = models
        self._evaluators = {}
        self._outside_sums = None

    @classmethod
    def create(cls, geom, energy_axis_true, name="", binsz_irf=0.2, rad_axis=None, meta=None):
        """Empty dataset on ``geom`` (with an ``energy`` axis); nothing is safe yet.

        The PSF and edisp maps use pixels of ``binsz_irf`` (deg) and ``rad_axis`` (default
        `PSFMap.default_rad_axis`).
        """
        energy_true = energy_axis_true.rename("energy_true")
        energy = geom.axes[0]
        return cls(
            counts=Map(geom),
            exposure=Map(geom.to_cube([energy_true]), unit="cm2 s"),
            background=Map(geom),
            psf=PSFMap.create(
                geom, energy_true, rad_axis or PSFMap.default_rad_axis(), binsz_irf, "sr-1"
            ),
            edisp=EDispKernelMap.create(geom, energy_true, energy, binsz_irf),
            mask_safe=Map(geom, dtype=bool),
            name=name,
            meta=meta,
        )

    @property
    def geom(self):
        return self.counts.geom

    @property
    def energy_axis(self):
        return self.counts.geom.axes[0]

    @property
    def energy_axis_true(self):
        return self.exposure.geom.axes[0]

    def _maps(self):
        """The maps and IRF maps of the dataset by constructor keyword (None if absent)."""
        return {key: getattr(self, key) for key in (*self.MAP_FIELDS, *self.IRF_FIELDS)}

    def _replace(self, maps, **changes):
        fields = dict(maps, name=self.name, meta=dict(self.meta), livetime=self.livetime)
        fields["models"] = self.models
        fields.update(changes)
        return type(self)(**fields)

    def copy(self, **changes):
        """A copy (maps copied) with ``changes`` applied."""
        maps = {k: (v.copy() if v is not None else None) for k, v in self._maps().items()}
        return self._replace(maps, **changes)

    def cutout(self, position, width, name=None):
        """Dataset on ``geom.cutout(position, width)`` (IRF maps with a coarse-pixel margin)."""
        maps = {
            k: (v.cutout(position, width) if v is not None else None)
            for k, v in self._maps().items()
        }
        return self._replace(maps, name=self.name if name is None else name)

    def _components(self):
        if self.models is None:
            return []
        models = self.models
        return [models] if hasattr(models, "spectral_model") else list(models)

    def _applies(self, model):
        names = getattr(model, "datasets_names", None)
        return names is None or self.name in names

    @property
    def background_model(self):
        """The `FoVBackgroundModel` of this dataset among its models, or None."""
        found = [
            m
            for m in self._components()
            if getattr(m, "type", None) == "FoVBackgroundModel" and self._applies(m)
        ]
        if len(found) > 1:
            raise GammarulesError(f"dataset '{self.name}' has {len(found)} background models")
        return found[0] if found else None

    def _sources(self, model_names=None):
        sources = [
            m
            for m in self._components()
            if getattr(m, "type", None) == "SkyModel" and self._applies(m)
        ]
        if model_names is not None:
            sources = [m for m in sources if m.name in model_names]
        return sources

    def edisp_matrix(self, position):
        """Energy dispersion (n_true, n_reco) at ``position``; identity without edisp maps
        when the true and reco energy axes are the same."""
        if self.edisp is not None:
            return self.edisp.values_at(position)
        if self.energy_axis_true.rename("energy") != self.energy_axis:
            raise GammarulesError(
                f"dataset '{self.name}' has no edisp map and different true and reco energy axes"
            )
        return np.eye(self.energy_axis.nbin)

    def _background_factors(self):
        """The background model's factor per reco-energy bin (ones without a model)."""
        model = self.background_model
        if model is None:
            return np.ones(self.energy_axis.nbin)
        return model.factors(self.energy_axis)

    def _npred_background(self):
        if self.background is None:
            return np.zeros(self.geom.data_shape)
        return self.background.data * self._background_factors()[:, np.newaxis, np.newaxis]

    def _npred(self):
        """Total predicted counts, plain array."""
        return self._add_npred_signal(self._npred_background())

    def npred_background(self):
        """Background counts: the background map times the background model factors."""
        return Map(self.geom, self._npred_background())

    def _source_npred(self, model_names=None):
        """``(slices, npred)`` of each applicable sky model (cached evaluators)."""
        parts = []
        for model in self._sources(model_names):
            evaluator = self._evaluators.get(id(model))
            if evaluator is None or evaluator.model is not model:
                evaluator = self._evaluators[id(model)] = MapEvaluator(model, self)
            parts.append(evaluator.compute_npred())
        return parts

    def _add_npred_signal(self, total, model_names=None):
        for slices, npred in self._source_npred(model_names):
            total[(Ellipsis, *slices)] += npred
        return total

    def npred_signal(self, model_names=None):
        """Predicted source counts of the sky models (or those named), PSF and edisp applied."""
        return Map(self.geom, self._add_npred_signal(np.zeros(self.geom.data_shape), model_names))

    def npred(self):
        """Total predicted counts: background plus sources."""
        return Map(self.geom, self._npred())

    @property
    def mask(self):
        """Bins used in the likelihood: safe and (if given) fit mask."""
        mask = self._safe()
        if self.mask_fit is not None:
            mask = mask & self.mask_fit.data
        return mask

    def stat_array(self):
        """Cash statistic per bin."""
        return cash(self.counts.data, self._npred())

    def stat_sum(self):
        """Cash statistic summed over `mask`.

        Within `frozen_data`, the bins outside the box around all source cutouts (background
        only: npred = b f_e with the background model factor f_e of each energy bin) are
        summed in closed form from per-energy sums kept for the fit,
        ``2 sum_e (f_e B_e - N_e log f_e - L_e)``, B = sum b, N = sum n, L = sum n log b.
        """
        factors = self._background_factors()
        if self._outside_sums is None or self.background is None or np.any(factors <= 0):
            return cash_sum(self.counts.data, self._npred(), self.mask)
        parts = self._source_npred()
        box = _bounding_box(self.geom.spatial_shape, [slices for slices, _ in parts])
        key = (box[0].start, box[0].stop, box[1].start, box[1].stop)
        if key not in self._outside_sums:
            self._outside_sums.clear()
            self._outside_sums[key] = self._background_sums(box)
        index = (Ellipsis, *box)
        npred = self.background.data[index] * factors[:, np.newaxis, np.newaxis]
        ny, nx = self.geom.spatial_shape
        for (sy, sx), values in parts:
            (y0, y1, _), (x0, x1, _) = sy.indices(ny), sx.indices(nx)
            y0, y1, x0, x1 = (
                y0 - box[0].start,
                y1 - box[0].start,
                x0 - box[1].start,
                x1 - box[1].start,
            )
            npred[:, y0:y1, x0:x1] += values
        inside = cash_sum(self.counts.data[index], npred, self.mask[index])
        total_b, total_n, total_log, constant = self._outside_sums[key]
        outside = 2 * np.sum(factors * total_b - total_n * np.log(factors) - total_log)
        return float(inside + outside + constant)

    def _background_sums(self, box):
        """Per-energy sums of b, n and n log b over the masked bins outside ``box``, and the
        Cash statistic of the bins there without background (a constant)."""
        mask = self.mask.copy()
        mask[(Ellipsis, *box)] = False
        counts, background = self.counts.data, self.background.data
        positive = mask & (background > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_b = np.where(positive, np.log(np.where(positive, background, 1.0)), 0.0)
        total_b = np.where(positive, background, 0.0).sum(axis=(1, 2))
        total_n = np.where(positive, counts, 0.0).sum(axis=(1, 2))
        total_log = (np.where(positive, counts, 0.0) * log_b).sum(axis=(1, 2))
        empty = mask & ~positive
        constant = float(cash(counts[empty], np.zeros(int(empty.sum()))).sum())
        return total_b, total_n, total_log, constant

    @contextmanager
    def frozen_data(self):
        """Context in which the counts, background and masks do not change (a fit): the
        statistic keeps sums over the background-only bins between evaluations."""
        self._outside_sums = {}
        try:
            yield self
        finally:
            self._outside_sums = None

    def fake(self, random_state=None):
        """Replace the counts by a Poisson draw of `npred` (``random_state``: seed or
        `numpy.random.Generator`)."""
        rng = np.random.default_rng(random_state)
        self.counts = self.counts.copy(data=rng.poisson(self.npred().data).astype(float))

    def _safe(self):
        if self.mask_safe is None:
            return np.ones(self.geom.data_shape, dtype=bool)
        return self.mask_safe.data

    def stack(self, other):
        """Add ``other`` (on a cutout of this pixel grid) to this dataset, in place.

        Counts and background are summed in the safe bins of each dataset; the exposure of
        ``other`` is added where any of its energy bins is safe; safe masks are OR-ed; PSF
        and edisp maps are averaged with exposure weights; livetimes add.
        """
        if self.energy_axis != other.energy_axis or self.energy_axis_true != other.energy_axis_true:
            raise GammarulesError(f"stack: energy axes of '{other.name}' differ from '{self.name}'")
        slices = paste_slices(self.geom, other.geom)
        index = (Ellipsis, *slices)
        mine, theirs = self._safe(), other._safe()
        self.counts.data = self.counts.data * mine
        self.counts.data[index] += other.counts.data * theirs
        if self.background is not None and other.background is not None:
            self.background.data = self.background.data * mine
            self.background.data[index] += other.background.data * theirs
        self.exposure.data[index] += other.exposure.quantity.to_value(
            self.exposure.unit
        ) * theirs.any(axis=0)
        if self.mask_safe is not None:
            self.mask_safe.data[index] |= theirs
        for key in ("psf", "edisp"):
            if getattr(self, key) is not None and getattr(other, key) is not None:
                getattr(self, key).stack(getattr(other, key))
        self.livetime = self.livetime + other.livetime

    def info_dict(self):
        """Summary numbers in the safe mask, as plain floats (keys carry units): counts,
        background, excess, sqrt_ts (Cash, signed), npred, npred_signal, npred_background,
        livetime_s, n_safe_bins, stat_sum (over `mask`)."""
        safe = self._safe()
        counts = float(self.counts.data[safe].sum())
        background = float(self.background.data[safe].sum()) if self.background else 0.0
        npred_background = float(self.npred_background().data[safe].sum())
        npred_signal = float(self.npred_signal().data[safe].sum())
        sqrt_ts = float("nan")
        if background > 0:
            sqrt_ts = float(CashCountsStatistic(counts, background).sqrt_ts)
        return {
            "name": self.name,
            "counts": counts,
            "background": background,
            "excess": counts - background,
            "sqrt_ts": sqrt_ts,
            "npred": npred_signal + npred_background,
            "npred_signal": npred_signal,
            "npred_background": npred_background,
            "livetime_s": float(self.livetime.to_value("s")),
            "n_safe_bins": int(safe.sum()),
            "stat_sum": float(self.stat_sum()),
        }

    def to_xarray(self):
        """`xarray.Dataset` in the schema of this module."""
        parts = [
            getattr(self, key).to_xarray(key)
            for key in self.MAP_FIELDS
            if getattr(self, key) is not None
        ]
        parts += [getattr(self, key).to_xarray() for key in self.IRF_FIELDS if getattr(self, key)]
        ds = xr.merge(parts, combine_attrs="override")
        try:
            meta = json.dumps(self.meta)
        except TypeError as error:
            raise GammarulesError(
                f"dataset '{self.name}': meta is not JSON-serialisable: {error}"
            ) from None
        ds.attrs = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "dataset_type": self.DATASET_TYPE,
            "name": self.name,
            "livetime": self.livetime.to_value("s"),
            "livetime_units": "s",
            "meta": meta,
            "gammarules_version": gammarules.__version__,
        }
        return ds

    @classmethod
    def from_xarray(cls, ds, filename=None):
        """Dataset from an `xarray.Dataset`; `DataFormatError` naming ``filename`` if invalid."""
        source = str(filename) if filename is not None else "xarray.Dataset"
        for key in ("schema", "schema_version", "dataset_type", "name", "livetime", "meta"):
            if key not in ds.attrs:
                raise DataFormatError(f"{source}: attribute '{key}' is missing")
        if ds.attrs["schema"] != SCHEMA or int(ds.attrs["schema_version"]) != SCHEMA_VERSION:
            raise DataFormatError(
                f"{source}: schema {ds.attrs['schema']!r} version {ds.attrs['schema_version']}, "
                f"expected {SCHEMA!r} version {SCHEMA_VERSION}"
            )
        if ds.attrs["dataset_type"] != cls.DATASET_TYPE:
            raise DataFormatError(
                f"{source}: dataset_type {ds.attrs['dataset_type']!r}, "
                f"expected {cls.DATASET_TYPE!r}"
            )
        maps = {}
        for key in cls.MAP_FIELDS:
            if key in ds.data_vars or key in ("counts", "exposure"):
                found = _read_map(ds, key, filename)
                maps[key] = _check_unit(found, cls._UNITS.get(key, ""), key, source)
        for key, irf_cls in (("psf", PSFMap), ("edisp", EDispKernelMap)):
            if key in ds.data_vars:
                maps[key] = irf_cls.from_xarray(ds, filename)
        try:
            meta = json.loads(ds.attrs["meta"])
        except ValueError:
            raise DataFormatError(f"{source}: attribute 'meta' is not JSON") from None
        try:
            return cls(
                **maps,
                name=str(ds.attrs["name"]),
                meta=meta,
                livetime=float(ds.attrs["livetime"]) * u.s,
            )
        except GammarulesError as error:
            raise DataFormatError(f"{source}: {error}") from None

    def write(self, path, overwrite=False):
        """Write the NetCDF file ``path``."""
        if Path(path).exists() and not overwrite:
            raise GammarulesError(f"{path} exists (use overwrite=True)")
        self.to_xarray().to_netcdf(path)

    @classmethod
    def read(cls, path):
        """Read a NetCDF file written by `write`."""
        if not Path(path).is_file():
            raise DataFormatError(f"{path}: file not found")
        try:
            with xr.open_dataset(path) as ds:
                ds = ds.load()
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{path}: cannot read NetCDF ({exc})") from exc
        return cls.from_xarray(ds, filename=path)

    def __repr__(self):
        return f"MapDataset(name={self.name!r}, geom={self.geom!r})"
