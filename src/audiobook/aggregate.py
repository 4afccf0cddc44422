"""Merge per-book records into pipeline.json, the batch log and a pandas report.

Only this module writes ``pipeline.json``, once per run, after the books, so
parallel books never race on it. It runs from the workflow's ``aggregate``
rule when every book succeeded and from ``onerror`` when some failed; both
call ``aggregate()`` with the same arguments.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .fileio import atomic_writer, read_json, write_json
from .export import saved_cover
from .record import metric, title_and_author
from .utf8 import printable

RUN_MARKER = ".batch-run.json"


@dataclass(frozen=True)
class BatchPaths:
    results_dir: Path
    pipeline_json: Path
    batch_log: Path

    @property
    def report_csv(self) -> Path:
        return self.results_dir / "report.csv"

    @property
    def report_html(self) -> Path:
        return self.results_dir / "report.html"

    def record(self, book_id: str) -> Path:
        return self.results_dir / book_id / "book.json"

    def failed_record(self, book_id: str) -> Path:
        return self.results_dir / "logs" / f"{book_id}.record.json"

    def book_log(self, book_id: str) -> Path:
        return self.results_dir / "logs" / f"{book_id}.log"


def one_line(name: str) -> str:
    """A file name for line-based reports (CSV, the batch log): control characters shown as escapes."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda found: repr(found.group())[1:-1], name)


def stamp(when: float | None = None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(when))


def append_log(batch_log: Path, lines: Iterable[str]) -> None:
    text = "".join(f"{line}\n" for line in lines)
    if text:
        batch_log.parent.mkdir(parents=True, exist_ok=True)
        with open(batch_log, "a", encoding="utf-8") as handle:
            handle.write(text)


def found_lines(book_ids: list[str], skipped: Iterable[Any], kept: Iterable[str]) -> list[str]:
    """What a run found, in the seed's order: the count, the refused files, then a [SKIP] per finished book."""
    lines = [f"[{stamp()}] [INFO] Found {len(book_ids)} files to process"]
    lines += [f"[{stamp()}] [WARNING] {one_line(printable(entry.name))}: {entry.reason}" for entry in skipped]
    lines += [f"[{stamp()}] [SKIP] {book_id} already completed" for book_id in kept]
    return lines


def start_batch(
    results_dir: str, batch_log: str, book_ids: list[str], skipped: Iterable[Any], kept: Iterable[str] = ()
) -> None:
    """Called when a real run starts, before any book: remember when and which process, and say what was found.

    ``kept`` are the books Snakemake will not make again (finished in an
    earlier run); their [SKIP] lines come before the first [START].
    The pid and host let the next run tell a run still going (refused) from
    one that was killed (its stale lock is removed): see rules/common.smk.
    """
    results = Path(results_dir)
    marker = {"started_at": time.time(), "books": len(book_ids), "pid": os.getpid(), "host": socket.gethostname()}
    write_json(results / RUN_MARKER, marker)
    append_log(Path(batch_log), found_lines(book_ids, skipped, kept))


def load_record(paths: BatchPaths, book_id: str) -> tuple[dict[str, Any] | None, str | None]:
    """The book's record and a problem note.

    A finished book's record is its output; a failed book's is the copy the
    rule keeps in the log folder. A record that does not parse is moved
    aside, so the next run makes the book again instead of trusting it.
    """
    # One read per file, no exists()/stat() first: at 10,000 books every system call counts.
    for path in (paths.record(book_id), paths.failed_record(book_id)):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, ValueError) as error:  # a folder in its place, bytes that are not UTF-8
            return None, _set_aside(path, error)
        if not text and path == paths.failed_record(book_id):
            continue  # no record was written: Snakemake leaves an empty file for every missing log
        try:
            record = json.loads(text)
            if not isinstance(record, dict) or "status" not in record:
                raise ValueError("not a book record")
            return record, None
        except ValueError as error:
            return None, _set_aside(path, error)
    return None, None


def _set_aside(path: Path, error: Exception) -> str:
    aside = path.with_name(path.name + ".corrupt")
    os.replace(path, aside)
    return f"record {path} was unreadable ({error}); moved to {aside.name}, the next run makes the book again"


