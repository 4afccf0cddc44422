"""Every batch run and every book of it, kept in a SQLite database in the results folder.

``pipeline.json`` says what the last run did; this file keeps all of them.
A run gets its row when it starts (``start_run``, from the workflow's
``onstart``) and its outcome and books when the aggregate step has written
``pipeline.json`` (``finish_run``). A run killed before that keeps the
outcome ``running`` until the next run on the same host sees its process is
gone and marks it ``killed``.

Safe with two writers and a killed one: WAL journal, every write one
``BEGIN IMMEDIATE`` transaction (a second writer waits for the first, up to
``BUSY_TIMEOUT_S``), ``synchronous=FULL``; SQLite rolls back whatever a
killed writer left half done. Readers (the dashboard, ``batch-audiobook
history``) never block a writer in WAL mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .liveness import run_process_alive

DB_NAME = "history.sqlite"
SCHEMA_VERSION = 2
NOTHING_TO_DO = "nothing to do"
BUSY_TIMEOUT_S = 60.0
PHASES = (1, 2, 3, 4, 5)

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL,
    command TEXT,
    settings_digest TEXT,
    outcome TEXT NOT NULL DEFAULT 'running',
    total INTEGER,
    successful INTEGER,
    partial INTEGER,
    failed INTEGER,
    pending INTEGER,
    skipped INTEGER,
    duration REAL,
    audio_seconds REAL,
    notified_at REAL,
    UNIQUE (host, pid, started_at)
);
CREATE TABLE IF NOT EXISTS run_books (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    book_id TEXT NOT NULL,
    file_name TEXT,
    status TEXT NOT NULL,
    ran_this_run INTEGER NOT NULL DEFAULT 0,
    phase_durations TEXT,
    duration REAL,
    audio_seconds REAL,
    cpu_seconds REAL,
    peak_rss_mb REAL,
    error TEXT,
    finished_at REAL,
    PRIMARY KEY (run_id, book_id)
);
CREATE INDEX IF NOT EXISTS run_books_by_book ON run_books (book_id, run_id);
"""
# Each step brings a database of the version before it up to the next one.
MIGRATIONS = {2: "ALTER TABLE runs ADD COLUMN skipped INTEGER"}


def db_path(results_dir: str | Path) -> Path:
    return Path(results_dir) / DB_NAME


@dataclass(frozen=True)
class RunKey:
    """Which run: the process that started it, where and when (as in the run marker)."""

    host: str
    pid: int
    started_at: float

    @classmethod
    def from_marker(cls, marker: dict[str, Any]) -> RunKey:
        return cls(str(marker["host"]), int(marker["pid"]), float(marker["started_at"]))


def settings_digest(config: dict[str, Any]) -> str:
    """A short fingerprint of the settings, to tell runs with other settings apart."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def connect(path: Path) -> sqlite3.Connection:
    """A writing connection; makes the database and its tables when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA foreign_keys=ON")
    with transaction(connection):
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version < SCHEMA_VERSION:
            if version == 0:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
            else:
                for step in range(version + 1, SCHEMA_VERSION + 1):
                    connection.execute(MIGRATIONS[step])
            connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return connection


def connect_read_only(path: Path) -> sqlite3.Connection | None:
    """A connection that can only read, or None when there is no database yet."""
    if not path.is_file():
        return None
    connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    connection.row_factory = sqlite3.Row
    return connection


@contextlib.contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once so two writers queue instead of deadlocking."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def mark_killed_runs(connection: sqlite3.Connection) -> int:
    """Runs left 'running' whose process is gone: killed before the aggregate step."""
    rows = connection.execute("SELECT id, host, pid, started_at FROM runs WHERE outcome = 'running'").fetchall()
    # A run on another host cannot be seen from here: it stays as it is.
    killed = [row["id"] for row in rows if run_process_alive(row["host"], row["pid"], row["started_at"]) is False]
    for run_id in killed:
        connection.execute("UPDATE runs SET outcome = 'killed' WHERE id = ?", (run_id,))
    return len(killed)


def start_run(
    results_dir: str | Path, key: RunKey, book_ids: list[str], command: str, digest: str, kept: Iterable[str] = ()
) -> int:
    """Add the run as 'running', with its books 'waiting' (those it keeps from an earlier run: 'success',
    not run); returns the run's id. The dashboard reads which books can still change from these rows."""
    kept = set(kept)
    with contextlib.closing(connect(db_path(results_dir))) as connection, transaction(connection):
        mark_killed_runs(connection)
        connection.execute(
            "INSERT OR IGNORE INTO runs (host, pid, started_at, command, settings_digest, total) VALUES (?, ?, ?, ?, ?, ?)",
            (key.host, key.pid, key.started_at, command, digest, len(book_ids)),
        )
        run_id = _run_id(connection, key)
        connection.executemany(
            "INSERT OR IGNORE INTO run_books (run_id, book_id, status) VALUES (?, ?, ?)",
            [(run_id, book_id, "success" if book_id in kept else "waiting") for book_id in book_ids],
        )
        return run_id


def _run_id(connection: sqlite3.Connection, key: RunKey) -> int:
    row = connection.execute(
        "SELECT id FROM runs WHERE host = ? AND pid = ? AND started_at = ?", (key.host, key.pid, key.started_at)
    ).fetchone()
    return row["id"]


def phase_durations(pipeline: dict[str, Any], book_id: str) -> dict[str, float]:
    """Seconds per phase that ran (or was reused) for the book, from pipeline.json's phase sections."""
    durations = {}
    for phase in PHASES:
        entry = (pipeline.get(f"phase{phase}") or {}).get("files", {}).get(book_id)
        if entry and entry.get("duration") is not None:
            durations[str(phase)] = round(float(entry["duration"]), 3)
    return durations


