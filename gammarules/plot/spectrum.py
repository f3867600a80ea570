"""Figures of 1D analyses: counts spectra and spectral energy distributions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from astropy import units as u  # noqa: E402

__all__ = ["plot_counts_spectrum", "plot_sed"]

E2DNDE_UNIT = u.Unit("TeV cm-2 s-1")


def plot_counts_spectrum(dataset, path, title=""):
    """ON counts, background (alpha x OFF) and predicted counts, with residuals."""
    axis = dataset.energy_axis
    edges, center = axis.edges_in("TeV"), axis.center_in("TeV")
    mask = dataset.mask_safe
    npred = dataset.npred()
    fig, (ax, ax_res) = plt.subplots(
        2, 1, figsize=(7, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    counts = np.where(mask, dataset.counts, np.nan)
    ax.errorbar(center, counts, yerr=np.sqrt(counts), fmt="o", color="k", label="ON counts")
    ax.stairs(
        np.where(mask, dataset.background, np.nan),
        edges,
        color="C0",
        label="background (alpha x OFF)",
    )
    ax.stairs(
        np.where(mask, npred, np.nan),
        edges,
        color="C1",
        lw=2,
        label="predicted (model + background)",
    )
    ax.set_xscale("log")
    ax.set_ylabel("counts")
    ax.legend()
    ax.set_title(title)
    with np.errstate(invalid="ignore", divide="ignore"):
        residual = (counts - npred) / np.sqrt(npred)
    ax_res.axhline(0, color="grey", lw=1)
    ax_res.plot(center, residual, "o", color="k")
    ax_res.set_xlabel("reconstructed energy [TeV]")
    ax_res.set_ylabel("(data - model) / sqrt(model)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _likelihood_band(ax, table):
    """Per-bin likelihood profile of the norm as a grey-scale band of Delta(stat)."""
    if "stat_scan" not in table.colnames or "norm_scan" not in table.colnames:
        return None
    ref = (u.Quantity(table["ref_dnde"]) * u.Quantity(table["e_ref"]) ** 2).to_value(E2DNDE_UNIT)
    e_min = u.Quantity(table["e_min"]).to_value("TeV")
    e_max = u.Quantity(table["e_max"]).to_value("TeV")
    mesh = None
    for i in range(len(table)):
        y = np.asarray(table["norm_scan"][i], dtype=float) * ref[i]
        stat = np.asarray(table["stat_scan"][i], dtype=float)
        log_y = np.log(y)
        log_edges = np.concatenate(
            [
                [1.5 * log_y[0] - 0.5 * log_y[1]],
                0.5 * (log_y[1:] + log_y[:-1]),
                [1.5 * log_y[-1] - 0.5 * log_y[-2]],
            ]
        )
        delta = (stat - np.nanmin(stat))[:, None]
        mesh = ax.pcolormesh(
            [e_min[i], e_max[i]],
            np.exp(log_edges),
            delta,
            cmap="Greys_r",
            vmin=0,
            vmax=25,
            alpha=0.8,
        )
    return mesh


def plot_sed(flux_points, model, path, title=""):
    """Flux points (E^2 dN/dE) with the model's 1 sigma band and the likelihood band."""
    table = flux_points.table
    fig, ax = plt.subplots(figsize=(7, 5))
    mesh = _likelihood_band(ax, table)
    if mesh is not None:
        fig.colorbar(mesh, ax=ax, label="Δ(-2 log L) of the bin's norm")
    e2 = flux_points.to_table("e2dnde")
    energy = u.Quantity(e2["e_ref"]).to_value("TeV")
    value = u.Quantity(e2["e2dnde"]).to_value(E2DNDE_UNIT)
    is_ul = (
        np.asarray(e2["is_ul"], dtype=bool) if "is_ul" in e2.colnames else np.zeros(len(e2), bool)
    )
    xerr = [
        energy - u.Quantity(e2["e_min"]).to_value("TeV"),
        u.Quantity(e2["e_max"]).to_value("TeV") - energy,
    ]
    if "e2dnde_errn" in e2.colnames:
        yerr = [u.Quantity(e2[c]).to_value(E2DNDE_UNIT) for c in ("e2dnde_errn", "e2dnde_errp")]
    else:
        yerr = u.Quantity(e2["e2dnde_err"]).to_value(E2DNDE_UNIT)
    yerr = np.where(is_ul, 0, np.asarray(yerr))
    ok = ~is_ul
    ax.errorbar(
        energy[ok],
        value[ok],
        xerr=np.asarray(xerr)[:, ok],
        yerr=yerr[:, ok] if yerr.ndim == 2 else yerr[ok],
        fmt="o",
        color="C3",
        label="flux points",
    )
    if np.any(is_ul) and "e2dnde_ul" in e2.colnames:
        ul = u.Quantity(e2["e2dnde_ul"]).to_value(E2DNDE_UNIT)
        ax.errorbar(
            energy[is_ul], ul[is_ul], yerr=0.3 * ul[is_ul], uplims=True, fmt="v", color="C3"
        )
    grid = (
        np.geomspace(
            u.Quantity(e2["e_min"]).min().to_value("TeV"),
            u.Quantity(e2["e_max"]).max().to_value("TeV"),
            100,
        )
        * u.TeV
    )
    dnde, dnde_err = model.evaluate_error(grid)
    e2dnde = (dnde * grid**2).to_value(E2DNDE_UNIT)
    e2err = (dnde_err * grid**2).to_value(E2DNDE_UNIT)
    ax.plot(grid.value, e2dnde, color="C0", label="best-fit model")
    ax.fill_between(
        grid.value, e2dnde - e2err, e2dnde + e2err, color="C0", alpha=0.3, label="1σ model band"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("energy [TeV]")
    ax.set_ylabel("E² dN/dE [TeV cm⁻² s⁻¹]")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
