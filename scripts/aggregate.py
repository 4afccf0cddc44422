"""The aggregate rule's script: merge per-book records into pipeline.json and the report."""

import sys

# Errors go to the rule's log, as for every rule.
sys.stderr = open(snakemake.log[0], "w", encoding="utf-8")  # noqa: F821 - injected by Snakemake

from audiobook.aggregate import main_from_snakemake  # noqa: E402

main_from_snakemake(snakemake)  # noqa: F821
