"""Whether the process that started a batch run is still going (the folder guard and the history ask)."""

from __future__ import annotations

import socket

import psutil


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
