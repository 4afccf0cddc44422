"""Whether the process that started a batch run is still going (the folder guard and the history ask)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from .aggregate import RUN_MARKER


def run_process_alive(host: str, pid: int, started_at: float) -> bool | None:
    """True or False for a run started on this host; None when it ran elsewhere and cannot be seen.

    A zombie is not running (a run killed with its parent stays one until something
    reaps it), and a process started after the run began only reuses its pid.
    """
    if host != socket.gethostname():
        return None
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return process.create_time() <= started_at + 1
    except psutil.Error:
        return False


@dataclass(frozen=True)
class LastRun:
    """What the last real run in a results folder wrote when it started (aggregate.start_batch)."""

    pid: int
    host: str
    started_at: float

    def described(self) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.started_at))
        return f"snakemake pid {self.pid} on {self.host}, started {started}"

    def alive(self) -> bool | None:
        return run_process_alive(self.host, self.pid, self.started_at)

    def refusal(self) -> str:
        """The one line that turns a second batch away while this one is going."""
        return (
            f"another run is making this batch ({self.described()}); "
            "let it finish or stop it with Ctrl+C, then run again"
        )


def last_run(results_dir: str | Path) -> LastRun | None:
    """The last run's marker in ``results_dir``, or None when there is none (or it is unreadable)."""
    try:
        marker = json.loads(Path(results_dir, RUN_MARKER).read_text(encoding="utf-8"))
        return LastRun(int(marker["pid"]), str(marker["host"]), float(marker["started_at"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
