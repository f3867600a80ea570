"""Poisson counts from the true models on the stacked dataset."""

from gammarules.analysis.map_3d import simulate
from gammarules.analysis.provenance import provenance, step_log
from gammarules.datasets import MapDataset

with step_log(snakemake.log[0]) as log:
    stacked = MapDataset.read(snakemake.input.dataset)
    dataset = simulate(stacked, snakemake.params.simulation)
    dataset.meta["provenance"] = provenance(
        [snakemake.input.dataset], {"simulation": snakemake.params.simulation}
    )
    log.info("simulated %d counts (seed %d)", dataset.counts.data.sum(), dataset.meta["seed"])
    dataset.models.write(snakemake.output.models, overwrite=True, write_covariance=False)
    dataset.write(snakemake.output.dataset, overwrite=True)
