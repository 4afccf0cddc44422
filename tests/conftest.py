"""Shared fixtures: the corpus beside the repo, work folders, phase contexts; how tests share workers."""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import pytest

from audiobook.model import PhaseContext

# A suite started in the background by a script (`.ci/run &`) inherits SIGINT
# ignored, as a shell without job control starts background commands, and so
# would every run the tests start: the Ctrl+C they send, as a terminal would,
# would never arrive. The tests' processes take Ctrl+C as at a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parents[1]
# CI lays ../shared beside the clone; a clone elsewhere may not have it.
CORPUS = Path(os.environ.get("AUDIOBOOK_CORPUS", REPO.parent / "shared" / "corpus"))


@pytest.fixture
def corpus() -> Path:
    """The folder of real books; skips the test when it is absent."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"corpus not found at {CORPUS} (set AUDIOBOOK_CORPUS or lay ../shared beside the repo)")
    return CORPUS


@pytest.fixture
def make_ctx(tmp_path: Path):
    """Build a PhaseContext for a book, with a fresh work folder."""

    def build(source: Path, threads: int = 1) -> PhaseContext:
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        return PhaseContext(source=Path(source), work_dir=work, threads=threads, log=logging.getLogger("test"))

    return build


# Tests that must not run beside each other on two workers (pytest-xdist,
# --dist loadgroup): the SLURM tests start and stop one cluster per machine.
SERIAL_GROUPS = {"slurm": "slurm"}
# The longest tests start first, so no worker is left with one at the end.
LONGEST_FIRST = ("load", "slurm")


def shares_module_fixture(item: pytest.Item) -> bool:
    """Whether a test uses a module-scoped fixture its own module defines (a book made once for several tests)."""
    info = getattr(item, "_fixtureinfo", None)
    module = getattr(item, "module", None)
    if info is None or module is None:
        return False
    definitions = (info.name2fixturedefs.get(name) or () for name in info.names_closure)
    return any(d and d[-1].scope == "module" and d[-1].func.__module__ == module.__name__ for d in definitions)


# First: pytest-xdist reads the groups in its own hook of this name, on each worker.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker, group in SERIAL_GROUPS.items():
            if item.get_closest_marker(marker):
                item.add_marker(pytest.mark.xdist_group(group))
        # Tests sharing a module's fixture run on one worker, so the fixture (a book
        # spoken and mastered) is made once, not once on each worker.
        if not item.get_closest_marker("xdist_group") and shares_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}-shared"))

    def rank(item: pytest.Item) -> int:
        return next((i for i, marker in enumerate(LONGEST_FIRST) if item.get_closest_marker(marker)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep their order
