"""``batch-audiobook serve`` and ``batch-audiobook history``: look at a batch, never change it."""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from . import history
from .fileio import read_json
from .record import shown_title, title_and_author
from .liveness import run_process_alive

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")

SERVE_EPILOG = """\
The page lists every book of the batch in this folder (by title and author,
100 a page, the running ones on top) with its state, phase,
chunk progress, elapsed time and an estimate; failed books with their reason
and log; finished books with an audio player, chapters, loudness and speed;
the run's summary, the report's plots and past runs. It updates itself every
few seconds while a run goes on (here, in another terminal, or on a cluster
writing to a shared folder). It only reads the results folder.

By default only this machine can open it. --host 0.0.0.0 (or an address of
this machine) lets every machine that can reach the port see it, without a
password: no secrets are shown, but book titles, file names, logs (which hold
file paths) and the audiobooks themselves are. Use it only on a network you
trust, or reach the page through an SSH tunnel instead:
  ssh -L 8765:localhost:8765 batch-host   then open http://localhost:8765/

examples:
  batch-audiobook serve                       # http://127.0.0.1:8765/
  batch-audiobook serve --port 9000 --results-dir /shared/run1/results
"""

HISTORY_EPILOG = """\
The history is results/history.sqlite (SQLite): a row per run (start, end,
command, settings digest, host, outcome, counts) and one per book of each run
(status, phase durations, audio and CPU seconds, peak memory, error). A run
killed before its end shows as "killed" once the next run starts; a run that
found every book finished shows as "nothing to do", its books counted as skipped.

examples:
  batch-audiobook history                     # the latest runs
  batch-audiobook history river-pdf           # one book in every run
"""


def _add_folder_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the config.yaml of the batch, for its results_dir, pipeline_json and log_file "
                        "(default: ./config.yaml if present, else the workflow's own)")
    parser.add_argument("--results-dir", type=Path, metavar="DIR",
                        help="the batch's results folder (default: results_dir of the config)")
    parser.add_argument("--pipeline-json", type=Path, metavar="FILE",
                        help="the batch's pipeline.json (default: pipeline_json of the config)")


def serve_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-audiobook serve",
        description="Serve a live dashboard of the batch in this folder (read-only) at http://HOST:PORT/.",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_folder_options(parser)
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default: {DEFAULT_HOST}, this machine only); another "
                        "address lets other machines see the batch, logs and audiobooks without a password")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--refresh", type=float, default=2.0, metavar="SECONDS",
                        help="how often the page asks for news (default: 2)")
    return parser


def history_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-audiobook history",
        description="Print the past runs of the batch in this folder, or, with a book id, that book's runs.",
        epilog=HISTORY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("book", nargs="?", metavar="BOOK_ID", help="a book id (as in pipeline.json) to list its runs")
    _add_folder_options(parser)
    parser.add_argument("--limit", type=int, default=30, metavar="N", help="at most N runs (default: 30)")
    return parser


def folder_config(args: argparse.Namespace) -> dict[str, Any]:
    """The config as the batch in this folder reads it: ./config.yaml (else the workflow's), then --config."""
    from .batch import find_workflow

    base = Path("config.yaml") if Path("config.yaml").exists() else find_workflow().snakefile.parent / "config.yaml"
    config: dict[str, Any] = {}
    for path in (base, args.config):
        if path is not None and Path(path).is_file():
            with open(path, encoding="utf-8") as handle:
                config.update(yaml.safe_load(handle) or {})
    return config


def batch_folders(args: argparse.Namespace) -> tuple[Path, Path]:
    """The results folder and pipeline.json: from the flags, else the config as the batch reads it."""
    config = folder_config(args)
    results = args.results_dir or Path(config.get("results_dir", "results"))
    pipeline = args.pipeline_json or Path(config.get("pipeline_json", "pipeline.json"))
    return results, pipeline


def _when(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds)) if seconds else ""


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}s"


