"""Figures of 3D analyses: counts and significance maps, residuals, predicted counts per source."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.special import ndtr  # noqa: E402

__all__ = ["plot_counts_map", "plot_npred_sources", "plot_significance_maps"]


def _sky_axes(fig, position, geom):
    ax = fig.add_subplot(*position, projection=geom.wcs)
    frame = geom.frame
    ax.coords[0].set_axislabel("RA" if frame == "icrs" else "Galactic longitude")
    ax.coords[1].set_axislabel("Dec" if frame == "icrs" else "Galactic latitude")
    return ax


def _image(ax, data, label, cmap="viridis", **kwargs):
    image = ax.imshow(data, origin="lower", cmap=cmap, interpolation="nearest", **kwargs)
    plt.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label=label)


def plot_counts_map(dataset, path, title=""):
    """Counts and predicted background summed over the safe energy bins."""
    geom = dataset.geom.to_image()
    safe = dataset._safe()
    fig = plt.figure(figsize=(12, 5))
    for i, (name, data) in enumerate(
        (("counts", dataset.counts.data), ("background", dataset.npred_background().data))
    ):
        ax = _sky_axes(fig, (1, 2, i + 1), geom)
        _image(ax, (data * safe).sum(axis=0), name)
        ax.set_title(f"{title} {name}".strip())
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_significance_maps(significance, residual, path, title=""):
    """Significance before the fit, residual significance after it, and the distribution of
    the residual significance compared with a standard normal."""
    geom = significance.geom.to_image()
    fig = plt.figure(figsize=(16, 5))
    for i, (name, sqrt_ts) in enumerate(
        (("significance", significance), ("residual significance", residual))
    ):
        ax = _sky_axes(fig, (1, 3, i + 1), geom)
        data = sqrt_ts.data.reshape(geom.spatial_shape)
        limit = 5 if i else max(5, float(np.nanmax(np.abs(data))))
        _image(ax, data, "sqrt(TS)", cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"{title} {name}".strip())
    ax = fig.add_subplot(1, 3, 3)
    values = residual.data[np.isfinite(residual.data)].ravel()
    bins = np.linspace(-5, 5, 51)
    ax.hist(values, bins=bins, histtype="step", color="k", label="residual significance")
    expected = values.size * np.diff(ndtr(bins))
    ax.stairs(expected, bins, color="C1", label="standard normal")
    ax.set_yscale("log")
    ax.set_ylim(0.5, None)
    ax.set_xlabel("sqrt(TS)")
    ax.set_ylabel("pixels")
    ax.set_title(f"mean {values.mean():.3f}, std {values.std():.3f}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_npred_sources(dataset, names, path, title=""):
    """Predicted counts of each source: images summed over energy and counts spectra."""
    geom = dataset.geom.to_image()
    safe = dataset._safe()
    axis = dataset.energy_axis
    fig = plt.figure(figsize=(5 * (len(names) + 1), 4.5))
    spectrum_ax = fig.add_subplot(1, len(names) + 1, len(names) + 1)
    for i, name in enumerate(names):
        npred = dataset.npred_signal([name]).data * safe
        ax = _sky_axes(fig, (1, len(names) + 1, i + 1), geom)
        _image(ax, npred.sum(axis=0), "predicted counts")
        ax.set_title(f"{name}: {npred.sum():.1f} counts")
        spectrum_ax.stairs(npred.sum(axis=(1, 2)), axis.edges_in("TeV"), label=name)
    background = (dataset.npred_background().data * safe).sum(axis=(1, 2))
    spectrum_ax.stairs(background, axis.edges_in("TeV"), color="grey", label="background")
    spectrum_ax.set_xscale("log")
    spectrum_ax.set_yscale("log")
    spectrum_ax.set_xlabel("reconstructed energy [TeV]")
    spectrum_ax.set_ylabel("predicted counts")
    spectrum_ax.set_title(title)
    spectrum_ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
