"""Figure: SED with flux points, model band and per-bin likelihood band."""

from gammarules.analysis.provenance import step_log
from gammarules.estimators import FluxPoints
from gammarules.models import Models
from gammarules.plot import plot_sed

with step_log(snakemake.log[0]):
    points = FluxPoints.read(snakemake.input.flux_points)
    model = Models.read(snakemake.input.models)[0].spectral_model
    plot_sed(points, model, snakemake.output[0], title=snakemake.wildcards.analysis)
