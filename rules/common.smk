# Helpers shared by the rules: config checks, book discovery, per-book parameters.
# This file runs whenever the workflow is parsed, including once per cluster
# job, so it only lists one folder and never opens a book.

import inspect
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
from audiobook.liveness import last_run
from audiobook.pronounce.lexicon import BOOK_LEXICON_SUFFIX
from audiobook import snakemake_scale

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
            (
                l.split(":", 1)[1].strip()
                for l in lines
                if l.startswith("ValidationError:")
            ),
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


# Snakemake options that only look at the folder: they may run beside a batch.
LOOK_ONLY_OPTIONS = {
    "--unlock", "--lint", "--report", "--summary", "-S", "--detailed-summary", "-D",
    "--list-rules", "--list", "-l", "--list-target-rules", "--lt", "--dag", "--rulegraph",
    "--filegraph", "--d3dag", "--list-changes", "--lc", "--print-compilation",
}  # fmt: skip


def remove_stale_locks(run):
    """Snakemake's locks left by a killed run, which would refuse every later run."""
    locks = list(Path(".snakemake", "locks").glob("*.lock"))
    # A run locks just before it writes its marker, so a lock newer than the
    # marker belongs to a run starting right now: never touch that.
    if not locks or any(lock.stat().st_mtime > run.started_at for lock in locks):
        return
    for lock in locks:
        lock.unlink(missing_ok=True)
    print(
        f"removed the lock left by the run that was stopped ({run.described()})",
        file=sys.stderr,
    )


def looks_only():
    """A dry run or a look-only command: it writes nothing to batch.log or the history."""
    return workflow.output_settings.dryrun or bool(
        LOOK_ONLY_OPTIONS & {arg.split("=", 1)[0] for arg in sys.argv[1:]}
    )


def guard_the_folder():
    """One batch at a time in a folder, and nothing to do by hand after a killed one.

    Only the snakemake command a person starts checks this: cluster jobs and
    job subprocesses parse the workflow too while their run goes on, and dry
    runs and other look-only commands may run beside a batch.
    """
    run = last_run(RESULTS)
    if run is None or not workflow.is_main_process:
        return
    alive = run.alive()
    if alive is False:
        remove_stale_locks(run)
    if alive and not looks_only():
        print(run.refusal(), file=sys.stderr)
        raise SystemExit(1)


guard_the_folder()

# Snakemake's own cost per book stays flat at thousands of books: see the module.
snakemake_scale.apply()

PHASES = sorted(set(config["phases_to_run"]))
ENGINE = config.get("engine") or {}
BOOKS, SKIPPED = discover(
    config["input_dir"], config.get("file_pattern", "*"), config.get("batch_size")
)
BOOK_PATHS = {book.id: book.path for book in BOOKS}
BOOK_NAMES = {book.id: book.name for book in BOOKS}


wildcard_constraints:
    book=ID_PATTERN,


def signature_once(function):
    """Tell Snakemake a per-book function's parameters once.

    Snakemake inspects the signature of an input, params or resources
    function at every call: a dozen times per job, a third of a dry run's
    time at thousands of books. It takes the answer from this attribute.
    """
    try:
        from snakemake.common import FUNC_OVERWRITE_PARAMS_ATTR
    except ImportError:  # another Snakemake: it inspects, as it always did
        return function
    setattr(
        function, FUNC_OVERWRITE_PARAMS_ATTR, inspect.signature(function).parameters
    )
    return function


@signature_once
def book_path(wildcards):
    """The book file behind an id, for the shell command (params are never patterns)."""
    return BOOK_PATHS[wildcards.book]


def check_batch_lexicons():
    """A bad line in a batch lexicon refuses the whole batch at start, in one line, before any book runs."""
    from audiobook.pronounce.book import refuse_bad_lexicons

    problem = refuse_bad_lexicons(ENGINE)
    if problem:
        print(f"config: engine.lexicon: {problem}", file=sys.stderr)
        raise SystemExit(1)


if workflow.is_main_process and {3, 4, 5} & set(PHASES):
    check_batch_lexicons()


def snakemake_safe_path(path):
    """Whether Snakemake can hold this path as a plain file name."""
    if "{" in path or "}" in path or "\n" in path or "\r" in path:
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a surrogate-escaped byte of a non-UTF-8 name
        return False
    return True


LEXICON_SETTING = ENGINE.get("lexicon") or []
# As phase 3 reads them (lexicon_paths: "~" expanded), checked once, not once a book.
BATCH_LEXICONS = [
    path
    for path in (
        os.path.expanduser(setting)
        for setting in (
            [LEXICON_SETTING] if isinstance(LEXICON_SETTING, str) else LEXICON_SETTING
        )
    )
    if snakemake_safe_path(path)
]


@signature_once
def book_lexicons(wildcards):
    """The lexicons that decide how a book is said: editing one (or adding the book's own) makes it again.

    The orchestrator then re-speaks only the chunks whose spoken form changed.
    """
    own = BOOK_PATHS[wildcards.book] + BOOK_LEXICON_SUFFIX
    mine = [own] if os.path.isfile(own) and snakemake_safe_path(own) else []
    return BATCH_LEXICONS + mine


