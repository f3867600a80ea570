"""The 1D (ON/OFF spectrum) analysis, step by step, from a validated config.

Each function is one step of the Snakemake workflow (the scripts in workflow/scripts call
exactly these), and `run` chains them in memory, for notebooks and benchmarks.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import Table
from astropy.time import Time

from gammarules.analysis.builders import (
    energy_axis,
    exclusion_mask,
    model_part,
    region_finder,
    safe_mask_maker,
    sky_circle,
)
from gammarules.config import quantity
from gammarules.data import DataStore
from gammarules.datasets import SpectrumDataset, stack
from gammarules.errors import ConfigError, DataFormatError
from gammarules.estimators import FluxPointsEstimator
from gammarules.fit import Fit
from gammarules.makers.background import ReflectedRegionsBackgroundMaker
from gammarules.makers.spectrum import SpectrumDatasetMaker
from gammarules.models import Models, SkyModel

__all__ = [
    "estimate_background",
    "fit_model",
    "flux_points",
    "make_irfs",
    "observation_table",
    "reduce_counts",
    "run",
    "sky_model",
]

IRF_CONTENT = "irf"
"""``meta["content"]`` of the IRF-interpolation product: exposure and edisp, no counts."""

_OBS_COLUMNS = ("RA_PNT", "DEC_PNT", "ONTIME", "LIVETIME", "TSTART", "TSTOP", "OBJECT")


def observation_table(store, cfg):
    """The observations of ``store`` (a DataStore) selected by an ``observations`` section:
    OBS_ID, their DL3 files, and a few obs-index columns."""
    selection = {}
    if "obs_ids" in cfg:
        selection["obs_ids"] = cfg["obs_ids"]
    if "cone" in cfg:
        circle = sky_circle(cfg["cone"], "observations.cone")
        selection["cone"] = (circle.center, circle.radius)
    if "time_range" in cfg:
        selection["time_range"] = Time(cfg["time_range"])
    if "target" in cfg:
        selection["target"] = cfg["target"]
    for column, condition in cfg.get("columns", {}).items():
        if isinstance(condition, list):
            condition = tuple(u.Quantity(c) if isinstance(c, str) else c for c in condition)
        selection[column] = condition
    ids = store.select(**selection)
    if not ids:
        raise ConfigError(
            f"observations: the selection {cfg} matches no observation in {store.obs_index_path}"
        )
    index = {int(i): row for i, row in zip(store.obs_table["OBS_ID"], store.obs_table, strict=True)}
    rows = []
    for obs_id in ids:
        files = sorted({str(loc.path) for loc in store.obs(obs_id).locations.values()})
        row = {"OBS_ID": int(obs_id), "FILES": ",".join(files)}
        row.update(
            {c: index[int(obs_id)][c] for c in _OBS_COLUMNS if c in index[int(obs_id)].colnames}
        )
        rows.append(row)
    return Table(rows=rows)


def _axes(geometry):
    return (
        energy_axis(geometry["energy"], "geometry.energy", "energy"),
        energy_axis(geometry["energy_true"], "geometry.energy_true", "energy_true"),
    )


def make_irfs(geometry, reduction, observation):
    """IRF interpolation: exposure and energy dispersion at the ON region, no counts."""
    energy, energy_true = _axes(geometry)
    region = sky_circle(geometry["on_region"], "geometry.on_region")
    empty = SpectrumDataset.create(
        energy,
        energy_true,
        region=region,
        name=str(observation.obs_id),
        meta={"content": IRF_CONTENT},
    )
    maker = SpectrumDatasetMaker(
        selection=("exposure", "edisp"),
        containment_correction=reduction.get("containment_correction", False),
    )
    dataset = maker.run(empty, observation)
    dataset.mask_safe = np.zeros(energy.nbin, dtype=bool)
    return dataset


def reduce_counts(irfs, observation, safe_mask=None):
    """ON counts on top of the IRF product of the same observation, and the safe mask."""
    if irfs.meta.get("content") != IRF_CONTENT:
        raise DataFormatError(
            f"dataset '{irfs.name}' is not an IRF-interpolation product (meta content="
            f"{irfs.meta.get('content')!r}, expected {IRF_CONTENT!r})"
        )
    if int(irfs.meta["obs_id"]) != int(observation.obs_id):
        raise DataFormatError(
            f"IRF product of observation {irfs.meta['obs_id']} used for observation "
            f"{observation.obs_id}"
        )
    meta = {k: v for k, v in irfs.meta.items() if k != "content"}
    dataset = SpectrumDatasetMaker(selection=("counts",)).run(irfs.copy(meta=meta), observation)
    dataset.mask_safe = np.ones(dataset.energy_axis.nbin, dtype=bool)
    maker = safe_mask_maker(safe_mask)
    return maker.run(dataset, observation) if maker else dataset


def estimate_background(dataset, observation, background, data_dir=None):
    """OFF counts from reflected or wobble regions: the ON/OFF dataset."""
    maker = ReflectedRegionsBackgroundMaker(
        region_finder=region_finder(background),
        exclusion_mask=exclusion_mask(background.get("exclusion"), dataset.region.center, data_dir),
    )
    return maker.run(dataset, observation)


def sky_model(name, cfg, key=None):
    """A `SkyModel` named ``name`` from a ``fit.models.<name>`` entry (a spectral model)."""
    return SkyModel(
        spectral_model=model_part("spectral", cfg, key or f"fit.models.{name}"), name=name
    )


def _fit_mask(datasets, energy_range):
    if not energy_range:
        return
    emin, emax = (quantity(e, "TeV", f"fit.energy_range[{i}]") for i, e in enumerate(energy_range))
    for dataset in datasets:
        axis = dataset.energy_axis
        dataset.mask_fit = (axis.edges_min >= emin) & (axis.edges_max <= emax)


def fit_model(datasets, name, model_cfg, options=None):
    """Fit one model to the datasets.

    Returns the fitted `Models` and the fit result as a JSON-ready dict, with MINOS errors
    (``options["minos"]``) and likelihood profiles of the free parameters over +-n_sigma
    (``options["profiles"]``) when asked for.
    """
    options = options or {}
    models = Models([sky_model(name, model_cfg)])
    _fit_mask(datasets, options.get("energy_range"))
    for dataset in datasets:
        dataset.models = models
    fit = Fit()
    result = fit.run(datasets)
    summary = result.to_dict()
    free = [(label, p) for label, p in models.labelled_parameters() if not p.frozen]
    if options.get("minos"):
        summary["minos"] = {}
        for label, parameter in free:
            interval = fit.minos(datasets, parameter)
            summary["minos"][label] = {
                "errn": float(interval["errn"].value),
                "errp": float(interval["errp"].value),
                "success": interval["success"],
            }
    profiles = options.get("profiles")
    if profiles:
        summary["profiles"] = {}
        n_sigma, n_values = profiles.get("n_sigma", 3), profiles.get("n_values", 21)
        for label, parameter in free:
            values = parameter.value + parameter.error * np.linspace(-n_sigma, n_sigma, n_values)
            scan = fit.stat_profile(datasets, parameter, values, reoptimize=True)
            summary["profiles"][label] = {
                "values": values.tolist(),
                "unit": str(parameter.unit),
                "stat_scan": scan["stat_scan"].tolist(),
            }
    return models, summary


def flux_points(datasets, models, cfg):
    """Flux points of the fitted model in the energy bins of ``cfg`` (a ``flux_points`` section)."""
    edges = energy_axis(cfg["energy"], "flux_points.energy", "energy").edges
    for dataset in datasets:
        dataset.models = models
    estimator = FluxPointsEstimator(
        energy_edges=edges,
        n_sigma=cfg.get("n_sigma", 1),
        n_sigma_ul=cfg.get("n_sigma_ul", 2),
        selection_optional="all",
    )
    return estimator.run(datasets)


@contextmanager
def _timed(timing, step):
    start = time.perf_counter()
    yield
    timing[step] = timing.get(step, 0.0) + time.perf_counter() - start


def selected_observations(config, data_dir, timing):
    """The observation table of the config's selection and the `Observation` objects."""
    with _timed(timing, "select_observations"):
        store = DataStore.from_dir(Path(data_dir) / config["observations"]["datastore"])
        table = observation_table(store, config["observations"])
    return table, [store.obs(int(obs_id)) for obs_id in table["OBS_ID"]]


