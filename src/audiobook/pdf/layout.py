"""Pages into lines with their positions, fonts and the page's usual geometry."""

from __future__ import annotations

import ctypes
import re
import statistics
from collections import Counter
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from .text import HYPHEN_MARKS




@dataclass
class Line:
    """One line of text as PDFium lays it out, with where it sits on the page (PDF points, y up)."""

    text: str
    page: int
    x0: float | None = None  # left edge of the first character
    x1: float | None = None  # right edge of the last character
    y_first: float | None = None  # baseline of the first character
    y_last: float | None = None  # baseline of the last one (differs when a hyphen joined two lines)
    size: float | None = None  # font size of the first character

    @property
    def placed(self) -> bool:
        return self.x0 is not None


@dataclass
class Page:
    index: int
    lines: list[Line]
    left: float | None = None  # usual left edge of lines (the margin)
    right: float | None = None  # usual right edge of lines
    pitch: float | None = None  # usual distance between baselines
    foot: float | None = None  # usual baseline of a full page's last line, the same for the whole book
    body_size: float | None = None  # usual font size


_LINE = re.compile(r"[^\r\n]+")


def read_pages(doc: pdfium.PdfDocument) -> list[Page]:
    x, y = ctypes.c_double(), ctypes.c_double()
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    pages = []
    for index in range(len(doc)):
        try:
            page = doc[index]
            textpage = page.get_textpage()
        except pdfium.PdfiumError:  # a page PDFium cannot load reads as empty; phase 1 judged the rest
            pages.append(Page(index, []))
            continue
        text = textpage.get_text_range()
        # Text and character indices agree unless PDFium dropped or added characters; then go without positions.
        placed = len(text) == textpage.count_chars()
        lines = []
        for match in _LINE.finditer(text):
            body = match.group()
            if not body.strip():
                continue
            line = Line(body.strip(), index)
            if placed:
                first = match.start() + len(body) - len(body.lstrip())
                last = match.start() + len(body.rstrip()) - 1
                line.text = _restore_spaces(textpage, text, first, last + 1)
                pdfium_c.FPDFText_GetCharOrigin(textpage, first, x, y)
                line.x0, line.y_first = x.value, y.value
                pdfium_c.FPDFText_GetCharOrigin(textpage, last, x, y)
                line.y_last = y.value
                pdfium_c.FPDFText_GetCharBox(textpage, last, left, right, bottom, top)
                line.x1 = right.value
                line.size = pdfium_c.FPDFText_GetFontSize(textpage, first) or None
            lines.append(line)
        textpage.close()
        page.close()
        pages.append(_with_layout(Page(index, lines)))
    return pages


# PDFium infers spaces from gaps and misses some in tightly justified lines ("wasMarian"). A small letter
# followed by a capital is where that shows and where a word rarely continues, so the gap is checked there.
_SMALL_THEN_CAPITAL = re.compile(r"[a-z\u00df-\u00ff](?=[A-Z\u00c0-\u00de])")


def _restore_spaces(textpage: pdfium.PdfTextPage, text: str, start: int, end: int) -> str:
    line = text[start:end]
    cuts = []
    for match in _SMALL_THEN_CAPITAL.finditer(text, start, end):
        before, after = textpage.get_charbox(match.start()), textpage.get_charbox(match.start() + 1)
        size = pdfium_c.FPDFText_GetFontSize(textpage, match.start() + 1) or 10.0
        if after[0] - before[2] > 0.1 * size:  # a word space, not letter spacing
            cuts.append(match.end() - start)
    for cut in reversed(cuts):
        line = line[:cut] + " " + line[cut:]
    return line


def _with_layout(page: Page) -> Page:
    placed = [line for line in page.lines if line.placed]
    if len(placed) >= 2:
        page.left = Counter(round(line.x0) for line in placed).most_common(1)[0][0]
        page.right = sorted(line.x1 for line in placed)[int(0.9 * (len(placed) - 1))]
        pitches = [a.y_last - b.y_first for a, b in zip(placed, placed[1:]) if 0 < a.y_last - b.y_first < 4 * (a.size or 12)]
        # A line joined at a marked hyphen spans several baselines: each step is a pitch too.
        for line in placed:
            if (joins := sum(line.text.count(mark) for mark in HYPHEN_MARKS)) and line.y_first > line.y_last:
                pitches += [(line.y_first - line.y_last) / joins] * joins
        page.pitch = statistics.median(pitches) if pitches else None
        page.body_size = statistics.median(line.size or 0.0 for line in placed) or None
    return page


def set_foot(pages: list[Page]) -> None:
    """Note how low text goes on a full page (after running lines are gone), to see a page that stops short.

    That is the lowest last baseline found on two pages or more: with a ragged
    bottom, full pages end a little higher or lower depending on the spacing above.
    """
    feet = Counter(round(page.lines[-1].y_last) for page in pages if len(page.lines) >= 5 and page.lines[-1].placed)
    common = [foot for foot, count in feet.items() if count >= 2] or list(feet)
    for page in pages:
        page.foot = min(common) if common else None

