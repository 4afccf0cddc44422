# One job per book: the launch throttle, then the phase 6 orchestrator.


rule audiobook:
    input:
        book=book_input,
    output:
        **book_outputs(),
    log:
        orchestrator=f"{RESULTS}/logs/{{book}}.log",
        # Snakemake deletes the outputs of a failed job, logs it keeps: a copy
        # of the record here tells the aggregate why the book failed.
        record=f"{RESULTS}/logs/{{book}}.record.json",
    benchmark:
        f"{RESULTS}/benchmarks/{{book}}.tsv"
    conda:
        "../environment.yml"
    threads: config.get("threads_per_book", 1)
    resources:
        mem_mb=book_mem_mb,
        runtime=book_runtime_min,
    params:
        book=book_path,
        python=sys.executable,
        throttle=f"{workflow.basedir}/scripts/throttle.py",
        orchestrator=orchestrator_command(),
        phases=" ".join(str(phase) for phase in PHASES),
        settings=json.dumps(ENGINE, sort_keys=True),
        resume="" if config.get("resume_enabled", True) else "--no-resume",
        log_level=config.get("log_level", "INFO"),
        batch_log=config["log_file"],
        cpu_threshold=config["cpu_threshold"],
        throttle_delay=config["throttle_delay"],
        throttle_max_wait=config["throttle_max_wait"],
        out_dir=lambda wildcards: f"{RESULTS}/{wildcards.book}",
    shell:
        # The record is copied to the log folder whatever the exit status,
        # and the orchestrator's status is the job's status. With no record
        # (a crash, the out-of-memory killer), the log's last line says so;
        # 127 means the throttle could not start it and has said why.
        """
        set +e
        {params.python:q} {params.throttle:q} \
            --book-id {wildcards.book:q} --batch-log {params.batch_log:q} \
            --cpu-threshold {params.cpu_threshold} --delay {params.throttle_delay} \
            --max-wait {params.throttle_max_wait} -- \
            {params.orchestrator} {params.book:q} \
            --pipeline-json={output.record:q} --phases {params.phases} \
            --output-dir {params.out_dir:q} --book-id {wildcards.book:q} \
            --threads {threads} --settings-json {params.settings:q} \
            --log-level {params.log_level} {params.resume} \
            >{log.orchestrator:q} 2>&1
        status=$?
        if [ -f {output.record:q} ]; then
            cp -f {output.record:q} {log.record:q}
        else
            rm -f {log.record:q}
            if [ $status -gt 128 ]; then how="was killed by signal $((status - 128))"; else how="exited with status $status"; fi
            [ $status -eq 127 ] || echo "the orchestrator $how without writing a record; run again, and if it happens again report it with this book's log" >>{log.orchestrator:q}
        fi
        exit $status
        """
