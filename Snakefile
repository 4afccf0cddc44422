# Batch audiobook workflow: every *.pdf and *.epub in input_dir becomes an
# audiobook under results_dir, one job per book, and an aggregate step
# merges the per-book records into pipeline.json and a report.
#
#   snakemake --cores 2            make every book that is not made yet
#   snakemake -n --cores 2         show the plan, change nothing
#   snakemake --profile profiles/slurm   the same on a SLURM cluster


import os


# The working directory's config.yaml when there is one, else the workflow's own.
configfile: "config.yaml" if os.path.exists("config.yaml") else f"{workflow.basedir}/config.yaml"


include: "rules/common.smk"
include: "rules/audiobook.smk"
include: "rules/aggregate.smk"
include: "rules/export.smk"


# The records are targets too: when a failed run's summary came from
# onerror, the aggregate's outputs exist, and only this makes the next run
# retry the failed books.
rule all:
    default_target: True
    input:
        rules.aggregate.output,
        all_records(),
        EXPORT_TARGETS,
