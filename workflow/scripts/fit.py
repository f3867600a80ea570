"""Fit one spectral model jointly to the observations (or to the stacked dataset)."""

import json
from pathlib import Path

from gammarules.analysis.provenance import provenance, step_log
from gammarules.analysis.spectrum_1d import fit_model
from gammarules.datasets import SpectrumDatasetOnOff

with step_log(snakemake.log[0]) as log:
    datasets = [SpectrumDatasetOnOff.read(path) for path in snakemake.input.datasets]
    models, result = fit_model(
        datasets, snakemake.wildcards.model, snakemake.params.model, snakemake.params.options
    )
    log.info("converged=%s stat=%.4f nfev=%d", result["converged"], result["stat"], result["nfev"])
    result["provenance"] = provenance(
        snakemake.input.datasets, {"model": snakemake.params.model, **snakemake.params.options}
    )
    models.write(snakemake.output.models, overwrite=True)
    Path(snakemake.output.result).write_text(json.dumps(result, indent=2) + "\n")
