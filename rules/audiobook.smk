# One job per book: the launch throttle, then the phase 6 orchestrator.


rule audiobook:
    input:
        book=book_input,
        lexicons=book_lexicons,
    output:
        **book_outputs(),
    log:
        orchestrator=f"{RESULTS}/logs/{{book}}.log",
        # Snakemake deletes the outputs of a failed job, logs it keeps: a copy
        # of the record here tells the aggregate why the book failed.
        record=f"{RESULTS}/logs/{{book}}.record.json",
    conda:
        "../environment.yml"
    threads: config.get("threads_per_book", 1)
    resources:
        **BOOK_RESOURCES,
    params:
        book=book_path,
        # The throttle's and the orchestrator's settings are the same for
        # every book: quoted once here, so each job formats few placeholders
        # (that formatting dominated a dry run of thousands of books).
        throttle=throttle_command(),
        orchestrator=orchestrator_command(),
        options=orchestrator_options(),
    shell:
        # The record is copied to the log folder whatever the exit status,
        # and the orchestrator's status is the job's status. With no record
        # (a crash, the out-of-memory killer), the log's last line says so;
        # 127 means the throttle could not start it and has said why. Each
        # path is named once: a dry run formats this command three times a book.
        """
        set +e
        book={wildcards.book:q} record={output.record:q} copy={log.record:q} log={log.orchestrator:q}
        {params.throttle} --book-id "$book" -- \
            {params.orchestrator} {params.book:q} --pipeline-json="$record" {params.options} \
            --output-dir "${{record%/*}}" --book-id "$book" --threads {threads} >"$log" 2>&1
        status=$?
        if [ -f "$record" ]; then
            cp -f "$record" "$copy"
        else
            rm -f "$copy"
            if [ $status -gt 128 ]; then how="was killed by signal $((status - 128))"; else how="exited with status $status"; fi
            [ $status -eq 127 ] || echo "the orchestrator $how without writing a record; run again, and if it happens again report it with this book's log" >>"$log"
        fi
        exit $status
        """
