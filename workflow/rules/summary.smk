def summary_benchmarks(wildcards):
    """Benchmark files of every job of the analysis (the wall time per step)."""
    analysis = wildcards.analysis
    ids = obs_ids(wildcards)
    files = [f"results/{analysis}/benchmarks/select_observations/all.tsv"]
    for step in ("irf", "reduce", "background"):
        files += [f"results/{analysis}/benchmarks/{step}/{i}.tsv" for i in ids]
    files.append(f"results/{analysis}/benchmarks/stack/all.tsv")
    files += [
        f"results/{analysis}/benchmarks/fit/{mode}_{model}.tsv"
        for mode in ("joint", "stacked")
        for model in fit_models(analysis)
    ]
    files += [
        f"results/{analysis}/benchmarks/{step}/all.tsv"
        for step in ("flux_points", "figure_spectrum", "figure_sed")
    ]
    return files


rule summary:
    """summary.json: the numbers a reader checks first."""
    wildcard_constraints:
        analysis=of_kind("spectrum_1d"),
    input:
        datasets=per_obs("results/{analysis}/dl4/obs_{obs_id}.nc"),
        stacked="results/{analysis}/dl4/stacked.nc",
        fits=lambda w: fit_outputs(w.analysis),
        flux_points="results/{analysis}/dl5/flux_points.ecsv",
        figures=[
            "results/{analysis}/figures/spectrum.png",
            "results/{analysis}/figures/sed.png",
        ],
        benchmarks=summary_benchmarks,
    output:
        summary="results/{analysis}/summary.json",
    params:
        config=analysis_config,
    log:
        log_path("summary"),
    script:
        "../scripts/summary.py"
