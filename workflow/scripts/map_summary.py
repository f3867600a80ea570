"""summary.json of one 3D analysis."""

import json
from pathlib import Path

from gammarules.analysis.provenance import step_log
from gammarules.analysis.summary import make_map_summary, read_benchmarks
from gammarules.datasets import MapDataset
from gammarules.estimators import FluxMaps
from gammarules.models import Models

with step_log(snakemake.log[0]):
    dataset = MapDataset.read(snakemake.input.dataset)
    dataset.models = Models.read(snakemake.input.models)
    summary = make_map_summary(
        snakemake.params.config,
        [MapDataset.read(path) for path in snakemake.input.datasets],
        MapDataset.read(snakemake.input.stacked),
        dataset,
        json.loads(Path(snakemake.input.fit).read_text()),
        {
            "significance": FluxMaps.read(snakemake.input.significance),
            "residual": FluxMaps.read(snakemake.input.residual),
            **dict(zip(["ring"], map(FluxMaps.read, snakemake.input.ring), strict=False)),
        },
        read_benchmarks(snakemake.input.benchmarks),
    )
    Path(snakemake.output.summary).write_text(json.dumps(summary, indent=2) + "\n")
