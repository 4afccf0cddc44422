"""Smoke tests of the benchmark's building blocks on tiny inputs.

Nothing here asserts a speed: the machine is shared and times drift. The
tests check that each block measures what it says (CPU and memory of a
child, pinning, the same audio on both sides of the phase-4 comparison,
records the aggregator accepts) so that the quick and full modes can run.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from audiobook.bench import (
    REPO,
    BenchError,
    Report,
    Row,
    Sizes,
    Workflow,
    _ordinal_words,
    aggregate_worker,
    clone_records,
    format_table,
    load_records,
    make_book,
    make_one_line_book,
    make_trivial_books,
    pack_lines,
    phases_1_to_3,
    prose,
    raw_page_text,
    read_records_worker,
    report_json,
    run_benchmarks,
    run_checked,
    run_measured,
    run_xargs,
    speak_ours,
    speak_piper,
)
from audiobook.fileio import read_json, write_json
from audiobook.ids import book_id

BUSY_CHILD = """
import time
block = bytearray(80 * 2**20)
for i in range(0, len(block), 4096):
    block[i] = 1  # touch every page, so it is resident
start = time.process_time()
while time.process_time() - start < 0.3:
    pass
"""


def test_run_measured_counts_a_childs_cpu_and_memory(tmp_path: Path) -> None:
    measured = run_measured([sys.executable, "-c", BUSY_CHILD], tmp_path / "child.log")
    assert measured.exit_code == 0
    assert measured.cpu_s >= 0.3
    assert measured.peak_rss_mb >= 80
    assert measured.wall_s >= 0.3
    assert measured.others_cpu_s >= 0


def test_run_measured_pins_the_child_to_the_given_cores(tmp_path: Path) -> None:
    log = tmp_path / "affinity.log"
    run_checked([sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], log, cpus={0})
    assert log.read_text().strip() == "[0]"


def test_a_failing_command_names_its_log(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=re.escape(str(tmp_path / "fail.log"))):
        run_checked([sys.executable, "-c", "raise SystemExit(3)"], tmp_path / "fail.log")


def test_prose_is_reproducible_and_never_repeats_a_sentence() -> None:
    sentences = prose(600, seed=5)
    assert sentences == prose(600, seed=5)
    assert sentences != prose(600, seed=6)
    assert len(set(sentences)) == len(sentences)  # so no chunk is served from the audio cache
    assert sum(len(s.split()) for s in sentences) >= 600
    assert not any(ch.isdigit() for s in sentences for ch in s)
    lines = pack_lines(sentences, max_chars=400)
    assert all(len(line) <= 400 for line in lines)
    assert " ".join(lines) == " ".join(sentences)


def test_ordinals_are_spelled_out() -> None:
    assert [_ordinal_words(n) for n in (1, 12, 20, 42, 100, 101, 230)] == [
        "first", "twelfth", "twentieth", "forty second", "one hundredth", "one hundred and first",
        "two hundred and thirtieth",
    ]  # fmt: skip


def test_trivial_books_are_one_file_under_distinct_ids(tmp_path: Path) -> None:
    template = make_one_line_book(tmp_path / "one.epub")
    books = make_trivial_books(tmp_path / "in", 5, template)
    assert len({book.stat().st_ino for book in books}) == 1
    assert len({book_id(book.name) for book in books}) == 5
    assert make_trivial_books(tmp_path / "in", 5, template) == books  # a second call makes nothing new


def test_phases_1_to_3_read_every_page_the_raw_baseline_reads(tmp_path: Path) -> None:
    pdf = make_book(tmp_path / "book.pdf", 400, seed=2)
    timings = phases_1_to_3(pdf, tmp_path / "work")
    assert timings["pages"] == raw_page_text(pdf) > 1
    assert timings["total"] == pytest.approx(timings["validate"] + timings["extract"] + timings["chunk"])
    assert min(timings["validate"], timings["extract"], timings["chunk"]) > 0


def test_both_sides_of_the_speech_comparison_make_the_same_audio(tmp_path: Path) -> None:
    text = tmp_path / "line.txt"
    text.write_text(" ".join(prose(45, seed=8)) + "\n")  # three sentences: two pauses inside the line
    ours = speak_ours(text, tmp_path / "ours", threads=1, cpus={0})
    theirs = speak_piper(text, tmp_path / "piper.wav", cpus={0}, threads=1)
    assert theirs.audio_s > 8
    # Same pace and pauses; the voice's durations are drawn at random, a few percent apart.
    assert ours.audio_s == pytest.approx(theirs.audio_s, rel=0.05)
    assert ours.measured.cpu_s > 0 and theirs.measured.cpu_s > 0


def test_cloned_records_aggregate_as_separate_successful_books(tmp_path: Path) -> None:
    book = make_one_line_book(tmp_path / "in" / "one.epub")
    run_xargs([book], tmp_path / "real", [1, 2, 3], tmp_path / "xargs.log")
    (record,) = load_records(tmp_path / "real", [book])
    books = clone_records(record, tmp_path / "agg" / "results", 25)
    write_json(tmp_path / "agg" / "books.json", books)
    read_records_worker(tmp_path / "agg" / "results", tmp_path / "agg" / "books.json", tmp_path / "agg" / "read.json")
    aggregate_worker(tmp_path / "agg" / "results", tmp_path / "agg" / "books.json", tmp_path / "agg" / "result.json")
    pipeline = read_json(tmp_path / "agg" / "pipeline.json")
    assert pipeline["batch"]["summary"]["successful_files"] == 25
    assert sorted(pipeline["batch"]["files"]) == sorted(ident for ident, _, _ in books)
    assert all(f["ran_this_run"] for f in pipeline["batch"]["files"].values())
    assert set(read_json(tmp_path / "agg" / "result.json")) == {"aggregate_s"}
    assert read_json(tmp_path / "agg" / "read.json")["read_s"] > 0


def test_the_dry_run_plans_every_book(tmp_path: Path) -> None:
    template = make_one_line_book(tmp_path / "one.epub")
    make_trivial_books(tmp_path / "run" / "in", 3, template)
    command = Workflow(REPO / "Snakefile").command(tmp_path / "run", [1, 2, 3], "-n")
    run_checked(command, tmp_path / "dry.log")
    assert re.search(r"^audiobook\s+3$", (tmp_path / "dry.log").read_text(), re.MULTILINE)
    assert not (tmp_path / "run" / "results").exists()


def test_the_table_shows_each_ratio_and_each_missed_goal() -> None:
    report = Report(Sizes("test", 1, 1, (1,), (1,), 1, 1, 0, 1, 2, 1, 1, False))
    report.add(Row("2", "batch wall time", 12.0, "s", 10.0, "xargs -P 2", 1.2, "≤ 1.05", False, note="a note"))
    report.add(Row("1a", "speech", 9.5, "audio s/s", 10.0, "piper command", 0.95, "≥ 0.95", True))
    table = format_table(report)
    lines = table.splitlines()
    assert lines[2].startswith("1a") and lines[3].startswith("2")  # items in the order
    assert re.search(r"12\.0 s\s+10\.0 \(xargs -P 2\)\s+1\.2\s+≤ 1\.05\s+NO$", lines[3])
    assert "(a note)" in lines[4]
    assert json.dumps(report_json(report, "bench", {}))


@pytest.mark.slow
def test_a_tiny_benchmark_prints_every_item(tmp_path: Path) -> None:
    tiny = Sizes(
        mode="tiny", reps=1, speech_words=20, speech_threads=(1,), batch_words=(20, 40), batch_reps=1,
        trivial_books=3, lever_books=0, dry_small=2, dry_large=4, aggregate_records=10, engine_words=20,
        shipped_piper=True, dashboard_books=20, dashboard_window_s=2.0, ocr_words=100,
    )  # fmt: skip
    pdf = make_book(tmp_path / "book.pdf", 300, seed=4)
    report = run_benchmarks(tiny, tmp_path / "work", Workflow(REPO / "Snakefile"), pdf)
    assert {row.item for row in report.rows} == {"1a", "1b", "2", "3", "4", "5", "6", "12", "24"}
    assert all(row.ratio is not None for row in report.rows if row.baseline is not None)
    assert os.path.getsize(tmp_path / "work" / "batch" / "workflow-0" / "pipeline.json") > 0
    assert json.dumps(report_json(report, "bench", {}))


def test_the_scheduler_passes_grow_with_the_books_not_their_square(tmp_path: Path) -> None:
    # Snakemake's scheduler left alone wakes itself once a second for every
    # book finished so far (audiobook.snakemake_scale): a pass per book and one
    # wake-up per second is all a batch may cost, however long it runs.
    template = make_one_line_book(tmp_path / "one.epub")
    books = 40
    make_trivial_books(tmp_path / "run" / "in", books, template)
    command = Workflow(REPO / "Snakefile").command(tmp_path / "run", [1, 2, 3], "--verbose", config=["cpu_threshold=100"])
    run = run_checked(command, tmp_path / "run.log")
    passes = len(re.findall(r"^Ready (?:subsampled )?jobs", (tmp_path / "run.log").read_text(), re.MULTILINE))
    assert books <= passes <= 2 * books + run.wall_s + 5, (passes, run.wall_s)
