"""Spatial models: the distribution of a source on the sky, a density in sr-1.

Types, parameter names and file entries are those of Gammapy's model files. Every model
implements ``_evaluate(lon, lat, **values)`` on plain arrays: positions in degrees in the
model's frame, parameters in canonical units (angles in deg), result in sr-1.

The extended models are normalised exactly on the sphere. Profiles are written as a
function of the chord ``rho = 2 sin(theta / 2)`` of the angular distance ``theta`` from
the centre, the radius of the Lambert azimuthal equal-area projection, in which the
solid angle element is ``rho drho dpsi`` (``psi`` the position angle): a profile
normalised in that plane (up to ``rho = 2``, the antipode) is normalised on the sphere.
Ellipses have their semi-major axis (``sigma`` or ``r_0``) along the position angle
``phi`` (east of north) and their minor axis ``sqrt(1 - e**2)`` times smaller; the
normalisation of an ellipse integrates over the position angle numerically.
"""

from __future__ import annotations

from contextlib import contextmanager

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS
from scipy.special import erfc, erfcinv, gamma, gammainc

from gammarules.errors import ConfigError, DataFormatError, GammarulesError
from gammarules.maps import WcsGeom
from gammarules.models.core import ModelBase, check_keys
from gammarules.models.parameter import Parameter
from gammarules.models.registry import register

__all__ = [
    "ConstantSpatialModel",
    "DiskSpatialModel",
    "GaussianSpatialModel",
    "GeneralizedGaussianSpatialModel",
    "PointSpatialModel",
    "Shell2SpatialModel",
    "ShellSpatialModel",
    "SpatialModel",
    "TemplateSpatialModel",
]

FRAMES = ("icrs", "galactic")
SR_UNIT = u.Unit("sr-1")

# Position angles of the numerical integral over the azimuth (periodic trapezoid rule:
# exponential convergence, relative error < 1e-12 up to e = 0.99).
_N_AZIMUTH = 256
_AZIMUTH = np.arange(_N_AZIMUTH) * (2 * np.pi / _N_AZIMUTH)
# The disk edge falls from 95% to 5% over `edge_width * r_0`.
_EDGE_SCALE = 2 * erfcinv(0.1)
# Automatic oversampling: sub-pixels at most this fraction of the model's smallest scale,
# and at most this many sub-pixels per pixel side.
_SAMPLES_PER_SCALE = 10
_MAX_OVERSAMPLING = 64


def _lon_lat(frozen: bool = False) -> tuple[Parameter, Parameter]:
    return (
        Parameter("lon_0", 0.0, "deg", frozen=frozen),
        Parameter("lat_0", 0.0, "deg", min=-90, max=90, frozen=frozen),
    )


_ELLIPSE = (
    Parameter("e", 0.0, "", min=0, max=1, frozen=True),
    Parameter("phi", 0.0, "deg", min=-180, max=180, frozen=True),
)


def offsets(lon, lat, lon_0, lat_0):
    """Angular distance (rad) and position angle east of north (rad) of (lon, lat) seen
    from (lon_0, lat_0), all in deg; smooth in the centre position."""
    lon, lat, lon_0, lat_0 = (np.radians(v) for v in (lon, lat, lon_0, lat_0))
    dlon = lon - lon_0
    cos_lat = np.cos(lat)
    east = cos_lat * np.sin(dlon)
    north = np.cos(lat_0) * np.sin(lat) - np.sin(lat_0) * cos_lat * np.cos(dlon)
    up = np.sin(lat_0) * np.sin(lat) + np.cos(lat_0) * cos_lat * np.cos(dlon)
    return np.arctan2(np.hypot(east, north), up), np.arctan2(east, north)


