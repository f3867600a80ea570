"""Field-of-view background normalisation of a map dataset, outside an exclusion mask.

The background map of each observation is adjusted to its own counts in the bins that are
safe, in the fit mask and not excluded: ``scale`` sets the norm of the background model to
``(counts - predicted signal) / background`` summed over those bins; ``fit`` maximises the
Cash likelihood of a `FoVBackgroundModel` (by default: norm free, tilt frozen), any sky
models of the dataset contributing with their parameters frozen. The adjusted factors are
multiplied into the returned dataset's background map, so that datasets can be stacked.

When the bins hold too few counts or too little background, or the fit fails, the
background is left as it was and the returned dataset's safe mask is all False (it does not
contribute to a stack), with the reason logged and stored in ``meta["fov_background"]``.
This is what Gammapy 2.1's ``FoVBackgroundMaker`` does.
"""

from __future__ import annotations

import logging

import numpy as np

from gammarules.errors import ConfigError, FitError, GammarulesError
from gammarules.fit import Fit
from gammarules.maps import Map
from gammarules.models import FoVBackgroundModel, Models, PowerLawNormSpectralModel

__all__ = ["METHODS", "FoVBackgroundMaker", "exclusion_mask_on"]

METHODS = ("scale", "fit")

log = logging.getLogger(__name__)


def exclusion_mask_on(geom, exclusion_mask):
    """``exclusion_mask`` (a sky-image `Map`, True = usable) on the pixels of ``geom``.

    Each pixel of ``geom`` takes the value of the mask pixel holding its centre (WCS or
    HEALPix mask, any frame); pixels outside the mask's footprint are excluded, as in Gammapy.
    Returns a bool array ``(ny, nx)``; all True without a mask.
    """
    image = geom.to_image()
    if exclusion_mask is None:
        return np.ones(image.data_shape, dtype=bool)
    if not isinstance(exclusion_mask, Map):
        raise GammarulesError(f"exclusion mask must be a Map, got {type(exclusion_mask).__name__}")
    if exclusion_mask.geom.axes:
        names = [axis.name for axis in exclusion_mask.geom.axes]
        raise GammarulesError(
            f"exclusion mask must be a sky image without non-spatial axes, got axes {names}"
        )
    return exclusion_mask.get_by_coord(image.get_coord(), fill_value=0).astype(bool)


def _without(models, excluded):
    """``models`` without the component ``excluded`` (None if nothing is left)."""
    if models is None:
        return None
    components = [models] if hasattr(models, "spectral_model") else list(models)
    kept = [m for m in components if m is not excluded]
    return Models(kept) if kept else None


