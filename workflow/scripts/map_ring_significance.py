"""Li & Ma significance map with ring OFF regions."""

from gammarules.analysis.map_3d import ring_significance
from gammarules.analysis.provenance import step_log
from gammarules.datasets import MapDataset
from gammarules.models import Models

with step_log(snakemake.log[0]) as log:
    dataset = MapDataset.read(snakemake.input.dataset)
    dataset.models = Models.read(snakemake.input.models)
    maps = ring_significance(
        dataset, snakemake.params.estimators, snakemake.params.background, snakemake.params.data_dir
    )
    log.info("max ring significance %.2f", float(maps["sqrt_ts"].data.max()))
    maps.write(snakemake.output.significance, overwrite=True)
