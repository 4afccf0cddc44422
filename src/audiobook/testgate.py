"""Test-only gates: hold a book at a named point until a test lets it go.

Tests that interrupt a run must catch a book at a point (speaking, between
phases); polling for it and hoping the book is still there is a race the
test loses on a fast moment. With ``AUDIOBOOK_TEST_GATE`` naming a folder,
a file ``<book-id>.<point>`` in it holds that book at that point: the
orchestrator touches ``<book-id>.<point>.reached`` and waits until the test
creates ``<book-id>.<point>.open`` (or signals it), and touches
``<book-id>.<point>.left`` when it goes on. While held, SIGINT and SIGTERM wait
until the gate opens, so a test can interrupt the batch, see Snakemake stop
launching, and only then let the book see the signal. Points:

- ``phase<N>``: before phase N runs (not when its checkpoint is reused);
- ``<folder>-<K>``: right after the K-th file this process wrote atomically
  into a folder of that name (``audio-3``: the third chunk audio of phase 4);
  JSON files (records, sidecars such as a chunk's sentence spans) are not counted.

Unset (every real run), each check is one comparison with None.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

ENV = "AUDIOBOOK_TEST_GATE"
POLL_S = 0.05  # how often a held book looks for its .open file

_folder = os.environ.get(ENV) or None
_book = ""
_written: Counter[str] = Counter()


def set_book(book_id: str) -> None:
    """The book this process works on: gates are asked for per book."""
    global _book
    _book = book_id


def hold(point: str) -> None:
    """Wait here if the test asked to hold this book at ``point``."""
    if _folder is None:
        return
    request = Path(_folder, f"{_book}.{point}")
    if not request.exists():
        return
    deferred = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        Path(f"{request}.reached").touch()
        opened = Path(f"{request}.open")
        while not opened.exists():
            time.sleep(POLL_S)
        Path(f"{request}.left").touch()
    finally:
        # A signal that came meanwhile is delivered here: the book stops as it would anywhere.
        signal.pthread_sigmask(signal.SIG_SETMASK, deferred)


def wrote(path: Path) -> None:
    """Count a file written into its folder, and hold at ``<folder>-<count>`` if asked."""
    if _folder is None or Path(path).suffix == ".json":
        return
    folder = Path(path).parent.name
    _written[folder] += 1
    hold(f"{folder}-{_written[folder]}")
