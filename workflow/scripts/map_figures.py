"""Figures of a 3D analysis: counts, significance and residual maps, npred per source."""

from gammarules.analysis.provenance import step_log
from gammarules.datasets import MapDataset
from gammarules.estimators import FluxMaps
from gammarules.models import Models, SkyModel
from gammarules.plot.maps import plot_counts_map, plot_npred_sources, plot_significance_maps

with step_log(snakemake.log[0]):
    title = snakemake.wildcards.analysis
    dataset = MapDataset.read(snakemake.input.dataset)
    dataset.models = Models.read(snakemake.input.models)
    plot_counts_map(dataset, snakemake.output.counts, title)
    plot_significance_maps(
        FluxMaps.read(snakemake.input.significance)["sqrt_ts"],
        FluxMaps.read(snakemake.input.residual)["sqrt_ts"],
        snakemake.output.significance,
        title,
    )
    names = [m.name for m in dataset.models if isinstance(m, SkyModel)]
    plot_npred_sources(dataset, names, snakemake.output.npred, title)
