# Merge the per-book records into pipeline.json and the report. The rule
# runs when every book succeeded; when some failed, Snakemake skips it and
# the onerror handler runs the same code, so the summary is always written.
# After it, once per run either way, the run goes into the history database
# and the notice is sent (audiobook.batch_hooks; never fails the batch).

from audiobook.report import PLOT_FILES


localrules:
    aggregate,


rule aggregate:
    input:
        records=all_records(),
    output:
        **{
            name: report(
                f"{RESULTS}/plots/{file_name}",
                caption=f"../report/{name}.rst",
                category="Plots",
            )
            for name, file_name in PLOT_FILES.items()
        },
        pipeline=config["pipeline_json"],
        csv=f"{RESULTS}/report.csv",
        html=report(
            f"{RESULTS}/report.html",
            caption="../report/books.rst",
            category="Books",
        ),
        metrics=f"{RESULTS}/metrics.prom",
    log:
        f"{RESULTS}/logs/aggregate.log",
    conda:
        "../environment.yml"
    params:
        books=[[book.id, book.name, book.path] for book in BOOKS],
        skipped=[[entry.name, entry.reason] for entry in SKIPPED],
        # The folder of the report, from the output, so it holds wherever outputs are staged.
        results_dir=lambda wildcards, output: os.path.dirname(output.csv),
        phases=PHASES,
        batch_log=config["log_file"],
        loudness_target=ENGINE.get("loudness_lufs", -19.0),
    script:
        "../scripts/aggregate.py"


onstart:
    from audiobook.aggregate import start_batch
    from audiobook.batch_hooks import on_batch_start

    kept = books_kept()
    start_batch(
        RESULTS, config["log_file"], [book.id for book in BOOKS], SKIPPED, kept
    )
    on_batch_start(
        RESULTS,
        config["log_file"],
        [book.id for book in BOOKS],
        shlex.join(sys.argv),
        config,
        kept,
    )


onerror:
    from audiobook.aggregate import aggregate_from_workflow

    aggregate_from_workflow(
        books=[[book.id, book.name, book.path] for book in BOOKS],
        skipped=[[entry.name, entry.reason] for entry in SKIPPED],
        results_dir=RESULTS,
        phases=PHASES,
        pipeline_json=config["pipeline_json"],
        batch_log=config["log_file"],
        loudness_target=ENGINE.get("loudness_lufs", -19.0),
    )
    from audiobook.batch_hooks import on_batch_end

    on_batch_end(
        RESULTS, config["pipeline_json"], config["log_file"], config.get("notify")
    )
