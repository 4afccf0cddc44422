"""Phase 6: the orchestrator command, run as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audiobook import errors
from books import empty_book, epub_book, not_a_book, pdf_book

ORCHESTRATOR = [sys.executable, "-m", "audiobook.orchestrator"]

RECORD_KEYS = {
    "file_id", "source", "file_name", "sha256", "phases_requested", "status", "exit_code", "error",
    "error_kind", "phases", "phases_completed", "outputs", "started_at", "finished_at", "duration",
    "cpu_seconds", "peak_rss_mb", "engine_version", "record_version",
}
PHASE_KEYS = {"status", "duration", "attempts", "reused", "error", "metrics", "output"}


def orchestrate(book: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict | None]:
    record_path = out / "book.json"
    proc = subprocess.run(
        [*ORCHESTRATOR, str(book), f"--pipeline-json={record_path}", *args],
        capture_output=True, text=True, timeout=300,
    )
    record = json.loads(record_path.read_text()) if record_path.exists() else None
    return proc, record


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "[ERROR]" in line]


def test_good_pdf_runs_phases_1_to_3_and_writes_a_complete_record(tmp_path):
    book = pdf_book(tmp_path, "mill.pdf", chapters=3)
    proc, record = orchestrate(book, tmp_path / "out", "--phases", "1", "2", "3")
    assert proc.returncode == 0, proc.stderr
    assert set(record) == RECORD_KEYS
    assert record["status"] == "success" and record["phases_completed"] == [1, 2, 3]
    assert record["file_id"] == "mill-pdf"
    for phase in ("1", "2", "3"):
        assert set(record["phases"][phase]) == PHASE_KEYS
        assert record["phases"][phase]["status"] == "success"
        assert record["phases"][phase]["attempts"] == 1
    assert record["phases"]["4"]["status"] == "skipped"
    assert record["phases"]["2"]["metrics"]["chapters"] == 3
    assert record["phases"]["3"]["metrics"]["chunks"] > 3
    chunks = (tmp_path / "out" / "work" / "chunks.jsonl").read_text().splitlines()
    assert len(chunks) == record["phases"]["3"]["metrics"]["chunks"]
    assert {"chapter", "chapter_title", "text"} <= set(json.loads(chunks[0]))


@pytest.mark.parametrize(
    ("maker", "name", "code", "words"),
    [
        (empty_book, "empty.pdf", errors.EXIT_EMPTY, "empty"),
        (not_a_book, "note.epub", errors.EXIT_NOT_A_BOOK, "neither a PDF nor an EPUB"),
    ],
)
def test_bad_input_fails_in_phase_1_with_one_line(tmp_path, maker, name, code, words):
    book = maker(tmp_path, name)
    proc, record = orchestrate(book, tmp_path / "out", "--phases", "1", "2", "3")
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr
    [line] = error_lines(proc.stderr)
    assert name in line and words in line
    assert record["status"] == "failed" and record["phases_completed"] == []
    assert record["phases"]["1"]["status"] == "failed"
    assert record["error"] == line.split("[ERROR] ", 1)[1]
    assert not (tmp_path / "out" / "work" / "phase1-validate.json").exists()


CORPUS_REFUSALS = [
    ("derived_zero_byte.pdf", errors.EXIT_EMPTY),
    ("invalid_header_only.pdf", errors.EXIT_CORRUPT),
    ("derived_robin_hood_truncated_60pct.pdf", errors.EXIT_CORRUPT),
    ("encrypted_userpw_openpassword.pdf", errors.EXIT_ENCRYPTED),
    ("scanned_image_only_huck_finn_p22.pdf", errors.EXIT_NO_TEXT),
    ("type3_font_no_tounicode.pdf", errors.EXIT_GARBLED_TEXT),
    ("kb_epub2_adept_encrypted_content.epub", errors.EXIT_DRM),
]


@pytest.mark.parametrize(("name", "code"), CORPUS_REFUSALS)
def test_corpus_refusals_have_their_own_exit_code_and_one_line(corpus, tmp_path, name, code):
    # With OCR off, as before OCR: the scan and the glyph codes are refused, each with its own code.
    proc, record = orchestrate(corpus / name, tmp_path / "out", "--phases", "1", "2", "3", "--settings-json", '{"ocr": "never"}')
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = error_lines(proc.stderr)
    assert line.split("[ERROR] ", 1)[1].startswith(f"{name}: ")
    assert record["status"] == "failed" and record["phases_completed"] == []
    assert not list((tmp_path / "out" / "work").glob("phase*.json")), "nothing may look finished"


def test_password_from_config_opens_an_encrypted_pdf(corpus, tmp_path):
    name = "encrypted_userpw_openpassword.pdf"
    settings = {"passwords": {name: "openpassword"}}
    proc, record = orchestrate(corpus / name, tmp_path / "out", "--phases", "1", "--settings-json", json.dumps(settings))
    # Its text is "Lorem ipsum", which reads as Latin: opened, then refused for want of a Latin voice.
    assert proc.returncode == errors.EXIT_NO_VOICE, proc.stderr
    assert record["phases"]["1"]["metrics"]["encrypted"] is True
    assert record["phases"]["1"]["metrics"]["language_detected"] == "la"
    settings["read_any_language"] = True
    proc, record = orchestrate(corpus / name, tmp_path / "out", "--phases", "1", "--settings-json", json.dumps(settings))
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", ["idpf_wasteland_font_obfuscation.epub", "corrupted_zlib_stream.pdf"])
def test_tricky_but_readable_corpus_books_pass(corpus, tmp_path, name):
    proc, record = orchestrate(corpus / name, tmp_path / "out", "--phases", "1", "2", "3")
    assert proc.returncode == 0, proc.stderr
    assert record["phases"]["3"]["metrics"]["chunks"] > 0


def test_damage_is_noted_in_the_record(corpus, tmp_path):
    _, record = orchestrate(corpus / "corrupted_zlib_stream.pdf", tmp_path / "out", "--phases", "1")
    assert record["phases"]["1"]["metrics"]["damage"], "the recovered damage must be recorded"


def test_checkpoints_are_reused_and_invalidated_by_their_own_settings(tmp_path):
    book = epub_book(tmp_path, "mill.epub", chapters=2, paragraphs=4)
    out = tmp_path / "out"
    proc, first = orchestrate(book, out, "--phases", "1", "2", "3")
    assert proc.returncode == 0, proc.stderr
    assert not any(first["phases"][p]["reused"] for p in "123")

    _, again = orchestrate(book, out, "--phases", "1", "2", "3")
    assert all(again["phases"][p]["reused"] for p in "123")
    assert again["phases"]["3"]["metrics"] == first["phases"]["3"]["metrics"]

    smaller = json.dumps({"chunk_max_chars": 120})
    _, changed = orchestrate(book, out, "--phases", "1", "2", "3", "--settings-json", smaller)
    assert changed["phases"]["1"]["reused"] and changed["phases"]["2"]["reused"]
    assert not changed["phases"]["3"]["reused"]
    assert changed["phases"]["3"]["metrics"]["chunks"] > first["phases"]["3"]["metrics"]["chunks"]

    _, forced = orchestrate(book, out, "--phases", "1", "2", "3", "--no-resume", "--settings-json", smaller)
    assert not any(forced["phases"][p]["reused"] for p in "123")


def test_a_changed_book_invalidates_every_checkpoint(tmp_path):
    book = pdf_book(tmp_path, "mill.pdf")
    out = tmp_path / "out"
    orchestrate(book, out, "--phases", "1", "2", "3")
    pdf_book(tmp_path, "mill.pdf", chapters=3)  # same name, new content
    _, record = orchestrate(book, out, "--phases", "1", "2", "3")
    assert not any(record["phases"][p]["reused"] for p in "123")
    assert record["phases"]["2"]["metrics"]["chapters"] == 3


def test_later_phases_alone_need_earlier_checkpoints(tmp_path):
    book = pdf_book(tmp_path, "mill.pdf")
    out = tmp_path / "out"
    proc, record = orchestrate(book, out, "--phases", "3")
    assert proc.returncode == errors.EXIT_FAILED
    assert "phase 1 (validate) has no up-to-date checkpoint" in record["error"]
    assert "--phases 1" in record["error"]

    orchestrate(book, out, "--phases", "1", "2")
    proc, record = orchestrate(book, out, "--phases", "3")
    assert proc.returncode == 0, proc.stderr
    assert record["phases_completed"] == [3]


def test_bad_settings_are_a_usage_error(tmp_path):
    book = pdf_book(tmp_path, "mill.pdf")
    proc, record = orchestrate(book, tmp_path / "out", "--settings-json", '{"no_such_setting": 1}')
    assert proc.returncode == errors.EXIT_USAGE
    assert "no_such_setting" in proc.stderr and "Traceback" not in proc.stderr
    assert record is None


def test_missing_book_is_reported_in_the_record(tmp_path):
    proc, record = orchestrate(tmp_path / "nowhere.pdf", tmp_path / "out", "--phases", "1")
    assert proc.returncode == errors.EXIT_NOT_A_BOOK
    assert record["status"] == "failed" and "nowhere.pdf" in record["error"]
