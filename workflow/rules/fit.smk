def fit_datasets(wildcards):
    if wildcards.mode == "stacked":
        return [f"results/{wildcards.analysis}/dl4/stacked.nc"]
    return per_obs("results/{analysis}/dl4/obs_{obs_id}.nc")(wildcards)


rule fit:
    """Forward-folding likelihood fit of one spectral model, jointly over the observations
    or on the stacked dataset."""
    input:
        datasets=fit_datasets,
    output:
        models="results/{analysis}/dl5/{mode}/{model}/models.yaml",
        covariance="results/{analysis}/dl5/{mode}/{model}/models_covariance.dat",
        result="results/{analysis}/dl5/{mode}/{model}/fit.json",
    params:
        model=lambda w: ANALYSIS[w.analysis]["fit"]["models"][w.model],
        options=lambda w: {k: v for k, v in ANALYSIS[w.analysis]["fit"].items() if k != "models"},
    log:
        log_path("fit", "mode", "model"),
    benchmark:
        benchmark_path("fit", "mode", "model")
    script:
        "../scripts/fit.py"
