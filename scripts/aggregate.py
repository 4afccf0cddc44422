"""The aggregate rule's script: merge per-book records into pipeline.json and the report."""

import sys

# Errors go to the rule's log, as for every rule.
sys.stderr = open(snakemake.log[0], "w", encoding="utf-8")  # noqa: F821 - injected by Snakemake

from audiobook.aggregate import main_from_snakemake  # noqa: E402

from audiobook.batch_hooks import on_batch_end  # noqa: E402

main_from_snakemake(snakemake)  # noqa: F821
# The history and the notice: read from the config, not params, so changing
# notify: settings does not make the aggregate step run again.
on_batch_end(
    snakemake.params.results_dir,  # noqa: F821
    snakemake.output.pipeline,  # noqa: F821
    snakemake.params.batch_log,  # noqa: F821
    snakemake.config.get("notify"),  # noqa: F821
)
