"""What the dashboard shows, read from the results folder only (and pipeline.json, read as data).

Nothing here writes or locks: records and progress files are written whole
(temp file + rename) by the books, the history is read through a read-only
SQLite connection (WAL readers never block the writer), so looking can never
disturb a run.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import history
from ..aggregate import RUN_MARKER
from ..fileio import read_json
from ..ids import ID_PATTERN
from ..liveness import run_process_alive
from ..progress import PHASE_NAMES
from ..record import metric
from ..report import PLOT_FILES, PLOT_TITLES

BOOK_ID = re.compile(ID_PATTERN)
AUDIO_SUFFIXES = (".m4b", ".mp3")
LOG_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\]")
MAX_HISTORY_RUNS = 20
MAX_CHAPTERS = 200


@dataclass
class BookView:
    id: str
    state: str = "waiting"  # waiting, running, success, partial, failed, not run
    earlier: bool = False  # the state is from an earlier run, kept by this one
    file_name: str | None = None
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


def batch_state(results: Path, pipeline_json: Path, now: float | None = None) -> dict[str, Any]:
    now = time.time() if now is None else now
    marker = _json(results / RUN_MARKER)
    pipeline = _json(pipeline_json)
    summary = (pipeline or {}).get("batch", {}).get("summary")
    runs = history.list_runs(results, MAX_HISTORY_RUNS)
    since = marker.get("started_at") if marker else None
    current = next((r for r in runs if since is not None and r["started_at"] == since), None)
    running = run_is_going(marker, summary, current)
    listed = [row["book_id"] for row in history.run_books(results, current["id"])] if current else []
    ids = book_ids(results, pipeline, listed)
    past = history.last_durations(results) if running else {}
    books = [asdict(book_view(results, book_id, since, running, now, past)) for book_id in ids]
    counts: dict[str, int] = {}
    for book in books:
        counts[book["state"]] = counts.get(book["state"], 0) + 1
    plots = [
        {"name": name, "title": PLOT_TITLES[name], "url": f"plots/{file_name}"}
        for name, file_name in PLOT_FILES.items()
        if (results / "plots" / file_name).is_file()
    ]
    return {
        "now": now,
        "results_dir": str(results),
        "run": {
            "running": running,
            "started_at": since,
            "elapsed_s": round(now - since, 1) if running and since else None,
            "host": (marker or {}).get("host"),
            "books": len(ids),
            "counts": counts,
        },
        "summary": summary,
        "summary_is_current": bool(summary and since is not None and summary.get("started_at") == since),
        "books": books,
        "plots": plots,
        # Not the command: a --config on it may carry a password.
        "history": [{key: value for key, value in run.items() if key != "command"} for run in runs],
    }
