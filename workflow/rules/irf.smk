rule irf:
    """IRF interpolation: exposure, PSF containment and energy dispersion of one observation
    evaluated at the ON region on the analysis energy grids."""
    input:
        table="results/{analysis}/observations.ecsv",
        dl3=dl3_files,
    output:
        irf="results/{analysis}/irf/obs_{obs_id}.nc",
    params:
        datastore=datastore_dir,
        geometry=section("geometry"),
        reduction=section("reduction"),
    log:
        log_path("irf", "obs_id"),
    benchmark:
        benchmark_path("irf", "obs_id")
    script:
        "../scripts/irf.py"
