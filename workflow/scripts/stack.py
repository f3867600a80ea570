"""Stack the ON/OFF datasets of all observations."""

from gammarules.analysis.provenance import provenance, step_log
from gammarules.datasets import SpectrumDatasetOnOff, stack

with step_log(snakemake.log[0]) as log:
    datasets = [SpectrumDatasetOnOff.read(path) for path in snakemake.input.datasets]
    stacked = stack(datasets)
    stacked.meta["provenance"] = provenance(snakemake.input.datasets)
    log.info("stacked %d datasets", len(datasets))
    stacked.write(snakemake.output.dataset, overwrite=True)
