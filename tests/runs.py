"""Real batches for the history, notice and dashboard tests: small books, one of them failing."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from books import empty_book, epub_book, pdf_book

BIN = Path(sys.executable).parent
BATCH = str(BIN / "batch-audiobook")
GATE = Path(__file__).resolve().parent / "gate_orchestrator.py"
GOOD_IDS = ["meadow-epub", "river-pdf"]
FAILING_ID = "blank-pdf"
BOOK_IDS = sorted([*GOOD_IDS, FAILING_ID])


def make_folder(workdir: Path, gated: bool = False, **settings) -> Path:
    """Three books (one empty, so phase 1 refuses it) and a config that never throttles."""
    books = workdir / "in"
    books.mkdir(exist_ok=True)
    pdf_book(books, "river.pdf")
    epub_book(books, "meadow.epub")
    empty_book(books, "blank.pdf")
    config = {"cpu_threshold": 100, "throttle_delay": 0.1, "throttle_max_wait": 0, "input_dir": "in",
              "phases_to_run": [1, 2, 3], **settings}
    if gated:
        config["orchestrator"] = f"{sys.executable} {GATE} {BIN / 'audiobook-orchestrator'}"
    (workdir / "test.yaml").write_text(yaml.safe_dump(config))
    return workdir


def batch_args() -> list[str]:
    return [BATCH, "--config", "test.yaml", "--max-workers", "2"]


def run_batch(workdir: Path, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(batch_args(), cwd=workdir, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def start_batch(workdir: Path, gate: Path) -> subprocess.Popen:
    """A batch in its own process group, its books held at ``gate`` until the test opens it."""
    gate.mkdir(exist_ok=True)
    return subprocess.Popen(batch_args(), cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "AUDIOBOOK_TEST_GATE": str(gate)})


def wait_for(predicate, what: str, seconds: float = 120) -> None:
    """Wait for something the batch does; the limit only stops a broken test from hanging."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def skips_then_starts(log: str) -> tuple[list[str], list[str]]:
    """The books of a batch.log's [SKIP] lines and [START] lines; fails unless every [SKIP] comes first."""
    tags = [(match[1], match[2]) for match in re.finditer(r"\[(SKIP|START)\] (\S+)", log)]
    skips = [book for tag, book in tags if tag == "SKIP"]
    assert [tag for tag, _ in tags] == ["SKIP"] * len(skips) + ["START"] * (len(tags) - len(skips)), log
    assert all(f"[SKIP] {book} already completed" in log for book in skips), log
    return sorted(skips), sorted(book for tag, book in tags if tag == "START")


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
