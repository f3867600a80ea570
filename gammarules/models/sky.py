"""Sky models (a spectral part, optionally spatial and temporal parts) and model types kept
as read from a file because gammarules does not implement them."""

from __future__ import annotations

import copy

from gammarules.errors import ConfigError, GammarulesError
from gammarules.models.core import CovarianceMixin, check_keys
from gammarules.models.parameter import Parameter, Parameters
from gammarules.models.registry import model_class, register
from gammarules.models.spatial import SpatialModel
from gammarules.models.spectral import SpectralModel

PARTS = ("spectral", "spatial", "temporal")
_SKY_MODEL_KEYS = ("name", "type", "datasets_names", *PARTS)


class UnsupportedModel(CovarianceMixin):
    """A model whose type gammarules does not implement (yet), kept as its file entry.

    It has no parameters, is written back unchanged, and any attempt to evaluate it
    raises an error naming its type.
    """

    def __init__(self, data: dict, kind: str = "component"):
        if not isinstance(data, dict) or "type" not in data:
            raise ConfigError(f"a {kind} model entry needs a 'type', got {data!r}")
        self.data = copy.deepcopy(data)
        self.kind = kind

    @property
    def type(self) -> str:
        return self.data["type"]

    @property
    def name(self) -> str | None:
        """The entry's name; unnamed background models get Gammapy's '<dataset>-bkg'."""
        name = self.data.get("name")
        datasets = self.data.get("datasets_names")
        if name is None and datasets and self.type.endswith("BackgroundModel"):
            return f"{datasets[0]}-bkg"
        return name

    @property
    def parameters(self) -> Parameters:
        return Parameters()

    def labelled_parameters(self) -> list[tuple[str, Parameter]]:
        return []

    def _message(self) -> str:
        return (
            f"{self.kind} model type '{self.type}' is not supported by gammarules yet; "
            "it was kept as read from the model file only to be written back"
        )

    def __call__(self, *args, **kwargs):
        raise GammarulesError(self._message())

    def __getattr__(self, name):
        if name.startswith("_") or "data" not in self.__dict__:
            raise AttributeError(name)
        raise AttributeError(f"{self._message()} (no attribute '{name}')")

    def to_dict(self, full_output: bool = False) -> dict:
        return copy.deepcopy(self.data)

    def copy(self) -> UnsupportedModel:
        return copy.deepcopy(self)

    def __repr__(self) -> str:
        return f"UnsupportedModel(kind={self.kind!r}, type={self.type!r})"


def part_from_dict(kind: str, data: dict):
    """A spectral/spatial/temporal model from its file entry, or an `UnsupportedModel`."""
    if not isinstance(data, dict) or "type" not in data:
        raise ConfigError(f"the {kind} model entry needs a 'type', got {data!r}")
    cls = model_class(kind, data["type"])
    return cls.from_dict(data) if cls is not None else UnsupportedModel(data, kind)


@register("component")
class SkyModel(CovarianceMixin):
    """A source: a spectral model, an optional spatial and temporal model, a name.

    ``datasets_names`` restricts the datasets the model applies to (None: all).
    Without a spatial model it is a 1D (spectrum) model.
    """

    tag = ["SkyModel"]

    def __init__(
        self,
        spectral_model,
        spatial_model=None,
        name: str = "source",
        datasets_names=None,
        temporal_model=None,
    ):
        if not isinstance(spectral_model, SpectralModel | UnsupportedModel):
            raise ConfigError(
                f"SkyModel '{name}': spectral_model must be a spectral model, "
                f"got {spectral_model!r}"
            )
        if spatial_model is not None and not isinstance(
            spatial_model, SpatialModel | UnsupportedModel
        ):
            raise ConfigError(
                f"SkyModel '{name}': spatial_model must be a spatial model, got {spatial_model!r}"
            )
        self.spectral_model = spectral_model
        self.spatial_model = spatial_model
        self.temporal_model = temporal_model
        self.name = str(name)
        if isinstance(datasets_names, str):
            datasets_names = [datasets_names]
        self.datasets_names = None if datasets_names is None else list(datasets_names)

    @property
    def type(self) -> str:
        return self.tag[0]

    def _parts(self) -> list[tuple[str, object]]:
        models = (self.spectral_model, self.spatial_model, self.temporal_model)
        return [
            (kind, model) for kind, model in zip(PARTS, models, strict=True) if model is not None
        ]

    def _submodels(self) -> list:
        return [model for _, model in self._parts()]

    def labelled_parameters(self) -> list[tuple[str, Parameter]]:
        """(``"<name>.<part>.<parameter>"``, parameter) pairs, the labels of Gammapy's
        covariance files."""
        return [
            (f"{self.name}.{kind}.{par.name}", par)
            for kind, model in self._parts()
            for par in model.parameters
        ]

    @property
    def parameters(self) -> Parameters:
        return Parameters(par for _, par in self.labelled_parameters()).unique_parameters

    def to_dict(self, full_output: bool = False) -> dict:
        data = {"name": self.name, "type": self.tag[0]}
        if self.datasets_names is not None:
            data["datasets_names"] = list(self.datasets_names)
        for kind, model in self._parts():
            data[kind] = model.to_dict(full_output)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> SkyModel:
        check_keys(data, _SKY_MODEL_KEYS, f"SkyModel {data.get('name')!r}")
        if "spectral" not in data:
            raise ConfigError(f"SkyModel {data.get('name')!r} has no 'spectral' entry")
        parts = {
            f"{kind}_model": part_from_dict(kind, data[kind]) for kind in PARTS if kind in data
        }
        return cls(
            name=data.get("name", "source"), datasets_names=data.get("datasets_names"), **parts
        )

    def copy(self, name: str | None = None) -> SkyModel:
        """A deep copy, optionally renamed."""
        new = copy.deepcopy(self)
        if name is not None:
            new.name = name
        return new

    def __repr__(self) -> str:
        parts = ", ".join(f"{kind}={type(model).__name__}" for kind, model in self._parts())
        return f"SkyModel(name={self.name!r}, {parts}, datasets_names={self.datasets_names})"
