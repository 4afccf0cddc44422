"""What the dashboard shows, read from the results folder only (and pipeline.json and batch.log, read as data).

Nothing here writes or locks: records and progress files are written whole
(temp file + rename) by the books, the history is read through a read-only
SQLite connection (WAL readers never block the writer), so looking can never
disturb a run.

The cost of a look grows with what changed, not with the batch
(``BatchLook``): every book is read once when a run starts or ends; while it
goes, only the books that can still change are read again, and of those only
the ones that have started (the run's [START] lines in batch.log, read from
where the last look stopped) or are running. The page asks for one page of
books, and only when something on it changed since the version it holds.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import history
from ..aggregate import RUN_MARKER
from ..fileio import read_json
from ..ids import ID_PATTERN
from ..liveness import run_process_alive
from ..progress import PHASE_NAMES
from ..record import metric, title_and_author
from ..report import PLOT_FILES, PLOT_TITLES

BOOK_ID = re.compile(ID_PATTERN)
AUDIO_SUFFIXES = (".m4b", ".mp3")
LOG_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\]")
MAX_HISTORY_RUNS = 20
MAX_CHAPTERS = 200
PAGE_SIZE = 100
START_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] \[START\] (\S+)$")
FINISHED = ("success", "partial", "failed")


@dataclass
class BookView:
    id: str
    state: str = "waiting"  # waiting, running, success, partial, failed, not run
    earlier: bool = False  # the state is from an earlier run, kept by this one
    file_name: str | None = None
    title: str | None = None
    author: str | None = None
    cover: bool = False  # phase 2 saved a cover: /books/<id>/cover
    phase: int | None = None
    phase_name: str | None = None
    chunks_done: int | None = None
    chunks_total: int | None = None
    elapsed_s: float | None = None
    remaining_s: float | None = None
    duration_s: float | None = None
    error: str | None = None
    has_log: bool = False
    audio: str | None = None  # file name under results/<id>/
    audio_seconds: float | None = None
    chapters: list[dict[str, Any]] = field(default_factory=list)
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    real_time_factor: float | None = None


def _json(path: Path) -> dict[str, Any] | None:
    try:
        data = read_json(path)
    except (OSError, ValueError):
        return None  # absent, or caught mid-rename on a network file system: next poll
    return data if isinstance(data, dict) else None


def latest_record(results: Path, book_id: str) -> dict[str, Any] | None:
    """The newer of the book's record and the copy kept in logs/ (a failed book has only that)."""
    records = [_json(results / book_id / "book.json"), _json(results / "logs" / f"{book_id}.record.json")]
    records = [r for r in records if r and "status" in r]
    return max(records, key=lambda r: r.get("finished_at") or 0, default=None)


