# Shared helpers of the rules: configs, paths, and the per-observation input functions.
import re
from pathlib import Path

from astropy.table import Table
from gammarules.config import load_config, validate_config
from gammarules.data import resolve_data_dir
import yaml

validate_config(
    config,
    yaml.safe_load(Path(workflow.source_path("../schemas/config.schema.yaml")).read_text()),
    source="config/config.yaml",
)
ANALYSIS_SCHEMA = workflow.source_path("../schemas/analysis.schema.yaml")
ANALYSES_DIR = Path(config.get("analyses_dir", "config/analyses"))
ANALYSES = config["analyses"]
ANALYSIS = {
    name: load_config(ANALYSES_DIR / f"{name}.yaml", ANALYSIS_SCHEMA) for name in ANALYSES
}


wildcard_constraints:
    analysis="[A-Za-z0-9_\-]+",
    obs_id="\d+",
    model="[A-Za-z0-9_]+",
    mode="joint|stacked",


def analysis_config(wildcards):
    return ANALYSIS[wildcards.analysis]


def section(name, default=None):
    """Input function giving one config section, so a rule reruns only when it changes."""
    return lambda wildcards: ANALYSIS[wildcards.analysis].get(name, default)


def data_dir(wildcards):
    """The data collection of the analysis (its config, else config.yaml, else the env)."""
    cfg = ANALYSIS[wildcards.analysis]
    return resolve_data_dir(cfg.get("data_dir") or config.get("data_dir"))


def datastore_dir(wildcards):
    return data_dir(wildcards) / ANALYSIS[wildcards.analysis]["observations"]["datastore"]


def of_kind(kind):
    """Wildcard pattern matching the analyses of ``kind`` (for rules that exist per kind)."""
    names = [re.escape(a) for a in ANALYSES if ANALYSIS[a]["kind"] == kind]
    return "|".join(names) or "(?!)"


def index_files(wildcards):
    """The obs-index and hdu-index tables of the analysis' data store."""
    directory = datastore_dir(wildcards)
    files = []
    for stem in ("obs-index", "hdu-index"):
        candidates = [directory / f"{stem}.fits.gz", directory / f"{stem}.fits"]
        files.append(next((str(c) for c in candidates if c.exists()), str(candidates[0])))
    return files


def observations_table(wildcards):
    return checkpoints.select_observations.get(analysis=wildcards.analysis).output.table


def _observation_rows(wildcards):
    return Table.read(observations_table(wildcards), format="ascii.ecsv")


def obs_ids(wildcards):
    return [str(obs_id) for obs_id in _observation_rows(wildcards)["OBS_ID"]]


def dl3_files(wildcards):
    """The DL3 files of one observation, as listed by the selection step."""
    table = _observation_rows(wildcards)
    rows = table[table["OBS_ID"] == int(wildcards.obs_id)]
    if len(rows) == 0:
        raise ValueError(f"observation {wildcards.obs_id} not selected in {wildcards.analysis}")
    return sorted(set(rows[0]["FILES"].split(",")))


def per_obs(pattern):
    """Input function expanding ``pattern`` over the selected observations."""

    def inputs(wildcards):
        return expand(pattern, analysis=wildcards.analysis, obs_id=obs_ids(wildcards))

    return inputs


def fit_models(analysis):
    return list(ANALYSIS[analysis]["fit"]["models"])


def fit_outputs(analysis):
    return expand(
        "results/{analysis}/dl5/{mode}/{model}/fit.json",
        analysis=analysis,
        mode=["joint", "stacked"],
        model=fit_models(analysis),
    )


def benchmark_path(rule_name, *wildcard_names):
    suffix = "_".join("{" + w + "}" for w in wildcard_names) or "all"
    return f"results/{{analysis}}/benchmarks/{rule_name}/{suffix}.tsv"


def log_path(rule_name, *wildcard_names):
    suffix = "_".join("{" + w + "}" for w in wildcard_names) or "all"
    return f"results/{{analysis}}/logs/{rule_name}/{suffix}.log"
