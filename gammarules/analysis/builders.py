"""Build the configurable objects of each analysis step from its config section.

Every builder takes the (schema-validated) section of its step; units are checked here and
errors name the config key.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord
from regions import CircleSkyRegion

from gammarules.config import quantity
from gammarules.errors import ConfigError
from gammarules.maps import Map, MapAxis, WcsGeom
from gammarules.models import model_class

__all__ = [
    "energy_axis",
    "exclusion_mask",
    "model_part",
    "region_finder",
    "safe_mask_maker",
    "sky_circle",
    "sky_position",
]


def sky_position(cfg, key):
    """A `SkyCoord` from ``{frame, lon, lat}`` (default frame icrs)."""
    return SkyCoord(
        quantity(cfg["lon"], "deg", f"{key}.lon"),
        quantity(cfg["lat"], "deg", f"{key}.lat"),
        frame=cfg.get("frame", "icrs"),
    )


def sky_circle(cfg, key):
    """A `regions.CircleSkyRegion` from ``{frame, lon, lat, radius}``."""
    center = sky_position(cfg, key)
    radius = quantity(cfg["radius"], "deg", f"{key}.radius")
    if radius.value <= 0:
        raise ConfigError(f"config key '{key}.radius' must be positive, got {cfg['radius']!r}")
    return CircleSkyRegion(center=center.icrs, radius=radius)


def energy_axis(cfg, key, name):
    """A log energy axis from ``{min, max, nbin, per_decade}``."""
    emin = quantity(cfg["min"], "TeV", f"{key}.min")
    emax = quantity(cfg["max"], "TeV", f"{key}.max")
    if not 0 < emin < emax:
        raise ConfigError(f"config key '{key}': need 0 < min < max, got {emin} and {emax}")
    return MapAxis.from_energy_bounds(
        emin, emax, cfg["nbin"], per_decade=cfg.get("per_decade", False), name=name
    )


def exclusion_mask(cfg, center, data_dir=None):
    """The exclusion `Map` (True = usable) of a ``background.exclusion`` section, or None.

    ``file`` reads a FITS mask (path relative to ``data_dir``); ``regions`` are excluded circles
    on a map of ``map`` settings (default 0.02 deg TAN bins, 6 deg wide) centred on ``center``.
    """
    if not cfg:
        return None
    if cfg.get("file"):
        path = cfg["file"] if data_dir is None else Path(data_dir) / cfg["file"]
        mask = Map.read(path)
        mask.data = mask.data.astype(bool)
        return mask
    settings = cfg.get("map", {})
    binsz = quantity(settings.get("binsz", "0.02 deg"), "deg", "background.exclusion.map.binsz")
    geom = WcsGeom.create(
        center,
        binsz,
        npix=settings.get("npix", int(round(6 / binsz.value))),
        frame=settings.get("frame", "icrs"),
        proj=settings.get("proj", "TAN"),
    )
    regions = [
        sky_circle(r, f"background.exclusion.regions[{i}]")
        for i, r in enumerate(cfg.get("regions", []))
    ]
    return Map(geom, ~geom.region_mask(regions))


def region_finder(cfg):
    """The OFF-region finder of a ``background`` section."""
    from gammarules.makers.reflected import ReflectedRegionsFinder, WobbleRegionsFinder

    if cfg["method"] == "wobble":
        return WobbleRegionsFinder(n_off_regions=cfg.get("n_off_regions", 1))
    if "n_off_regions" in cfg:
        raise ConfigError("config key 'background.n_off_regions' applies to method 'wobble' only")
    return ReflectedRegionsFinder()


def safe_mask_maker(cfg):
    """The `SafeMaskMaker` of a ``reduction.safe_mask`` section (None: no safe mask)."""
    from gammarules.makers.safe_mask import SafeMaskMaker

    if not cfg:
        return None
    kwargs = {k: cfg[k] for k in ("aeff_percent", "bias_percent") if k in cfg}
    if "offset_max" in cfg:
        kwargs["offset_max"] = quantity(cfg["offset_max"], "deg", "reduction.safe_mask.offset_max")
    return SafeMaskMaker(methods=cfg["methods"], **kwargs)


def model_part(kind, cfg, key):
    """A spectral/spatial model from ``{type, frame, parameters, frozen, bounds}``."""
    cls = model_class(kind, cfg["type"])
    if cls is None:
        raise ConfigError(f"config key '{key}.type': unknown {kind} model {cfg['type']!r}")
    model = cls(frame=cfg["frame"]) if "frame" in cfg else cls()
    names = model.parameters.names
    for pname, value in cfg.get("parameters", {}).items():
        if pname not in names:
            raise ConfigError(
                f"config key '{key}.parameters.{pname}': {cfg['type']} has parameters {names}"
            )
        parameter = model.parameters[pname]
        parameter.value = quantity(value, parameter.unit, f"{key}.parameters.{pname}").value
    for flag, names_given in (("frozen", cfg.get("frozen", [])), ("free", cfg.get("free", []))):
        for pname in names_given:
            if pname not in names:
                raise ConfigError(
                    f"config key '{key}.{flag}': {cfg['type']} has no parameter {pname!r}"
                )
            model.parameters[pname].frozen = flag == "frozen"
    for pname, (lo, hi) in cfg.get("bounds", {}).items():
        if pname not in names:
            raise ConfigError(
                f"config key '{key}.bounds': {cfg['type']} has no parameter {pname!r}"
            )
        model.parameters[pname].min = np.nan if lo is None else lo
        model.parameters[pname].max = np.nan if hi is None else hi
    return model
