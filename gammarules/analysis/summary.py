"""summary.json: the numbers a reader checks first, in one shape for every analysis.

Keys: ``analysis``, ``kind``, ``description``, ``gammarules_version``, ``observations``
(one entry per observation), ``stacked``, ``fits`` (``{mode: {model: fit}}``; 3D analyses fit
all their sky models together: ``{"stacked": {"sky_models": fit}}``, with the predicted counts
per model), ``flux_points`` (list of bins), ``maps`` (3D: significance before and after the
fit; empty for 1D), ``wall_time_s`` (step -> seconds, summed over its jobs).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
from astropy import units as u

import gammarules

__all__ = [
    "dataset_numbers",
    "fit_numbers",
    "flux_point_rows",
    "make_map_summary",
    "make_summary",
    "read_benchmarks",
]

DATASET_KEYS = ("counts", "counts_off", "alpha", "excess", "sqrt_ts", "livetime_s")


def _number(value):
    value = float(value)
    return None if math.isnan(value) or math.isinf(value) else value


def dataset_numbers(dataset):
    """Counts, OFF counts, alpha, excess, sqrt(TS) and livetime in the safe energy range."""
    info = dataset.info_dict()
    numbers = {key: _number(info[key]) for key in DATASET_KEYS if key in info}
    obs_id = dataset.meta.get("obs_id")
    return {"obs_id": int(obs_id), **numbers} if obs_id is not None else numbers


def fit_numbers(result):
    """``converged``, ``stat``, ``nfev`` and each parameter's value, error, unit of a fit dict,
    keyed ``"<model>.<parameter>"``."""
    return {
        "converged": result["converged"],
        "stat": result["stat"],
        "nfev": result["nfev"],
        "parameters": {
            f"{p['model']}.{p['name']}": {
                "value": p["value"],
                "error": p["error"],
                "unit": p["unit"],
                "frozen": p["frozen"],
            }
            for p in result["parameters"]
        },
        **{key: result[key] for key in ("minos", "npred") if key in result},
    }


def flux_point_rows(flux_points):
    """The flux points as a list of dicts (dnde type, units in the keys)."""
    table = flux_points.to_table("dnde")
    rows = []
    for i in range(len(table)):
        row = {
            f"{name}_TeV": _number(u.Quantity(table[name][i], table[name].unit).to_value("TeV"))
            for name in ("e_ref", "e_min", "e_max")
        }
        for name in ("dnde", "dnde_err", "dnde_errn", "dnde_errp", "dnde_ul"):
            if name in table.colnames:
                unit = table[name].unit or u.Unit("cm-2 s-1 TeV-1")
                row[f"{name}_TeV-1_cm-2_s-1"] = _number(
                    u.Quantity(table[name][i], unit).to_value("cm-2 s-1 TeV-1")
                )
        for name in ("ts", "sqrt_ts", "counts", "npred"):
            if name in table.colnames:
                row[name] = _number(np.sum(table[name][i]))
        if "is_ul" in table.colnames:
            row["is_ul"] = bool(table["is_ul"][i])
        rows.append(row)
    return rows


def read_benchmarks(paths):
    """Step -> summed wall time (s) from Snakemake benchmark files ``.../<step>/<job>.tsv``."""
    totals = {}
    for path in paths:
        path = Path(path)
        with path.open() as f:
            seconds = sum(float(row["s"]) for row in csv.DictReader(f, delimiter="\t"))
        step = path.parent.name
        totals[step] = totals.get(step, 0.0) + seconds
    return totals


def make_summary(config, datasets, stacked, fits, flux_points, wall_time_s):
    """The summary dict; ``fits`` maps mode -> model name -> fit result dict."""
    return {
        "analysis": config["name"],
        "kind": config["kind"],
        "description": config.get("description", ""),
        "gammarules_version": gammarules.__version__,
        "observations": [dataset_numbers(d) for d in datasets],
        "stacked": dataset_numbers(stacked),
        "fits": {
            mode: {name: fit_numbers(result) for name, result in per_model.items()}
            for mode, per_model in fits.items()
        },
        "flux_points": flux_point_rows(flux_points) if flux_points is not None else [],
        "maps": {},
        "wall_time_s": wall_time_s,
    }


def _significance_numbers(sqrt_ts):
    values = np.asarray(sqrt_ts.data, dtype=float)
    values = values[np.isfinite(values)]
    peak = sqrt_ts.geom.to_image().pix_to_coord(
        *np.unravel_index(
            np.nanargmax(sqrt_ts.data.reshape(sqrt_ts.geom.spatial_shape)),
            sqrt_ts.geom.spatial_shape,
        )[::-1]
    )
    return {
        "max": _number(values.max()),
        "mean": _number(values.mean()),
        "std": _number(values.std()),
        "max_position_deg": [_number(peak.spherical.lon.deg), _number(peak.spherical.lat.deg)],
    }


def make_map_summary(config, datasets, stacked, fitted, fit, maps, wall_time_s):
    """The summary dict of a 3D analysis: per-observation and stacked-dataset numbers, the
    joint fit on ``fitted`` (the stacked or the simulated dataset), the significance maps
    (``maps``: FluxMaps by name) and, for simulations, the seed, the simulated counts and the
    predicted counts of the true models."""
    summary = make_summary(
        config, datasets, stacked, {"stacked": {"sky_models": fit}}, None, wall_time_s
    )
    safe = stacked.mask
    summary["stacked"]["counts_per_energy_bin"] = [
        _number(c) for c in (stacked.counts.data * safe).sum(axis=(1, 2))
    ]
    summary["maps"] = {name: _significance_numbers(m["sqrt_ts"]) for name, m in maps.items()}
    if fitted.meta.get("simulated"):
        summary["simulation"] = {
            "seed": fitted.meta["seed"],
            "counts": _number(fitted.counts.data[fitted.mask].sum()),
            "npred_true": fitted.meta["npred_true"],
        }
    return summary
