"""Find the books of a batch: cheap, stable and safe with any file name.

The workflow calls this at parse time, and every cluster job parses the
workflow again, so it only lists one folder; it never opens a book.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path
from .ids import book_id, is_book_name


@dataclass(frozen=True)
class FoundBook:
    id: str
    path: str  # absolute path of the file (or of the link that points to it)
    name: str


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


def discover(input_dir: str | Path, pattern: str = "*", batch_size: int | None = None) -> tuple[list[FoundBook], list[Skipped]]:
    """Books in ``input_dir`` (not its subfolders), in name order.

    Symbolic links are followed only when they resolve to a file inside
    ``input_dir``: a link out of the folder would let a batch read files the
    user never put there.
    """
    root = Path(input_dir).absolute()
    real_root = root.resolve()
    found: list[FoundBook] = []
    skipped: list[Skipped] = []
    try:
        entries = sorted(os.scandir(root), key=lambda entry: os.fsencode(entry.name))
    except FileNotFoundError:
        return [], []
    for entry in entries:
        name = entry.name
        if not is_book_name(name) or not fnmatch.fnmatchcase(name, pattern):
            continue
        if entry.is_symlink():
            target = Path(os.path.realpath(entry.path))
            if real_root not in target.parents or not target.is_file():
                skipped.append(Skipped(name, "is a link to a file outside the input folder; copy the book in instead"))
                continue
        elif not entry.is_file(follow_symlinks=False):
            continue
        found.append(FoundBook(id=book_id(name), path=str(root / name), name=name))
        if batch_size is not None and len(found) >= batch_size:
            break
    return found, skipped
