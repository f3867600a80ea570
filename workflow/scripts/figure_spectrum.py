"""Figure: counts spectrum of the stacked dataset with the fitted model."""

from gammarules.analysis.provenance import step_log
from gammarules.datasets import SpectrumDatasetOnOff
from gammarules.models import Models
from gammarules.plot import plot_counts_spectrum

with step_log(snakemake.log[0]):
    dataset = SpectrumDatasetOnOff.read(snakemake.input.dataset)
    dataset.models = Models.read(snakemake.input.models)
    plot_counts_spectrum(dataset, snakemake.output[0], title=snakemake.wildcards.analysis)
