"""``batch-audiobook``: the seed's batch command, on top of the Snakemake workflow.

    batch-audiobook --input-dir books --phases 1 2 3 --max-workers 2

Snakemake is the engine: this command turns the seed's flags into one
Snakemake run of the repository's Snakefile, in the current folder, with
Snakemake's own output sent to ``results/logs/snakemake.log``. While the run
goes it shows a progress bar read from the books' own files; at the end it
prints the summary from ``pipeline.json`` and exits 0 only when every book
succeeded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .discover import FoundBook, discover
from .fileio import atomic_writer, read_json
from .liveness import last_run
from .progress import NOTHING_TO_DO, BatchWatcher, PlainLines, RichBar, watch
from .record import shown_title

EXIT_SUCCESS = 0
EXIT_BOOKS_FAILED = 1
EXIT_USAGE = 2
EXIT_SNAKEMAKE = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130

LOCKED_HINT = (
    "another run is using this folder (or one was killed): wait for it, "
    "or run `batch-audiobook -- --unlock` if none is running"
)
INCOMPLETE_HINT = (
    "an interrupted run left incomplete files here: run `batch-audiobook -- --rerun-incomplete` to remake them"
)
WORKFLOW_GUARD = "another run is making this batch"
PHASE_CHOICES = (1, 2, 3, 4, 5)
MAX_FILE_ROWS = 100  # the per-file table; report.csv has every book
MAX_ERRORS = 10
LOG_TAIL_LINES = 15
# Snakemake options that do not make books: pass them through and let Snakemake talk.
SNAKEMAKE_INFO_OPTIONS = {
    "--unlock", "--lint", "--dag", "--rulegraph", "--filegraph", "--summary", "-S", "--detailed-summary", "-D",
    "--list-rules", "-l", "--list-target-rules", "--lt", "--report", "--cleanup-metadata", "--touch", "-t",
    "--dry-run", "-n", "--dryrun", "--version", "-v", "--help", "-h", "--delete-all-output",
    "--delete-temp-output", "--list-changes", "--lc", "--list-code-changes", "--list-input-changes",
    "--list-params-changes", "--containerize", "--export-cwl", "--archive", "--print-compilation",
}

SUBCOMMANDS = ("serve", "history", "say")

EPILOG = f"""\
other commands (each with --help):
  batch-audiobook serve      a live dashboard of the batch in this folder, in the browser
  batch-audiobook history    past runs of this folder, or one book's runs

exit codes:
  {EXIT_SUCCESS}    every book succeeded (or nothing was left to do)
  {EXIT_BOOKS_FAILED}    at least one book failed or is partial (see the summary and pipeline.json)
  {EXIT_USAGE}    usage error: bad flag, missing config file or profile, no books found
  {EXIT_SNAKEMAKE}    Snakemake stopped without finishing the batch (bad config, incomplete files, a
       failed export); its last lines are shown, all of them are in results/logs/snakemake.log
  {EXIT_LOCKED}    the folder is locked by another run, or by one that was killed
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); run again to continue where it stopped

examples:
  batch-audiobook --input-dir books --phases 1 2 3 --max-workers 2
  batch-audiobook --dry-run --file-pattern '*.epub'
  batch-audiobook --profile slurm --max-workers 20
  batch-audiobook --report                  # Snakemake's HTML report of the last run
  batch-audiobook -- --unlock               # anything after -- goes to Snakemake as it is
