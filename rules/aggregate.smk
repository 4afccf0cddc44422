# Merge the per-book records into pipeline.json and the report. The rule
# runs when every book succeeded; when some failed, Snakemake skips it and
# the onerror handler runs the same code, so the summary is always written.

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

    start_batch(RESULTS, config["log_file"], [book.id for book in BOOKS], SKIPPED)


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
