"""Phase 7: real Snakemake runs of the workflow in temporary folders."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from audiobook import history
from audiobook.ids import book_id
from books import empty_book, epub_book, not_a_book, pdf_book
from gates import Gates
from runs import skips_then_starts

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def snakemake(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True, text=True, timeout=timeout,
    )


def started(workdir: Path) -> list[str]:
    """Book ids with a [START] line in the batch log, in order."""
    log = workdir / "batch.log"
    if not log.exists():
        return []
    return [line.split("[START] ", 1)[1].strip() for line in log.read_text().splitlines() if "[START] " in line]


@pytest.fixture
def mixed_batch(tmp_path: Path) -> Path:
    books = tmp_path / "in"
    books.mkdir()
    pdf_book(books, "river.pdf")
    epub_book(books, "river.epub")  # same stem, different book
    epub_book(books, "meadow.epub", version=2)
    empty_book(books, "blank.pdf")
    not_a_book(books, "letter.epub")
    (books / "notes.txt").write_text("not a book, not discovered")
    return tmp_path


def test_mixed_batch_counts_reasons_report_and_rerun_of_failures_only(mixed_batch):
    work = mixed_batch
    proc = snakemake(work, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]")
    assert proc.returncode != 0, "a failed book makes the run fail"
    pipeline = json.loads((work / "pipeline.json").read_text())
    summary = pipeline["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"], summary["failed_files"]) == (5, 3, 2)
    assert summary["status"] == "partial"
    files = pipeline["batch"]["files"]
    assert set(files) == {"river-pdf", "river-epub", "meadow-epub", "blank-pdf", "letter-epub"}
    assert files["blank-pdf"]["error"].startswith("blank.pdf: is empty")
    assert "neither a PDF nor an EPUB" in files["letter-epub"]["error"]
    for failed in ("blank-pdf", "letter-epub"):
        assert "\n" not in files[failed]["error"]
    assert pipeline["phase3"]["files"].keys() == {"river-pdf", "river-epub", "meadow-epub"}
    assert pipeline["phase1"]["status"] == "partial"

    report = pd.read_csv(work / "results" / "report.csv")
    assert sorted(report["id"]) == sorted(files)
    assert (work / "results" / "report.html").read_text().count("<tr>") >= 6

    log = (work / "batch.log").read_text()
    assert "Found 5 files to process" in log
    assert "[SUCCESS] river-pdf in " in log and "[FAIL] blank-pdf: blank.pdf: is empty" in log
    assert sorted(started(work)) == sorted(files)

    # The next run retries only the two failed books.
    (work / "batch.log").unlink()
    proc = snakemake(work, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]")
    assert sorted(started(work)) == ["blank-pdf", "letter-epub"]
    log = (work / "batch.log").read_text()
    assert skips_then_starts(log) == (["meadow-epub", "river-epub", "river-pdf"], ["blank-pdf", "letter-epub"])
    assert json.loads((work / "pipeline.json").read_text())["batch"]["summary"]["skipped_files"] == 3


def test_finished_batch_does_nothing_next_time_and_resume_false_redoes_all(tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    pdf_book(books, "river.pdf")
    epub_book(books, "meadow.epub")
    proc = snakemake(tmp_path, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "pipeline.json").read_text())["batch"]["summary"]
    assert summary["status"] == "success" and summary["successful_files"] == 2
    before = (tmp_path / "pipeline.json").stat().st_mtime_ns

    proc = snakemake(tmp_path, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stderr
    assert (tmp_path / "pipeline.json").stat().st_mtime_ns == before
    # Still a run to the people who read batch.log and the history: every book skipped, none started.
    second = (tmp_path / "batch.log").read_text().split("Found 2 files to process")[2]
    assert skips_then_starts(second) == (["meadow-epub", "river-pdf"], [])
    runs = history.list_runs(tmp_path / "results")
    assert [(run["outcome"], run["skipped"]) for run in runs] == [(history.NOTHING_TO_DO, 2), ("success", 0)]
    # A dry run is no run: nothing more in either.
    logged = (tmp_path / "batch.log").read_text()
    assert snakemake(tmp_path, "-n", "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]").returncode == 0
    assert (tmp_path / "batch.log").read_text() == logged and len(history.list_runs(tmp_path / "results")) == 2

    # resume_enabled: false changes the rule's params, a rerun trigger: every book runs again.
    (tmp_path / "batch.log").unlink()
    proc = snakemake(
        tmp_path, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]", "resume_enabled=false"
    )
    assert proc.returncode == 0, proc.stderr
    assert sorted(started(tmp_path)) == ["meadow-epub", "river-pdf"]
    record = json.loads((tmp_path / "results" / "river-pdf" / "book.json").read_text())
    assert not record["phases"]["1"]["reused"], "resume_enabled: false ignores checkpoints"


def test_dry_run_lists_one_job_per_pending_book_and_writes_nothing(tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    for name in ("a.pdf", "b.pdf", "c.epub"):
        (pdf_book if name.endswith("pdf") else epub_book)(books, name)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = snakemake(tmp_path, "-n", "--cores", "2", "--config", "input_dir=in")
    assert proc.returncode == 0, proc.stderr
    assert "audiobook        3" in proc.stdout + proc.stderr
    assert "aggregate        1" in proc.stdout + proc.stderr
    after = sorted(
        p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".snakemake" not in p.relative_to(tmp_path).parts
    )
    assert after == before, "a dry run writes no results, records, logs or pipeline.json"


HOSTILE_NAMES = [
    "$(touch PWNED).pdf",
    "`touch PWNED`.epub",
    "quote's \"double\".pdf",
    "semi;colon & amp.pdf",
    "spaces in name.epub",
    "{braces}.pdf",
    "{book}.epub",
    "-leading-dash.pdf",
    "ünïcødé 書.pdf",
    "x.PDF",
]


def test_hostile_file_names_are_books_like_any_other_and_run_nothing(tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    for name in HOSTILE_NAMES:
        (pdf_book if name.lower().endswith("pdf") else epub_book)(books, name)
    proc = snakemake(tmp_path, "--cores", "2", "--config", "input_dir=in", "phases_to_run=[1,2,3]")
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = json.loads((tmp_path / "pipeline.json").read_text())["batch"]["files"]
    assert set(files) == {book_id(name) for name in HOSTILE_NAMES}
    assert all(entry["status"] == "success" for entry in files.values())
    assert {entry["file_name"] for entry in files.values()} == set(HOSTILE_NAMES)
    for root in (tmp_path, REPO, Path.cwd(), Path.home()):
        assert not (root / "PWNED").exists()
    assert not list(tmp_path.rglob("PWNED"))


def test_a_wrong_config_value_stops_the_run_with_one_line(tmp_path):
    (tmp_path / "in").mkdir()
    proc = snakemake(tmp_path, "-n", "--cores", "1", "--config", "input_dir=in", "cpu_threshold=150")
    assert proc.returncode != 0
    lines = [line for line in proc.stderr.splitlines() if line.startswith("config:")]
    assert lines == ["config: cpu_threshold: 150 is greater than the maximum of 100 (allowed values: schemas/config.schema.yaml)"]
    assert "Traceback" not in proc.stderr


def test_file_pattern_and_batch_size_narrow_the_batch_in_name_order(tmp_path):
    books = tmp_path / "in"
    books.mkdir()
    for name in ("b-river.pdf", "a-river.pdf", "c-river.epub", "meadow.pdf", "Z-RIVER.Pdf"):
        (epub_book if name.endswith(".epub") else pdf_book)(books, name)
    proc = snakemake(
        tmp_path, "-n", "--cores", "1", "--config", "input_dir=in", "file_pattern=*river*", "batch_size=2"
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "audiobook        2" in out
    assert "a-river-pdf" in out and "b-river-pdf" in out
    assert "c-river" not in out and "meadow" not in out


THROTTLE = [sys.executable, str(REPO / "scripts" / "throttle.py")]


def throttle_lines(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "for the CPU" in line]


def test_throttle_starts_at_once_when_the_machine_is_idle(tmp_path):
    log = tmp_path / "batch.log"
    # A shared machine is never reliably idle: the test says how busy it is.
    env = {**os.environ, "AUDIOBOOK_TEST_OTHERS_CPU": "10"}
    began = time.monotonic()
    proc = subprocess.run(
        [*THROTTLE, "--book-id", "b1", "--batch-log", str(log), "--cpu-threshold", "50", "--max-wait", "600",
         "--", sys.executable, "-c", "print('ran')"],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ran"
    assert throttle_lines(log) == []
    assert "[START] b1" in log.read_text()
    assert time.monotonic() - began < 300, "it did not wait out its max-wait"


def test_throttle_holds_a_book_back_while_a_real_cpu_load_runs_and_says_so_twice(tmp_path):
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)
    ]
    try:
        log = tmp_path / "batch.log"
        began = time.monotonic()
        proc = subprocess.run(
            [*THROTTLE, "--book-id", "b2", "--batch-log", str(log), "--cpu-threshold", "50", "--delay", "0.1",
             "--max-wait", "3", "--", sys.executable, "-c", "print('ran')"],
            capture_output=True, text=True, timeout=600,
        )
        waited = time.monotonic() - began
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    assert proc.returncode == 0 and proc.stdout.strip() == "ran", "the wait is bounded: the book still starts"
    # About ten checks in three seconds, and two lines: when the wait starts and when it ends.
    lines = throttle_lines(log)
    assert len(lines) == 2, lines
    assert "[WARNING] b2: other work uses " in lines[0] and "% of the CPU (> 50 %); waiting for the CPU, at most 3 s" in lines[0]
    assert re.search(r"\[INFO\] b2: waited 3\.\d s for the CPU \(others used \d+ %\); starting anyway$", lines[1]), lines[1]
    assert "[START] b2" in log.read_text().splitlines()[-1]
    assert waited >= 3.0


def test_throttle_takes_a_sample_another_book_took_this_second_and_only_then(tmp_path):
    # The test says how busy the machine is (10 %); the shared file says 99 %.
    log = tmp_path / "batch.log"
    shared = tmp_path / ".cpu-sample"
    env = {**os.environ, "AUDIOBOOK_TEST_OTHERS_CPU": "10"}
    command = [*THROTTLE, "--book-id", "b5", "--batch-log", str(log), "--cpu-threshold", "50", "--delay", "0.1",
               "--max-wait", "600", "--shared-sample", str(shared), "--", sys.executable, "-c", "print('ran')"]

    shared.write_text("99.0")  # fresh: another book measured 99 % just now, so this one waits
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ran"
    lines = throttle_lines(log)
    assert len(lines) == 2 and "other work uses 99 % of the CPU" in lines[0], lines
    assert shared.read_text() == "10.0", "its own samples while it waited are shared in turn"

    log.unlink()
    shared.write_text("99.0")
    stale = time.time() - 10
    os.utime(shared, (stale, stale))  # ten seconds old: measured again, idle, no wait
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0 and throttle_lines(log) == []
    assert shared.read_text() == "10.0"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_throttle_runs_this_projects_orchestrator_in_its_own_process(tmp_path):
    book = pdf_book(tmp_path, "river.pdf", chapters=1, paragraphs=1)
    gates = Gates(tmp_path / "gates")
    gates.hold("river-pdf", "phase1")
    orchestrator = str(Path(sys.executable).parent / "audiobook-orchestrator")
    proc = subprocess.Popen(
        [*THROTTLE, "--book-id", "river-pdf", "--cpu-threshold", "100", "--", orchestrator, str(book),
         f"--pipeline-json={tmp_path / 'out' / 'book.json'}", "--phases", "1"],
        env=gates.env(dict(os.environ)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        gates.wait("river-pdf", "phase1", proc)
        # At phase 1 the book is running: in the throttle's own interpreter, with no child.
        process = psutil.Process(proc.pid)
        assert any(part.endswith("throttle.py") for part in process.cmdline()), process.cmdline()
        assert process.children() == []
    finally:
        gates.open("river-pdf", "phase1")
        output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, output
    assert json.loads((tmp_path / "out" / "book.json").read_text())["status"] == "success"

    # Any other orchestrator is exec'd: it keeps the contract of a plain command.
    proc = subprocess.run(
        [*THROTTLE, "--book-id", "b4", "--cpu-threshold", "100", "--", sys.executable, "-c",
         "import os, sys; print(os.path.basename(sys.argv[0])); sys.exit(7)", "arg"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 7 and proc.stdout.strip() == "-c"


def test_throttle_reports_a_missing_orchestrator_in_one_line(tmp_path):
    log = tmp_path / "batch.log"
    proc = subprocess.run(
        [*THROTTLE, "--book-id", "b3", "--batch-log", str(log), "--cpu-threshold", "100", "--",
         str(tmp_path / "no-such-orchestrator"), "book.pdf"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 127
    assert "[FAIL] b3: cannot start the orchestrator" in log.read_text()
    assert "Traceback" not in proc.stderr
