# Library export: with export_layout other than "none", each finished book is
# also placed as export_dir/Author/Title/Title.m4b (cover beside it). The
# folder names come from the book's metadata, known only after it is made, so
# the rule's output is a small manifest of what it placed; the library files
# themselves are written through temporary names and hard-linked when possible.


localrules:
    export,


# For rule all: one manifest per book when the export is on (and phase 5 makes
# audiobooks), else nothing.
EXPORT_TARGETS = (
    [f"{RESULTS}/{book.id}/export.json" for book in BOOKS]
    if config.get("export_layout", "none") != "none" and 5 in PHASES
    else []
)


rule export:
    input:
        **book_outputs(),
    output:
        manifest=f"{RESULTS}/{{book}}/export.json",
    log:
        f"{RESULTS}/logs/{{book}}.export.log",
    conda:
        "../environment.yml"
    params:
        python=sys.executable,
        work_dir=lambda wildcards: f"{RESULTS}/{wildcards.book}/work",
        library=config.get("export_dir", "library"),
        layout=config.get("export_layout", "none"),
    shell:
        "{params.python:q} -m audiobook.export --record {input.record:q}"
        " --work-dir {params.work_dir:q} --library {params.library:q}"
        " --layout {params.layout:q} --manifest {output.manifest:q} 2> {log:q}"