def chord_squared(lon, lat, lon_0, lat_0):
    """Squared chord ``(2 sin(theta / 2))**2`` between (lon, lat) and (lon_0, lat_0) (deg),
    by the haversine formula (no inverse trigonometry)."""
    lon, lat, lon_0, lat_0 = (np.radians(v) for v in (lon, lat, lon_0, lat_0))
    haversine = (
        np.sin((lat - lat_0) / 2) ** 2
        + np.cos(lat) * np.cos(lat_0) * np.sin((lon - lon_0) / 2) ** 2
    )
    return 4 * haversine


def chord(theta):
    """Equal-area radius ``2 sin(theta / 2)`` of an angle in rad."""
    return 2 * np.sin(theta / 2)


def ellipse_radius(major, e, angle):
    """Radius of an ellipse (semi-major axis `major`, eccentricity `e`) at `angle` (rad)
    from its major axis."""
    minor = major * np.sqrt(1 - e**2)
    return major * minor / np.hypot(major * np.sin(angle), minor * np.cos(angle))


def azimuthal_integral(radial_integral, major, e):
    """Integral over the position angle of ``radial_integral(radius)`` for an ellipse
    (radius in rad), broadcasting over the parameters."""
    radius = ellipse_radius(np.asarray(major)[..., None], np.asarray(e)[..., None], _AZIMUTH)
    return radial_integral(radius).mean(axis=-1) * 2 * np.pi


def _check_frame(frame, what: str) -> str:
    if frame not in FRAMES:
        raise ConfigError(f"{what}: frame must be one of {FRAMES}, got {frame!r}")
    return frame


