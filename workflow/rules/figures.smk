rule figure_spectrum:
    """Counts and excess spectrum of the stacked dataset with the fitted model."""
    input:
        dataset="results/{analysis}/dl4/stacked.nc",
        models=flux_points_model,
    output:
        report(
            "results/{analysis}/figures/spectrum.png",
            caption="../report/spectrum.rst",
            category="{analysis}",
        ),
    log:
        log_path("figure_spectrum"),
    benchmark:
        benchmark_path("figure_spectrum")
    script:
        "../scripts/figure_spectrum.py"


rule figure_sed:
    """SED: flux points, the model's 1 sigma band and the per-bin likelihood band."""
    input:
        flux_points="results/{analysis}/dl5/flux_points.fits",
        models=flux_points_model,
        result=lambda w: flux_points_model(w).replace("models.yaml", "fit.json"),
    output:
        report(
            "results/{analysis}/figures/sed.png",
            caption="../report/sed.rst",
            category="{analysis}",
        ),
    log:
        log_path("figure_sed"),
    benchmark:
        benchmark_path("figure_sed")
    script:
        "../scripts/figure_sed.py"
