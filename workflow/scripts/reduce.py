"""ON counts of one observation and its safe energy mask."""

from gammarules.analysis.provenance import provenance, step_log
from gammarules.analysis.spectrum_1d import reduce_counts
from gammarules.data import DataStore
from gammarules.datasets import SpectrumDataset

with step_log(snakemake.log[0]) as log:
    observation = DataStore.from_dir(snakemake.params.datastore).obs(
        int(snakemake.wildcards.obs_id)
    )
    irfs = SpectrumDataset.read(snakemake.input.irf)
    dataset = reduce_counts(irfs, observation, snakemake.params.safe_mask)
    dataset.meta["provenance"] = provenance(
        [snakemake.input.irf, *snakemake.input.dl3], {"safe_mask": snakemake.params.safe_mask}
    )
    log.info(
        "obs %s: %d ON counts in the safe range",
        observation.obs_id,
        dataset.counts[dataset.mask_safe].sum(),
    )
    dataset.write(snakemake.output.dataset, overwrite=True)