def finish_run(results_dir: str | Path, key: RunKey, pipeline: dict[str, Any], command: str = "", digest: str = "") -> int:
    """Write the run's outcome and every book of it from pipeline.json's data; returns the run's id.

    Writing the same run again (the aggregate rule, then onerror after a
    later failure) replaces its figures: one row per run, one per book.
    """
    summary = pipeline["batch"]["summary"]
    files = pipeline["batch"]["files"]
    with contextlib.closing(connect(db_path(results_dir))) as connection, transaction(connection):
        connection.execute(
            "INSERT OR IGNORE INTO runs (host, pid, started_at, command, settings_digest) VALUES (?, ?, ?, ?, ?)",
            (key.host, key.pid, key.started_at, command, digest),
        )
        run_id = _run_id(connection, key)
        connection.execute(
            "UPDATE runs SET finished_at = ?, outcome = ?, total = ?, successful = ?, partial = ?, failed = ?,"
            " pending = ?, skipped = ?, duration = ?, audio_seconds = ? WHERE id = ?",
            (
                summary.get("finished_at"), summary.get("status"), summary.get("total_files"),
                summary.get("successful_files"), summary.get("partial_files"), summary.get("failed_files"),
                summary.get("pending_files"), summary.get("skipped_files"), summary.get("duration"),
                summary.get("audio_seconds"), run_id,
            ),
        )
        connection.execute("DELETE FROM run_books WHERE run_id = ?", (run_id,))
        connection.executemany(
            "INSERT INTO run_books (run_id, book_id, file_name, status, ran_this_run, phase_durations, duration,"
            " audio_seconds, cpu_seconds, peak_rss_mb, error, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    run_id, book_id, entry.get("file_name"), entry.get("status") or "failed",
                    int(bool(entry.get("ran_this_run"))), json.dumps(phase_durations(pipeline, book_id)),
                    entry.get("duration"), entry.get("audio_seconds"), entry.get("cpu_seconds"),
                    entry.get("peak_rss_mb"), entry.get("error"), entry.get("finished_at"),
                )
                for book_id, entry in files.items()
            ],
        )
        return run_id


def record_nothing_to_do(
    results_dir: str | Path, key: RunKey, kept: dict[str, str], command: str, digest: str, finished_at: float
) -> int:
    """A run that found every book finished: one row, its books kept ({id: file name}); returns its id."""
    with contextlib.closing(connect(db_path(results_dir))) as connection, transaction(connection):
        mark_killed_runs(connection)
        connection.execute(
            "INSERT OR IGNORE INTO runs (host, pid, started_at, finished_at, command, settings_digest, outcome, total,"
            " successful, partial, failed, pending, skipped, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?)",
            (key.host, key.pid, key.started_at, finished_at, command, digest, NOTHING_TO_DO, len(kept), len(kept),
             len(kept), round(finished_at - key.started_at, 3)),
        )
        run_id = _run_id(connection, key)
        connection.executemany(
            "INSERT OR IGNORE INTO run_books (run_id, book_id, file_name, status, ran_this_run) VALUES (?, ?, ?, 'success', 0)",
            [(run_id, book_id, name) for book_id, name in kept.items()],
        )
        return run_id


def claim_notice(results_dir: str | Path, key: RunKey, when: float) -> bool:
    """True once per run: whoever claims first sends the notice (the rule, or onerror after it)."""
    with contextlib.closing(connect(db_path(results_dir))) as connection, transaction(connection):
        cursor = connection.execute(
            "UPDATE runs SET notified_at = ? WHERE host = ? AND pid = ? AND started_at = ? AND notified_at IS NULL",
            (when, key.host, key.pid, key.started_at),
        )
        return cursor.rowcount == 1


# ---- reading ------------------------------------------------------------------


def _rows(results_dir: str | Path, query: str, args: tuple = ()) -> list[dict[str, Any]]:
    connection = connect_read_only(db_path(results_dir))
    if connection is None:
        return []
    with contextlib.closing(connection):
        return [dict(row) for row in connection.execute(query, args)]


def list_runs(results_dir: str | Path, limit: int = 50) -> list[dict[str, Any]]:
    """The latest runs first."""
    return _rows(results_dir, "SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT ?", (limit,))


def run_books(results_dir: str | Path, run_id: int) -> list[dict[str, Any]]:
    rows = _rows(results_dir, "SELECT * FROM run_books WHERE run_id = ? ORDER BY book_id", (run_id,))
    for row in rows:
        row["phase_durations"] = json.loads(row["phase_durations"] or "{}")
    return rows


def last_durations(results_dir: str | Path) -> dict[str, float]:
    """Each book's duration the last time it was made: what the dashboard estimates from."""
    rows = _rows(
        results_dir,
        "SELECT book_id, duration FROM run_books WHERE status = 'success' AND ran_this_run = 1"
        " AND duration IS NOT NULL ORDER BY run_id",
    )
    return {row["book_id"]: row["duration"] for row in rows}


def book_history(results_dir: str | Path, book_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """One book in every run that listed it, the latest first, with the run's start and host."""
    rows = _rows(
        results_dir,
        "SELECT run_books.*, runs.started_at AS run_started_at, runs.host AS host, runs.outcome AS run_outcome"
        " FROM run_books JOIN runs ON runs.id = run_books.run_id WHERE book_id = ?"
        " ORDER BY runs.started_at DESC, runs.id DESC LIMIT ?",
        (book_id, limit),
    )
    for row in rows:
        row["phase_durations"] = json.loads(row["phase_durations"] or "{}")
    return rows
