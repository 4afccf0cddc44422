"""The batch-audiobook front end, run as a user runs it: real Snakemake, real books, in a temp folder."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from snakemake.cli import parse_config

from audiobook import batch, history
from audiobook.export import CLAIM_FILE, ExportError, export_book, safe_name
from audiobook.progress import BatchWatcher, BookState, PlainLines, jobs_to_run, read_book_state
from books import empty_book, epub_book, not_a_book, pdf_book
from gates import describe_group, wait_for
from runs import skips_then_starts

BATCH = str(Path(sys.executable).parent / "batch-audiobook")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# The launch throttle waits while the machine is busy; other people's work on this
# machine must not slow the tests down, so the tests' config never throttles.
QUIET_CONFIG = "cpu_threshold: 100\nthrottle_delay: 0.1\nthrottle_max_wait: 0\n"


def run(workdir: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BATCH, *args], cwd=workdir, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def started(stdout: str) -> list[str]:
    return sorted(line.split("[START] ", 1)[1].strip() for line in stdout.splitlines() if "[START] " in line)


def table_row(stdout: str, label: str) -> str:
    """The value in the summary table's row for ``label``."""
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        if len(cells) == 2 and cells[0] == label:
            return cells[1]
    raise AssertionError(f"no {label!r} row in:\n{stdout}")


def pipeline(workdir: Path) -> dict:
    return json.loads((workdir / "pipeline.json").read_text())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "quiet.yaml").write_text(QUIET_CONFIG)
    return tmp_path


@pytest.mark.slow
def test_five_books_plain_lines_summary_and_a_failed_book_fails_the_run(workdir):
    books = workdir / "in"
    pdf_book(books, "river.pdf")
    epub_book(books, "river.epub")
    epub_book(books, "meadow.epub", version=2)
    empty_book(books, "blank.pdf")
    not_a_book(books, "letter.epub")
    ids = ["blank-pdf", "letter-epub", "meadow-epub", "river-epub", "river-pdf"]
    args = ("--config", "quiet.yaml", "--input-dir", "in", "--phases", "1", "2", "3", "--max-workers", "2")

    proc = run(workdir, *args)
    assert proc.returncode == batch.EXIT_BOOKS_FAILED, proc.stdout + proc.stderr
    out = proc.stdout
    assert not ANSI.search(out), "no terminal: plain text, no escape codes"
    assert "Found 5 files to process" in out
    assert started(out) == ids
    assert re.search(r"\[SUCCESS\] river-pdf in \d+\.\ds", out)
    assert "[FAIL] blank-pdf in" in out and "blank.pdf: is empty" in out
    # The seed's summary table, with the right counts.
    assert table_row(out, "Total Files") == "5"
    assert table_row(out, "Successful") == "3"
    assert table_row(out, "Partial") == "0"
    assert table_row(out, "Failed") == "2"
    assert table_row(out, "Status") == "PARTIAL"
    assert re.fullmatch(r"\d+\.\d%", table_row(out, "Avg CPU"))
    per_file = out.split("Files", 2)[-1]
    # Each book by its title and author (a book that never got that far by its file name), then its id.
    shown = {"blank-pdf": "blank.pdf", "letter-epub": "letter.epub", "meadow-epub": "Meadow — Test Author",
             "river-epub": "River — Test Author", "river-pdf": "River — Test Author"}
    for book_id in ids:
        assert re.search(rf"^\s+{re.escape(shown[book_id])}\s+{book_id}\s+(success|failed)\s", per_file,
                         re.MULTILINE), book_id
    assert "Errors (first 2 of 2)" in out
    # Snakemake's own output went to its log, not to the screen; the flags became its options.
    log = (workdir / "results" / "logs" / "snakemake.log").read_text()
    assert "Job stats" in log and "Job stats" not in out
    assert re.search(r"Command: .*--cores 2 .*--configfile quiet\.yaml --config phases_to_run=\[1,2,3\]", log)
    files = pipeline(workdir)["batch"]["files"]
    assert sorted(files) == ids
    for good in ("meadow-epub", "river-epub", "river-pdf"):
        assert files[good]["phases_completed"] == [1, 2, 3]

    # A second run makes only the books that failed, and says so.
    proc = run(workdir, *args)
    assert proc.returncode == batch.EXIT_BOOKS_FAILED
    assert started(proc.stdout) == ["blank-pdf", "letter-epub"]
    assert "3 already completed, 2 to make" in proc.stdout
    assert table_row(proc.stdout, "Already done") == "3"
    # batch.log says it too, as the seed did: a [SKIP] per finished book, all before the first [START].
    second_run = (workdir / "batch.log").read_text().split("Found 5 files to process")[-1]
    assert skips_then_starts(second_run) == (["meadow-epub", "river-epub", "river-pdf"], ["blank-pdf", "letter-epub"])