def print_runs(results: Path, limit: int) -> int:
    from rich.table import Table

    from .batch import make_console

    runs = history.list_runs(results, limit)
    console = make_console()
    if not runs:
        console.print(f"No runs recorded yet in {history.db_path(results)}.", markup=False, highlight=False)
        return 0
    table = Table(title=f"Runs in {results} (latest first)")
    counts = ("Books", "OK", "Partial", "Failed", "Skipped")
    for column in ("Run", "Started", "Ended", "Outcome", *counts, "Duration", "Host", "Settings", "Command"):
        table.add_column(column, overflow="fold", justify="right" if column in ("Run", *counts) else "left")
    for run in runs:
        outcome = run["outcome"]
        if outcome == "running" and run_process_alive(run["host"], run["pid"], run["started_at"]) is False:
            outcome = "killed"  # the next run writes it down; its process is gone already
        table.add_row(
            str(run["id"]), _when(run["started_at"]), _when(run["finished_at"]), outcome,
            *(("" if run.get(key) is None else str(run[key])) for key in ("total", "successful", "partial", "failed", "skipped")),
            _seconds(run["duration"]), run["host"], (run["settings_digest"] or "")[:8], run["command"] or "",
        )
    console.print(table)
    return 0


def book_title(results: Path, book_id: str) -> str:
    """ "Title — Author (id)" from the book's record when it has one; else the id."""
    for record_path in (results / book_id / "book.json", results / "logs" / f"{book_id}.record.json"):
        try:
            record = read_json(record_path)
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            title, author = title_and_author(record)
            if title:
                return f"{shown_title(title, author, book_id)} ({book_id})"
    return book_id


def print_book(results: Path, book_id: str, limit: int) -> int:
    from rich.table import Table
    from rich.text import Text

    from .batch import make_console

    rows = history.book_history(results, book_id, limit)
    console = make_console()
    if not rows:
        console.print(f"{book_id}: not in the history of {results} (ids are as in pipeline.json)",
                      markup=False, highlight=False)
        return 1
    table = Table(title=Text(f"{book_title(results, book_id)} in every run (latest first)"))
    for column in ("Run", "Started", "Status", "Ran", "Duration", "Phases (s)", "Audio", "CPU", "Peak MB", "Error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        phases = " ".join(f"{phase}:{seconds:.1f}" for phase, seconds in row["phase_durations"].items())
        table.add_row(
            str(row["run_id"]), _when(row["run_started_at"]), row["status"], "yes" if row["ran_this_run"] else "kept",
            _seconds(row["duration"]), phases, _seconds(row["audio_seconds"]), _seconds(row["cpu_seconds"]),
            "" if row["peak_rss_mb"] is None else f"{row['peak_rss_mb']:.0f}", row["error"] or "",
        )
    console.print(table)
    return 0


def serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import uvicorn

    from .dashboard.app import make_app

    results, pipeline = batch_folders(args)
    if not results.is_dir():
        parser.error(f"--results-dir {results}: no such folder (run a batch first, or give the batch's folder)")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    if not 0.2 <= args.refresh <= 3600:
        parser.error("--refresh must be between 0.2 and 3600 seconds")
    if args.host not in LOCAL_HOSTS:
        print(f"batch-audiobook serve: listening on {args.host}: every machine that can reach port {args.port} "
              "sees this batch, its logs and its audiobooks, without a password", file=sys.stderr)
    # The run's [START] lines tell the dashboard which books to look at again (see dashboard.state).
    batch_log = Path(folder_config(args).get("log_file", "batch.log"))
    app = make_app(results, pipeline, refresh_s=args.refresh, batch_log=batch_log)
    # Our own socket, so the address said below is the one bound (also with --port 0).
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host, args.port))
        listener.listen(128)  # connections wait in the queue until the server takes them
    except OSError as error:
        parser.error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    port = listener.getsockname()[1]
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Dashboard of {results.absolute()}: http://{shown}:{port}/ (Ctrl-C to stop)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        pass
    return 0


def main(command: str, argv: list[str]) -> int:
    if command == "say":
        from .say_command import main as say

        return say(argv)
    if command == "serve":
        parser = serve_parser()
        return serve(parser.parse_args(argv), parser)
    parser = history_parser()
    args = parser.parse_args(argv)
    if args.limit < 1:
        parser.error("--limit must be at least 1")
    results, _ = batch_folders(args)
    if args.book:
        return print_book(results, args.book, args.limit)
    return print_runs(results, args.limit)
