"""Stack the map datasets of all observations on the analysis map."""

from gammarules.analysis.map_3d import stack_datasets
from gammarules.analysis.provenance import provenance, step_log
from gammarules.datasets import MapDataset

with step_log(snakemake.log[0]) as log:
    datasets = [MapDataset.read(path) for path in snakemake.input.datasets]
    stacked = stack_datasets(snakemake.params.geometry, datasets)
    stacked.meta["provenance"] = provenance(snakemake.input.datasets)
    log.info("stacked %d datasets: %d counts", len(datasets), stacked.info_dict()["counts"])
    stacked.write(snakemake.output.dataset, overwrite=True)
