"""summary.json of one analysis."""

import json
from pathlib import Path

from gammarules.analysis.provenance import step_log
from gammarules.analysis.summary import make_summary, read_benchmarks
from gammarules.datasets import SpectrumDatasetOnOff
from gammarules.estimators import FluxPoints

with step_log(snakemake.log[0]):
    datasets = [SpectrumDatasetOnOff.read(path) for path in snakemake.input.datasets]
    stacked = SpectrumDatasetOnOff.read(snakemake.input.stacked)
    fits = {}
    for path in snakemake.input.fits:
        mode, model = Path(path).parts[-3:-1]
        fits.setdefault(mode, {})[model] = json.loads(Path(path).read_text())
    summary = make_summary(
        snakemake.params.config,
        datasets,
        stacked,
        fits,
        FluxPoints.read(snakemake.input.flux_points),
        read_benchmarks(snakemake.input.benchmarks),
    )
    Path(snakemake.output.summary).write_text(json.dumps(summary, indent=2) + "\n")
