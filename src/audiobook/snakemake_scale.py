"""What keeps Snakemake's own cost per book flat at thousands of books.

Each piece below answers a measurement (docs/benchmarks.md) and is applied
by the workflow when it is parsed (rules/common.smk). Each one checks that
Snakemake still has the shape it expects and otherwise leaves Snakemake as
it is: correct, only slower at thousands of books.

One pending wake-up. After every pass over the ready jobs, Snakemake's
scheduler (9.x) starts a timer that wakes it again one rate-limit timespan
later (for ``--max-jobs-per-timespan``, 100/1s by default), and the pass that
timer causes starts another. Passes caused by a finished job start chains of
their own, so every finished book kept a timer chain alive to the end of the
batch: 200 one-line books made 3,256 passes, each one statting every waiting
book, and the scheduler's CPU grew with the square of the books (upstream:
snakemake/snakemake#3744, #2967). Here a pass that finds a wake-up already
due no later than the one it would start starts none: the rate limiter gets
its next look as soon as before, and a finished job still wakes the
scheduler at once. The timers are daemon threads, so a finished run no
longer waits up to a second for the last one before it exits.

Fewer garbage collections. Building the DAG of 10,000 books allocates
millions of objects that live to the end of the run; Python's default
thresholds rescan them in full collection after collection (a tenth of a
dry run's time). Larger thresholds scan them rarely; the peak memory of a
10,000-book dry run stays the same (about 320 MB).
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Any

PATCHED = "_audiobook_one_pending_wakeup"
# Allocations between young collections, and young (then middle) collections
# between older ones. Python's defaults are 700, 10, 10.
GC_THRESHOLDS = (50_000, 20, 100)


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


def one_pending_wakeup() -> bool:
    """Install the wake-up fix on this Snakemake's scheduler; False when its shape is not the known one."""
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


def fewer_collections() -> None:
    """Raise the garbage collector's thresholds, never lower them (a user's own setting wins if higher)."""
    gc.set_threshold(*(max(ours, theirs) for ours, theirs in zip(GC_THRESHOLDS, gc.get_threshold())))


def apply() -> None:
    one_pending_wakeup()
    fewer_collections()
