"""Joint fit of the sky models and the background model of a 3D analysis."""

import json
from pathlib import Path

from gammarules.analysis.map_3d import fit_models
from gammarules.analysis.provenance import provenance, step_log
from gammarules.datasets import MapDataset

with step_log(snakemake.log[0]) as log:
    dataset = MapDataset.read(snakemake.input.dataset)
    models, result = fit_models(dataset, snakemake.params.fit)
    log.info("converged=%s stat=%.4f nfev=%d", result["converged"], result["stat"], result["nfev"])
    result["provenance"] = provenance([snakemake.input.dataset], {"fit": snakemake.params.fit})
    models.write(snakemake.output.models, overwrite=True)
    Path(snakemake.output.result).write_text(json.dumps(result, indent=2) + "\n")
