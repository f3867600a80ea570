rule background:
    """OFF counts from reflected or wobble regions: the ON/OFF dataset of one observation."""
    input:
        dataset="results/{analysis}/dl4/on/obs_{obs_id}.nc",
        dl3=dl3_files,
    output:
        dataset="results/{analysis}/dl4/obs_{obs_id}.nc",
        regions="results/{analysis}/dl4/off_regions/obs_{obs_id}.reg",
    params:
        datastore=datastore_dir,
        background=section("background"),
    log:
        log_path("background", "obs_id"),
    benchmark:
        benchmark_path("background", "obs_id")
    script:
        "../scripts/background.py"