"""


@dataclass(frozen=True)
class Workflow:
    """Where the Snakefile and the Snakemake of this installation are."""

    snakefile: Path
    snakemake: Path

    @property
    def profiles_dir(self) -> Path:
        return self.snakefile.parent / "profiles"


def find_workflow() -> Workflow:
    snakefile = Path(__file__).resolve().parents[2] / "Snakefile"
    # The venv's snakemake, beside this Python: never another one on PATH.
    snakemake = Path(sys.executable).parent / "snakemake"
    return Workflow(snakefile=snakefile, snakemake=snakemake)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-audiobook",
        usage="%(prog)s [options] [-- SNAKEMAKE-OPTION ...]\n       %(prog)s {serve,history} [options]",
        description="Make audiobooks from every PDF and EPUB in a folder, several at a time, with the\n"
        "Snakemake workflow of this project. Runs in the current folder: results/, pipeline.json\n"
        "and batch.log are written here. A second run only makes what is left.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="a config.yaml whose settings override the workflow's (default: ./config.yaml if "
                        "present, else the workflow's own)")
    parser.add_argument("--input-dir", metavar="DIR", help="folder with the books (*.pdf, *.epub; not its subfolders)")
    parser.add_argument("--phases", type=int, nargs="+", choices=PHASE_CHOICES, metavar="N",
                        help="phases to run: 1 validate, 2 extract, 3 chunk, 4 speak, 5 master (default: all)")
    parser.add_argument("--no-resume", action="store_true",
                        help="make every book again, ignoring finished books and their checkpoints")
    parser.add_argument("--max-workers", type=int, metavar="N",
                        help="books made at the same time (default: max_workers in the config); "
                        "Snakemake gets --cores N x threads_per_book")
    parser.add_argument("--batch-size", type=int, metavar="N", help="only the first N books, in name order")
    parser.add_argument("--file-pattern", metavar="GLOB",
                        help="only books whose file name matches this shell-style pattern, e.g. '*.epub' "
                        "(case sensitive)")
    parser.add_argument("--dry-run", action="store_true", help="list the books that would be made; change nothing")
    parser.add_argument("--profile", metavar="NAME|DIR",
                        help="a Snakemake profile: a folder, or a name under the workflow's profiles/ "
                        "(e.g. slurm to run on a cluster)")
    parser.add_argument("--report", nargs="?", const="report.html", metavar="FILE",
                        help="write Snakemake's HTML report of the last run (with the plots) to FILE "
                        "(default: report.html) instead of making books; give the same --input-dir, "
                        "--phases and --config as the run")
    return parser


def split_passthrough(argv: list[str]) -> tuple[list[str], list[str]]:
    """Our arguments, and everything after the first ``--`` for Snakemake."""
    if "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1:]
    return argv, []


def take_option_values(passthrough: list[str], names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The values of any of the options ``names`` in the pass-through, and the rest.

    Snakemake keeps only the last ``--config`` (or ``--configfile``) it is given,
    so values passed through are merged into ours, after them: the user's word wins.
    """
    values: list[str] = []
    rest: list[str] = []
    taking = False
    for word in passthrough:
        if word in names:
            taking = True
        elif taking and not word.startswith("-"):
            values.append(word)
        else:
            taking = False
            rest.append(word)
    return values, rest


