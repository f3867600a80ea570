"""OFF regions and OFF counts of one observation: its ON/OFF dataset."""

from pathlib import Path

from gammarules.analysis.provenance import provenance, step_log
from gammarules.analysis.spectrum_1d import estimate_background
from gammarules.data import DataStore
from gammarules.datasets import SpectrumDataset

with step_log(snakemake.log[0]) as log:
    datastore = Path(snakemake.params.datastore)
    observation = DataStore.from_dir(datastore).obs(int(snakemake.wildcards.obs_id))
    dataset = SpectrumDataset.read(snakemake.input.dataset)
    on_off = estimate_background(
        dataset, observation, snakemake.params.background, datastore.parent
    )
    on_off.meta["provenance"] = provenance(
        [snakemake.input.dataset, *snakemake.input.dl3], {"background": snakemake.params.background}
    )
    log.info("obs %s: %d OFF regions", observation.obs_id, on_off.meta["n_off_regions"])
    Path(snakemake.output.regions).write_text(on_off.meta["off_regions"])
    on_off.write(snakemake.output.dataset, overwrite=True)