def run(config, data_dir):
    """The whole analysis in memory; returns datasets, stacked dataset, fits, flux points."""
    timing = {}
    data_dir = Path(data_dir)
    table, observations = selected_observations(config, data_dir, timing)
    datasets = []
    for observation in observations:
        with _timed(timing, "irf"):
            irfs = make_irfs(config["geometry"], config["reduction"], observation)
        with _timed(timing, "reduce"):
            dataset = reduce_counts(irfs, observation, config["reduction"].get("safe_mask"))
        with _timed(timing, "background"):
            datasets.append(
                estimate_background(dataset, observation, config["background"], data_dir)
            )
    with _timed(timing, "stack"):
        stacked = stack(datasets)
    fits = {"joint": {}, "stacked": {}}
    options = {k: v for k, v in config["fit"].items() if k != "models"}
    with _timed(timing, "fit"):
        for name, model_cfg in config["fit"]["models"].items():
            fits["joint"][name] = fit_model(datasets, name, model_cfg, options)
            fits["stacked"][name] = fit_model([stacked], name, model_cfg, options)
    points = None
    if "flux_points" in config:
        with _timed(timing, "flux_points"):
            models = fits["joint"][config["flux_points"]["model"]][0]
            points = flux_points(datasets, models, config["flux_points"])
    return {
        "observations": table,
        "datasets": datasets,
        "stacked": stacked,
        "fits": fits,
        "flux_points": points,
        "timing_s": timing,
    }
