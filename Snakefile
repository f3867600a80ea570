# gammarules: published gamma-ray analyses, rerun from public DL3 data.
#   snakemake --cores all                      every analysis in config/config.yaml
#   snakemake --cores all results/hess_crab_1d/summary.json     one analysis
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/observations.smk"
include: "workflow/rules/irf.smk"
include: "workflow/rules/reduce.smk"
include: "workflow/rules/background.smk"
include: "workflow/rules/stack.smk"
include: "workflow/rules/fit.smk"
include: "workflow/rules/estimators.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/map_3d.smk"


rule all:
    input:
        expand("results/{analysis}/summary.json", analysis=ANALYSES),
