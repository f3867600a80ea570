checkpoint select_observations:
    input:
        index=index_files,
    output:
        table="results/{analysis}/observations.ecsv",
    params:
        datastore=datastore_dir,
        observations=section("observations"),
    log:
        log_path("select_observations"),
    benchmark:
        benchmark_path("select_observations")
    script:
        "../scripts/select_observations.py"