class FoVBackgroundMaker:
    """Adjusts the background map of a `MapDataset` to its counts outside excluded regions.

    Parameters
    ----------
    method : {"scale", "fit"}
    exclusion_mask : `~gammarules.maps.Map`, optional
        Sky image, True where the sky is free of gamma-ray sources (see `exclusion_mask_on`).
    spectral_model : `~gammarules.models.SpectralModel`, optional
        Factor model with a ``norm`` parameter, used (as a copy) when the dataset has no
        `FoVBackgroundModel`; default `PowerLawNormSpectralModel` (norm free, tilt frozen).
    min_counts : float
        The counts minus the predicted signal in the used bins must exceed this.
    min_npred_background : float
        The predicted background in the used bins must exceed this.
    fit : `~gammarules.fit.Fit`, optional
        The fitter of method ``fit`` (default ``Fit()``).
    """

    def __init__(
        self,
        method="scale",
        exclusion_mask=None,
        spectral_model=None,
        min_counts=0,
        min_npred_background=0,
        fit=None,
    ):
        if method not in METHODS:
            raise ConfigError(f"FoVBackgroundMaker: method {method!r}, expected one of {METHODS}")
        model = PowerLawNormSpectralModel() if spectral_model is None else spectral_model
        if "norm" not in model.parameters.names:
            raise ConfigError(
                f"FoVBackgroundMaker: spectral model {type(model).__name__} has no 'norm'"
            )
        self.method = method
        self.exclusion_mask = exclusion_mask
        self.spectral_model = model
        self.min_counts = float(min_counts)
        self.min_npred_background = float(min_npred_background)
        self.fit = fit or Fit()

    def _background_model(self, dataset):
        """A copy of the dataset's background model, or a new one from ``spectral_model``."""
        existing = dataset.background_model
        if existing is not None:
            return existing.copy()
        return FoVBackgroundModel(dataset.name or "dataset", self.spectral_model.copy())

    def run(self, dataset, observation=None):
        """A copy of ``dataset`` whose background map holds the adjusted factors.

        The values go to ``meta["fov_background"]``: method, success, message, norm,
        norm_err, tilt, tilt_err, and counts, npred_background and npred_signal summed over
        the used bins (before the adjustment). The returned dataset keeps the input's models
        except its background model, whose factors are now in the background map.
        """
        if dataset.background is None:
            raise GammarulesError(f"FoVBackgroundMaker: dataset '{dataset.name}' has no background")
        usable = exclusion_mask_on(dataset.geom, self.exclusion_mask)
        mask = dataset.mask & usable
        model = self._background_model(dataset)
        others = _without(dataset.models, dataset.background_model)
        info = {
            "method": self.method,
            "counts": float(dataset.counts.data[mask].sum()),
            "npred_background": float(dataset.npred_background().data[mask].sum()),
            "npred_signal": float(dataset.npred_signal().data[mask].sum()),
        }
        problem = self._check(info)
        if problem is None and self.method == "scale":
            self._scale(model, info)
        elif problem is None:
            problem = self._fit(dataset, model, others, usable)
        changes = {"models": others}
        if problem is not None:
            log.warning("FoVBackgroundMaker failed for dataset '%s': %s", dataset.name, problem)
            changes["mask_safe"] = Map(dataset.geom, np.zeros(dataset.geom.data_shape, bool))
        factors = model.factors(dataset.energy_axis)[:, np.newaxis, np.newaxis]
        changes["background"] = dataset.background.copy(data=dataset.background.data * factors)
        info.update(self._values(model), success=problem is None, message=problem or "")
        return dataset.copy(meta=dict(dataset.meta, fov_background=info), **changes)

    def _check(self, info):
        residual = info["counts"] - info["npred_signal"]
        if not residual > self.min_counts:
            return (
                f"only {residual:g} counts (minus predicted signal) outside the exclusion mask, "
                f"need more than {self.min_counts:g}; background left unchanged, safe mask "
                "set to False"
            )
        if not info["npred_background"] > self.min_npred_background:
            return (
                f"only {info['npred_background']:g} predicted background counts outside the "
                f"exclusion mask, need more than {self.min_npred_background:g}; background "
                "left unchanged, safe mask set to False"
            )
        return None

    @staticmethod
    def _scale(model, info):
        """norm -> norm (counts - signal) / background; error from the Poisson counts."""
        norm = model.spectral_model.parameters["norm"]
        start = float(norm.value)
        norm.value = start * (info["counts"] - info["npred_signal"]) / info["npred_background"]
        norm.error = start * np.sqrt(info["counts"]) / info["npred_background"]

    def _fit(self, dataset, model, others, usable):
        """Cash fit of ``model`` outside the exclusion mask, with frozen copies of the
        other models; on failure ``model`` is reset and the reason returned."""
        frozen = [] if others is None else list(others.copy())
        for component in frozen:
            for parameter in component.parameters:
                parameter.frozen = True
        fit_mask = np.broadcast_to(usable, dataset.geom.data_shape).copy()
        if dataset.mask_fit is not None:
            fit_mask &= dataset.mask_fit.data
        work = dataset.copy(
            name=model.dataset_name,
            models=Models([*frozen, model]),
            mask_fit=Map(dataset.geom, fit_mask),
        )
        start = np.array([float(p.value) for p in model.parameters])
        try:
            result = self.fit.run([work])
            reason = None if result.success else result.message
        except FitError as error:
            reason = str(error)
        if reason is None:
            return None
        model.parameters.set_values(start)
        for parameter in model.parameters:
            parameter.error = 0.0
        return f"fit failed ({reason}); background left unchanged, safe mask set to False"

    @staticmethod
    def _values(model):
        parameters = model.spectral_model.parameters
        values = {}
        for name in ("norm", "tilt"):
            if name in parameters.names:
                values[name] = float(parameters[name].value)
                values[f"{name}_err"] = float(parameters[name].error or 0.0)
        return values
