"""The 3D (cube) analysis, step by step, from a validated config.

Each function is one step of the Snakemake workflow (the scripts in workflow/scripts call
exactly these), and `run` chains them in memory, for notebooks and benchmarks. Steps:
per-observation reduction on a cutout of the analysis map (counts, exposure, background, PSF
and edisp maps, safe mask, FoV background), stacking, an optional Poisson simulation from
true models, the joint fit of all sky models and the background model, significance maps
before and after the fit.
"""

from __future__ import annotations

import numpy as np

from gammarules.analysis.builders import (
    energy_axis,
    exclusion_mask,
    model_part,
    safe_mask_maker,
    sky_position,
)
from gammarules.analysis.spectrum_1d import _timed, selected_observations
from gammarules.config import quantity
from gammarules.datasets import MapDataset
from gammarules.errors import ConfigError
from gammarules.estimators import ExcessMapEstimator
from gammarules.fit import Fit
from gammarules.makers import FoVBackgroundMaker, RingBackgroundMaker
from gammarules.makers.map import MapDatasetMaker, make_map_dataset
from gammarules.maps import WcsGeom
from gammarules.models import FoVBackgroundModel, Models, SkyModel

__all__ = [
    "STACKED",
    "fit_models",
    "npred_per_model",
    "reduce_observation",
    "reference_dataset",
    "ring_significance",
    "run",
    "significance_maps",
    "simulate",
    "sky_models",
    "stack_datasets",
]

STACKED = "stacked"
"""Name of the stacked dataset (its background model is ``stacked-bkg``)."""


def reference_dataset(geometry):
    """The empty stacked dataset on the analysis map (``geometry`` section)."""
    cfg = geometry["map"]
    width = cfg["width"] if isinstance(cfg["width"], list) else [cfg["width"]] * 2
    width = [quantity(w, "deg", f"geometry.map.width[{i}]").value for i, w in enumerate(width)]
    geom = WcsGeom.create(
        sky_position(cfg, "geometry.map"),
        quantity(cfg["binsz"], "deg", "geometry.map.binsz").value,
        width=tuple(width),
        frame=cfg.get("frame", "icrs"),
        proj=cfg.get("proj", "CAR"),
        axes=[energy_axis(geometry["energy"], "geometry.energy", "energy")],
    )
    energy_true = energy_axis(geometry["energy_true"], "geometry.energy_true", "energy_true")
    binsz_irf = quantity(geometry.get("binsz_irf", "0.2 deg"), "deg", "geometry.binsz_irf")
    return MapDataset.create(geom, energy_true, name=STACKED, binsz_irf=binsz_irf.value)


def background_maker(background, center, data_dir=None):
    """The FoV background maker of a ``background`` section, or None (method ``none``)."""
    if background["method"] == "none":
        return None
    mask = exclusion_mask(background.get("exclusion"), center, data_dir)
    return FoVBackgroundMaker(method=background.get("fov_method", "scale"), exclusion_mask=mask)


def reduce_observation(geometry, reduction, background, observation, data_dir=None):
    """One observation on its cutout of the analysis map, with safe mask and FoV background."""
    reference = reference_dataset(geometry)
    width = quantity(reduction.get("cutout_width", "5 deg"), "deg", "reduction.cutout_width")
    dataset = make_map_dataset(
        reference,
        observation,
        width,
        maker=MapDatasetMaker(),
        safe_mask_maker=safe_mask_maker(reduction.get("safe_mask")),
    )
    maker = background_maker(background, reference.geom.center_skydir, data_dir)
    return maker.run(dataset, observation) if maker else dataset


def stack_datasets(geometry, datasets):
    """The observations stacked on the analysis map."""
    stacked = reference_dataset(geometry)
    for dataset in datasets:
        stacked.stack(dataset)
    stacked.meta = {"obs_ids": [int(d.meta["obs_id"]) for d in datasets if "obs_id" in d.meta]}
    return stacked


def sky_models(models_cfg, background_cfg=None, dataset_name=STACKED, key="fit"):
    """`Models`: one SkyModel per ``models`` entry (``spectral`` and ``spatial`` parts) and,
    with ``background_cfg``, the FoV background model of ``dataset_name``."""
    models = Models()
    for name, cfg in models_cfg.items():
        base = f"{key}.models.{name}"
        spectral = model_part("spectral", cfg["spectral"], f"{base}.spectral")
        spatial = model_part("spatial", cfg["spatial"], f"{base}.spatial")
        models.append(SkyModel(spectral, spatial, name=name))
    if background_cfg is not None:
        spectral = model_part(
            "spectral",
            {"type": "PowerLawNormSpectralModel", **background_cfg},
            f"{key}.background",
        )
        models.append(FoVBackgroundModel(dataset_name, spectral))
    return models


