"""Reading any supported GADF IRF HDU into the matching class."""

from __future__ import annotations

from gammarules.errors import DataFormatError
from gammarules.irf.background import Background2D, Background3D
from gammarules.irf.effective_area import EffectiveAreaTable2D
from gammarules.irf.energy_dispersion import EnergyDispersion2D
from gammarules.irf.gadf import open_hdu
from gammarules.irf.psf_parametric import PSF3Gauss, PSFKing
from gammarules.irf.psf_table import PSFTable
from gammarules.irf.rad_max import RadMax2D

__all__ = ["IRF_CLASSES", "irf_class", "load_irf"]

IRF_CLASSES = {
    cls.tag: cls
    for cls in (
        EffectiveAreaTable2D,
        EnergyDispersion2D,
        PSFTable,
        PSF3Gauss,
        PSFKing,
        Background2D,
        Background3D,
        RadMax2D,
    )
}

# HDUCLAS4 values of files written before GADF 0.2 fixed the names (e.g. CTA 1DC)
_LEGACY_HDUCLAS4 = {"2D", "3D", "3GAUSS", "KING", "TABLE"}

# (HDUCLAS2 values, EXTNAME fragments) of each IRF component
_COMPONENTS = {
    "aeff": (("EFF_AREA",), ("EFFECTIVE AREA", "AEFF")),
    "edisp": (("EDISP",), ("ENERGY DISPERSION", "EDISP")),
    "psf": (("RPSF", "PSF"), ("POINT SPREAD FUNCTION", "PSF")),
    "bkg": (("BKG",), ("BACKGROUND", "BKG")),
    "rad_max": (("RAD_MAX",), ("RAD_MAX",)),
}


def _component(header):
    hduclas2 = str(header.get("HDUCLAS2", "")).strip().upper()
    extname = str(header.get("EXTNAME", "")).strip().upper()
    for component, (classes, _) in _COMPONENTS.items():
        if hduclas2 in classes:
            return component
    for component, (_, fragments) in _COMPONENTS.items():
        if any(fragment in extname for fragment in fragments):
            return component
    return None


def irf_class(hdu, source):
    """The IRF class of a BINTABLE HDU.

    HDUCLAS4 decides. Where it is missing or a legacy short value ("2D", "3GAUSS", ...),
    the component is taken from HDUCLAS2 (or else the EXTNAME) and the format from the
    columns: ``RPSF`` / ``SIGMA_1`` / ``GAMMA`` for PSFs, ``DETX_LO`` / ``THETA_LO`` for
    backgrounds.
    """
    header = hdu.header
    hduclas4 = str(header.get("HDUCLAS4", "")).strip().upper()
    if hduclas4 in IRF_CLASSES:
        return IRF_CLASSES[hduclas4]
    if hduclas4 and hduclas4 not in _LEGACY_HDUCLAS4:
        raise DataFormatError(
            f"{source}: unsupported HDUCLAS4 {hduclas4!r}; supported: {sorted(IRF_CLASSES)}"
        )
    columns = {name.upper() for name in hdu.columns.names}
    component = _component(header)
    if component == "psf":
        for column, cls in (("RPSF", PSFTable), ("SIGMA_1", PSF3Gauss), ("GAMMA", PSFKing)):
            if column in columns:
                return cls
    if component == "bkg":
        return Background3D if "DETX_LO" in columns else Background2D
    simple = {"aeff": EffectiveAreaTable2D, "edisp": EnergyDispersion2D, "rad_max": RadMax2D}
    if component in simple:
        return simple[component]
    raise DataFormatError(
        f"{source}: cannot tell which IRF this is (HDUCLAS4={hduclas4 or 'missing'}, "
        f"HDUCLAS2={header.get('HDUCLAS2', 'missing')}, EXTNAME={header.get('EXTNAME')}, "
        f"columns {sorted(columns)})"
    )


def load_irf(filename, hdu):
    """Read the IRF in HDU ``hdu`` (name or index) of ``filename`` as the matching class."""
    table = open_hdu(filename, hdu)
    source = f"{filename}[{hdu}]"
    return irf_class(table, source).from_hdu(table, source=source)
