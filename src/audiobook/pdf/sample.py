"""A sample of a book's body text for phase 1 to tell its language from, read cheaply.

Pages are taken spread over the book, skipping its first and last tenth (title,
copyright, contents; index, licence), and only lines long enough to be prose,
so running heads, page numbers and headings do not sway the guess.
"""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium

from ..settings import EngineSettings
from .opening import open_pdf
from .quality import text_quality
from .text import clean_text

# Shorter lines are headers, page numbers, headings or table cells more often than prose.
MIN_PROSE_LINE_CHARS = 25
# At most this many pages are read, however little text they hold.
MAX_SAMPLE_PAGES = 40


def sample_text(path: Path, settings: EngineSettings, limit: int = 20000) -> str:
    """Up to ``limit`` characters of body text from pages spread through the book."""
    doc, _ = open_pdf(path, settings)
    try:
        count = len(doc)
        first, last = (count // 10, count - 1 - count // 10) if count >= 10 else (0, count - 1)
        span = last - first + 1
        picks = min(span, MAX_SAMPLE_PAGES)
        order = sorted({first + round(k * (span - 1) / max(picks - 1, 1)) for k in range(picks)})
        # Take the pages in an order that spreads early: middle, quarters, eighths ... so a small limit still samples widely.
        order = sorted(order, key=lambda index: _spread_rank(order.index(index), len(order)))
        pieces: list[str] = []
        size = 0
        for index in order:
            for line in _page_lines(doc, index):
                pieces.append(line)
                size += len(line) + 1
                if size >= limit:
                    return " ".join(pieces)[:limit]
        return " ".join(pieces)[:limit]
    finally:
        doc.close()


def _spread_rank(position: int, total: int) -> tuple[int, int]:
    """Sort key visiting positions 0..total-1 coarse to fine (bit-reversed order)."""
    bits = max(total - 1, 1).bit_length()
    return int(format(position, f"0{bits}b")[::-1], 2), position


def _page_lines(doc: pdfium.PdfDocument, index: int) -> list[str]:
    try:
        page = doc[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return []
    text = textpage.get_text_range()
    textpage.close()
    page.close()
    lines = [clean_text(line) for line in text.splitlines()]
    prose = [line for line in lines if len(line) >= MIN_PROSE_LINE_CHARS or (line and _dense_script(line))]
    return prose if not text_quality(" ".join(prose)).garbled else []


def _dense_script(line: str) -> bool:
    """Chinese or Japanese lines carry a sentence in few characters: count them as prose at half the length."""
    return len(line) >= MIN_PROSE_LINE_CHARS // 2 and text_quality(line).letters >= 0.8 * len(line)
