"""Compressed streams that PDFium reads around without a word: found with zlib on the raw bytes."""

from __future__ import annotations

import mmap
import re
import zlib
from collections import Counter
from pathlib import Path



# The damage scan inflates at most this many bytes of compressed streams, so a huge file stays quick.
DAMAGE_SCAN_BUDGET = 64 * 1024 * 1024


_STREAM_START = re.compile(rb">>\s*stream(?:\r\n|\n|\r)")
_FLATE = re.compile(rb"/Filter\s*(?:\[\s*)?/FlateDecode")
_IMAGE = re.compile(rb"/Subtype\s*/Image")


def find_stream_damage(path: Path) -> list[str]:
    """Notes on compressed streams that fail to inflate or fail their checksum.

    PDFium reads around a broken Flate stream without a word, so its text may
    silently be incomplete or altered; zlib on the raw bytes is the honest
    signal. Images are skipped (a bad picture does not change the words).
    """
    broken: Counter[str] = Counter()
    checked = 0
    budget = DAMAGE_SCAN_BUDGET
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        for match in _STREAM_START.finditer(data):
            head = data[max(data.rfind(b"obj", 0, match.start()), 0) : match.start()]
            if not _FLATE.search(head) or _IMAGE.search(head):
                continue
            end = data.find(b"endstream", match.end())
            if end < 0:
                broken["cut off"] += 1
                break
            budget -= end - match.end()
            if budget < 0:
                break
            checked += 1
            problem = _inflate_problem(data[match.end() : end])
            if problem:
                broken[problem] += 1
    if not broken:
        return []
    what = ", ".join(f"{count} {reason}" for reason, count in broken.items())
    return [
        f"{sum(broken.values())} of {checked} compressed streams are damaged ({what}); PDFium read around them, so some text may be missing or wrong"
    ]


def _inflate_problem(body: bytes) -> str | None:
    """What is wrong with one Flate stream, if anything; inflates in steps so a zip bomb cannot fill memory."""
    inflater = zlib.decompressobj()
    pending, produced = body, 0
    try:
        while pending and not inflater.eof:
            produced += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
            if produced > DAMAGE_SCAN_BUDGET:
                return None  # too large to check to the end; not evidence of damage
    except zlib.error as error:
        return "bad checksum" if "data check" in str(error) else "does not inflate"
    return None if inflater.eof else "ends early"

