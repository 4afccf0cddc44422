"""Live progress of a batch, read from the files each book writes as it runs.

The front end does not talk to the books: it polls, about once a second, what
the orchestrator already leaves on disk (``results/<id>/work/progress.json``,
``speak_progress.json`` in phase 4, and the record, written last) and what
Snakemake says in its log (how many books it will make). So it works the same
for local runs and cluster runs on a shared file system.

Two displays: a Rich progress bar with a line per running book when stdout is
a terminal, and plain ``[START]``/``[SUCCESS]``/``[FAIL]`` lines otherwise.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from .fileio import read_json

PHASE_NAMES = {1: "validate", 2: "extract", 3: "chunk", 4: "speak", 5: "master"}
FINISHED = ("success", "partial", "failed")
# Snakemake's "Job stats" table: one line per rule with its job count.
_JOB_COUNT = re.compile(r"^audiobook\s+(\d+)\s*$", re.MULTILINE)
NOTHING_TO_DO = "Nothing to be done"


@dataclass
class BookState:
    """What one book is doing now, as far as its files tell."""

    id: str
    state: str = "waiting"  # waiting, running, success, partial, failed
    phase: int | None = None
    chunks_done: int | None = None
    chunks_total: int | None = None
    ocr_done: int | None = None  # pages read by OCR so far (phase 1 of a scanned book)
    ocr_total: int | None = None
    duration: float | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def phase_label(self) -> str:
        if self.phase is None:
            return "starting"
        return f"phase {self.phase} {PHASE_NAMES.get(self.phase, '')}".rstrip()


def _read_fresh(path: Path, since: float, stamp_key: str | None) -> dict[str, Any] | None:
    """A JSON file written during this run (by its time field, or else its mtime); None otherwise."""
    try:
        if stamp_key is None and path.stat().st_mtime < since:
            return None
        data = read_json(path)
    except (OSError, ValueError):
        return None  # absent, or caught between writes of another file system
    if not isinstance(data, dict):
        return None
    if stamp_key is not None and (data.get(stamp_key) or 0) < since:
        return None
    return data


def read_book_state(results_dir: Path, book_id: str, since: float) -> BookState:
    """The state of one book from what it wrote after ``since`` (a time.time())."""
    book = BookState(book_id)
    for record_path in (results_dir / book_id / "book.json", results_dir / "logs" / f"{book_id}.record.json"):
        record = _read_fresh(record_path, since, "finished_at")
        if record is not None:
            book.state = record.get("status") if record.get("status") in FINISHED else "failed"
            book.duration = record.get("duration")
            book.error = record.get("error")
            return book
    work = results_dir / book_id / "work"
    progress = _read_fresh(work / "progress.json", since, "time")
    if progress is None:
        return book
    book.state = "running"
    book.phase = progress.get("phase")
    if book.phase == 4:
        speech = _read_fresh(work / "speak_progress.json", since, None)
        if speech is not None:
            book.chunks_done, book.chunks_total = speech.get("done"), speech.get("total")
    elif book.phase == 1:  # a scanned book spends phase 1 reading its pages by OCR
        ocr = _read_fresh(work / "ocr_progress.json", since, "time")
        if ocr is not None:
            book.ocr_done, book.ocr_total = ocr.get("done"), ocr.get("total")
    return book


def jobs_to_run(snakemake_log: str) -> int | None:
    """How many books Snakemake will make, from its log; None while it has not said."""
    match = _JOB_COUNT.search(snakemake_log)
    if match:
        return int(match.group(1))
    if NOTHING_TO_DO in snakemake_log:
        return 0
    return None


class BatchWatcher:
    """Polls every book's files and the Snakemake log; reports what changed."""

    def __init__(self, results_dir: Path, book_ids: list[str], since: float, snakemake_log: Path) -> None:
        self.results_dir = results_dir
        self.since = since
        self.snakemake_log = snakemake_log
        self.books = {book_id: BookState(book_id) for book_id in book_ids}
        self.to_run: int | None = None  # books Snakemake will make this run

    @property
    def total(self) -> int:
        return len(self.books)

    @property
    def already_done(self) -> int:
        """Books Snakemake keeps from an earlier run (known once it has said how many it makes)."""
        return max(self.total - self.to_run, 0) if self.to_run is not None else 0

    @property
    def finished_now(self) -> int:
        return sum(1 for book in self.books.values() if book.finished)

    @property
    def completed(self) -> int:
        return min(self.already_done + self.finished_now, self.total)

    def running(self) -> list[BookState]:
        return [book for book in self.books.values() if book.state == "running"]

    def poll(self) -> list[tuple[BookState, str]]:
        """Re-read every unfinished book; return (book, "start" | "finish") for each change."""
        if self.to_run is None:
            try:
                self.to_run = jobs_to_run(self.snakemake_log.read_text(errors="replace"))
            except OSError:
                pass
        changes = []
        for book_id, old in self.books.items():
            if old.finished:
                continue
            new = read_book_state(self.results_dir, book_id, self.since)
            if new.state == "waiting" and old.state == "running":
                new.state, new.phase = old.state, old.phase  # progress file between writes
            if old.state == "waiting" and new.state != "waiting":
                changes.append((new, "start"))
            if new.finished:
                changes.append((new, "finish"))
            self.books[book_id] = new
        return changes


