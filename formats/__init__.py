"""The files passed between the stages, each format's writer and reader in one module (stdlib only).

    formats.manifest       export/ -> bench/       manifest.json (the exported programs)
    formats.bundle         runner build -> bench/  bundle.json (a runner build's files; confined to its folder)
    formats.runner_result  runner  -> bench/       the runner's JSON on stdout (results and capabilities)
    formats.device_facts   bench/  -> analysis/    what the device is (inside results rows and run.json)
    formats.results        bench/  -> analysis/    results.jsonl (one row per process launch)
    formats.run_info       bench/  -> analysis/    run.json (the sweep's settings and its sessions)
    formats.run_folder     bench/  -> analysis/    results/<run_id>/ holding results.jsonl and run.json
    formats.cloud_results  bench/  -> analysis/    cloud.jsonl (the split study's cloud stage, one row per split)
    formats.link_measurement bench/ -> analysis/   link.json (push throughput and round trip to the device)
    formats.layer_profile  bench/  -> analysis/    layer_profile.json (the full model's per-layer ETDump times)
    formats.backends       everyone                every backend and runtime: format, runner variant, label, order
    formats.paper          everyone                the paper's configuration order
    formats.split_points   everyone                VGG-16's split points in network order
    formats.abi            bench/ and its device   `uname -m` -> Android ABI names
    formats.json_file      (helper)                one-document files: written atomically, read when present

Every file carries `schema` and `schema_version`; readers branch only on that version and refuse an
unknown one with a message that says what to do (formats.schema). docs/formats.md documents each.
"""
