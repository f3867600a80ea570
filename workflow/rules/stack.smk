rule stack:
    input:
        datasets=per_obs("results/{analysis}/dl4/obs_{obs_id}.nc"),
    output:
        dataset="results/{analysis}/dl4/stacked.nc",
    log:
        log_path("stack"),
    benchmark:
        benchmark_path("stack")
    script:
        "../scripts/stack.py"