def book_started_at(results: Path, book_id: str) -> float | None:
    """When the book's log began (its first line's stamp, local time)."""
    try:
        with open(results / "logs" / f"{book_id}.log", encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
    except OSError:
        return None
    found = LOG_STAMP.match(first)
    return time.mktime(time.strptime(found.group(1), "%Y-%m-%d %H:%M:%S")) if found else None


def chapters_of(path: Path) -> list[dict[str, Any]]:
    """Chapter titles and starts read back from an M4B (none for MP3 here)."""
    if path.suffix != ".m4b":
        return []
    try:
        from mutagen.mp4 import MP4

        audio = MP4(path)
        return [{"title": c.title, "start_s": round(c.start, 2)} for c in list(audio.chapters or [])[:MAX_CHAPTERS]]
    except Exception:  # noqa: BLE001 - a file being written or unreadable: no chapters shown
        return []


def audio_file(results: Path, book_id: str, record: dict[str, Any]) -> Path | None:
    """The book's audiobook, only if it is a file directly in results/<id>/."""
    for output in record.get("outputs") or []:
        candidate = results / book_id / Path(str(output)).name
        if candidate.suffix in AUDIO_SUFFIXES and candidate.is_file():
            return candidate
    return None


def book_view(results: Path, book_id: str, since: float | None, running: bool, now: float,
              past_durations: dict[str, float]) -> BookView:
    view = BookView(book_id, has_log=(results / "logs" / f"{book_id}.log").is_file())
    record = latest_record(results, book_id)
    if record is not None:
        view.title, view.author = title_and_author(record)
        view.cover = bool(metric(record, 2, "cover"))
    progress = _json(results / book_id / "work" / "progress.json")
    fresh_record = record is not None and since is not None and (record.get("finished_at") or 0) >= since
    fresh_progress = progress is not None and since is not None and (progress.get("time") or 0) >= since
    if record is not None and (fresh_record or not (running and fresh_progress)):
        view.state = record.get("status") or "failed"
        view.earlier = not fresh_record
        view.file_name = record.get("file_name")
        view.duration_s = record.get("duration")
        view.error = record.get("error")
        view.real_time_factor = metric(record, 4, "real_time_factor")
        view.loudness_lufs = metric(record, 5, "integrated_lufs")
        view.true_peak_dbtp = metric(record, 5, "true_peak_dbtp")
        view.audio_seconds = metric(record, 5, "duration_s") or metric(record, 4, "audio_seconds")
        audio = audio_file(results, book_id, record)
        if audio is not None:
            view.audio, view.chapters = audio.name, chapters_of(audio)
        return view
    if running and fresh_progress:
        view.state = "running"
        view.phase = progress.get("phase")
        view.phase_name = PHASE_NAMES.get(view.phase or 0)
        started = book_started_at(results, book_id)
        view.elapsed_s = round(now - started, 1) if started and started >= since - 2 else None
        if view.phase == 4:
            speech = _json(results / book_id / "work" / "speak_progress.json") or {}
            view.chunks_done, view.chunks_total = speech.get("done"), speech.get("total")
            in_phase = now - (progress.get("time") or now)
            if view.chunks_done and view.chunks_total and in_phase > 0:
                view.remaining_s = round(in_phase * (view.chunks_total - view.chunks_done) / view.chunks_done, 1)
        if view.remaining_s is None and view.elapsed_s is not None and book_id in past_durations:
            view.remaining_s = round(max(past_durations[book_id] - view.elapsed_s, 0.0), 1)
        return view
    view.state = "waiting" if running else "not run"
    return view


def book_ids(results: Path, pipeline: dict[str, Any] | None, listed: list[str]) -> list[str]:
    """Every book this batch knows: the current run's list, pipeline.json's, and folders with a record."""
    found = set(listed)
    if pipeline:
        found.update((pipeline.get("batch") or {}).get("files", {}))
    try:
        for path in results.iterdir():
            if path.is_dir() and ((path / "book.json").exists() or (path / "work").is_dir()):
                found.add(path.name)
        found.update(p.name.removesuffix(".record.json") for p in (results / "logs").glob("*.record.json"))
    except OSError:
        pass
    return sorted(book_id for book_id in found if BOOK_ID.fullmatch(book_id))


def run_is_going(marker: dict[str, Any] | None, summary: dict[str, Any] | None, run: dict[str, Any] | None) -> bool:
    """A run started (marker) and has not been summed up, and was not found killed."""
    if marker is None or "started_at" not in marker:
        return False
    if summary is not None and summary.get("started_at") == marker["started_at"]:
        return False
    if run is not None and run.get("outcome") not in ("running", None):
        return False
    try:
        # A run on another host cannot be seen from here: taken as going until it is summed up.
        return run_process_alive(str(marker["host"]), int(marker["pid"]), float(marker["started_at"])) is not False
    except (KeyError, TypeError, ValueError):
        return True



def started_books(text: str, since: float | None) -> set[str]:
    """Books with a [START] line in ``text`` stamped at or after ``since`` (None: every one)."""
    found = set()
    for line in text.splitlines():
        match = START_LINE.match(line)
        if match and (since is None or time.mktime(time.strptime(match[1], "%Y-%m-%d %H:%M:%S")) >= int(since)):
            found.add(match[2])
    return found


class LogTail:
    """The lines appended to a file since the last read; the whole file again when it was replaced or cut."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.offset = 0
        self.identity: tuple[int, int] | None = None

    def read(self, from_start: bool = False) -> str | None:
        """New complete lines (all of them with ``from_start``), or None when there is no such file."""
        if self.path is None:
            return None
        try:
            with open(self.path, "rb") as handle:
                facts = os.fstat(handle.fileno())
                identity = (facts.st_dev, facts.st_ino)
                if from_start or identity != self.identity or facts.st_size < self.offset:
                    self.identity, self.offset = identity, 0
                handle.seek(self.offset)
                data = handle.read(max(facts.st_size - self.offset, 0))
        except OSError:
            return None
        complete = data[: data.rfind(b"\n") + 1]  # a line being written is read whole next time
        self.offset += len(complete)
        return complete.decode("utf-8", errors="replace")


class BatchLook:
    """The dashboard's memory between requests: every book's view, and which views can still change.

    Each view carries the version at which it last changed; versions start
    at the server's start time in milliseconds and only grow, so a page that
    holds a version from an earlier server is always sent everything again.
    """

    def __init__(self, results: Path, pipeline_json: Path, batch_log: Path | None = None) -> None:
        self.results = Path(results)
        self.pipeline_json = Path(pipeline_json)
        self.log = LogTail(batch_log)
        self.lock = threading.Lock()
        self.version = int(time.time() * 1000)
        self.epoch: tuple[Any, ...] | None = None
        self.pipeline_stamp: tuple[int, int] | None = None
        self.pipeline: dict[str, Any] | None = None
        self.ids: list[str] = []
        self.ids_version = self.version
        self.views: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, int] = {}
        self.counts: Counter[str] = Counter()
        self.running: set[str] = set()
        self.open: set[str] = set()  # books of a going run not finished in it: their view can change
        self.started: set[str] = set()
        self.since: float | None = None
        self.past: dict[str, float] = {}

    def read_pipeline(self) -> dict[str, Any] | None:
        """pipeline.json, parsed again only when the file changed (at 10,000 books it is megabytes)."""
        try:
            facts = self.pipeline_json.stat()
        except OSError:
            self.pipeline_stamp, self.pipeline = None, None
            return None
        stamp = (facts.st_mtime_ns, facts.st_size)
        if stamp != self.pipeline_stamp:
            self.pipeline_stamp, self.pipeline = stamp, _json(self.pipeline_json)
        return self.pipeline

    def put(self, book_id: str, view: dict[str, Any]) -> None:
        """Keep a book's view; a view that differs from the last one gets a new version."""
        old = self.views.get(book_id)
        if old == view:
            return
        if old is not None:
            self.counts[old["state"]] -= 1
        self.counts[view["state"]] += 1
        self.views[book_id] = view
        self.version += 1
        self.changed[book_id] = self.version
        if view["state"] == "running":
            self.running.add(book_id)
        else:
            self.running.discard(book_id)

    def look_at(self, book_id: str, running: bool, now: float) -> None:
        view = asdict(book_view(self.results, book_id, self.since, running, now, self.past))
        self.put(book_id, view)
        if view["state"] in FINISHED and not view["earlier"]:
            self.open.discard(book_id)  # made (or failed) in this run: it stays as it is

    def read_everything(self, pipeline: dict[str, Any] | None, current: dict[str, Any] | None, running: bool,
                        now: float) -> None:
        """Every book, when a run starts or ends (or the server starts): the one look that costs the batch."""
        rows = history.run_books(self.results, current["id"]) if current else []
        ids = book_ids(self.results, pipeline, [row["book_id"] for row in rows])
        self.past = history.last_durations(self.results) if running else {}
        for gone in set(self.views) - set(ids):
            self.counts[self.views.pop(gone)["state"]] -= 1
            self.changed.pop(gone, None)
            self.running.discard(gone)
        if ids != self.ids:
            self.ids = ids
            self.version += 1
            self.ids_version = self.version
        # Kept from an earlier run (so the run said when it started): nothing will change them now.
        kept = {row["book_id"] for row in rows if row["status"] == "success" and not row["ran_this_run"]}
        self.open = set(ids) - kept if running else set()
        for book_id in ids:
            self.look_at(book_id, running, now)
        text = self.log.read(from_start=True)
        self.started = started_books(text, self.since) if text is not None else set()

    def follow(self, running: bool, now: float) -> None:
        """Only what can have changed: the open books that have started or are running."""
        if not running:
            return
        text = self.log.read()
        if text is None:  # no batch.log to follow: every open book is looked at
            watched = set(self.open)
        else:
            self.started |= started_books(text, None)
            watched = self.open & (self.started | self.running)
        for book_id in watched:
            self.look_at(book_id, running, now)

    def state(self, since: int | None = None, page: int = 1, now: float | None = None) -> dict[str, Any]:
        with self.lock:
            return self._state(since, page, time.time() if now is None else now)

    def _state(self, since: int | None, page: int, now: float) -> dict[str, Any]:
        marker = _json(self.results / RUN_MARKER)
        pipeline = self.read_pipeline()
        summary = (pipeline or {}).get("batch", {}).get("summary")
        runs = history.list_runs(self.results, MAX_HISTORY_RUNS)
        started_at = marker.get("started_at") if marker else None
        current = next((r for r in runs if started_at is not None and r["started_at"] == started_at), None)
        running = run_is_going(marker, summary, current)
        epoch = (started_at, running, current["id"] if current else None, (summary or {}).get("finished_at"))
        if epoch != self.epoch:
            self.epoch, self.since = epoch, started_at
            self.read_everything(pipeline, current, running, now)
        else:
            self.follow(running, now)
        pages = max(1, math.ceil(len(self.ids) / PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = self.ids[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        fresh = since is None or self.ids_version > since or any(self.changed.get(b, 0) > since for b in shown)
        plots = [
            {"name": name, "title": PLOT_TITLES[name], "url": f"plots/{file_name}"}
            for name, file_name in PLOT_FILES.items()
            if (self.results / "plots" / file_name).is_file()
        ]
        return {
            "version": self.version,
            "now": now,
            "results_dir": str(self.results),
            "run": {
                "running": running,
                "started_at": started_at,
                "elapsed_s": round(now - started_at, 1) if running and started_at else None,
                "host": (marker or {}).get("host"),
                "books": len(self.ids),
                "counts": {state: count for state, count in self.counts.items() if count},
            },
            "summary": summary,
            "summary_is_current": bool(summary and started_at is not None and summary.get("started_at") == started_at),
            "page": {"number": page, "pages": pages, "size": PAGE_SIZE, "total": len(self.ids)},
            # The page's books only when one of them changed since the version the page holds.
            "books": [self.views[book_id] for book_id in shown] if fresh else None,
            "running": [self.views[book_id] for book_id in sorted(self.running)],
            "plots": plots,
            # Not the command: a --config on it may carry a password.
            "history": [{key: value for key, value in run.items() if key != "command"} for run in runs],
        }
