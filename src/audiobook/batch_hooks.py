"""What the workflow does when a batch starts and ends, besides pipeline.json: history and notices.

``on_batch_start`` runs from ``onstart``; ``on_batch_end`` after the
aggregate step, from the aggregate rule when every book succeeded and from
``onerror`` when some failed, so once per run either way. A run that finds
every book finished runs neither (Snakemake runs no hooks then): it gets
``on_nothing_to_do`` instead, when Snakemake says so. None of them ever fails
the batch: a problem becomes one warning line in the batch log.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

from . import history
from .aggregate import RUN_MARKER, append_log, found_lines, stamp
from .fileio import read_json
from .notify import send_notices, settings_from_config
from .utf8 import printable


def warn(batch_log: str | Path, text: str) -> None:
    """One warning line in the batch log; if even that fails, there is nowhere left to say it."""
    try:
        append_log(Path(batch_log), [f"[{stamp()}] [WARNING] {' '.join(text.split())}"])
    except OSError:
        pass


def _run_key(results_dir: str | Path) -> history.RunKey:
    return history.RunKey.from_marker(read_json(Path(results_dir) / RUN_MARKER))


def _first_notice(results_dir: str, key: history.RunKey) -> bool:
    """Whether this run's notice is still to send; without a usable history, send it (twice beats never)."""
    try:
        return history.claim_notice(results_dir, key, time.time())
    except Exception:  # noqa: BLE001
        return True


def on_batch_start(
    results_dir: str, batch_log: str, book_ids: list[str], command: str, config: dict[str, Any], kept: list[str] = ()
) -> None:
    """Add the run, with its books waiting or kept, to the history (after aggregate.start_batch wrote the marker)."""
    try:
        digest = history.settings_digest(config)
        history.start_run(results_dir, _run_key(results_dir), book_ids, command, digest, kept)
    except Exception as error:  # noqa: BLE001 - the history is a record, never a reason to stop
        warn(batch_log, f"history: could not add this run to {history.db_path(results_dir)}: {type(error).__name__}: {error}")


def on_nothing_to_do(
    results_dir: str, batch_log: str, books: dict[str, str], skipped: list[Any], command: str, config: dict[str, Any]
) -> None:
    """A run with every book finished ({id: file name}): its [SKIP] lines and its row in the history.

    No run marker: nothing ran, so the last run that made books stays the one
    pipeline.json, the dashboard and the next run's liveness check refer to.
    """
    started_at = time.time()
    try:
        lines = found_lines(list(books), skipped, books)
        done = f"all {len(books)} books already completed" if books else "no books"
        lines.append(f"[{stamp()}] [INFO] Nothing to do: {done}")
        append_log(Path(batch_log), lines)
    except OSError as error:
        warn(batch_log, f"could not write to {batch_log}: {error}")
    try:
        key = history.RunKey(socket.gethostname(), os.getpid(), started_at)
        names = {book_id: printable(name) for book_id, name in books.items()}
        history.record_nothing_to_do(results_dir, key, names, command, history.settings_digest(config), time.time())
    except Exception as error:  # noqa: BLE001 - the history is a record, never a reason to stop
        warn(batch_log, f"history: could not add this run to {history.db_path(results_dir)}: {type(error).__name__}: {error}")


def on_batch_end(results_dir: str, pipeline_json: str, batch_log: str, notify: dict[str, Any] | None) -> None:
    """Record the run's outcome and books, then send the notice once per run."""
    try:
        key = _run_key(results_dir)
        pipeline = read_json(Path(pipeline_json))
        summary = pipeline["batch"]["summary"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        warn(batch_log, f"history: no summary of this run to record ({type(error).__name__}: {error})")
        return
    if summary.get("started_at") != key.started_at:
        warn(batch_log, f"history: {pipeline_json} is not this run's summary (the aggregate step failed?); not recorded")
        return
    try:
        history.finish_run(results_dir, key, pipeline)
    except Exception as error:  # noqa: BLE001
        warn(batch_log, f"history: could not record this run in {history.db_path(results_dir)}: {type(error).__name__}: {error}")
    try:
        settings = settings_from_config(notify)
        if not settings.wanted or not _first_notice(results_dir, key):
            return
        for problem in send_notices(settings, pipeline, results_dir):
            warn(batch_log, f"notice: {problem}")
    except Exception as error:  # noqa: BLE001
        warn(batch_log, f"notice: could not send: {type(error).__name__}: {error}")
