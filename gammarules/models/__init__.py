"""Models: parameters, spectral and spatial models, sky models and model collections (YAML I/O)."""

from gammarules.models.background import FoVBackgroundModel
from gammarules.models.collection import Models
from gammarules.models.core import CovarianceMixin, ModelBase
from gammarules.models.parameter import Parameter, Parameters
from gammarules.models.registry import model_class, register
from gammarules.models.sky import SkyModel, UnsupportedModel
from gammarules.models.spatial import (
    ConstantSpatialModel,
    DiskSpatialModel,
    GaussianSpatialModel,
    GeneralizedGaussianSpatialModel,
    PointSpatialModel,
    Shell2SpatialModel,
    ShellSpatialModel,
    SpatialModel,
    TemplateSpatialModel,
)
from gammarules.models.spectral import (
    BrokenPowerLawSpectralModel,
    ConstantSpectralModel,
    ExpCutoffPowerLawSpectralModel,
    LogParabolaSpectralModel,
    PowerLaw2SpectralModel,
    PowerLawNormSpectralModel,
    PowerLawSpectralModel,
    SmoothBrokenPowerLawSpectralModel,
    SpectralModel,
    SuperExpCutoffPowerLaw4FGLDR3SpectralModel,
    SuperExpCutoffPowerLaw4FGLSpectralModel,
)

__all__ = [
    "BrokenPowerLawSpectralModel",
    "ConstantSpatialModel",
    "ConstantSpectralModel",
    "CovarianceMixin",
    "DiskSpatialModel",
    "ExpCutoffPowerLawSpectralModel",
    "FoVBackgroundModel",
    "GaussianSpatialModel",
    "GeneralizedGaussianSpatialModel",
    "LogParabolaSpectralModel",
    "ModelBase",
    "Models",
    "Parameter",
    "Parameters",
    "PointSpatialModel",
    "PowerLaw2SpectralModel",
    "PowerLawNormSpectralModel",
    "PowerLawSpectralModel",
    "Shell2SpatialModel",
    "ShellSpatialModel",
    "SkyModel",
    "SmoothBrokenPowerLawSpectralModel",
    "SpatialModel",
    "SpectralModel",
    "SuperExpCutoffPowerLaw4FGLDR3SpectralModel",
    "SuperExpCutoffPowerLaw4FGLSpectralModel",
    "TemplateSpatialModel",
    "UnsupportedModel",
    "model_class",
    "register",
]
