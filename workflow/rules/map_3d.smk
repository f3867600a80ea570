# The 3D (cube) analyses (kind map_3d): one reduction job per observation, stacking, an
# optional simulation, the joint fit, significance maps, figures and the summary.


def map_dataset(wildcards):
    """The dataset that is fitted: the simulated one if the analysis simulates counts."""
    name = "simulated" if "simulation" in ANALYSIS[wildcards.analysis] else "stacked"
    return f"results/{wildcards.analysis}/dl4/map/{name}.nc"


def map_summary_benchmarks(wildcards):
    analysis = wildcards.analysis
    files = [f"results/{analysis}/benchmarks/select_observations/all.tsv"]
    files += [f"results/{analysis}/benchmarks/map_reduce/{i}.tsv" for i in obs_ids(wildcards)]
    steps = ["map_stack", "map_fit", "map_significance", "map_figures"]
    if "simulation" in ANALYSIS[analysis]:
        steps.append("map_simulate")
    if "ring" in ANALYSIS[analysis].get("estimators", {}):
        steps.append("map_ring_significance")
    return files + [f"results/{analysis}/benchmarks/{step}/all.tsv" for step in steps]


rule map_reduce:
    """Counts, exposure, background, PSF and edisp maps of one observation on its cutout of
    the analysis map; safe mask; FoV background."""
    input:
        dl3=dl3_files,
    output:
        dataset="results/{analysis}/dl4/map/obs_{obs_id}.nc",
    params:
        datastore=datastore_dir,
        data_dir=data_dir,
        geometry=section("geometry"),
        reduction=section("reduction"),
        background=section("background"),
    log:
        log_path("map_reduce", "obs_id"),
    benchmark:
        benchmark_path("map_reduce", "obs_id")
    script:
        "../scripts/map_reduce.py"


rule map_stack:
    """The observations stacked on the analysis map."""
    input:
        datasets=per_obs("results/{analysis}/dl4/map/obs_{obs_id}.nc"),
    output:
        dataset="results/{analysis}/dl4/map/stacked.nc",
    params:
        geometry=section("geometry"),
    log:
        log_path("map_stack"),
    benchmark:
        benchmark_path("map_stack")
    script:
        "../scripts/map_stack.py"


rule map_simulate:
    """Poisson counts drawn from the true models (seeded) on the stacked IRFs and background."""
    input:
        dataset="results/{analysis}/dl4/map/stacked.nc",
    output:
        dataset="results/{analysis}/dl4/map/simulated.nc",
        models="results/{analysis}/dl4/map/true_models.yaml",
    params:
        simulation=section("simulation"),
    log:
        log_path("map_simulate"),
    benchmark:
        benchmark_path("map_simulate")
    script:
        "../scripts/map_simulate.py"


rule map_fit:
    """Joint likelihood fit of the sky models and the background model."""
    input:
        dataset=map_dataset,
    output:
        models="results/{analysis}/dl5/map/models.yaml",
        covariance="results/{analysis}/dl5/map/models_covariance.dat",
        result="results/{analysis}/dl5/map/fit.json",
    params:
        fit=section("fit"),
    log:
        log_path("map_fit"),
    benchmark:
        benchmark_path("map_fit")
    script:
        "../scripts/map_fit.py"


rule map_significance:
    """Excess and significance maps against the background model, and the residual
    significance after the fitted sources."""
    input:
        dataset=map_dataset,
        models="results/{analysis}/dl5/map/models.yaml",
    output:
        significance="results/{analysis}/dl5/map/significance.fits",
        residual="results/{analysis}/dl5/map/residual_significance.fits",
    params:
        estimators=section("estimators", {}),
    log:
        log_path("map_significance"),
    benchmark:
        benchmark_path("map_significance")
    script:
        "../scripts/map_significance.py"


rule map_ring_significance:
    """Li & Ma significance map with ring OFF regions (analyses with estimators.ring)."""
    input:
        dataset=map_dataset,
        models="results/{analysis}/dl5/map/models.yaml",
    output:
        significance="results/{analysis}/dl5/map/ring_significance.fits",
    params:
        estimators=section("estimators", {}),
        background=section("background"),
        data_dir=data_dir,
    log:
        log_path("map_ring_significance"),
    benchmark:
        benchmark_path("map_ring_significance")
    script:
        "../scripts/map_ring_significance.py"


def ring_outputs(wildcards):
    if "ring" in ANALYSIS[wildcards.analysis].get("estimators", {}):
        return [f"results/{wildcards.analysis}/dl5/map/ring_significance.fits"]
    return []


rule map_figures:
    """Counts, significance and residual maps, and the predicted counts per source."""
    input:
        dataset=map_dataset,
        models="results/{analysis}/dl5/map/models.yaml",
        significance="results/{analysis}/dl5/map/significance.fits",
        residual="results/{analysis}/dl5/map/residual_significance.fits",
    output:
        counts=report(
            "results/{analysis}/figures/counts.png",
            caption="../report/counts_map.rst",
            category="{analysis}",
        ),
        significance=report(
            "results/{analysis}/figures/significance.png",
            caption="../report/significance.rst",
            category="{analysis}",
        ),
        npred=report(
            "results/{analysis}/figures/npred_sources.png",
            caption="../report/npred_sources.rst",
            category="{analysis}",
        ),
    log:
        log_path("map_figures"),
    benchmark:
        benchmark_path("map_figures")
    script:
        "../scripts/map_figures.py"


rule map_summary:
    """summary.json of a 3D analysis (same shape as the other analyses)."""
    wildcard_constraints:
        analysis=of_kind("map_3d"),
    input:
        datasets=per_obs("results/{analysis}/dl4/map/obs_{obs_id}.nc"),
        stacked="results/{analysis}/dl4/map/stacked.nc",
        dataset=map_dataset,
        models="results/{analysis}/dl5/map/models.yaml",
        fit="results/{analysis}/dl5/map/fit.json",
        significance="results/{analysis}/dl5/map/significance.fits",
        residual="results/{analysis}/dl5/map/residual_significance.fits",
        ring=ring_outputs,
        figures=[
            "results/{analysis}/figures/counts.png",
            "results/{analysis}/figures/significance.png",
            "results/{analysis}/figures/npred_sources.png",
        ],
        benchmarks=map_summary_benchmarks,
    output:
        summary="results/{analysis}/summary.json",
    params:
        config=analysis_config,
    log:
        log_path("summary"),
    script:
        "../scripts/map_summary.py"
