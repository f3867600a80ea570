"""Select the observations of an analysis from its data store's obs-index table."""

from gammarules.analysis.provenance import step_log
from gammarules.analysis.spectrum_1d import observation_table
from gammarules.data import DataStore

with step_log(snakemake.log[0]) as log:
    store = DataStore.from_dir(snakemake.params.datastore)
    table = observation_table(store, snakemake.params.observations)
    log.info("selected %d observations: %s", len(table), list(table["OBS_ID"]))
    table.write(snakemake.output.table, format="ascii.ecsv", overwrite=True)
