"""Flux points of the fitted model, in the GADF SED format (FITS and ECSV)."""

from gammarules.analysis.provenance import step_log
from gammarules.analysis.spectrum_1d import flux_points
from gammarules.datasets import SpectrumDatasetOnOff
from gammarules.models import Models

with step_log(snakemake.log[0]) as log:
    datasets = [SpectrumDatasetOnOff.read(path) for path in snakemake.input.datasets]
    points = flux_points(
        datasets, Models.read(snakemake.input.models), snakemake.params.flux_points
    )
    log.info("%d flux points", len(points))
    points.write(snakemake.output.fits, sed_type="likelihood", overwrite=True)
    points.write(snakemake.output.ecsv, sed_type="likelihood", overwrite=True)
    for path in snakemake.output.sed_types:
        points.write(path, sed_type=path.rsplit("_", 1)[1].removesuffix(".ecsv"), overwrite=True)