@pytest.mark.slow
def test_no_resume_makes_finished_books_again_and_all_good_exits_zero(workdir):
    pdf_book(workdir / "in", "river.pdf")
    epub_book(workdir / "in", "meadow.epub")
    args = ("--config", "quiet.yaml", "--input-dir", "in", "--phases", "1")
    proc = run(workdir, *args)
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout + proc.stderr
    assert table_row(proc.stdout, "Status") == "SUCCESS"
    record = workdir / "results" / "river-pdf" / "book.json"
    first = json.loads(record.read_text())

    proc = run(workdir, *args)
    assert proc.returncode == batch.EXIT_SUCCESS
    assert started(proc.stdout) == []
    assert json.loads(record.read_text())["finished_at"] == first["finished_at"]
    # Nothing to do is still a run: a [SKIP] per book in batch.log, counted in the summary and the history.
    runs = (workdir / "batch.log").read_text().split("Found 2 files to process")
    assert len(runs) == 3 and skips_then_starts(runs[2]) == (["meadow-epub", "river-pdf"], [])
    assert "Nothing to do: all 2 books already completed" in runs[2]
    assert table_row(proc.stdout, "Already done") == "2"
    kept = history.list_runs(workdir / "results")[0]
    assert (kept["outcome"], kept["total"], kept["skipped"]) == (history.NOTHING_TO_DO, 2, 2)

    proc = run(workdir, *args, "--no-resume")
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout
    assert started(proc.stdout) == ["meadow-epub", "river-pdf"]
    third = (workdir / "batch.log").read_text().split("Found 2 files to process")[-1]
    assert skips_then_starts(third) == ([], ["meadow-epub", "river-pdf"])
    assert [run["outcome"] for run in history.list_runs(workdir / "results")] == ["success", "nothing to do", "success"]
    again = json.loads(record.read_text())
    assert again["finished_at"] > first["finished_at"]
    assert again["phases"]["1"]["reused"] is False


def test_file_pattern_and_batch_size_choose_which_books_get_records(workdir):
    books = workdir / "my: books"  # a folder name Snakemake's --config would turn into a dict
    books.mkdir()
    for name in ("a.pdf", "b.pdf"):
        pdf_book(books, name)
    epub_book(books, "c.epub")
    proc = run(workdir, "--config", "quiet.yaml", "--input-dir", "my: books", "--phases", "1",
               "--file-pattern", "*.pdf", "--batch-size", "1")
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout + proc.stderr
    results = workdir / "results"
    assert (results / "a-pdf" / "book.json").is_file()
    assert not (results / "b-pdf").exists() and not (results / "c-epub").exists()
    assert list(pipeline(workdir)["batch"]["files"]) == ["a-pdf"]
    assert json.loads((results / "a-pdf" / "book.json").read_text())["phases_completed"] == [1]


def test_dry_run_lists_the_books_and_writes_nothing(workdir):
    for name in ("a.pdf", "b.pdf"):
        pdf_book(workdir / "in", name)
    epub_book(workdir / "in", "c.epub")
    before = sorted(workdir.rglob("*"))
    proc = run(workdir, "--config", "quiet.yaml", "--input-dir", "in", "--dry-run")
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout + proc.stderr
    assert "Would make 3 of 3 books" in proc.stdout
    for book_id in ("a-pdf", "b-pdf", "c-epub"):
        assert re.search(rf"│ {book_id}\s+│ \S+\s+│ not made yet\s+│", proc.stdout), book_id
    assert sorted(workdir.rglob("*")) == before, "a dry run leaves no file behind, not even .snakemake/"