class SpatialModel(ModelBase):
    """Base class: evaluation at sky positions, integration over pixels, dict I/O.

    ``integrate_geom`` evaluates the density at pixel centres times the pixel solid
    angle; near a model whose smallest scale is below a few pixels it averages the
    density over ``factor x factor`` sub-pixels instead (``oversampling`` sets the factor,
    None chooses it from the model scale: sub-pixels of at most a tenth of it, at most
    64 per pixel side).
    """

    sample_size = 0.0
    """Size (deg) of the cells the density is being sampled on (0: exact point values)."""

    def __init__(self, frame: str = "icrs", **values):
        super().__init__(**values)
        self.frame = _check_frame(frame, type(self).__name__)

    def _evaluate(self, lon, lat, **values):
        raise NotImplementedError

    def evaluate(self, lon, lat, **values):
        """Density (sr-1) at `lon`, `lat` (deg, model frame); `values` (canonical units)
        override the current parameter values."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        return self._evaluate(lon, lat, **self._values(values))

    def lon_lat(self, skycoord) -> tuple[np.ndarray, np.ndarray]:
        """Longitude and latitude (deg) of `skycoord` in the model frame."""
        if not isinstance(skycoord, SkyCoord):
            raise ConfigError(f"{type(self).__name__}: expected a SkyCoord, got {skycoord!r}")
        coord = skycoord if skycoord.frame.name == self.frame else skycoord.transform_to(self.frame)
        spherical = coord.spherical
        return spherical.lon.to_value(u.deg), spherical.lat.to_value(u.deg)

    def __call__(self, skycoord) -> u.Quantity:
        """Density at `skycoord` (any frame), Quantity sr-1."""
        return u.Quantity(self.evaluate(*self.lon_lat(skycoord)), SR_UNIT)

    @property
    def position(self) -> SkyCoord:
        """The centre of the model."""
        return SkyCoord(self.lon_0.quantity, self.lat_0.quantity, frame=self.frame)

    @property
    def evaluation_radius(self) -> u.Quantity | None:
        """Angular distance from the centre beyond which the model is negligible."""
        raise NotImplementedError

    def _scale(self) -> float | None:
        """The smallest angular scale of the model (deg) that pixels must resolve."""
        return None

    def _oversampling(self, pixel_size: float) -> int:
        scale = self._scale()
        if scale is None or not scale > 0:
            return 1
        factor = np.ceil(_SAMPLES_PER_SCALE * pixel_size / scale)
        return int(np.clip(factor, 1, _MAX_OVERSAMPLING))

    def integrate_geom(self, geom, oversampling: int | None = None) -> np.ndarray:
        """Integral of the model over each pixel of `geom` (spatial shape ``(ny, nx)``):
        the fraction of the model in the pixel (dimensionless; the density times the
        solid angle for models that are not normalised)."""
        solid_angle = geom.solid_angle().to_value(u.sr)
        pixel_size = np.degrees(np.sqrt(np.median(solid_angle)))
        with self._samples(pixel_size):
            values = self.evaluate(*self.lon_lat(geom.get_coord())) * solid_angle
        factor = self._oversampling(pixel_size) if oversampling is None else int(oversampling)
        if factor <= 1:
            return values
        centres = geom.get_coord()
        reach = self.evaluation_radius.to_value(u.deg) + 2 * pixel_size
        near = centres.separation(self.position).to_value(u.deg) <= reach
        iy, ix = np.nonzero(near)
        sub = (np.arange(factor) + 0.5) / factor - 0.5
        x = ix[:, None, None] + sub[None, None, :]
        y = iy[:, None, None] + sub[None, :, None]
        x, y = np.broadcast_arrays(x, y)
        with self._samples(pixel_size / factor):
            density = self.evaluate(*self.lon_lat(geom.pix_to_coord(x, y)))
        values[iy, ix] = density.mean(axis=(1, 2)) * solid_angle[iy, ix]
        return values

    @contextmanager
    def _samples(self, size):
        """While integrating: the density is sampled on cells of ``size`` (deg); profiles with
        sharp features average over it (`sample_size`), exact point values otherwise."""
        self.sample_size = float(size)
        try:
            yield
        finally:
            self.sample_size = 0.0

    def to_dict(self, full_output: bool = False) -> dict:
        data = super().to_dict(full_output)
        return {"type": data["type"], "frame": self.frame, "parameters": data["parameters"]}

    @classmethod
    def from_dict(cls, data: dict):
        check_keys(data, ("type", "frame", "parameters"), cls.tag[0])
        model = super().from_dict({"type": data.get("type"), "parameters": data.get("parameters")})
        model.frame = _check_frame(data.get("frame", "icrs"), cls.tag[0])
        return model


@register("spatial")
class PointSpatialModel(SpatialModel):
    """A point source: a delta function at (lon_0, lat_0).

    ``evaluate`` is zero except at the position itself (infinite). ``integrate_geom``
    shares the flux between the four pixels around the position by bilinear weights on
    the pixel centres (continuous in the position, as fits need); between the outer pixel
    centres and the map edge the flux goes to the edge pixels, off the map it is zero.
    It needs a geometry with ``coord_to_pix`` (WCS).
    """

    tag = ["PointSpatialModel", "point"]
    _defaults = _lon_lat()

    def _evaluate(self, lon, lat, lon_0, lat_0):
        theta, _ = offsets(lon, lat, lon_0, lat_0)
        return np.where(theta == 0, np.inf, 0.0)

    @property
    def evaluation_radius(self) -> u.Quantity:
        return 0 * u.deg

    def integrate_geom(self, geom, oversampling: int | None = None) -> np.ndarray:
        if not hasattr(geom, "coord_to_pix"):
            raise GammarulesError(
                f"PointSpatialModel.integrate_geom needs a pixel geometry with "
                f"coord_to_pix (e.g. WcsGeom), got {type(geom).__name__}"
            )
        ny, nx = geom.spatial_shape
        x, y = (float(np.asarray(v)) for v in geom.coord_to_pix(self.position))
        values = np.zeros((ny, nx))
        if not (-0.5 < x < nx - 0.5 and -0.5 < y < ny - 0.5):
            return values
        x, y = np.clip(x, 0, nx - 1), np.clip(y, 0, ny - 1)
        x0, y0 = min(int(x), max(nx - 2, 0)), min(int(y), max(ny - 2, 0))
        fx, fy = x - x0, y - y0
        for dy, wy in ((0, 1 - fy), (1, fy)):
            for dx, wx in ((0, 1 - fx), (1, fx)):
                if wx * wy > 0:
                    values[y0 + dy, x0 + dx] += wx * wy
        return values


@register("spatial")
class GaussianSpatialModel(SpatialModel):
    """A Gaussian of the angular distance: ``exp(-(1 - cos theta) / (2 (1 - cos s)))``,
    i.e. ``exp(-rho**2 / (2 chord(s)**2))`` in the equal-area plane, with ``s = sigma``
    (symmetric) or the elliptical radius at the position angle; normalised on the sphere.
    """

    tag = ["GaussianSpatialModel", "gauss"]
    _defaults = (*_lon_lat(), Parameter("sigma", 1.0, "deg", min=0), *_ELLIPSE)

    @staticmethod
    def _radial_integral(radius):
        width2 = chord(radius) ** 2
        return width2 * -np.expm1(-2 / width2)

    def _evaluate(self, lon, lat, lon_0, lat_0, sigma, e, phi):
        major = np.radians(sigma)
        norm = 1 / azimuthal_integral(self._radial_integral, major, e)
        if np.all(e == 0):
            return norm * np.exp(-0.5 * chord_squared(lon, lat, lon_0, lat_0) / chord(major) ** 2)
        theta, angle = offsets(lon, lat, lon_0, lat_0)
        width = chord(ellipse_radius(major, e, angle - np.radians(phi)))
        return norm * np.exp(-0.5 * (chord(theta) / width) ** 2)

    @property
    def evaluation_radius(self) -> u.Quantity:
        return 5 * self.sigma.quantity.to(u.deg)

    def _scale(self) -> float:
        return self.sigma.quantity.to_value(u.deg) * np.sqrt(1 - self.e.value**2)


@register("spatial")
class DiskSpatialModel(SpatialModel):
    """A uniform (elliptical) disk of radius ``r_0`` whose edge falls smoothly (error
    function) from 95% to 5% over ``edge_width * r_0`` around the radius.

    Normalised on the sphere including the edge: for radius ``R`` and edge scale
    ``w R`` the integral over the angular distance is ``1 - cos(R) exp(-(w R)**2 /
    (4 k**2))`` with ``k = 2 erfcinv(0.1)`` (exact up to the edge reaching the centre or
    the antipode, i.e. for ``edge_width`` up to 1).
    """

    tag = ["DiskSpatialModel", "disk"]
    _defaults = (
        *_lon_lat(),
        Parameter("r_0", 1.0, "deg", min=0),
        *_ELLIPSE,
        Parameter("edge_width", 0.01, "", min=0, max=1, frozen=True),
    )

    def _evaluate(self, lon, lat, lon_0, lat_0, r_0, e, phi, edge_width):
        theta, angle = offsets(lon, lat, lon_0, lat_0)
        major = np.radians(r_0)
        radius = ellipse_radius(major, e, angle - np.radians(phi))
        edge = np.maximum(edge_width * radius, 1e-300)

        def radial_integral(radius):
            return 1 - np.cos(radius) * np.exp(-((edge_width * radius / _EDGE_SCALE) ** 2) / 4)

        norm = 1 / azimuthal_integral(radial_integral, major, e)
        return norm * 0.5 * erfc(_EDGE_SCALE * (theta - radius) / edge)

    @property
    def evaluation_radius(self) -> u.Quantity:
        return self.r_0.quantity.to(u.deg) * (1 + self.edge_width.value)

    def _scale(self) -> float:
        # a sharp edge needs finer sampling than a smooth profile of the same size
        return self.r_0.quantity.to_value(u.deg) * np.sqrt(1 - self.e.value**2) / 4


def _chord_root(a, rho, half_width):
    """``sqrt(max(a**2 - rho**2, 0))``, or its mean over ``rho +- half_width`` (> 0), from the
    antiderivative ``(t sqrt(a**2 - t**2) + a**2 arcsin(t / a)) / 2``."""
    if half_width <= 0:
        return np.sqrt(np.maximum(a**2 - rho**2, 0))

    def antiderivative(t):
        t = np.clip(t, -a, a)
        return 0.5 * (t * np.sqrt(np.maximum(a**2 - t**2, 0)) + a**2 * np.arcsin(t / a))

    return (antiderivative(rho + half_width) - antiderivative(rho - half_width)) / (2 * half_width)


def _shell_profile(rho, inner, outer, half_width=0.0):
    """Projection of a uniformly emitting spherical shell (radii in the equal-area plane),
    normalised in the plane; with ``half_width`` averaged radially over ``rho +- half_width``
    (the square-root rims then vary smoothly with the radii, as fits need)."""
    norm = 3 / (2 * np.pi * (outer**3 - inner**3))
    return norm * (_chord_root(outer, rho, half_width) - _chord_root(inner, rho, half_width))


@register("spatial")
class ShellSpatialModel(SpatialModel):
    """A projected, uniformly emitting spherical shell between ``radius`` and
    ``radius + width`` (the radii are mapped to the sphere by the equal-area chord)."""

    tag = ["ShellSpatialModel", "shell"]
    _defaults = (*_lon_lat(), Parameter("radius", 1.0, "deg"), Parameter("width", 0.2, "deg"))

    def _evaluate(self, lon, lat, lon_0, lat_0, radius, width):
        theta, _ = offsets(lon, lat, lon_0, lat_0)
        inner, outer = chord(np.radians(radius)), chord(np.radians(radius + width))
        return _shell_profile(chord(theta), inner, outer, np.radians(self.sample_size) / 2)

    @property
    def evaluation_radius(self) -> u.Quantity:
        return (self.radius.quantity + self.width.quantity).to(u.deg)

    def _scale(self) -> float:
        # the projected rim rises as a square root: sample it finer than its width
        return self.width.quantity.to_value(u.deg) / 2


@register("spatial")
class Shell2SpatialModel(SpatialModel):
    """The shell of `ShellSpatialModel` with outer radius ``r_0`` and inner radius
    ``(1 - eta) r_0``."""

    tag = ["Shell2SpatialModel", "shell2"]
    _defaults = (
        *_lon_lat(),
        Parameter("r_0", 1.0, "deg"),
        Parameter("eta", 0.2, "", min=0.02, max=1),
    )

    def _evaluate(self, lon, lat, lon_0, lat_0, r_0, eta):
        theta, _ = offsets(lon, lat, lon_0, lat_0)
        inner, outer = chord(np.radians((1 - eta) * r_0)), chord(np.radians(r_0))
        return _shell_profile(chord(theta), inner, outer, np.radians(self.sample_size) / 2)

    @property
    def evaluation_radius(self) -> u.Quantity:
        return self.r_0.quantity.to(u.deg)

    def _scale(self) -> float:
        return self.eta.value * self.r_0.quantity.to_value(u.deg)


@register("spatial")
class GeneralizedGaussianSpatialModel(SpatialModel):
    """``exp(-(rho / chord(r))**(1 / eta))`` with ``r = r_0`` or the elliptical radius:
    a Gaussian for ``eta = 0.5``, a Laplace profile for ``eta = 1``, a flat top with a
    sharp edge as ``eta -> 0``; normalised on the sphere."""

    tag = ["GeneralizedGaussianSpatialModel", "gauss-general"]
    _defaults = (
        *_lon_lat(),
        Parameter("r_0", 1.0, "deg"),
        Parameter("eta", 0.5, "", min=0.01, max=1),
        *_ELLIPSE,
    )

    def _evaluate(self, lon, lat, lon_0, lat_0, r_0, eta, e, phi):
        theta, angle = offsets(lon, lat, lon_0, lat_0)
        major = np.radians(r_0)
        width = chord(ellipse_radius(major, e, angle - np.radians(phi)))

        def radial_integral(radius):
            width = chord(radius)
            return width**2 * eta * gamma(2 * eta) * gammainc(2 * eta, (2 / width) ** (1 / eta))

        norm = 1 / azimuthal_integral(radial_integral, major, e)
        return norm * np.exp(-((chord(theta) / width) ** (1 / eta)))

    @property
    def evaluation_radius(self) -> u.Quantity:
        return self.r_0.quantity.to(u.deg) * (1 + 8 * self.eta.value)

    def _scale(self) -> float:
        r_0 = self.r_0.quantity.to_value(u.deg)
        return r_0 * np.sqrt(1 - self.e.value**2) / (1 + 4 * self.eta.value)


@register("spatial")
class ConstantSpatialModel(SpatialModel):
    """An isotropic intensity ``value`` (default 1 sr-1) everywhere, for diffuse emission.

    As in Gammapy it is not a normalised distribution: with the default the spectral
    model gives the flux per steradian. Its file entry has no frame and (as Gammapy
    writes it) an empty parameter list.
    """

    tag = ["ConstantSpatialModel", "const"]
    _defaults = (Parameter("value", 1.0, "sr-1", frozen=True),)

    def _evaluate(self, lon, lat, value):
        return np.full(np.broadcast(lon, lat).shape, value)

    @property
    def position(self) -> None:
        return None

    @property
    def evaluation_radius(self) -> None:
        return None

    def to_dict(self, full_output: bool = False) -> dict:
        return {"type": self.tag[0], "parameters": []}


def _energy_nodes(hdul, filename) -> u.Quantity:
    """Energies of the planes of a cube: the ENERGIES/EBOUNDS-like table named by BANDSHDU."""
    name = hdul[0].header.get("BANDSHDU")
    candidates = [name] if name else ["ENERGIES", "EBOUNDS"]
    for hdu_name in candidates:
        if hdu_name in hdul:
            table = hdul[hdu_name]
            break
    else:
        raise DataFormatError(
            f"{filename}: the cube needs an energy table HDU ({' or '.join(candidates)})"
        )
    columns = table.columns
    for column in ("ENERGY", "ENERGY_TRUE"):
        if column in columns.names:
            return u.Quantity(table.data[column], columns[column].unit or "MeV")
    for low, high in (("E_MIN", "E_MAX"), ("ENERGY_TRUE_MIN", "ENERGY_TRUE_MAX")):
        if low in columns.names and high in columns.names:
            unit = columns[low].unit or "keV"
            return u.Quantity(np.sqrt(table.data[low] * table.data[high]), unit)
    raise DataFormatError(
        f"{filename}: HDU {table.name} needs an ENERGY, ENERGY_TRUE or E_MIN/E_MAX column, "
        f"got {columns.names}"
    )


def _linear_weights(coord, n: int):
    """Lower and upper grid indices and the fraction between them for linear interpolation
    on ``0 .. n-1``; beyond the outer nodes the outer pair extrapolates."""
    coord = np.nan_to_num(np.asarray(coord, dtype=float))
    low = np.clip(np.floor(coord), 0, max(n - 2, 0)).astype(int)
    return low, np.minimum(low + 1, n - 1), coord - low


def _bilinear(lookup, y0, y1, fy, x0, x1, fx):
    """Bilinear interpolation of ``lookup(y, x)`` (values at integer pixel indices)."""
    return (
        lookup(y0, x0) * (1 - fx) * (1 - fy)
        + lookup(y0, x1) * fx * (1 - fy)
        + lookup(y1, x0) * (1 - fx) * fy
        + lookup(y1, x1) * fx * fy
    )


@register("spatial")
class TemplateSpatialModel(SpatialModel):
    """A map on a WCS grid (image, or cube with one plane per true energy).

    ``normalize=True`` divides each plane by its integral over the map (sr-1, the plane
    integrates to 1); otherwise values are in the map unit (e.g. a diffuse intensity in
    MeV-1 cm-2 s-1 sr-1). Values are interpolated bilinearly in the logarithm between
    pixel centres (edge pixels hold their value up to the map edge, zero outside) and
    log-log between planes (zero outside the energy range). ``lon_0``/``lat_0`` (frozen)
    are the map centre; changing them shifts the map.
    """

    tag = ["TemplateSpatialModel"]
    _defaults = _lon_lat(frozen=True)

    def __init__(
        self,
        data,
        wcs: WCS,
        energy=None,
        unit="",
        normalize: bool = True,
        filename=None,
        **values,
    ):
        data = np.asarray(data, dtype=float)
        wcs = wcs.celestial
        frame = {"GLON": "galactic", "RA--": "icrs"}.get(wcs.wcs.ctype[0][:4])
        what = f"TemplateSpatialModel {filename or ''}".strip()
        if frame is None:
            raise DataFormatError(f"{what}: unsupported celestial axes {list(wcs.wcs.ctype)}")
        if data.ndim != (2 if energy is None else 3):
            raise DataFormatError(f"{what}: expected an image, or a cube with energies")
        if energy is not None:
            energy = u.Quantity(energy).to_value(u.TeV)
            if energy.shape != data.shape[:1]:
                raise DataFormatError(f"{what}: {data.shape[0]} planes but {energy.size} energies")
        self.wcs = wcs
        self.energy = energy
        self.normalize = bool(normalize)
        self.filename = None if filename is None else str(filename)
        self.unit = u.Unit(unit)
        ny, nx = data.shape[-2:]
        centre = wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2)
        spherical = centre.spherical
        self._centre = (spherical.lon.to_value(u.deg), spherical.lat.to_value(u.deg))
        values.setdefault("lon_0", self._centre[0])
        values.setdefault("lat_0", self._centre[1])
        super().__init__(frame=frame, **values)
        if normalize:
            solid_angle = WcsGeom(wcs, (ny, nx)).solid_angle().to_value(u.sr)
            total = np.sum(data * solid_angle, axis=(-2, -1), keepdims=True)
            data = np.divide(data, total, out=np.zeros_like(data), where=total != 0)
            self.unit = SR_UNIT
        self.data = data
        self._log_data = np.log(np.clip(data, np.finfo(float).tiny, None))

    @classmethod
    def read(cls, filename, normalize: bool = True, unit=None) -> TemplateSpatialModel:
        """Read a FITS WCS image, or a cube with an energy table (BANDSHDU, ENERGIES or
        EBOUNDS); `unit` is used when the file has no BUNIT."""
        try:
            hdul = fits.open(filename)
        except (OSError, ValueError) as exc:
            raise DataFormatError(f"{filename}: cannot read the template map ({exc})") from exc
        with hdul:
            hdu = hdul[0]
            if hdu.data is None or hdu.data.ndim not in (2, 3):
                raise DataFormatError(
                    f"{filename}: the primary HDU must hold a WCS image or cube, got "
                    f"{None if hdu.data is None else hdu.data.shape}"
                )
            energy = _energy_nodes(hdul, filename) if hdu.data.ndim == 3 else None
            bunit = hdu.header.get("BUNIT", "").strip()
            return cls(
                hdu.data,
                WCS(hdu.header),
                energy=energy,
                unit=bunit or unit or "",
                normalize=normalize,
                filename=filename,
            )

    def _evaluate(self, lon, lat, lon_0, lat_0, energy=None):
        lon = lon - (lon_0 - self._centre[0])
        lat = lat - (lat_0 - self._centre[1])
        x, y = self.wcs.world_to_pixel_values(lon, lat)
        ny, nx = self.data.shape[-2:]
        with np.errstate(invalid="ignore"):
            inside = (x > -0.5) & (x < nx - 0.5) & (y > -0.5) & (y < ny - 0.5)
        x0, x1, fx = _linear_weights(x, nx)
        y0, y1, fy = _linear_weights(y, ny)
        if self.energy is None:
            log_value = _bilinear(lambda y, x: self._log_data[y, x], y0, y1, fy, x0, x1, fx)
        else:
            if energy is None:
                raise ConfigError("TemplateSpatialModel: this template needs an energy")
            log_nodes = np.log(self.energy)
            log_energy = np.log(np.asarray(energy, dtype=float))
            inside = inside & (log_energy >= log_nodes[0]) & (log_energy <= log_nodes[-1])
            position = np.interp(log_energy, log_nodes, np.arange(len(log_nodes)))
            e0, e1, fe = _linear_weights(position, len(log_nodes))
            data = self._log_data
            low = _bilinear(lambda y, x: data[e0, y, x], y0, y1, fy, x0, x1, fx)
            high = _bilinear(lambda y, x: data[e1, y, x], y0, y1, fy, x0, x1, fx)
            log_value = (1 - fe) * low + fe * high
        return np.where(inside, np.exp(log_value), 0.0)

    def evaluate(self, lon, lat, energy=None, **values):
        """Template value (``unit``) at `lon`, `lat` (deg) and, for a cube, `energy` (TeV),
        broadcasting against each other."""
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        return self._evaluate(lon, lat, energy=energy, **self._values(values))

    def __call__(self, skycoord, energy=None) -> u.Quantity:
        """Template value at `skycoord` and `energy` (Quantity; needed for a cube)."""
        if energy is not None:
            energy = u.Quantity(energy).to_value(u.TeV)
        return u.Quantity(self.evaluate(*self.lon_lat(skycoord), energy=energy), self.unit)

    @property
    def is_energy_dependent(self) -> bool:
        return self.energy is not None

    @property
    def evaluation_radius(self) -> u.Quantity:
        ny, nx = self.data.shape[-2:]
        corners = self.wcs.pixel_to_world(
            [-0.5, nx - 0.5, -0.5, nx - 0.5], [-0.5, -0.5, ny - 0.5, ny - 0.5]
        )
        return corners.separation(self.position).max().to(u.deg)

    def integrate_geom(self, geom, oversampling: int | None = None, energy=None) -> np.ndarray:
        """Integral over each pixel of `geom` in ``unit * sr``, for a cube at the
        energies `energy` (Quantity, shape ``(n,)``): shape ``(n, ny, nx)``."""
        solid_angle = geom.solid_angle().to_value(u.sr)
        factor = 1 if oversampling is None else int(oversampling)
        coords = geom.get_coord() if factor == 1 else geom.upsample(factor).get_coord()
        if energy is not None:
            energy = u.Quantity(energy).to_value(u.TeV)[:, None, None]
        density = self.evaluate(*self.lon_lat(coords), energy=energy)
        if factor > 1:
            ny, nx = solid_angle.shape
            density = density.reshape(*density.shape[:-2], ny, factor, nx, factor)
            density = density.mean(axis=(-3, -1))
        return density * solid_angle

    def to_dict(self, full_output: bool = False) -> dict:
        data = super().to_dict(full_output)
        data["filename"] = self.filename
        data["normalize"] = self.normalize
        data["unit"] = self.unit.to_string()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TemplateSpatialModel:
        keys = ("type", "frame", "parameters", "filename", "normalize", "unit")
        check_keys(data, keys, cls.tag[0])
        if not data.get("filename"):
            raise ConfigError("TemplateSpatialModel: the model entry needs a 'filename'")
        model = cls.read(
            data["filename"], normalize=data.get("normalize", True), unit=data.get("unit")
        )
        defaults = {par.name: par for par in cls._defaults}
        for entry in data.get("parameters") or []:
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in defaults:
                raise ConfigError(
                    f"{cls.tag[0]}: unknown parameter {name!r}; expected some of {list(defaults)}"
                )
            fields = defaults[name].to_dict()
            fields.update(entry)
            setattr(model, name, Parameter.from_dict(fields))
        if data.get("frame", model.frame) != model.frame:
            raise ConfigError(
                f"{cls.tag[0]} {data['filename']}: frame {data['frame']!r} differs from the "
                f"map's frame {model.frame!r}"
            )
        return model
