"""Book ids: stable, unique and safe in paths, shell words and Snakemake wildcards.

An id depends only on the file's own name, so adding or removing other books
never renames a finished one. A plain name keeps its stem and gains its
extension (``x.pdf`` -> ``x-pdf``, ``x.epub`` -> ``x-epub``); any other name is
reduced to safe characters and gains a short hash of the original bytes, so
``a b.pdf`` and ``a_b.pdf`` stay apart.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

# Matches every id this module makes; the Snakefile constrains {book} with it.
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
BOOK_EXTENSIONS = (".pdf", ".epub")
_MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def book_id(file_name: str | bytes) -> str:
    """The id of the book stored under ``file_name`` (a name, not a path)."""
    raw = os.fsencode(file_name)
    name = os.fsdecode(raw)
    stem, ext = os.path.splitext(name)
    ext = ext.lower().lstrip(".")
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = _UNSAFE.sub("_", ascii_stem).strip("._-")[:_MAX_STEM] or "book"
    plain = f"{slug}-{ext}"
    if f"{slug}.{ext}" == name:
        return plain
    digest = hashlib.sha256(raw).hexdigest()[:8]
    return f"{slug}-{digest}-{ext}"


def is_book_name(file_name: str) -> bool:
    return file_name.lower().endswith(BOOK_EXTENSIONS) and not file_name.startswith(".")