def test_no_books_and_unknown_profile_are_usage_errors_in_one_line(workdir):
    proc = run(workdir, "--input-dir", "in")
    assert proc.returncode == batch.EXIT_USAGE
    assert proc.stderr.strip().count("\n") == 0 and "no books" in proc.stderr
    pdf_book(workdir / "in", "a.pdf")
    proc = run(workdir, "--input-dir", "in", "--profile", "nosuch", "--dry-run")
    assert proc.returncode == batch.EXIT_USAGE
    assert "no such profile" in proc.stderr and "default" in proc.stderr


def test_a_profile_by_name_resolves_to_the_workflows_profiles_folder(workdir):
    pdf_book(workdir / "in", "a.pdf")
    proc = run(workdir, "--input-dir", "in", "--profile", "default", "--dry-run")
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout + proc.stderr
    assert "Would make 1 of 1 books" in proc.stdout
    workflow = batch.find_workflow()
    assert batch.resolve_profile("default", workflow) == workflow.snakefile.parent / "profiles" / "default"


@pytest.mark.slow
def test_a_second_run_in_a_busy_folder_says_what_to_do_in_one_line(workdir):
    pdf_book(workdir / "in", "river.pdf")
    # A stand-in orchestrator (any command with the same contract may be plugged in) that
    # holds the folder however long the second run takes. It keeps Ctrl+C pending until the
    # test lets it go, once Snakemake has taken the Ctrl+C: the stop is the same every time.
    ready, release = workdir / "stand-in-ready", workdir / "stand-in-release"
    stand_in = workdir / "stand-in"
    stand_in.write_text(
        f"#!{sys.executable}\n"
        "import os, signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *_: sys.exit(130))\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})\n"
        f"open({str(ready)!r}, 'w').close()\n"
        f"while not os.path.exists({str(release)!r}):\n"
        "    time.sleep(0.05)\n"
        "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})\n"
    )
    stand_in.chmod(0o755)
    (workdir / "slow.yaml").write_text(QUIET_CONFIG + f"orchestrator: {stand_in}\n")
    args = ("--config", "slow.yaml", "--input-dir", "in", "--phases", "1")
    first = subprocess.Popen([BATCH, *args], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    snakemake_log = workdir / "results" / "logs" / "snakemake.log"

    def describe() -> str:
        text = snakemake_log.read_text(errors="replace").replace("\0", "") if snakemake_log.exists() else ""
        return f"{describe_group(first.pid)}\nSnakemake's log:\n{text}"

    try:
        wait_for(ready.exists, "the stand-in to start", first, describe)
        assert "[START] river-pdf" in (workdir / "batch.log").read_text()
        log_before = snakemake_log.read_bytes()
        second = run(workdir, *args)
        assert second.returncode == batch.EXIT_LOCKED, second.stdout + second.stderr
        lines = second.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("batch-audiobook: another run"), second.stderr
        assert "Traceback" not in second.stdout + second.stderr
        # Turned away before it wrote anything: the running batch's log is its own.
        log_after = snakemake_log.read_bytes()
        assert log_after.startswith(log_before) and b"another run" not in log_after, log_after
    finally:
        try:
            os.killpg(first.pid, signal.SIGINT)  # Ctrl-C, as at a terminal
            wait_for(lambda: "Terminating processes on user request" in snakemake_log.read_text(errors="replace"),
                     "Snakemake to take the Ctrl+C", first, describe)
        finally:
            release.touch()
            first.communicate(timeout=120)
    assert first.returncode == batch.EXIT_INTERRUPTED
    # Pass-through reaches Snakemake as it is: its own unlock command answers.
    proc = run(workdir, *args, "--", "--unlock")
    assert proc.returncode == 0 and "Unlocked" in proc.stdout + proc.stderr


def test_snakemakes_reasons_are_said_briefly():
    reason = ("Missing output files: results/a-pdf/book.json; Code has changed since last execution; "
              "Params have changed since last execution: Union of exclusive params before and now")
    assert batch.short_reason(reason) == "not made yet, workflow changed, settings changed"
    assert batch.short_reason("Something new: x") == "Something new"


def test_snakemakes_lock_message_becomes_the_one_line_hint():
    message = ("LockException:\nError: Directory cannot be locked. Please make sure that no other Snakemake "
               "process is trying to create the same files in the following directory:\n/tmp/x\n")
    assert batch.snakemake_trouble(message) == (batch.EXIT_LOCKED, batch.LOCKED_HINT)
    assert "batch-audiobook -- --unlock" in batch.LOCKED_HINT
    assert batch.snakemake_trouble("Exiting because a job execution failed.") is None


def test_help_explains_every_flag_and_the_exit_codes():
    proc = subprocess.run([BATCH, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for flag in ("--config", "--input-dir", "--phases", "--no-resume", "--max-workers", "--batch-size",
                 "--file-pattern", "--dry-run", "--profile", "--report"):
        assert flag in proc.stdout
    codes = proc.stdout.split("exit codes:", 1)[1]
    for code in (batch.EXIT_SUCCESS, batch.EXIT_BOOKS_FAILED, batch.EXIT_USAGE, batch.EXIT_SNAKEMAKE,
                 batch.EXIT_LOCKED, batch.EXIT_INTERRUPTED):
        assert re.search(rf"^\s+{code}\s+\w", codes, re.MULTILINE), code


def test_on_a_terminal_a_progress_bar_runs_over_the_books(workdir):
    pdf_book(workdir / "in", "river.pdf")
    epub_book(workdir / "in", "meadow.epub")
    main, child = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100"}
    proc = subprocess.Popen([BATCH, "--config", "quiet.yaml", "--input-dir", "in", "--phases", "1", "2", "3"],
                            cwd=workdir, stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child side is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    assert proc.wait(timeout=300) == 0
    screen = ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))
    assert re.search(r"Processing files\.\.\. ━+ +0% \(0/2\) \d:\d\d:\d\d", screen)
    assert re.search(r"Processing files\.\.\. ━+ 100% \(2/2\) \d:\d\d:\d\d", screen)
    assert "Batch Processing Summary" in screen


# ---- pieces, without a workflow run ---------------------------------------------


@pytest.mark.parametrize("value", ["in", "*.epub", "[ab]*.pdf", "books 2024", 7, False])
def test_config_entries_reach_snakemake_as_the_same_value(value):
    """Checked with Snakemake's own --config parser."""
    entry = batch.config_entry("key", value)
    parsed = parse_config([entry])["key"]
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("value", ["my: books", "[x]", "{a}", "'quoted'", "True", "- x", "5"])
def test_values_that_config_would_change_are_not_passed_as_entries(value):
    assert batch.config_entry("key", value) is None


def test_phases_reach_snakemake_as_the_list_the_workflow_coerces():
    assert parse_config([batch.config_entry("phases_to_run", [1, 2, 3])])["phases_to_run"] == ["1", "2", "3"]


def test_flags_map_to_one_snakemake_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("threads_per_book: 2\n")
    ours, passthrough = batch.split_passthrough(
        ["--config", "mine.yaml", "--max-workers", "3", "--no-resume", "--input-dir", "my: books",
         "--", "--config", "log_level=DEBUG", "-p"]
    )
    args = batch.build_parser().parse_args(ours)
    passed = batch.PassedThrough.split(passthrough)
    workflow = batch.find_workflow()
    config = batch.effective_config(args, workflow, passed)
    command = batch.snakemake_command(args, workflow, config, passed, tmp_path)
    assert command[command.index("--cores") + 1] == "6", "3 books at once x 2 threads each"
    # One --configfile and one --config (Snakemake keeps only the last of each); the flags
    # first, what came after -- last.
    spill = tmp_path / "batch-audiobook.config.yaml"
    assert command.count("--configfile") == 1 and command.count("--config") == 1
    at = command.index("--configfile")
    assert command[at + 1:at + 3] == ["mine.yaml", str(spill)]
    assert yaml.safe_load(spill.read_text()) == {"input_dir": "my: books"}
    assert command[command.index("--config") + 1:] == ["resume_enabled=False", "log_level=DEBUG", "-p"]
    assert config["log_level"] == "DEBUG" and config["resume_enabled"] is False
    assert config["input_dir"] == "my: books"


def test_summary_tables_list_every_book_and_the_first_ten_errors():
    files = {f"bad{n:02d}-pdf": {"status": "failed", "duration": 0.5, "error": f"bad{n:02d}.pdf: is empty"}
             for n in range(12)}
    files["good-epub"] = {"status": "success", "duration": 61.0, "audio_seconds": 3725.0, "error": None}
    summary = {"total_files": 13, "successful_files": 1, "partial_files": 0, "failed_files": 12,
               "duration": 90.0, "avg_cpu": 50.0, "status": "partial"}
    console = Console(record=True, width=160)
    for renderable in batch.summary_renderables({"batch": {"summary": summary, "files": files}}):
        console.print(renderable)
    text = console.export_text()
    assert table_row(text, "Duration") == "90.0s (1.5min)"
    for book_id in files:
        assert book_id in text
    assert "1:02:05" in text, "audio length as h:mm:ss"
    errors = text.split("Errors (first 10 of 12)", 1)[1]
    assert "bad09.pdf" in errors and "bad10.pdf" not in errors


def test_book_state_follows_the_files_the_orchestrator_writes(tmp_path):
    since = time.time()
    work = tmp_path / "b-pdf" / "work"
    work.mkdir(parents=True)
    assert read_book_state(tmp_path, "b-pdf", since).state == "waiting"
    (work / "progress.json").write_text(json.dumps({"phase": 2, "name": "extract", "state": "running",
                                                    "time": since - 60}))
    assert read_book_state(tmp_path, "b-pdf", since).state == "waiting", "progress of an earlier run"
    (work / "progress.json").write_text(json.dumps({"phase": 4, "name": "speak", "state": "running",
                                                    "time": since + 1}))
    (work / "speak_progress.json").write_text(json.dumps({"done": 3, "total": 10, "audio_seconds": 9.5}))
    state = read_book_state(tmp_path, "b-pdf", since)
    assert (state.state, state.phase_label()) == ("running", "phase 4 speak")
    assert (state.chunks_done, state.chunks_total) == (3, 10)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "b-pdf.record.json").write_text(json.dumps({"status": "partial", "finished_at": since + 2,
                                                        "duration": 4.0, "error": "b.pdf: no voice"}))
    state = read_book_state(tmp_path, "b-pdf", since)
    assert (state.state, state.error) == ("partial", "b.pdf: no voice")


def test_plain_lines_say_start_and_finish_once_each(tmp_path):
    log = tmp_path / "snakemake.log"
    log.write_text("Job stats:\njob          count\n---------  -------\naudiobook        1\ntotal            2\n")
    since = time.time()
    watcher = BatchWatcher(tmp_path, ["a-pdf", "b-pdf"], since, log)
    out_path = tmp_path / "out.txt"
    with open(out_path, "w") as out:
        lines = PlainLines(out)
        lines.start(watcher)
        lines.update(watcher, watcher.poll())
        (tmp_path / "a-pdf").mkdir()
        (tmp_path / "a-pdf" / "book.json").write_text(json.dumps({"status": "success", "finished_at": since + 1,
                                                                 "duration": 2.5}))
        lines.update(watcher, watcher.poll())
        lines.update(watcher, watcher.poll())
    text = out_path.read_text()
    assert "1 already completed, 1 to make" in text
    assert text.count("[START] a-pdf") == 1 and text.count("[SUCCESS] a-pdf in 2.5s") == 1
    assert watcher.completed == 2 and watcher.total == 2


def test_jobs_to_run_reads_snakemakes_plan():
    assert jobs_to_run("Building DAG of jobs...\n") is None
    assert jobs_to_run("Nothing to be done (all requested files are present and up to date).") == 0
    assert jobs_to_run("job          count\n---------  -------\naggregate        1\naudiobook       12\n") == 12
    assert BookState("x", state="failed").finished


# ---- library export ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dune: Messiah", "Dune - Messiah"),
        ("../../etc/passwd", "-..-etc-passwd"),
        (".hidden", "hidden"),
        ("a\x00b\nc", "ab c"),
        ("CON", "CON_"),
        ("  ", "fallback"),
        (None, "fallback"),
        ("Ünïcødé 書", "Ünïcødé 書"),
    ],
)
def test_safe_name_makes_one_harmless_path_component(text, expected):
    assert safe_name(text, "fallback") == expected


