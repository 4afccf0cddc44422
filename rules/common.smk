# Helpers shared by the rules: config checks, book discovery, per-book parameters.
# This file runs whenever the workflow is parsed, including once per cluster
# job, so it only lists one folder and never opens a book.

import json
import os
import re
import shlex
import shutil
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from audiobook.discover import discover
from audiobook.ids import ID_PATTERN


min_version("9.0")


def coerce_config(config):
    """--config gives strings: phases_to_run=[1,2,3] arrives as ['1', '2', '3'], false as 'false'."""
    phases = config.get("phases_to_run")
    if isinstance(phases, str):
        phases = phases.strip("[]").replace(",", " ").split()
    if isinstance(phases, list):
        config["phases_to_run"] = [
            int(p) if isinstance(p, str) and p.strip().isdigit() else p for p in phases
        ]
    if config.get("batch_size") in ("null", "None", "none", ""):
        config["batch_size"] = None
    flag = config.get("resume_enabled")
    if isinstance(flag, str) and flag.lower() in ("true", "false", "yes", "no"):
        config["resume_enabled"] = flag.lower() in ("true", "yes")


def check_config(config):
    """Validate against the schema; a mistake stops the run with one line, no traceback."""
    try:
        validate(config, schema="../schemas/config.schema.yaml")
    except WorkflowError as error:
        lines = str(error).splitlines()
        problem = next(
            (l.split(":", 1)[1].strip() for l in lines if l.startswith("ValidationError:")),
            lines[0],
        )
        where = next((l for l in lines if l.startswith("On instance")), "")
        key = ".".join(re.findall(r"\['?([^\]']*)'?\]", where)) or "config"
        print(
            f"config: {key}: {problem} (allowed values: schemas/config.schema.yaml)",
            file=sys.stderr,
        )
        raise SystemExit(1)


coerce_config(config)
check_config(config)

RESULTS = config["results_dir"].rstrip("/")
PHASES = sorted(set(config["phases_to_run"]))
ENGINE = config.get("engine") or {}
BOOKS, SKIPPED = discover(
    config["input_dir"], config.get("file_pattern", "*"), config.get("batch_size")
)
BOOK_PATHS = {book.id: book.path for book in BOOKS}
BOOK_NAMES = {book.id: book.name for book in BOOKS}


wildcard_constraints:
    book=ID_PATTERN,


def book_path(wildcards):
    """The book file behind an id, for the shell command (params are never patterns)."""
    return BOOK_PATHS[wildcards.book]


def book_input(wildcards):
    """The book file as the job's input, so a changed book is made again.

    Snakemake reads braces in an input path as a wildcard, with no escape, so
    a name like '{x}.pdf' is left out of the DAG's inputs (the orchestrator's
    checkpoints still notice a changed file by its hash).
    """
    path = BOOK_PATHS[wildcards.book]
    return [] if "{" in path or "}" in path else path


def audiobook_extension():
    return "mp3" if ENGINE.get("output_format") == "mp3" else "m4b"


def book_outputs():
    """The per-book record always; the audiobook too when phase 5 runs."""
    outputs = {"record": f"{RESULTS}/{{book}}/book.json"}
    if 5 in PHASES and not ENGINE.get("mp3_per_chapter"):
        outputs["audiobook"] = f"{RESULTS}/{{book}}/{{book}}.{audiobook_extension()}"
    return outputs


def orchestrator_command():
    """The configured orchestrator, found beside this Python when not on PATH."""
    words = shlex.split(config["orchestrator"])
    if shutil.which(words[0]) is None:
        beside = Path(sys.executable).parent / words[0]
        if beside.exists():
            words[0] = str(beside)
    return shlex.join(words)


def book_size_mb(wildcards):
    return os.path.getsize(BOOK_PATHS[wildcards.book]) / 1_048_576


def book_mem_mb(wildcards):
    """Memory estimate: the voice model dominates phases 4-5, the text the rest."""
    size_mb = book_size_mb(wildcards)
    base = 700 if {4, 5} & set(PHASES) else 250
    return int(base + 4 * size_mb)


def book_runtime_min(wildcards):
    """Wall-time estimate for schedulers, generous: about 1 min per MB of book."""
    size_mb = book_size_mb(wildcards)
    return int(15 + 60 * size_mb) if {4, 5} & set(PHASES) else 10


def all_records():
    return [f"{RESULTS}/{book.id}/book.json" for book in BOOKS]
