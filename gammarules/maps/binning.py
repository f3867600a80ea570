"""Events -> counts maps and cubes: sky pixels (WCS or HEALPix) times energy bins.

The per-event work runs in C++ (`gammarules._core`), multithreaded for large inputs with the
GIL released: the WCS projections CAR, TAN, SIN, ZEA and AIT following Calabretta & Greisen
2002 (A&A 395, 1077, "WCS Paper II"), HEALPix pixel indices in the RING and NESTED schemes,
energy bins by binary search on the edges. Here, in Python, the header of the WCS is turned
into the parameters of the projection: the celestial coordinates of the native pole from
CRVAL, LONPOLE and LATPOLE (Paper II, Sect. 2.4). A WCS the kernel does not describe (rotated
or skewed pixels, PV parameters, distortions, other projections) is projected by astropy and
only histogrammed in C++.

Conventions: longitudes and latitudes in degrees in the frame of the map (see `to_frame`);
energies in TeV (or Quantities); pixel ``i`` holds the 0-based pixel coordinates
``[i - 0.5, i + 0.5)`` and energy bin ``j`` holds ``[edges[j], edges[j + 1])``. Events outside
the map or the energy range are not counted. Counts are int64.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.wcs import WcsError

from gammarules import _core
from gammarules.errors import GammarulesError

__all__ = [
    "bin_events_healpix",
    "bin_events_wcs",
    "healpix_pixels",
    "native_pole",
    "to_frame",
    "wcs_world_to_pixel",
]

PROJECTIONS = ("CAR", "TAN", "SIN", "ZEA", "AIT")
"""Projections computed in C++; other projections go through astropy."""

_ZENITHAL = ("TAN", "SIN", "ZEA")

# Rotation from ICRS to Galactic unit vectors, the one astropy applies (Galactic pole and
# longitude origin given in FK5 J2000, with the ICRS -> FK5 frame bias), evaluated with astropy
# 8.0 on the ICRS x, y, z axes; rows are the Galactic x, y, z axes in ICRS.
_ICRS_TO_GALACTIC = np.array(
    [
        [-0.05487565771259168, -0.8734370519556163, -0.4838350736167155],
        [0.4941094371927275, -0.44482972122329517, 0.7469821839866676],
        [-0.8676661375596587, -0.19807633727300075, 0.4559838136873016],
    ]
)


def to_frame(skycoord, frame):
    """Longitude and latitude (deg, float arrays) of ``skycoord`` in ``frame``.

    ``frame`` is "icrs" or "galactic"; ICRS -> Galactic is one fixed rotation (fast for
    millions of events, and the same as astropy's to 1e-9 deg).
    """
    if frame not in ("icrs", "galactic"):
        raise GammarulesError(f"frame must be 'icrs' or 'galactic', got {frame!r}")
    if skycoord.frame.name == frame:
        spherical = skycoord.spherical
        return spherical.lon.deg.astype(float), spherical.lat.deg.astype(float)
    icrs = skycoord.icrs
    if frame == "icrs":
        return icrs.ra.deg.astype(float), icrs.dec.deg.astype(float)
    ra, dec = icrs.ra.rad, icrs.dec.rad
    cos_dec = np.cos(dec)
    vectors = np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)])
    x, y, z = np.tensordot(_ICRS_TO_GALACTIC, vectors, axes=1)
    lon = np.degrees(np.arctan2(y, x)) % 360.0
    return lon, np.degrees(np.arctan2(z, np.hypot(x, y)))


def bin_events_wcs(lon, lat, wcs, spatial_shape, energy=None, energy_edges=None, n_threads=0):
    """Counts of events on a WCS map: ``(n_energy, ny, nx)``, or ``(ny, nx)`` without energies.

    Parameters
    ----------
    lon, lat : array_like or Quantity
        Event positions in the frame of ``wcs`` (deg if plain numbers).
    wcs : astropy.wcs.WCS
        The 2D celestial WCS of the map.
    spatial_shape : tuple of int
        ``(ny, nx)``.
    energy, energy_edges : array_like or Quantity, optional
        Event energies and the bin edges (TeV if plain numbers); give both or neither.
    n_threads : int
        Threads for large inputs; 0 uses the default (``gammarules.stats.set_num_threads``).
    """
    lon, lat = _positions(lon, lat)
    ny, nx = _spatial_shape(spatial_shape)
    energy, energy_edges = _energies(energy, energy_edges, lon.size)
    params = _projection_params(wcs)
    if params is None:
        x, y = wcs.world_to_pixel_values(lon, lat)
        counts = _core.bin_pixels(
            np.asarray(x, float), np.asarray(y, float), nx, ny, energy, energy_edges, n_threads
        )
    else:
        counts = _core.bin_wcs(lon, lat, *params, nx, ny, energy, energy_edges, n_threads)
    return counts if energy is not None else counts[0]


def bin_events_healpix(
    lon, lat, nside, nest, energy=None, energy_edges=None, pixels=None, n_threads=0
):
    """Counts of events on a HEALPix map: ``(n_energy, n_pixels)``, or ``(n_pixels,)``.

    Parameters
    ----------
    lon, lat : array_like or Quantity
        Event positions in the frame of the map (deg if plain numbers).
    nside : int
        HEALPix resolution (a power of 2 for the NESTED scheme).
    nest : bool
        NESTED (True) or RING (False) pixel ordering.
    energy, energy_edges : array_like or Quantity, optional
        Event energies and the bin edges (TeV if plain numbers); give both or neither.
    pixels : array_like of int, optional
        The pixels of a partial map, in the order of the output columns; all-sky if None.
    n_threads : int
        Threads for large inputs; 0 uses the default.
    """
    lon, lat = _positions(lon, lat)
    nside = _nside(nside, nest)
    energy, energy_edges = _energies(energy, energy_edges, lon.size)
    order = sorted_pixels = None
    if pixels is not None:
        pixels = np.asarray(pixels)
        if pixels.ndim != 1 or not np.issubdtype(pixels.dtype, np.integer):
            raise GammarulesError("pixels must be a 1D array of integer HEALPix indices")
        bad = (pixels < 0) | (pixels >= 12 * nside**2)
        if bad.any():
            raise GammarulesError(
                f"pixels must be in 0 .. {12 * nside**2 - 1} for nside {nside}, got "
                f"{pixels[bad][0]}"
            )
        order = np.argsort(pixels, kind="stable")
        sorted_pixels = np.ascontiguousarray(pixels[order], dtype=np.int64)
        if np.any(np.diff(sorted_pixels) == 0):
            raise GammarulesError("pixels must not repeat a HEALPix index")
    counts = _core.bin_healpix(
        lon, lat, nside, bool(nest), energy, energy_edges, sorted_pixels, n_threads
    )
    if order is not None:
        columns = np.empty_like(counts)
        columns[:, order] = counts
        counts = columns
    return counts if energy is not None else counts[0]


def wcs_world_to_pixel(lon, lat, wcs, n_threads=0):
    """0-based pixel coordinates ``(x, y)`` of positions (deg) on ``wcs``; NaN where undefined.

    The C++ projections where they apply (see `PROJECTIONS`), astropy otherwise.
    """
    lon, lat = _positions(lon, lat)
    params = _projection_params(wcs)
    if params is None:
        x, y = wcs.world_to_pixel_values(lon, lat)
        return np.asarray(x, float), np.asarray(y, float)
    return _core.wcs_world_to_pixel(lon, lat, *params, n_threads)


def healpix_pixels(nside, lon, lat, nest, n_threads=0):
    """HEALPix pixel indices (int64) of positions (deg); -1 for NaN or ``|lat| > 90``."""
    lon, lat = _positions(lon, lat)
    return _core.healpix_ang2pix(_nside(nside, nest), lon, lat, bool(nest), n_threads)


def native_pole(wcs):
    """Celestial coordinates of the native pole and LONPOLE, ``(alpha_p, delta_p, phi_p)`` (deg).

    WCS Paper II, Sect. 2.4: the fiducial point (phi_0, theta_0) of the projection — (0, 90)
    for zenithal projections, (0, 0) for the others here — sits at CRVAL, and the celestial
    pole at native longitude LONPOLE (default 0 if CRVAL2 >= theta_0, else 180). For
    theta_0 = 90 the native pole is CRVAL; otherwise two latitudes of the native pole solve
    their eq. (8) and LATPOLE (default 90) picks the nearer one.
    """
    params = wcs.wcs
    alpha_0, delta_0 = (float(v) for v in params.crval)
    theta_0 = 90.0 if params.ctype[0][-3:] in _ZENITHAL else 0.0
    phi_p = _header_angle(params.lonpole, 0.0 if delta_0 >= theta_0 else 180.0)
    if theta_0 == 90.0:
        return alpha_0, delta_0, phi_p
    theta_p = _header_angle(params.latpole, 90.0)
    rad = np.radians
    # eq. (8) with phi_0 = theta_0 = 0: delta_p = arg(cos(phi_p), 0) +- acos(sin(delta_0) / ...)
    norm = np.sqrt(1.0 - np.sin(rad(phi_p)) ** 2)
    valid = []
    if norm > 0.0 and abs(np.sin(rad(delta_0))) <= norm * (1 + 1e-12):
        base = np.degrees(np.arctan2(0.0, np.cos(rad(phi_p))))
        half = np.degrees(np.arccos(np.clip(np.sin(rad(delta_0)) / norm, -1.0, 1.0)))
        candidates = [(c + 180.0) % 360.0 - 180.0 for c in (base + half, base - half)]
        valid = [min(max(c, -90.0), 90.0) for c in candidates if abs(c) <= 90.0 + 1e-10]
    if not valid:
        raise GammarulesError(
            f"the WCS has no native pole for CRVAL2={delta_0} and LONPOLE={phi_p} "
            "(ill-conditioned celestial rotation)"
        )
    delta_p = min(valid, key=lambda c: abs(c - theta_p))
    # alpha_p from eq. (2): the fiducial point (phi_0, theta_0) = (0, 0) lands on CRVAL
    x = -np.sin(rad(delta_p)) * np.cos(rad(phi_p))
    alpha_p = alpha_0 - np.degrees(np.arctan2(np.sin(rad(phi_p)), x))
    return float(alpha_p), float(delta_p), phi_p


def _header_angle(value, default):
    """A LONPOLE/LATPOLE value, or the default when wcslib marks it undefined."""
    value = float(value)
    return default if not np.isfinite(value) or abs(value) > 1e100 else value


def _projection_params(wcs):
    """Arguments of the C++ projection for ``wcs``, or None if astropy must project."""
    try:
        wcs = wcs.deepcopy()
        wcs.wcs.set()
    except WcsError as error:
        raise GammarulesError(f"the map WCS is invalid: {error}") from None
    if wcs.naxis != 2 or not wcs.has_celestial:
        raise GammarulesError(
            f"the map WCS must have 2 celestial axes, got ctype {list(wcs.wcs.ctype)}"
        )
    params = wcs.wcs
    projection = params.ctype[0][-3:]
    matrix = wcs.pixel_scale_matrix
    linear = matrix[0, 1] == 0.0 and matrix[1, 0] == 0.0
    distorted = wcs.sip is not None or wcs.cpdis1 is not None or wcs.det2im1 is not None
    if (
        projection not in PROJECTIONS
        or params.lng != 0
        or not linear
        or distorted
        or params.get_pv()
    ):
        return None
    alpha_p, delta_p, phi_p = native_pole(wcs)
    crpix = (params.crpix[0] - 1.0, params.crpix[1] - 1.0)
    cdelt = (matrix[0, 0], matrix[1, 1])
    return projection, alpha_p, delta_p, phi_p, crpix, cdelt


def _positions(lon, lat):
    lon = _plain(lon, "deg", "lon")
    lat = _plain(lat, "deg", "lat")
    if lon.shape != lat.shape:
        raise GammarulesError(f"lon and lat must have the same shape, got {lon.shape}, {lat.shape}")
    return lon.ravel(), lat.ravel()


def _energies(energy, edges, n_events):
    if (energy is None) != (edges is None):
        raise GammarulesError("give both energy and energy_edges, or neither")
    if energy is None:
        return None, None
    energy = _plain(energy, "TeV", "energy").ravel()
    edges = _plain(edges, "TeV", "energy_edges")
    if energy.size != n_events:
        raise GammarulesError(
            f"energy has {energy.size} values, expected {n_events} (one per event)"
        )
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise GammarulesError(
            f"energy_edges must be at least 2 strictly increasing values, got {edges}"
        )
    return energy, edges


def _plain(value, unit, name):
    """Contiguous float64 array in ``unit`` (plain numbers are taken to be in it)."""
    if isinstance(value, u.Quantity):
        try:
            value = value.to_value(unit)
        except u.UnitConversionError:
            raise GammarulesError(
                f"{name} has unit {value.unit}, expected a unit like {unit}"
            ) from None
    return np.ascontiguousarray(value, dtype=float)


def _spatial_shape(shape):
    shape = tuple(int(n) for n in np.atleast_1d(shape))
    if len(shape) != 2 or min(shape) < 1:
        raise GammarulesError(f"spatial_shape must be (ny, nx) with positive sizes, got {shape}")
    return shape


def _nside(nside, nest):
    nside = int(nside)
    if not 1 <= nside <= 2**29 or (nest and nside & (nside - 1)):
        kind = "a power of 2 " if nest else ""
        raise GammarulesError(f"nside must be {kind}in 1 .. 2**29, got {nside}")
    return nside
