rule reduce:
    """ON counts of one observation in the ON region, on top of its IRFs; safe energy mask."""
    input:
        irf="results/{analysis}/irf/obs_{obs_id}.nc",
        dl3=dl3_files,
    output:
        dataset="results/{analysis}/dl4/on/obs_{obs_id}.nc",
    params:
        datastore=datastore_dir,
        safe_mask=lambda w: ANALYSIS[w.analysis]["reduction"].get("safe_mask"),
    log:
        log_path("reduce", "obs_id"),
    benchmark:
        benchmark_path("reduce", "obs_id")
    script:
        "../scripts/reduce.py"