@signature_once
def book_input(wildcards):
    """The book file as the job's input, so a changed book is made again.

    Snakemake reads braces in an input path as a wildcard, with no escape, and
    writes input paths one per line into UTF-8 lock files, so a name with
    braces, a line break or bytes that are not UTF-8 is left out of the DAG's
    inputs (the orchestrator's checkpoints still notice a changed file by its hash).
    """
    path = BOOK_PATHS[wildcards.book]
    return path if snakemake_safe_path(path) else []


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


# The throttle's last CPU sample, shared by the books that start within a second of it.
CPU_SAMPLE = ".cpu-sample"


def throttle_command():
    """The launch throttle with this batch's settings, as shell words (the book id follows)."""
    return shlex.join(
        [
            sys.executable,
            f"{workflow.basedir}/scripts/throttle.py",
            "--batch-log",
            config["log_file"],
            "--cpu-threshold",
            str(config["cpu_threshold"]),
            "--delay",
            str(config["throttle_delay"]),
            "--max-wait",
            str(config["throttle_max_wait"]),
            "--shared-sample",
            f"{RESULTS}/{CPU_SAMPLE}",
        ]
    )


def orchestrator_options():
    """The options every book shares, as shell words; the book comes before them (the contract)."""
    words = ["--phases", *(str(phase) for phase in PHASES)]
    words += ["--settings-json", json.dumps(ENGINE, sort_keys=True)]
    words += ["--log-level", str(config.get("log_level", "INFO"))]
    if not config.get("resume_enabled", True):
        words.append("--no-resume")
    return shlex.join(words)


def book_size_mb(wildcards):
    return os.path.getsize(BOOK_PATHS[wildcards.book]) / 1_048_576


@signature_once
def book_mem_mb(wildcards):
    """Memory estimate for a spoken book: the voice model, then the text by size."""
    return int(700 + 4 * book_size_mb(wildcards))


# Past this many MB a book's bytes are pictures (a scan), not text: each further MB
# is a few pages to read by OCR (a compact scan holds up to 100 pages a MB, about
# 3 CPU minutes), not an hour of speech.
TEXT_MB = 10


@signature_once
def book_runtime_min(wildcards):
    """Wall-time estimate for a spoken book, generous: about 1 min per MB of book,
    and 3 min per MB of a scan beyond TEXT_MB (its pages read by OCR)."""
    size = book_size_mb(wildcards)
    return int(15 + 60 * min(size, TEXT_MB) + 3 * max(0.0, size - TEXT_MB))


# What a book asks of a scheduler. Without speech a book is small and brief
# and asks for nothing beyond the profile's defaults: Snakemake evaluates
# every resource of every job, a fifth of a dry run of thousands of books.
SPEAKS = bool({4, 5} & set(PHASES))
BOOK_RESOURCES = {"mem_mb": book_mem_mb, "runtime": book_runtime_min} if SPEAKS else {}


def books_kept():
    """Books Snakemake will not make this run (finished earlier, up to date), in name order.

    Snakemake's own decision, from its DAG: a book's job is in it but not
    among the jobs that need to run. Known only once the DAG is built (onstart).
    """
    dag = workflow.dag
    return sorted(
        job.wildcards_dict["book"]
        for job in dag.jobs
        if job.rule.name == "audiobook" and not dag.needrun(job)
    )


def watch_for_nothing_to_do():
    """Give a run that finds every book finished its [SKIP] lines and history row.

    Snakemake runs no hook then (no onstart, onsuccess or onerror): it only
    logs its "Nothing to be done" message, inside its lock, and returns. That
    message is the moment; a filter on its logger sees it and lets it through.
    """
    if not workflow.is_main_process or looks_only():
        return
    from snakemake.common import NOTHING_TO_BE_DONE_MSG
    from snakemake.logging import logger

    def observe(record):
        if record.msg != NOTHING_TO_BE_DONE_MSG or workflow.dryrun:
            return True
        if workflow.execution_settings.no_hooks:
            return True  # --no-hooks: no onstart either way
        from audiobook.batch_hooks import on_nothing_to_do, warn

        try:
            on_nothing_to_do(
                RESULTS,
                config["log_file"],
                {book_id: BOOK_NAMES.get(book_id, book_id) for book_id in books_kept()},
                SKIPPED,
                shlex.join(sys.argv),
                config,
            )
        except Exception as error:  # a log line must never stop Snakemake
            warn(
                config["log_file"],
                f"nothing to do, but: {type(error).__name__}: {error}",
            )
        return True

    logger.addFilter(observe)


watch_for_nothing_to_do()


def all_records():
    """Every book's outputs: its record, and its audiobook when phase 5 runs.

    Snakemake remakes a job only for outputs someone asks for, so the
    audiobook is asked for too: a run that adds phase 5 then makes the
    audiobooks of books whose records are already there.
    """
    return [
        output.replace("{book}", book.id)
        for book in BOOKS
        for output in book_outputs().values()
    ]
