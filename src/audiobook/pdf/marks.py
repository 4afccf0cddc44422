"""Printer's proof furniture: what lies outside the trimmed page, and lines fixed at one spot on most pages.

A proof or a print-ready PDF carries crop marks, slug lines ("4TH PASS PAGES", "book.qxd 10/5/04 2:14 PM
Page 47") and rulers of line numbers in its text layer, outside the page a reader holds. The PDF says
where that page is (TrimBox, else ArtBox, else BleedBox); where it does not, a slug still gives itself
away by sitting at the very same spot on most pages with the same words (numbers aside).
"""

from __future__ import annotations

import re
from collections import defaultdict

import pypdfium2 as pdfium

from .layout import Line, Page

Box = tuple[float, float, float, float]  # left, bottom, right, top (PDF points)
# A box is a trim only when it cuts something off the media: a TrimBox equal to the page says nothing.
MIN_TRIM_MARGIN = 2.0
# A line at one spot (to this many points) with the same words on at least this share of pages is furniture.
SPOT_POINTS = 2
MIN_SPOT_SHARE = 0.5
MIN_SPOT_PAGES = 5
MAX_SPOT_WORDS = 12


def trimmed_pages(doc: pdfium.PdfDocument) -> list[Box | None]:
    """Per page, the trimmed page where the PDF sets one smaller than its media; None where it does not.
    A print-ready PDF sets it on every page, so three pages spread over the book are asked first (loading
    a page again costs as much as reading its text)."""
    count = len(doc)
    if not any(_trimmed(doc, index) for index in sorted({0, count // 2, count - 1}) if count):
        return [None] * count
    return [_trimmed(doc, index) for index in range(count)]


def _trimmed(doc: pdfium.PdfDocument, index: int) -> Box | None:
    try:
        page = doc[index]
    except pdfium.PdfiumError:
        return None
    media = page.get_mediabox()
    box = page.get_trimbox(fallback_ok=False) or page.get_artbox(fallback_ok=False) or page.get_bleedbox(fallback_ok=False)
    page.close()
    cuts = box is not None and max(box[0] - media[0], box[1] - media[1], media[2] - box[2], media[3] - box[3]) > MIN_TRIM_MARGIN
    return box if cuts else None


def drop_outside_trim(pages: list[Page], boxes: list[Box | None]) -> int:
    """Remove lines whose middle lies outside the trimmed page (marks, slugs, rulers); return how many.
    A line that reaches into the page is kept: body text is never cut for standing near a mark."""
    removed = 0
    for page, box in zip(pages, boxes):
        if box is None:
            continue
        left, bottom, right, top = box
        kept = [
            line
            for line in page.lines
            if not line.placed or (left <= (line.x0 + (line.x1 or line.x0)) / 2 <= right and bottom <= line.y_first <= top)
        ]
        removed += len(page.lines) - len(kept)
        page.lines = kept
    return removed


def _shape(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def drop_fixed_lines(pages: list[Page]) -> int:
    """Remove short lines found at one spot with the same words (numbers aside) on most pages: slugs and
    ruler numbers a layout program sets on every page; return how many. Body lines share spots too, but
    never their words."""
    spots: dict[tuple[int, int, str], set[int]] = defaultdict(set)
    for page in pages:
        for line in page.lines:
            if line.placed and len(line.text.split()) <= MAX_SPOT_WORDS:
                spots[_spot(line)].add(page.index)
    with_text = sum(1 for page in pages if page.lines)
    fixed = {spot for spot, where in spots.items() if len(where) >= max(MIN_SPOT_PAGES, MIN_SPOT_SHARE * with_text)}
    if not fixed:
        return 0
    removed = 0
    for page in pages:
        kept = [line for line in page.lines if not (line.placed and len(line.text.split()) <= MAX_SPOT_WORDS and _spot(line) in fixed)]
        removed += len(page.lines) - len(kept)
        page.lines = kept
    return removed


def _spot(line: Line) -> tuple[int, int, str]:
    return round(line.x0 / SPOT_POINTS), round(line.y_first / SPOT_POINTS), _shape(line.text)

