"""Models: parameters, spectral models, sky models and model collections (YAML I/O)."""

from gammarules.models.collection import Models
from gammarules.models.core import CovarianceMixin, ModelBase
from gammarules.models.parameter import Parameter, Parameters
from gammarules.models.registry import model_class, register
from gammarules.models.sky import SkyModel, UnsupportedModel
from gammarules.models.spectral import (
    BrokenPowerLawSpectralModel,
    ConstantSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    PowerLaw2SpectralModel,
    PowerLawSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
    SpectralModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    SuperExpCutoffPowerLaw4FGLSpectralModel,
)

__all__ = [
    "BrokenPowerLawSpectralModel",
    "ConstantSpectralModel",
    "CovarianceMixin",
    "ExpCutoffPowerLawSpectralModel",
    "LogParabolaSpectralModel",
    "ModelBase",
    "Models",
    "Parameter",
    "Parameters",
    "PowerLaw2SpectralModel",
    "PowerLawSpectralModel",
    "SkyModel",
    "SmoothBrokenPowerLawSpectralModel",
    "SpectralModel",
    "SuperExpCutoffPowerLaw4FGLDR3SpectralModel",
    "SuperExpCutoffPowerLaw4FGLSpectralModel",
    "UnsupportedModel",
    "model_class",
    "register",
]
