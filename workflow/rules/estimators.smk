def flux_points_model(wildcards):
    model = ANALYSIS[wildcards.analysis]["flux_points"]["model"]
    return f"results/{wildcards.analysis}/dl5/joint/{model}/models.yaml"


rule flux_points:
    """Flux points: per energy bin, the norm of the best-fit model with its shape frozen."""
    input:
        datasets=per_obs("results/{analysis}/dl4/obs_{obs_id}.nc"),
        models=flux_points_model,
    output:
        fits="results/{analysis}/dl5/flux_points.fits",
        ecsv="results/{analysis}/dl5/flux_points.ecsv",
        sed_types=expand(
            "results/{{analysis}}/dl5/flux_points_{sed_type}.ecsv",
            sed_type=("dnde", "e2dnde", "flux"),
        ),
    params:
        flux_points=section("flux_points"),
    log:
        log_path("flux_points"),
    benchmark:
        benchmark_path("flux_points")
    script:
        "../scripts/flux_points.py"