class ProgressDisplay(Protocol):
    def start(self, watcher: BatchWatcher) -> None: ...
    def update(self, watcher: BatchWatcher, changes: list[tuple[BookState, str]]) -> None: ...
    def stop(self, watcher: BatchWatcher) -> None: ...


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def finish_line(book: BookState) -> str:
    """The seed's log line for a finished book."""
    took = f" in {book.duration:.1f}s" if book.duration is not None else ""
    if book.state == "success":
        return f"[SUCCESS] {book.id}{took}"
    tag = "PARTIAL" if book.state == "partial" else "FAIL"
    return f"[{tag}] {book.id}{took}: {book.error or 'no reason recorded; see results/logs/' + book.id + '.log'}"


class PlainLines:
    """One line per book start and finish, for logs and pipes."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._told_plan = False

    def _line(self, text: str) -> None:
        self.stream.write(f"[{_stamp()}] {text}\n")
        self.stream.flush()

    def start(self, watcher: BatchWatcher) -> None:
        self._line(f"[INFO] Found {watcher.total} files to process")

    def update(self, watcher: BatchWatcher, changes: list[tuple[BookState, str]]) -> None:
        if not self._told_plan and watcher.to_run is not None:
            self._told_plan = True
            if watcher.already_done:
                self._line(f"[INFO] {watcher.already_done} already completed, {watcher.to_run} to make")
        for book, change in changes:
            self._line(f"[START] {book.id}" if change == "start" else finish_line(book))

    def stop(self, watcher: BatchWatcher) -> None:
        pass


class RichBar:
    """A Rich progress bar over books, and a line per running book with its phase and chunks."""

    def __init__(self, console: Any) -> None:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.batch_task: Any = None
        self.book_tasks: dict[str, Any] = {}

    def start(self, watcher: BatchWatcher) -> None:
        self.progress.start()
        self.batch_task = self.progress.add_task(
            "Processing files...", total=watcher.total, count=f"(0/{watcher.total})"
        )

    def update(self, watcher: BatchWatcher, changes: list[tuple[BookState, str]]) -> None:
        for book, change in changes:
            if change == "finish":
                colour = {"success": "green", "partial": "yellow"}.get(book.state, "red")
                self.progress.console.print(finish_line(book), style=colour, markup=False, highlight=False)
        self.progress.update(
            self.batch_task, completed=watcher.completed, count=f"({watcher.completed}/{watcher.total})"
        )
        running = {book.id: book for book in watcher.running()}
        for book_id in [b for b in self.book_tasks if b not in running]:
            self.progress.remove_task(self.book_tasks.pop(book_id))
        for book_id, book in running.items():
            described = f"  {book_id}: {book.phase_label()}"
            total = book.chunks_total if book.phase == 4 and book.chunks_total else None
            count = f"{book.chunks_done}/{total} chunks" if total else ""
            if book.phase == 1 and book.ocr_total:
                count = f"OCR page {book.ocr_done}/{book.ocr_total}"
            if book_id not in self.book_tasks:
                self.book_tasks[book_id] = self.progress.add_task(described, total=total, count=count)
            self.progress.update(
                self.book_tasks[book_id], description=described, total=total,
                completed=book.chunks_done or 0, count=count,
            )

    def stop(self, watcher: BatchWatcher) -> None:
        for task in self.book_tasks.values():
            self.progress.remove_task(task)
        self.book_tasks.clear()
        self.progress.stop()


def watch(
    watcher: BatchWatcher,
    display: ProgressDisplay,
    ended_within: Callable[[float], bool],
    interval_s: float = 1.0,
) -> None:
    """Poll until ``ended_within(interval_s)`` says the run ended, then once more for the last books."""
    display.start(watcher)
    try:
        while not ended_within(interval_s):
            display.update(watcher, watcher.poll())
        display.update(watcher, watcher.poll())
    finally:
        display.stop(watcher)
