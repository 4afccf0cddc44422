"""One pending wake-up for Snakemake's job scheduler: linear cost at thousands of books.

After every pass over the ready jobs, Snakemake's scheduler (9.x) starts a
timer that wakes it again one rate-limit timespan later (for
``--max-jobs-per-timespan``, 100/1s by default), and the pass that timer
causes starts another. Passes caused by a finished job start chains of their
own, so by the end of a batch every finished job keeps a timer chain alive:
a 200-book run made 3,256 passes, each one statting every waiting book, and
the scheduler's own CPU grew with the square of the books (upstream:
snakemake/snakemake#3744 and #2967).

The fix keeps at most one wake-up pending: a pass that finds one already
due no later than the one it would start starts none. A wake-up exists only
so the rate limiter gets another look once its timespan has passed, and the
pending one gives it that look as soon. Finished jobs still wake the
scheduler at once, as before. The timer threads are daemons, so a finished
run no longer waits up to a second for the last one before it exits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

PATCHED = "_audiobook_one_pending_wakeup"


def schedule_wakeup(scheduler: Any, delay: float) -> None:
    """Wake ``scheduler`` after ``delay`` seconds unless a wake-up is due by then."""
    now = time.monotonic()
    due = now + delay
    with _lock_of(scheduler):
        pending = getattr(scheduler, "_audiobook_wakeup_due", None)
        if pending is not None and now < pending <= due:
            return
        scheduler._audiobook_wakeup_due = due
    timer = threading.Timer(delay, scheduler._open_jobs.release)
    timer.daemon = True
    timer.start()


_locks_guard = threading.Lock()


def _lock_of(scheduler: Any) -> threading.Lock:
    """A lock of our own per scheduler: the scheduler's own is held by its callers at times."""
    with _locks_guard:
        lock = getattr(scheduler, "_audiobook_wakeup_lock", None)
        if lock is None:
            lock = scheduler._audiobook_wakeup_lock = threading.Lock()
        return lock


def apply() -> bool:
    """Install the fix on this Snakemake's scheduler; False when its shape is not the known one.

    A Snakemake without the method (renamed, or the scheduler rewritten)
    keeps its own behaviour: correct, only slower at thousands of books.
    """
    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    original = getattr(JobScheduler, "_schedule_reevalutation", None)
    if original is None:
        return False
    if getattr(original, PATCHED, False):
        return True
    setattr(schedule_wakeup, PATCHED, True)
    JobScheduler._schedule_reevalutation = schedule_wakeup
    return True