def _tail_reason(paths: BatchPaths, book_id: str) -> str | None:
    """The last line of a book's log, for books whose orchestrator wrote no record."""
    try:
        lines = [line.strip() for line in paths.book_log(book_id).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return None
    if not lines:
        return None
    # "[2026-11-29 09:40:03] [FAIL] <id>: why" -> "why": the entry names the book already.
    return re.sub(rf"^\[[^\]]*\] \[[A-Z]+\] (?:{re.escape(book_id)}: )?", "", lines[-1])[:500]


def cover_of(paths: BatchPaths, book_id: str, record: dict[str, Any] | None) -> str | None:
    """The cover phase 2 saved, as a path under the results folder; looked for only when the record says there is one."""
    if not record or not metric(record, 2, "cover"):
        return None
    found = saved_cover(paths.results_dir / book_id / "work")
    return f"{book_id}/work/{found.name}" if found else None


def collect(paths: BatchPaths, books: list[list[str]], started_at: float | None) -> list[dict[str, Any]]:
    """One entry per discovered book: its record (or why there is none), its title, author and cover."""
    entries = []
    for book_id, name, source in books:
        record, problem = load_record(paths, book_id)
        entry: dict[str, Any] = {"id": book_id, "name": printable(name), "source": printable(source), "record": record}
        title, author = title_and_author(record or {})
        entry.update(title=printable(title) if title else None, author=printable(author) if author else None,
                     cover=cover_of(paths, book_id, record))
        if record is None:
            reason = problem or _tail_reason(paths, book_id)
            entry["status"] = "failed" if reason else "pending"
            entry["error"] = f"{entry['name']}: {reason}" if reason and problem is None else reason
        else:
            entry["status"] = record.get("status", "failed")
            entry["error"] = record.get("error")
        entry["fresh"] = bool(record and started_at and (record.get("finished_at") or 0) >= started_at)
        entries.append(entry)
    return entries


def _phase_status(statuses: list[str]) -> str:
    if not statuses:
        return "skipped"
    if all(s == "success" for s in statuses):
        return "success"
    if all(s == "failed" for s in statuses):
        return "failed"
    return "partial"


def build_pipeline(entries: list[dict[str, Any]], phases: list[int], started_at: float | None, skipped_inputs: list[list[str]]) -> dict[str, Any]:
    pipeline: dict[str, Any] = {}
    for phase in range(1, 6):
        files = {}
        for entry in entries:
            record = entry["record"]
            if record is None:
                continue
            phase_record = record.get("phases", {}).get(str(phase))
            # Only phases that ran (or were reused): not those skipped or never reached.
            if phase_record and phase_record.get("status") in ("success", "failed"):
                files[entry["id"]] = phase_record
        statuses = [f["status"] for f in files.values()] if phase in phases else []
        pipeline[f"phase{phase}"] = {"status": _phase_status(statuses), "files": files}

    now = time.time()
    fresh = [e for e in entries if e["fresh"]]
    cpu_seconds = sum(e["record"].get("cpu_seconds", 0.0) for e in fresh)
    wall = now - started_at if started_at else sum(e["record"].get("duration", 0.0) for e in fresh if e["record"])
    counts = {status: sum(1 for e in entries if e["status"] == status) for status in ("success", "partial", "failed", "pending")}
    total = len(entries)
    if total and counts["success"] == total:
        status = "success"
    elif total and counts["success"] == 0 and counts["partial"] == 0:
        status = "failed"
    else:
        status = "partial" if total else "empty"
    files = {}
    for entry in entries:
        record = entry["record"] or {}
        files[entry["id"]] = {
            "status": entry["status"],
            "title": entry["title"],
            "author": entry["author"],
            "cover": entry["cover"],
            "file_name": entry["name"],
            "source": entry["source"],
            "duration": record.get("duration"),
            "phases_completed": record.get("phases_completed", []),
            "error": entry["error"],
            "error_kind": record.get("error_kind"),
            "exit_code": record.get("exit_code"),
            "output": (record.get("outputs") or [None])[0],
            "outputs": record.get("outputs", []),
            "audio_seconds": metric(record, 5, "duration_s") or metric(record, 4, "audio_seconds"),
            "cpu_seconds": record.get("cpu_seconds"),
            "peak_rss_mb": record.get("peak_rss_mb"),
            "finished_at": record.get("finished_at"),
            "ran_this_run": entry["fresh"],
        }
    pipeline["batch"] = {
        "summary": {
            "total_files": total,
            "successful_files": counts["success"],
            "partial_files": counts["partial"],
            "failed_files": counts["failed"],
            "pending_files": counts["pending"],
            # Finished in an earlier run and kept as they were (counted in successful_files too).
            "skipped_files": sum(1 for e in entries if e["status"] == "success" and not e["fresh"]),
            "refused_inputs": [{"name": printable(name), "reason": reason} for name, reason in skipped_inputs],
            "duration": round(wall, 3),
            # Book processes' CPU time over the run's wall time on all cores.
            "avg_cpu": round(100.0 * cpu_seconds / (wall * (os.cpu_count() or 1)), 1) if wall > 0 else 0.0,
            "cpu_seconds": round(cpu_seconds, 3),
            "audio_seconds": round(sum(f["audio_seconds"] or 0 for f in files.values()), 3),
            "status": status,
            "phases_to_run": phases,
            "started_at": started_at,
            "finished_at": now,
        },
        "files": files,
    }
    return pipeline


REPORT_COLUMNS = [
    "id", "file", "status", "phases_completed", "duration_s", "pages", "chapters", "words",
    "chunks", "audio_s", "real_time_factor", "loudness_lufs", "true_peak_dbtp", "acx_pass", "files", "error",
    "language", "voice", "words_left_out", "title", "author", "cover", "ocr_pages", "ocr_confidence",
]
# One row per section left out of a book's reading (contents, index, licence ...): report.html lists them.
LEFT_OUT_COLUMNS = ["id", "section", "kind", "words", "reason"]


def report_frame(entries: list[dict[str, Any]]):
    import pandas as pd

    rows = []
    for entry in entries:
        record = entry["record"] or {}
        rows.append(
            {
                "id": entry["id"],
                "file": one_line(entry["name"]),
                "status": entry["status"],
                "phases_completed": " ".join(str(p) for p in record.get("phases_completed", [])),
                "duration_s": record.get("duration"),
                "pages": metric(record, 1, "pages") or metric(record, 1, "spine_items"),
                "chapters": metric(record, 2, "chapters"),
                "words": metric(record, 2, "words"),
                "chunks": metric(record, 3, "chunks"),
                "audio_s": metric(record, 5, "duration_s") or metric(record, 4, "audio_seconds"),
                "real_time_factor": metric(record, 4, "real_time_factor"),
                "loudness_lufs": metric(record, 5, "integrated_lufs"),
                "true_peak_dbtp": metric(record, 5, "true_peak_dbtp"),
                "acx_pass": metric(record, 5, "acx_pass"),
                # What phase 5 made: the audiobook, its subtitles (.vtt, .srt), the read-along EPUB.
                "files": " ".join(Path(path).name for path in record.get("outputs") or []),
                "error": entry["error"],
                "language": metric(record, 1, "language"),
                "voice": metric(record, 1, "voice"),
                "words_left_out": metric(record, 2, "skipped_words"),
                "title": entry["title"],
                "author": entry["author"],
                "cover": entry["cover"],
                # A book read by OCR: how many pages, and Tesseract's mean word confidence (0-100).
                "ocr_pages": metric(record, 1, "ocr_pages"),
                "ocr_confidence": metric(record, 1, "ocr_confidence"),
            }
        )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def left_out_frame(entries: list[dict[str, Any]]):
    """Every section left out of every book's reading, so a user can see what was not read and why."""
    import pandas as pd

    rows = [
        {
            "id": entry["id"],
            "section": section.get("title"),
            "kind": section.get("kind"),
            "words": section.get("words"),
            "reason": section.get("reason"),
        }
        for entry in entries
        for section in metric(entry["record"] or {}, 2, "skipped") or []
    ]
    return pd.DataFrame(rows, columns=LEFT_OUT_COLUMNS)


def words_to_check(entries: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each book's words a listener should check (the top of the list phase 3 made), by book id."""
    found = {entry["id"]: (metric(entry["record"] or {}, 3, "words_to_check") or {}).get("top") for entry in entries}
    return {book: words for book, words in found.items() if words}


def write_reports(frame, summary: dict[str, Any], paths: BatchPaths, left_out=None, words=None) -> None:
    """report.csv here; the plots, report.html and metrics.prom in audiobook.report."""
    from .report import write_all

    with atomic_writer(paths.report_csv) as handle:
        frame.to_csv(handle, index=False)
    write_all(frame, summary, paths.results_dir, left_out=left_out, words=words)


def batch_log_lines(entries: list[dict[str, Any]], summary: dict[str, Any]) -> list[str]:
    lines = []
    for entry in sorted(entries, key=lambda e: ((e["record"] or {}).get("finished_at") or 0, e["id"])):
        record = entry["record"] or {}
        when = stamp(record.get("finished_at"))
        if entry["status"] == "success" and not entry["fresh"]:
            continue  # its [SKIP] line was written when the run started
        if entry["status"] == "success":
            lines.append(f"[{when}] [SUCCESS] {entry['id']} in {record.get('duration', 0):.1f}s")
        elif entry["status"] == "pending":
            lines.append(f"[{stamp()}] [WARNING] {entry['id']} was not run (interrupted?); the next run makes it")
        elif entry["fresh"] or entry["record"] is None:
            lines.append(f"[{when}] [FAIL] {entry['id']}: {entry['error']}")
    lines.append(
        f"[{stamp()}] [INFO] Batch {summary['status']}: {summary['successful_files']} of {summary['total_files']} "
        f"successful, {summary['partial_files']} partial, {summary['failed_files']} failed in {summary['duration']:.1f}s"
        + (f" ({summary['skipped_files']} already completed)" if summary.get("skipped_files") else "")
    )
    return lines


def aggregate(
    books: list[list[str]],
    skipped: list[list[str]],
    results_dir: str,
    phases: list[int],
    pipeline_json: str,
    batch_log: str,
    loudness_target: float = -19.0,
) -> dict[str, Any]:
    """Write pipeline.json, report.csv, report.html and the batch log lines; return pipeline.json's data."""
    paths = BatchPaths(Path(results_dir), Path(pipeline_json), Path(batch_log))
    try:
        started_at = read_json(paths.results_dir / RUN_MARKER).get("started_at")
    except (OSError, ValueError, AttributeError):
        started_at = None
    entries = collect(paths, books, started_at)
    pipeline = build_pipeline(entries, phases, started_at, skipped)
    pipeline["batch"]["summary"]["loudness_target_lufs"] = loudness_target
    # One line per book entry (phaseN.files.<id>, batch.files.<id>): readable, and written in C.
    write_json(paths.pipeline_json, pipeline, depth=3)
    write_reports(
        report_frame(entries), pipeline["batch"]["summary"], paths, left_out_frame(entries), words_to_check(entries)
    )
    append_log(paths.batch_log, batch_log_lines(entries, pipeline["batch"]["summary"]))
    return pipeline


def aggregate_from_workflow(**kwargs: Any) -> None:
    """The onerror entry: never let a reporting problem hide the books' own errors."""
    try:
        aggregate(**kwargs)
    except Exception as error:  # noqa: BLE001 - report and carry on; the run already failed
        print(f"aggregate: could not write the batch summary: {type(error).__name__}: {error}")


def main_from_snakemake(smk: Any) -> None:
    """Entry point for scripts/aggregate.py (the rule's script:)."""
    aggregate(
        books=smk.params.books,
        skipped=smk.params.skipped,
        results_dir=smk.params.results_dir,
        phases=list(smk.params.phases),
        pipeline_json=smk.output.pipeline,
        batch_log=smk.params.batch_log,
        loudness_target=smk.params.loudness_target,
    )


def summary_json(pipeline: dict[str, Any]) -> str:
    return json.dumps(pipeline["batch"]["summary"], indent=2)
