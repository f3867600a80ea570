"""`Models`: the model components of an analysis, and their YAML files in Gammapy's schema.

A file is ``components:`` (a list of ``{name, type: SkyModel, datasets_names, spectral:
{type, parameters: [...]}, spatial: ...}`` entries and other component types),
optionally ``covariance: <stem>_covariance.dat`` naming a table beside it (ASCII fixed
width, ``|``-delimited, a ``Parameters`` column of ``<model>.<part>.<parameter>`` labels
then one column per parameter) and ``metadata:``.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import yaml
from astropy.table import Table

import gammarules
from gammarules.errors import ConfigError, DataFormatError
from gammarules.models.core import CovarianceMixin
from gammarules.models.parameter import Parameter, Parameters
from gammarules.models.registry import model_class
from gammarules.models.sky import UnsupportedModel


def _plain(obj):
    """Numpy scalars and tuples as plain Python objects, for a safe YAML dump."""
    if isinstance(obj, dict):
        return {key: _plain(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(value) for value in obj]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


class Models(CovarianceMixin):
    """An ordered collection of uniquely named model components.

    ``parameters`` are those of all components, each shared parameter once;
    ``covariance`` is the joint matrix over them. Setting it (as a fitter does) sets
    every component's block and keeps the cross terms between components here.
    """

    def __init__(self, models=(), covariance_data=None):
        if isinstance(models, CovarianceMixin) and not isinstance(models, Models):
            models = [models]
        self._models = []
        for model in models:
            self.append(model)
        if covariance_data is not None:
            self.covariance = covariance_data

    def append(self, model) -> None:
        if not isinstance(model, CovarianceMixin) or not hasattr(model, "labelled_parameters"):
            raise ConfigError(f"Models holds model components (e.g. SkyModel), got {model!r}")
        if model.name is not None and model.name in self.names:
            raise ConfigError(f"model names must be unique; '{model.name}' is already present")
        self._models.append(model)

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self):
        return iter(self._models)

    def __contains__(self, name) -> bool:
        return name in self.names

    def __getitem__(self, key):
        if isinstance(key, str):
            for model in self._models:
                if model.name == key:
                    return model
            raise ConfigError(f"no model named {key!r}; available: {self.names}")
        if isinstance(key, slice):
            return Models(self._models[key])
        if not -len(self) <= key < len(self):
            raise ConfigError(f"model index {key} out of range for {len(self)} models")
        return self._models[key]

    @property
    def names(self) -> list:
        return [model.name for model in self._models]

    def _submodels(self) -> list:
        return list(self._models)

    def labelled_parameters(self) -> list[tuple[str, Parameter]]:
        """(``"<model>.<part>.<parameter>"``, parameter) for each distinct parameter."""
        seen = set()
        pairs = []
        for model in self._models:
            for label, par in model.labelled_parameters():
                if id(par) not in seen:
                    seen.add(id(par))
                    pairs.append((label, par))
        return pairs

    @property
    def parameters(self) -> Parameters:
        return Parameters(par for _, par in self.labelled_parameters())

    @property
    def parameters_unique_names(self) -> list[str]:
        return [label for label, _ in self.labelled_parameters()]

    def copy(self) -> Models:
        """A deep copy (new parameters, same values, errors and covariance)."""
        return copy.deepcopy(self)

    def to_dict(self, full_output: bool = False) -> dict:
        return {"components": [model.to_dict(full_output) for model in self._models]}

    @classmethod
    def from_dict(cls, data: dict) -> Models:
        """Models from ``{"components": [...]}``; unknown component types are kept as
        `UnsupportedModel`. A ``covariance`` entry names a file, so only `read` uses it."""
        if not isinstance(data, dict) or not isinstance(data.get("components"), list):
            raise ConfigError("a model collection needs a 'components' list")
        models = []
        for idx, entry in enumerate(data["components"]):
            if not isinstance(entry, dict) or "type" not in entry:
                raise ConfigError(f"component {idx} needs a 'type', got {entry!r}")
            cls_ = model_class("component", entry["type"])
            try:
                models.append(cls_.from_dict(entry) if cls_ else UnsupportedModel(entry))
            except ConfigError as exc:
                raise ConfigError(f"component {idx} ({entry.get('name')!r}): {exc}") from exc
        return cls(models)

    def write(
        self,
        path,
        overwrite: bool = False,
        full_output: bool = False,
        write_covariance: bool = True,
    ) -> None:
        """Write the YAML file and, with `write_covariance`, ``<stem>_covariance.dat`` beside it."""
        path = Path(path)
        if path.exists() and not overwrite:
            raise ConfigError(f"{path}: file exists; pass overwrite=True to replace it")
        data = self.to_dict(full_output)
        if write_covariance and len(self.parameters) > 0:
            covariance_path = path.with_name(f"{path.stem}_covariance.dat")
            self.write_covariance(covariance_path, overwrite=overwrite)
            data["covariance"] = covariance_path.name
        data["metadata"] = {"creator": f"gammarules {gammarules.__version__}"}
        path.write_text(yaml.safe_dump(_plain(data), sort_keys=False))

    def write_covariance(self, path, overwrite: bool = False) -> None:
        """The joint covariance as the table Gammapy writes and reads."""
        table = Table()
        table["Parameters"] = self.parameters_unique_names
        for idx, column in enumerate(self.covariance.T):
            table[str(idx)] = column
        table.write(path, format="ascii.fixed_width", delimiter="|", overwrite=overwrite)

    @classmethod
    def read(cls, path) -> Models:
        """Read a model file written by gammarules or Gammapy (and its covariance file)."""
        path = Path(path)
        if not path.is_file():
            raise DataFormatError(f"{path}: model file not found")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise DataFormatError(f"{path}: not valid YAML ({exc})") from exc
        try:
            models = cls.from_dict(data)
        except ConfigError as exc:
            raise DataFormatError(f"{path}: {exc}") from exc
        if data.get("covariance"):
            models.read_covariance(path.parent / data["covariance"])
        return models

    def read_covariance(self, path) -> None:
        """Set the joint covariance from a Gammapy covariance table.

        The table may hold more parameters than these models (those of component types
        kept as `UnsupportedModel`); every parameter here must be in it.
        """
        path = Path(path)
        if not path.is_file():
            raise DataFormatError(f"{path}: covariance file not found")
        try:
            table = Table.read(path, format="ascii.fixed_width", delimiter="|")
        except Exception as exc:  # astropy raises many kinds on malformed tables
            raise DataFormatError(f"{path}: not a covariance table ({exc})") from exc
        if "Parameters" not in table.colnames or len(table.colnames) != len(table) + 1:
            raise DataFormatError(
                f"{path}: expected a 'Parameters' column and a square matrix, "
                f"got columns {table.colnames} and {len(table)} rows"
            )
        labels = [str(label) for label in table["Parameters"]]
        try:
            matrix = np.array([np.asarray(table[n], dtype=float) for n in table.colnames[1:]]).T
        except ValueError as exc:
            raise DataFormatError(f"{path}: covariance values are not numbers ({exc})") from exc
        position = {label: idx for idx, label in enumerate(labels)}
        missing = [label for label in self.parameters_unique_names if label not in position]
        if missing:
            raise DataFormatError(f"{path}: no covariance for the parameters {missing}")
        idx = [position[label] for label in self.parameters_unique_names]
        self.covariance = matrix[np.ix_(idx, idx)]

    def __repr__(self) -> str:
        return "Models\n" + "\n".join(f"  {idx}: {model!r}" for idx, model in enumerate(self))
