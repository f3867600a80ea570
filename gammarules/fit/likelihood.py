"""The total fit statistic of several datasets as a function of their free parameters."""

from __future__ import annotations

import numpy as np

from gammarules.errors import FitError

__all__ = [
    "Likelihood",
    "as_dataset_list",
    "collect_parameters",
    "find_parameter",
    "model_components",
    "total_stat",
]


def as_dataset_list(datasets):
    """A list of datasets from one dataset, a list or any iterable of datasets."""
    if hasattr(datasets, "stat_sum"):
        return [datasets]
    datasets = list(datasets)
    if not datasets:
        raise FitError("no datasets given: expected one dataset or a list of datasets")
    return datasets


def total_stat(datasets):
    """Sum of ``stat_sum()`` over the datasets (-2 log L up to a constant)."""
    return float(sum(float(dataset.stat_sum()) for dataset in datasets))


def model_components(datasets):
    """Distinct model components (e.g. SkyModel) of the datasets, in order of appearance.

    A dataset's ``models`` may be a `~gammarules.models.Models`, a list of components, a
    single component or None.
    """
    components, seen = [], set()
    for dataset in datasets:
        models = getattr(dataset, "models", None)
        if models is None:
            continue
        for component in [models] if hasattr(models, "spectral_model") else models:
            if id(component) not in seen:
                seen.add(id(component))
                components.append(component)
    return components


def collect_parameters(datasets):
    """``(label, component, parameter)`` for every distinct parameter of the datasets' models.

    Parameters shared between components or datasets appear once, in order of first
    appearance. Labels are the components' ``"{model}.{part}.{parameter}"`` labels, made
    unique by a numeric suffix when two components carry the same name.
    """
    entries, seen, labels = [], set(), set()
    for component in model_components(datasets):
        for base, parameter in component.labelled_parameters():
            if id(parameter) in seen:
                continue
            seen.add(id(parameter))
            label, suffix = base, 1
            while label in labels:
                label = f"{base}_{suffix}"
                suffix += 1
            labels.add(label)
            entries.append((label, component, parameter))
    return entries


class Likelihood:
    """Total statistic of ``datasets`` as a function of the scaled free parameters.

    Each free parameter ``p`` is seen by the minimiser as its factor ``p.value / p.scale``,
    with the scale chosen by `Parameter.autoscale` from its starting value (its
    ``scale_method``: a power of ten by default), so that all factors are of order one;
    bounds are scaled alike.

    Raises
    ------
    FitError
        If the models have no free parameter.
    """

    def __init__(self, datasets):
        self.datasets = as_dataset_list(datasets)
        self.entries = collect_parameters(self.datasets)
        free = [(label, p) for label, _, p in self.entries if not p.frozen]
        if not free:
            names = [dataset_name(d) for d in self.datasets]
            raise FitError(f"datasets {names}: the models have no free parameter to fit")
        self.labels = [label for label, _ in free]
        self.parameters = [p for _, p in free]
        for parameter in self.parameters:
            parameter.autoscale()
        self.scales = np.array([p.scale for p in self.parameters])
        self.nfev = 0

    @property
    def factors(self):
        """Current free parameter values divided by their scales."""
        return np.array([float(p.value) for p in self.parameters]) / self.scales

    @property
    def limits(self):
        """Scaled ``(min, max)`` of the free parameters; ``None`` for no bound."""
        limits = []
        for parameter, scale in zip(self.parameters, self.scales, strict=True):
            lo, hi = float(parameter.min) / scale, float(parameter.max) / scale
            limits.append((None if np.isnan(lo) else lo, None if np.isnan(hi) else hi))
        return limits

    @property
    def steps(self):
        """Initial scaled step sizes: the known parameter errors, else 1 % of the factor."""
        steps = []
        for parameter, factor, scale in zip(
            self.parameters, self.factors, self.scales, strict=True
        ):
            error = float(parameter.error or 0) / scale
            if not (np.isfinite(error) and error > 0):
                error = 0.01 * abs(factor) if factor != 0 else 0.01
            steps.append(error)
        return steps

    def set_factors(self, factors):
        values = np.asarray(factors) * self.scales
        for parameter, value in zip(self.parameters, values, strict=True):
            parameter.value = float(value)

    def __call__(self, factors):
        self.set_factors(factors)
        self.nfev += 1
        return total_stat(self.datasets)

    def index(self, parameter):
        """Position of a free parameter given as object, label or unique name."""
        target = find_parameter(self.entries, parameter)
        for i, free in enumerate(self.parameters):
            if free is target:
                return i
        raise FitError(
            f"parameter {target.name!r} is not a free parameter of the models; "
            f"free parameters: {self.labels}"
        )


def find_parameter(entries, parameter):
    """The parameter among ``(label, component, parameter)`` entries, given as object,
    ``"{model}.{part}.{name}"`` label or unique name."""
    if isinstance(parameter, str):
        matches = [p for label, _, p in entries if parameter in (label, p.name)]
        if len(matches) > 1:
            labels = [label for label, _, p in entries if parameter in (label, p.name)]
            raise FitError(f"parameter name {parameter!r} is ambiguous; use one of {labels}")
    else:
        matches = [p for _, _, p in entries if p is parameter]
    if not matches:
        raise FitError(
            f"parameter {getattr(parameter, 'name', parameter)!r} is not a parameter of the "
            f"models; parameters: {[label for label, _, _ in entries]}"
        )
    return matches[0]


def dataset_name(dataset):
    return getattr(dataset, "name", type(dataset).__name__)
