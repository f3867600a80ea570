"""Significance maps before and after the fitted sources."""

from gammarules.analysis.map_3d import significance_maps
from gammarules.analysis.provenance import step_log
from gammarules.datasets import MapDataset
from gammarules.models import Models

with step_log(snakemake.log[0]) as log:
    dataset = MapDataset.read(snakemake.input.dataset)
    dataset.models = Models.read(snakemake.input.models)
    maps = significance_maps(dataset, snakemake.params.estimators.get("significance", {}))
    log.info("max significance %.2f", float(maps["significance"]["sqrt_ts"].data.max()))
    maps["significance"].write(snakemake.output.significance, overwrite=True)
    maps["residual"].write(snakemake.output.residual, overwrite=True)
