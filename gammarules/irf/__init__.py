"""Instrument response functions in the GADF formats: reading, evaluation, interpolation.

Each class reads one GADF HDU (``read(filename, hdu)`` / ``from_hdu(hdu)``) and evaluates
the response at Quantity coordinates that broadcast against each other. Interpolation is
log in energy and linear in angles; each class documents its extrapolation.
"""

from gammarules.irf.background import Background2D, Background3D
from gammarules.irf.core import IRF, IrfAxes
from gammarules.irf.effective_area import EffectiveAreaTable2D
from gammarules.irf.energy_dispersion import EnergyDispersion2D
from gammarules.irf.load import IRF_CLASSES, load_irf
from gammarules.irf.psf_parametric import PSF3Gauss, PSFKing
from gammarules.irf.psf_table import PSFTable
from gammarules.irf.rad_max import RadMax2D

__all__ = [
    "IRF",
    "IRF_CLASSES",
    "Background2D",
    "Background3D",
    "EffectiveAreaTable2D",
    "EnergyDispersion2D",
    "IrfAxes",
    "PSF3Gauss",
    "PSFKing",
    "PSFTable",
    "RadMax2D",
    "load_irf",
]
