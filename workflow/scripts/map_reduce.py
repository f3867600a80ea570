"""Counts, exposure, background, PSF and edisp maps of one observation (3D analyses)."""

from gammarules.analysis.map_3d import reduce_observation
from gammarules.analysis.provenance import provenance, step_log
from gammarules.data import DataStore

with step_log(snakemake.log[0]) as log:
    observation = DataStore.from_dir(snakemake.params.datastore).obs(
        int(snakemake.wildcards.obs_id)
    )
    settings = {key: snakemake.params[key] for key in ("geometry", "reduction", "background")}
    dataset = reduce_observation(
        **settings, observation=observation, data_dir=snakemake.params.data_dir
    )
    dataset.meta["provenance"] = provenance(snakemake.input.dl3, settings)
    info = dataset.info_dict()
    log.info(
        "obs %s: %d counts, %.1f background in the safe mask",
        observation.obs_id,
        info["counts"],
        info["background"],
    )
    dataset.write(snakemake.output.dataset, overwrite=True)
