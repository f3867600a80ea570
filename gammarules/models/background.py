"""The field-of-view background model of a map dataset: a spectral factor on its
background map."""

from __future__ import annotations

import copy

import numpy as np

from gammarules.errors import ConfigError
from gammarules.models.core import CovarianceMixin, check_keys
from gammarules.models.parameter import Parameter, Parameters
from gammarules.models.registry import register
from gammarules.models.sky import part_from_dict
from gammarules.models.spectral import PowerLawNormSpectralModel, SpectralModel

__all__ = ["FoVBackgroundModel"]

_KEYS = ("type", "name", "datasets_names", "spectral")


@register("component")
class FoVBackgroundModel(CovarianceMixin):
    """Background of dataset ``dataset_name``: its background map times a spectral factor.

    The factor (default `PowerLawNormSpectralModel`: norm, tilt, reference) is evaluated at
    the centre of each reconstructed-energy bin.
    """

    tag = ["FoVBackgroundModel"]

    def __init__(self, dataset_name, spectral_model=None, name=None):
        if not dataset_name:
            raise ConfigError("FoVBackgroundModel needs the name of its dataset")
        if spectral_model is None:
            spectral_model = PowerLawNormSpectralModel()
        if not isinstance(spectral_model, SpectralModel):
            raise ConfigError(
                f"FoVBackgroundModel of '{dataset_name}': spectral_model must be a spectral "
                f"model, got {spectral_model!r}"
            )
        self.dataset_name = str(dataset_name)
        self.spectral_model = spectral_model
        self.name = name or f"{dataset_name}-bkg"

    @property
    def type(self) -> str:
        return self.tag[0]

    @property
    def datasets_names(self) -> list[str]:
        return [self.dataset_name]

    def _submodels(self) -> list:
        return [self.spectral_model]

    def labelled_parameters(self) -> list[tuple[str, Parameter]]:
        return [(f"{self.name}.spectral.{p.name}", p) for p in self.spectral_model.parameters]

    @property
    def parameters(self) -> Parameters:
        return self.spectral_model.parameters

    def factors(self, energy_axis) -> np.ndarray:
        """The factor at each bin centre of ``energy_axis`` (reco energy)."""
        return np.asarray(self.spectral_model.evaluate(energy_axis.center_in("TeV")), dtype=float)

    def to_dict(self, full_output: bool = False) -> dict:
        data = {"type": self.tag[0]}
        if self.name != f"{self.dataset_name}-bkg":
            data["name"] = self.name
        data["datasets_names"] = [self.dataset_name]
        data["spectral"] = self.spectral_model.to_dict(full_output)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FoVBackgroundModel:
        check_keys(data, _KEYS, "FoVBackgroundModel")
        names = data.get("datasets_names") or []
        if isinstance(names, str):
            names = [names]
        if len(names) != 1:
            raise ConfigError(
                f"FoVBackgroundModel needs exactly one entry in 'datasets_names', got {names!r}"
            )
        spectral = data.get("spectral")
        return cls(
            names[0],
            part_from_dict("spectral", spectral) if spectral is not None else None,
            name=data.get("name"),
        )

    def copy(self, name: str | None = None) -> FoVBackgroundModel:
        new = copy.deepcopy(self)
        if name is not None:
            new.name = name
        return new

    def __repr__(self) -> str:
        return (
            f"FoVBackgroundModel(dataset_name={self.dataset_name!r}, "
            f"spectral={type(self.spectral_model).__name__})"
        )
