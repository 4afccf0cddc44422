"""The per-book record: what happened to one book, written last and atomically.

This JSON file is the whole contract between the orchestrator (phase 6) and
the batch (phase 7): the aggregate step merges these into ``pipeline.json``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .fileio import write_json

RECORD_VERSION = 1
STATUSES = ("success", "partial", "failed")


@dataclass
class PhaseRecord:
    status: str = "pending"  # "success", "failed", "skipped" (not requested), "pending"
    duration: float = 0.0
    attempts: int = 0
    reused: bool = False  # taken from a checkpoint, not recomputed
    error: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    output: str | None = None


@dataclass
class BookRecord:
    file_id: str
    source: str
    file_name: str
    sha256: str | None
    phases_requested: list[int]
    status: str = "failed"
    exit_code: int = 1
    error: str | None = None
    error_kind: str | None = None
    phases: dict[str, PhaseRecord] = field(default_factory=dict)
    phases_completed: list[int] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    duration: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    engine_version: str = __version__
    record_version: int = RECORD_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def save(self, path: Path) -> None:
        write_json(path, self.to_dict())


def metric(record: dict[str, Any], phase: int, name: str, default: Any = None) -> Any:
    """A metric of one phase from a record loaded as JSON."""
    return record.get("phases", {}).get(str(phase), {}).get("metrics", {}).get(name, default)


def title_and_author(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """The book's title and author as its metadata gives them (phase 2, else phase 1); None when unknown."""
    title = metric(record, 2, "title") or metric(record, 1, "title")
    author = metric(record, 2, "author") or metric(record, 1, "author")
    return (str(title) if title else None), (str(author) if author else None)


def shown_title(title: str | None, author: str | None, fallback: str) -> str:
    """How a person finds a book in a list: "Title — Author", else the title, else ``fallback`` (its id)."""
    words = " ".join((title or "").split())
    if not words:
        return fallback
    author = " ".join((author or "").split())
    return f"{words} \u2014 {author}" if author else words