def simulate(stacked, simulation):
    """The stacked dataset with counts drawn from the true models (``simulation`` section:
    ``models``, ``background``, ``seed``); the true models are left on the dataset."""
    dataset = stacked.copy(name=STACKED)
    dataset.models = sky_models(
        simulation["models"], simulation.get("background", {}), key="simulation"
    )
    npred = npred_per_model(dataset, simulation["models"])
    dataset.fake(random_state=simulation["seed"])
    dataset.meta = dict(dataset.meta, simulated=True, seed=simulation["seed"], npred_true=npred)
    return dataset


def fit_models(dataset, fit_cfg):
    """Fit the sky models and the background model of ``fit_cfg`` to ``dataset``.

    Returns the fitted `Models` and the fit result as a JSON-ready dict with the predicted
    counts of each model in the safe mask.
    """
    models = sky_models(fit_cfg["models"], fit_cfg.get("background", {}))
    dataset.models = models
    result = Fit().run([dataset])
    summary = result.to_dict()
    summary["npred"] = npred_per_model(dataset, fit_cfg["models"])
    return models, summary


def npred_per_model(dataset, names):
    """Predicted counts in the dataset's mask of each named sky model and of the background."""
    mask = dataset.mask
    npred = {name: float(dataset.npred_signal([name]).data[mask].sum()) for name in names}
    npred["background"] = float(dataset.npred_background().data[mask].sum())
    return npred


def significance_maps(dataset, cfg):
    """Excess and significance maps (``estimators.significance`` section): against the
    background model alone and, if the dataset has source models, the residual after them."""
    estimator = _excess_estimator(cfg)
    sources = [m for m in (dataset.models or []) if isinstance(m, SkyModel)]
    result = {"significance": estimator.run(_background_only(dataset))}
    if sources:
        result["residual"] = estimator.run(dataset)
    return result


def ring_significance(dataset, estimators, background, data_dir=None):
    """Li & Ma significance with ring OFF regions (``estimators.ring``: r_in, width; the
    exclusion mask of the ``background`` section), on the dataset's background model
    (acceptance), and the correlation radius of ``estimators.significance``."""
    ring = estimators["ring"]
    mask = exclusion_mask(background.get("exclusion"), dataset.geom.center_skydir, data_dir)
    maker = RingBackgroundMaker(
        quantity(ring["r_in"], "deg", "estimators.ring.r_in"),
        quantity(ring["width"], "deg", "estimators.ring.width"),
        exclusion_mask=mask,
    )
    on_off = maker.run(_background_only(dataset))
    return _excess_estimator(estimators.get("significance", {})).run(on_off)


def _excess_estimator(cfg):
    radius = quantity(cfg.get("correlation_radius", "0.1 deg"), "deg", "correlation_radius")
    return ExcessMapEstimator(correlation_radius=radius)


def _background_only(dataset):
    models = [m for m in dataset.models or [] if not isinstance(m, SkyModel)]
    return dataset.copy(models=models)


def _check_kind(config):
    if config.get("kind") != "map_3d":
        raise ConfigError(f"analysis '{config.get('name')}' is not of kind map_3d")


def run(config, data_dir):
    """The whole analysis in memory: datasets, stacked (or simulated) dataset, fit, maps."""
    _check_kind(config)
    timing = {}
    table, observations = selected_observations(config, data_dir, timing)
    datasets = []
    for observation in observations:
        with _timed(timing, "reduce"):
            datasets.append(
                reduce_observation(
                    config["geometry"],
                    config["reduction"],
                    config["background"],
                    observation,
                    data_dir,
                )
            )
    with _timed(timing, "stack"):
        stacked = stack_datasets(config["geometry"], datasets)
    dataset = stacked
    if "simulation" in config:
        with _timed(timing, "simulate"):
            dataset = simulate(stacked, config["simulation"])
    with _timed(timing, "fit"):
        models, fit = fit_models(dataset, config["fit"])
    estimators = config.get("estimators", {})
    with _timed(timing, "significance"):
        maps = significance_maps(dataset, estimators.get("significance", {}))
    if "ring" in estimators:
        with _timed(timing, "ring_significance"):
            maps["ring"] = ring_significance(dataset, estimators, config["background"], data_dir)
    return {
        "observations": table,
        "datasets": datasets,
        "stacked": stacked,
        "dataset": dataset,
        "models": models,
        "fit": fit,
        "maps": maps,
        "timing_s": timing,
        "max_significance": float(np.nanmax(maps["significance"]["sqrt_ts"].data)),
    }