def _entry_value(text: str) -> Any:
    """A --config value roughly as Snakemake reads it (for our own view of the config)."""
    for parse in (int, float):
        try:
            return parse(text)
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def check_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    for flag in ("max_workers", "batch_size"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    if args.config is not None and not args.config.is_file():
        parser.error(f"--config {args.config}: no such file")
    if args.input_dir is not None and not Path(args.input_dir).is_dir():
        parser.error(f"--input-dir {args.input_dir}: no such folder")


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The config keys the flags set."""
    overrides: dict[str, Any] = {}
    if args.phases:
        overrides["phases_to_run"] = sorted(set(args.phases))
    if args.no_resume:
        overrides["resume_enabled"] = False
    if args.input_dir is not None:
        overrides["input_dir"] = args.input_dir
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.file_pattern is not None:
        overrides["file_pattern"] = args.file_pattern
    return overrides


def config_value(value: Any) -> str:
    """A value written the way Snakemake's --config parser reads it back."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return "[" + ",".join(str(item) for item in value) + "]"
    return str(value)


def config_entry(key: str, value: Any) -> str | None:
    """``key=value`` for --config, or None when Snakemake would read the value back as something else.

    Snakemake strips quotes and then tries int, float, True/False and YAML, so a
    folder named "Books: 2024" would arrive as a dict: such values go in a file.
    """
    from snakemake.cli import parse_config

    entry = f"{key}={config_value(value)}"
    if isinstance(value, list):
        return entry  # phases: the workflow turns the strings Snakemake makes back into ints
    try:
        parsed = parse_config([entry])[key]
    except Exception:  # noqa: BLE001 - any refusal means: do not pass it this way
        return None
    return entry if type(parsed) is type(value) and parsed == value else None


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Nested update, as Snakemake merges config files."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def effective_config(args: argparse.Namespace, workflow: Workflow, passed: PassedThrough) -> dict[str, Any]:
    """The config the Snakefile will see: the same files in the same order, then the flags and entries."""
    base = Path("config.yaml") if Path("config.yaml").exists() else workflow.snakefile.parent / "config.yaml"
    config: dict[str, Any] = {}
    for path in (base, args.config, *passed.config_files):
        if path is not None:
            with open(path, encoding="utf-8") as handle:
                config = _merge(config, yaml.safe_load(handle) or {})
    config = _merge(config, config_overrides(args))
    for entry in passed.entries:
        key, _, value = entry.partition("=")
        config[key] = _entry_value(value)
    return config


def resolve_profile(value: str, workflow: Workflow) -> Path:
    """A folder as given, or a name under the workflow's profiles/ folder."""
    given = Path(value)
    if (given / "config.yaml").is_file():
        return given.absolute()
    named = workflow.profiles_dir / value
    if os.sep not in value and (named / "config.yaml").is_file():
        return named
    known = sorted(p.name for p in workflow.profiles_dir.iterdir() if (p / "config.yaml").is_file())
    raise ValueError(
        f"--profile {value}: no such profile (a folder with a config.yaml, or one of: {', '.join(known)})"
    )


def _profile_executor(profile: Path) -> str | None:
    try:
        with open(profile / "config.yaml", encoding="utf-8") as handle:
            return (yaml.safe_load(handle) or {}).get("executor")
    except (OSError, yaml.YAMLError):
        return None


@dataclass(frozen=True)
class PassedThrough:
    """What came after ``--``: --config entries, --configfile files, and the rest as it is."""

    entries: list[str]
    config_files: list[str]
    rest: list[str]

    @classmethod
    def split(cls, words: list[str]) -> PassedThrough:
        entries, words = take_option_values(words, ("--config", "-C"))
        files, words = take_option_values(words, ("--configfile", "--configfiles"))
        return cls(entries, files, words)


def snakemake_command(
    args: argparse.Namespace, workflow: Workflow, config: dict[str, Any], passed: PassedThrough, spill_dir: Path
) -> list[str]:
    """The Snakemake command line for these flags (without --dry-run or --report).

    Flag values that --config cannot carry are written to a small YAML file in ``spill_dir``.
    """
    command = [str(workflow.snakemake), "--snakefile", str(workflow.snakefile)]
    if args.profile:
        profile = resolve_profile(args.profile, workflow)
        command += ["--profile", str(profile)]
        executor = _profile_executor(profile)
    else:
        executor = None
    workers = args.max_workers or config.get("max_workers", 2)
    threads = config.get("threads_per_book", 1)
    command += ["--cores", str(workers * threads)]
    if args.max_workers and executor not in (None, "local", "dryrun", "touch"):
        command += ["--jobs", str(workers)]  # on a cluster, jobs in flight are the books at once
    entries: list[str] = []
    spilled: dict[str, Any] = {}
    for key, value in config_overrides(args).items():
        entry = config_entry(key, value)
        if entry is None:
            spilled[key] = value
        else:
            entries.append(entry)
    config_files = [str(args.config)] if args.config is not None else []
    if spilled:
        spill = spill_dir / "batch-audiobook.config.yaml"
        with atomic_writer(spill) as handle:
            yaml.safe_dump(spilled, handle, allow_unicode=True)
        config_files.append(str(spill))
    config_files += passed.config_files
    if config_files:
        command += ["--configfile", *config_files]
    entries += passed.entries
    if entries:
        command += ["--config", *entries]
    return command + passed.rest


# ---- after the run ----------------------------------------------------------


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds >= 60:
        return f"{seconds:.1f}s ({seconds / 60:.1f}min)"
    return f"{seconds:.1f}s"


def _clock(seconds: float | None) -> str:
    if not seconds:
        return ""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def book_title(book_id: str, entry: dict[str, Any]) -> str:
    """A book of pipeline.json as a person finds it: "Title — Author", else its file name, else its id."""
    return shown_title(entry.get("title"), entry.get("author"), entry.get("file_name") or book_id)


def summary_renderables(pipeline: dict[str, Any]) -> list[Any]:
    """The seed's summary table, a table per file and the first errors, as Rich tables."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    summary = pipeline["batch"]["summary"]
    files: dict[str, dict[str, Any]] = pipeline["batch"]["files"]
    overview = Table(title="Batch Processing Summary", show_header=False, box=box.ROUNDED)
    overview.add_column("what", style="bold")
    overview.add_column("value")
    rows = [
        ("Total Files", summary["total_files"]),
        ("Successful", summary["successful_files"]),
        ("Partial", summary["partial_files"]),
        ("Failed", summary["failed_files"]),
        ("Duration", _duration(summary.get("duration"))),
        ("Avg CPU", f"{summary.get('avg_cpu', 0.0):.1f}%"),
        ("Status", str(summary["status"]).upper()),
    ]
    if summary.get("skipped_files"):
        rows.insert(4, ("Already done", summary["skipped_files"]))
    if summary.get("pending_files"):
        rows.insert(4, ("Not run", summary["pending_files"]))
    if summary.get("audio_seconds"):
        rows.insert(-1, ("Audio", _clock(summary["audio_seconds"])))
    for label, value in rows:
        overview.add_row(label, str(value))

    per_file = Table(title="Files", box=box.SIMPLE_HEAD)
    per_file.add_column("Book", no_wrap=True, max_width=40, overflow="ellipsis")
    per_file.add_column("Id", no_wrap=True)
    per_file.add_column("Status")
    per_file.add_column("Duration", justify="right")
    per_file.add_column("Audio", justify="right")
    per_file.add_column("Error", overflow="fold")
    colours = {"success": "green", "partial": "yellow", "failed": "red"}
    for book_id, entry in list(files.items())[:MAX_FILE_ROWS]:
        status = entry.get("status", "")
        per_file.add_row(
            Text(book_title(book_id, entry)),
            book_id,
            f"[{colours.get(status, 'default')}]{status}[/]",
            _duration(entry.get("duration")),
            _clock(entry.get("audio_seconds")),
            entry.get("error") or "",
        )
    if len(files) > MAX_FILE_ROWS:
        per_file.caption = f"... and {len(files) - MAX_FILE_ROWS} more: every book is in results/report.csv"
    out: list[Any] = [overview, per_file]

    errors = [(book_title(book_id, entry), entry["error"]) for book_id, entry in files.items() if entry.get("error")]
    errors += [(item["name"], item["reason"]) for item in summary.get("refused_inputs", [])]
    if errors:
        listed = Table(title=f"Errors (first {min(len(errors), MAX_ERRORS)} of {len(errors)})", box=box.SIMPLE_HEAD)
        listed.add_column("Book", no_wrap=True)
        listed.add_column("What is wrong, what to do", overflow="fold")
        for book, error in errors[:MAX_ERRORS]:
            listed.add_row(Text(book), Text(error))
        out.append(listed)
    return out


def exit_code(summary: dict[str, Any], snakemake_status: int) -> int:
    if summary.get("status") != "success":
        return EXIT_BOOKS_FAILED
    return EXIT_SUCCESS if snakemake_status == 0 else EXIT_SNAKEMAKE


def snakemake_trouble(log_text: str) -> tuple[int, str] | None:
    """A known reason Snakemake refused to run, as (exit code, one line of advice)."""
    if "Directory cannot be locked" in log_text:
        return EXIT_LOCKED, LOCKED_HINT
    # The workflow's own guard (rules/common.smk) refuses a second batch in one folder, in one line.
    guard = next((line for line in log_text.splitlines() if line.startswith(WORKFLOW_GUARD)), None)
    if guard is not None:
        return EXIT_LOCKED, guard
    if "IncompleteFilesException" in log_text or "seem to be incomplete" in log_text:
        return EXIT_SNAKEMAKE, INCOMPLETE_HINT
    return None


def log_tail(log_text: str, lines: int = LOG_TAIL_LINES) -> list[str]:
    kept = [line for line in log_text.splitlines() if line.strip() and "Complete log" not in line]
    return kept[-lines:]


def load_summary(pipeline_json: Path, since: float, nothing_to_do: bool) -> dict[str, Any] | None:
    """pipeline.json if this run wrote it, or, when it found nothing to do, the last one with every book kept."""
    try:
        pipeline = read_json(pipeline_json)
        summary = pipeline["batch"]["summary"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if nothing_to_do:
        # This run made nothing: every book of the last run's summary is one it kept, as its [SKIP] lines say.
        summary.update(skipped_files=summary.get("successful_files", 0), duration=time.time() - since, avg_cpu=0.0)
        return pipeline
    if (summary.get("finished_at") or 0) >= since:
        return pipeline
    return None


def make_console() -> Any:
    from rich.console import Console

    console = Console()
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console = Console(width=120)  # pipes and logs: wide enough for the error column
    return console


def say(console: Any, text: str) -> None:
    """One message, exactly as written: no markup, no colouring, never wrapped."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def complain(text: str) -> None:
    """A problem that stops the command, on stderr, as one line."""
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _ended_within(process: subprocess.Popen, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
        return True
    except subprocess.TimeoutExpired:
        return False


def run_batch(command: list[str], config: dict[str, Any], books: list[FoundBook], console: Any) -> int:
    results = Path(config["results_dir"])
    log_path = results / "logs" / "snakemake.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    since = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        watcher = BatchWatcher(results, [book.id for book in books], since, log_path)
        display = RichBar(console) if console.is_terminal else PlainLines(sys.stdout)
        try:
            watch(watcher, display, lambda seconds: _ended_within(process, seconds))
        except KeyboardInterrupt:
            # A Ctrl-C at the terminal reached Snakemake too: let it stop its jobs and
            # mark what is incomplete; only a signal meant for us alone is passed on.
            if not _ended_within(process, 5):
                process.send_signal(signal.SIGINT)
            process.wait()
            say(console, "Interrupted: run batch-audiobook again to continue where it stopped.")
            return EXIT_INTERRUPTED
    log_text = log_path.read_text(encoding="utf-8", errors="replace")
    trouble = snakemake_trouble(log_text) if process.returncode != 0 else None
    if trouble is not None:
        code, advice = trouble
        complain(f"batch-audiobook: {advice}")
        return code
    pipeline = load_summary(Path(config["pipeline_json"]), since, NOTHING_TO_DO in log_text)
    if pipeline is None:
        _show_failure(console, log_text, log_path, process.returncode)
        return EXIT_SNAKEMAKE
    console.print()
    for renderable in summary_renderables(pipeline):
        console.print(renderable)
    code = exit_code(pipeline["batch"]["summary"], process.returncode)
    if code == EXIT_SNAKEMAKE:
        _show_failure(console, log_text, log_path, process.returncode)
    say(console, f"Details: {config['pipeline_json']}, {results / 'report.html'}, Snakemake's log {log_path}")
    return code


def _show_failure(console: Any, log_text: str, log_path: Path, status: int) -> None:
    say(console, f"Snakemake stopped (exit status {status}); its last lines ({log_path} has all):")
    for line in log_tail(log_text):
        say(console, f"  {line}")


# ---- dry run and report -----------------------------------------------------


@dataclass(frozen=True)
class PlannedJob:
    rule: str
    book: str | None
    reason: str


def parse_plan(text: str) -> list[PlannedJob]:
    """The jobs in Snakemake's dry-run output: "rule NAME:" blocks with wildcards and reason."""
    jobs: list[PlannedJob] = []
    rule: str | None = None
    book: str | None = None
    reason = ""
    for line in text.splitlines() + ["rule end:"]:
        stripped = line.strip()
        if line.startswith(("rule ", "localrule ")) and stripped.endswith(":"):
            if rule is not None:
                jobs.append(PlannedJob(rule, book, reason))
            rule, book, reason = stripped.split()[-1].rstrip(":"), None, ""
        elif stripped.startswith("wildcards:"):
            for pair in stripped.removeprefix("wildcards:").split(","):
                key, _, value = pair.strip().partition("=")
                if key == "book":
                    book = value
        elif stripped.startswith("reason:"):
            reason = stripped.removeprefix("reason:").strip()
    return jobs


# Snakemake's reasons for running a job, said briefly.
REASONS = {
    "Missing output files": "not made yet",
    "Forced execution": "forced",
    "Updated input files": "book file changed",
    "Input files updated by another job": "its input is being remade",
    "Params have changed": "settings changed",
    "Code has changed": "workflow changed",
    "Software environment definition has changed": "software changed",
    "Incomplete output files": "left incomplete by an interrupted run",
}


def short_reason(reason: str) -> str:
    """'Missing output files: a; Params have changed since ...' -> 'not made yet, settings changed'."""
    said = []
    for clause in reason.split("; "):
        words = next((short for prefix, short in REASONS.items() if clause.startswith(prefix)), None)
        words = words or clause.split(":")[0][:60]
        if words and words not in said:
            said.append(words)
    return ", ".join(said)


def _bookkeeping_is_empty(folder: Path) -> bool:
    """True when Snakemake's folder holds nothing but empty folders and its IO cache."""
    for path in folder.rglob("*"):
        if path.is_file() and path.relative_to(folder).parts[0] != "iocache":
            return False
    return True


def dry_run(command: list[str], books: list[FoundBook], console: Any) -> int:
    from rich.table import Table

    bookkeeping = Path(".snakemake")
    existed = bookkeeping.exists()
    proc = subprocess.run([*command, "--dry-run"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    # A dry run must leave no trace; Snakemake makes its (empty) state folder even so.
    if not existed and bookkeeping.is_dir() and _bookkeeping_is_empty(bookkeeping):
        shutil.rmtree(bookkeeping, ignore_errors=True)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        say(console, "Snakemake cannot plan this batch:")
        for line in log_tail(output):
            say(console, f"  {line}")
        return EXIT_SNAKEMAKE
    names = {book.id: book.name for book in books}
    plan = parse_plan(output)
    planned = sorted((job for job in plan if job.rule == "audiobook" and job.book), key=lambda job: job.book or "")
    exports = sum(1 for job in plan if job.rule == "export")
    others = []
    if exports:
        others.append(f"place {exports} book(s) in the library")
    if any(job.rule == "aggregate" for job in plan):
        others.append("write pipeline.json and the reports")
    if not planned and not others:
        say(console, f"Nothing to do: all {len(books)} books are up to date.")
        return EXIT_SUCCESS
    table = Table(title=f"Would make {len(planned)} of {len(books)} books")
    table.add_column("Book", no_wrap=True)
    table.add_column("File")
    table.add_column("Why", overflow="fold")
    for job in planned[:MAX_FILE_ROWS]:
        table.add_row(job.book, names.get(job.book or "", ""), short_reason(job.reason))
    if len(planned) > MAX_FILE_ROWS:
        table.caption = f"... and {len(planned) - MAX_FILE_ROWS} more"
    console.print(table)
    if others:
        say(console, f"Then {' and '.join(others)}.")
    say(console, "Dry run: nothing was made or written.")
    return EXIT_SUCCESS


def make_report(command: list[str], target: str, console: Any) -> int:
    proc = subprocess.run([*command, "--report", target], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        say(console, "Snakemake could not write the report:")
        for line in log_tail(output):
            say(console, f"  {line}")
        trouble = snakemake_trouble(output)
        return trouble[0] if trouble else EXIT_SNAKEMAKE
    say(console, f"Report written to {target}")
    return EXIT_SUCCESS


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in SUBCOMMANDS:
        from . import batch_commands

        return batch_commands.main(words[0], words[1:])
    ours, passthrough = split_passthrough(words)
    parser = build_parser()
    args = parser.parse_args(ours)
    check_args(args, parser)
    workflow = find_workflow()
    console = make_console()
    if not workflow.snakefile.is_file() or not workflow.snakemake.is_file():
        complain(f"batch-audiobook: the workflow is not installed here ({workflow.snakefile}, "
                 f"{workflow.snakemake}); install the project with scripts/setup.sh")
        return EXIT_USAGE
    passed = PassedThrough.split(passthrough)
    makes_books = not (args.dry_run or args.report is not None or SNAKEMAKE_INFO_OPTIONS & set(passed.rest))
    with tempfile.TemporaryDirectory(prefix="batch-audiobook-") as scratch:
        try:
            config = effective_config(args, workflow, passed)
            if makes_books:
                # Turned away before anything is written: a run going on in this folder
                # keeps its log and its spilled settings (the workflow refuses too).
                running = last_run(config["results_dir"])
                if running is not None and running.alive():
                    complain(f"batch-audiobook: {running.refusal()}")
                    return EXIT_LOCKED
            # A run keeps its spilled settings beside its log (cluster jobs read them too).
            spill_dir = Path(config["results_dir"]) / "logs" if makes_books else Path(scratch)
            command = snakemake_command(args, workflow, config, passed, spill_dir)
        except (ValueError, OSError, yaml.YAMLError) as error:
            parser.error(str(error))
        if args.report is not None:
            return make_report(command, args.report, console)
        if not makes_books and not args.dry_run:
            return subprocess.run(command).returncode  # Snakemake's own answer, on this terminal
        books, _ = discover(config["input_dir"], config.get("file_pattern", "*"), config.get("batch_size"))
        if not books:
            complain(f"batch-audiobook: no books (*.pdf, *.epub) matching {config.get('file_pattern', '*')!r} in "
                     f"{config['input_dir']}: put books there or pass --input-dir")
            return EXIT_USAGE
        if args.dry_run:
            return dry_run(command, books, console)
        return run_batch(command, config, books, console)


if __name__ == "__main__":
    sys.exit(main())
