"""A gate in front of the real orchestrator, so a test can hold a book at a known point.

    gate_orchestrator.py REAL-ORCHESTRATOR ARGS...

With AUDIOBOOK_TEST_GATE set to a folder, it writes ``<folder>/<book-id>.arrived``
and waits until ``<folder>/open`` or ``<folder>/<book-id>.open`` exists; then it
becomes the real orchestrator (exec) with the same arguments. Without the
variable it execs at once. Nothing is faked: the book is made by the real one.
"""

import os
import sys
import time
from pathlib import Path


def main() -> None:
    real, args = sys.argv[1], sys.argv[2:]
    gate = os.environ.get("AUDIOBOOK_TEST_GATE")
    if gate:
        book_id = args[args.index("--book-id") + 1]
        folder = Path(gate)
        (folder / f"{book_id}.arrived").write_text(str(os.getpid()))
        while not ((folder / "open").exists() or (folder / f"{book_id}.open").exists()):
            time.sleep(0.05)  # polling a file the test writes: the test decides when, not a clock
    os.execv(real, [real, *args])


if __name__ == "__main__":
    main()
