"""IRF interpolation of one observation: exposure and energy dispersion at the ON region."""

from gammarules.analysis.provenance import provenance, step_log
from gammarules.analysis.spectrum_1d import make_irfs
from gammarules.data import DataStore

with step_log(snakemake.log[0]) as log:
    observation = DataStore.from_dir(snakemake.params.datastore).obs(
        int(snakemake.wildcards.obs_id)
    )
    dataset = make_irfs(snakemake.params.geometry, snakemake.params.reduction, observation)
    dataset.meta["provenance"] = provenance(
        snakemake.input.dl3,
        {"geometry": snakemake.params.geometry, "reduction": snakemake.params.reduction},
    )
    log.info("obs %s: offset %.3f deg", observation.obs_id, dataset.meta["offset_deg"])
    dataset.write(snakemake.output.irf, overwrite=True)