def test_safe_name_limits_length_without_breaking_a_character():
    name = safe_name("書" * 100, "x")
    assert len(name.encode("utf-8")) <= 120
    name.encode("utf-8").decode("utf-8")


def _finished_record(tmp_path: Path, book_id: str, title: str | None, author: str | None) -> dict:
    audio = tmp_path / "results" / book_id / f"{book_id}.m4b"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"not really audio, but the export only moves files " + book_id.encode())
    return {
        "file_id": book_id, "file_name": book_id.replace("-", "."), "status": "success", "outputs": [str(audio)],
        "phases": {"2": {"metrics": {"title": title, "author": author}}},
    }


def test_export_places_books_as_author_title_with_the_cover_and_never_overwrites_a_twin(tmp_path):
    library = tmp_path / "library"
    first = _finished_record(tmp_path, "river-pdf", "River", "Test Author")
    work = tmp_path / "results" / "river-pdf" / "work"
    work.mkdir()
    (work / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n cover")
    manifest = export_book(first, work, library)
    placed = library / "Test Author" / "River" / "River.m4b"
    assert manifest.files == [str(placed)]
    assert os.path.samefile(placed, first["outputs"][0]), "hard link on one file system"
    assert (placed.parent / "cover.png").read_bytes() == (work / "cover.png").read_bytes()
    assert not list(library.rglob("*.part"))

    # The same book again: same place, nothing new.
    assert export_book(first, work, library).folder == manifest.folder
    # Another book with the same author and title keeps its own folder.
    twin = _finished_record(tmp_path, "river-epub", "River", "Test Author")
    other = export_book(twin, tmp_path / "none", library)
    assert other.folder == str(library / "Test Author" / "River (river-epub)")
    assert placed.read_bytes().endswith(b"river-pdf")
    assert (library / "Test Author" / "River" / CLAIM_FILE).read_text().strip() == "river-pdf"

    # A folder someone filled by hand is left alone.
    (library / "Test Author" / "Meadow").mkdir()
    (library / "Test Author" / "Meadow" / "Meadow.m4b").write_bytes(b"the user's own")
    mine = export_book(_finished_record(tmp_path, "meadow-epub", "Meadow", "Test Author"), tmp_path / "none", library)
    assert mine.folder == str(library / "Test Author" / "Meadow (meadow-epub)")
    assert (library / "Test Author" / "Meadow" / "Meadow.m4b").read_bytes() == b"the user's own"

    # Metadata with separators and no author stays inside the library.
    odd = _finished_record(tmp_path, "odd-pdf", "../../Up/Out", None)
    folder = Path(export_book(odd, tmp_path / "none", library).folder)
    assert folder.parent == library / "Unknown Author"
    assert folder.resolve().is_relative_to(library.resolve())


def test_export_refuses_a_book_without_an_audiobook(tmp_path):
    record = {"file_id": "x-pdf", "status": "partial", "outputs": [], "phases": {}}
    with pytest.raises(ExportError, match="phase 5"):
        export_book(record, tmp_path, tmp_path / "library")


@pytest.mark.slow
def test_export_layout_puts_the_finished_audiobook_in_the_library(workdir):
    mutagen = pytest.importorskip("mutagen")
    pdf_book(workdir / "in", "river.pdf", chapters=1, paragraphs=1)
    proc = run(workdir, "--config", "quiet.yaml", "--input-dir", "in", "--",
               "--config", "export_layout=audiobookshelf", "export_dir=library", timeout=900)
    assert proc.returncode == batch.EXIT_SUCCESS, proc.stdout + proc.stderr
    placed = workdir / "library" / "Test Author" / "River" / "River.m4b"
    assert placed.is_file()
    assert mutagen.File(placed).info.length > 1.0
    manifest = json.loads((workdir / "results" / "river-pdf" / "export.json").read_text())
    # The subtitles and the read-along EPUB sit beside the audiobook under its name.
    folder = Path("library") / "Test Author" / "River"
    assert manifest["files"] == [str(folder / name) for name in ("River.m4b", "River.vtt", "River.srt", "River.readalong.epub")]
