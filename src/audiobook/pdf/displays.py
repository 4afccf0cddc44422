"""Displayed matter that is not prose: code listings, display equations, figures with their captions.

Fonts and geometry decide: a run of lines set wholly in a typewriter face is a
code listing (a short spoken cue replaces it unless engine.read_code; a snippet
of a few lines goes without a cue); a line set mostly in maths fonts is a
display equation (left out: letter soup helps nobody); text over a picture is
the picture's labels and short lines centred just below or above it are its
caption; a caption labelled "Figure 3:" or "Table 2.1." goes with the set-in
lines beside it (table cells, diagram labels); small text laid out in columns
is a table.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..sections import CODE_CUE
from .layout import Line, Page

# Listings shorter than this are snippets the prose around them discusses (a statement or two): no cue.
# A cue on every snippet adds more words than a listener gains (think-java ins/1k: cue from 3 lines 9.5, 4 lines 8.1, 5 lines 7.0).
MIN_CUED_LISTING_LINES = 5
# A caption's label: the word for a figure or table, its number, then a colon, full stop or dash.
_CAPTION = re.compile(
    r"(?:figure|fig\.|table|plate|illustration|listing|abbildung|abb\.|tabelle|tableau|figura|tabla|tabella)"
    r"\s+[\dIVXivx]+(?:\.\d+)*\s*[:.\u2014\u2013](?:\s|$)",
    re.I,
)


def is_code(line: Line) -> bool:
    """Every sampled character in a typewriter face: a prose line with inline code or a URL stays prose."""
    return line.mono >= 0.99


def is_equation(line: Line) -> bool:
    return line.math >= 0.5 and not line.mono


def handle_code(pages: list[Page], read_code: bool, body_size: float | None = None) -> int:
    """Replace each run of code lines by one cue line (or nothing, for a snippet); return how many listings.
    Type set well above the body's size is display type (a cover's title in a typewriter face), not code."""
    lines = [line for page in pages for line in page.lines]
    display = DISPLAY_SIZE_RATIO * body_size if body_size else float("inf")
    if read_code or sum(is_code(line) for line in lines) > 0.4 * len(lines):
        return 0  # asked for, or a book set in a typewriter face throughout: then that face is its prose
    listings = 0
    run: list[Line] = []

    def close(out: list[Line]) -> None:
        nonlocal listings
        if not run:
            return
        listings += 1
        if len(run) >= MIN_CUED_LISTING_LINES:
            out.append(replace(run[0], text=CODE_CUE, mono=0.0, x1=run[0].x0, y_last=run[-1].y_last, alone=True))
        run.clear()

    for page in pages:
        out: list[Line] = []
        for line in page.lines:
            if is_code(line) and not line.note and (line.size or 0.0) < display:
                run.append(line)
                continue
            close(out)
            out.append(line)
        page.lines = out  # a listing that runs on over the page break stays one listing
    if pages:
        close(pages[-1].lines)
    return listings


# Lines set this much larger than the body are display type, never code.
DISPLAY_SIZE_RATIO = 1.3
# A line of nothing but these, three or more, is a drawn rule ("-----", "* * *", "~~~"): nothing to say.
_RULE = re.compile(r"[-‐‑‒–—―_=~*·•.…⁂\s]{3,}")


def drop_rules(pages: list[Page]) -> int:
    """Remove lines that are a rule or an ornament typed in characters; return how many. The space they
    leave still parts the paragraphs around them."""
    dropped = 0
    for page in pages:
        kept = [line for line in page.lines if line.alone or not _RULE.fullmatch(line.text)]
        dropped += len(page.lines) - len(kept)
        page.lines = kept
    return dropped


def drop_equations(pages: list[Page]) -> int:
    """Remove display equations; return how many lines."""
    dropped = 0
    for page in pages:
        kept = [line for line in page.lines if not is_equation(line)]
        dropped += len(page.lines) - len(kept)
        page.lines = kept
    return dropped


def drop_figures(pages: list[Page], blocks: dict[int, tuple[float, float]] | None = None) -> int:
    """Remove text inside pictures, their captions, and captions opening "Figure N"/"Table N"; return lines.
    ``blocks`` is the book's text block by page parity: a page full of table has no usual left edge of its own."""
    dropped = 0
    for page in pages:
        left_edge = min(page.left or 0.0, (blocks or {}).get(page.index % 2, (page.left or 0.0, 0.0))[0])
        doomed: set[int] = set()
        pitch = page.pitch or 14.0
        for box in page.images:
            left, bottom, right, top = box
            for i, line in enumerate(page.lines):
                if not line.placed:
                    continue
                inside = left - 2 <= line.x0 <= right + 2 and bottom - 2 <= line.y_first <= top + 2
                if inside:
                    doomed.add(i)
            # The caption: lines just below the picture (or above it), until a blank line's gap.
            for direction in (1, -1):
                edge = bottom if direction == 1 else top
                order = range(len(page.lines)) if direction == 1 else range(len(page.lines) - 1, -1, -1)
                last_y = edge
                for i in order:
                    line = page.lines[i]
                    if not line.placed or i in doomed:
                        continue
                    gap = (last_y - line.y_first) if direction == 1 else (line.y_first - last_y)
                    if gap <= 0:
                        continue
                    if gap > 2.2 * pitch or not _centred_under(line, left, right, page):
                        break
                    doomed.add(i)
                    last_y = line.y_first
                    if direction == 1 and _ends_sentence_block(page, i):
                        break
                if direction == 1 and any(page.lines[i].y_first < bottom for i in doomed if page.lines[i].placed):
                    break  # a caption below: there is none above as well
        for i, line in enumerate(page.lines):
            if _CAPTION.match(line.text) and i not in doomed:
                doomed.update(_caption_block(page, i, left_edge))
        dropped += len(doomed)
        page.lines = [line for i, line in enumerate(page.lines) if i not in doomed]
    return dropped


def _centred_under(line: Line, left: float, right: float, page: Page) -> bool:
    """A caption is centred on its picture and narrower than the text: a justified body line is neither both.
    The slack is a quarter of a small picture's width: a heading beside a logo is not its caption."""
    middle = ((line.x1 or line.x0) + line.x0) / 2
    text_width = (page.right or right) - (page.left or left)
    narrow = (line.x1 or line.x0) - line.x0 < 0.85 * text_width
    return narrow and abs(middle - (left + right) / 2) < min(0.04 * (page.width or 600), 0.25 * (right - left))


def _ends_sentence_block(page: Page, i: int) -> bool:
    following = page.lines[i + 1] if i + 1 < len(page.lines) else None
    if following is None or not following.placed or not page.lines[i].placed:
        return True
    return page.lines[i].y_last - following.y_first > 1.45 * (page.pitch or 14.0)


def _caption_block(page: Page, start: int, left_edge: float) -> list[int]:
    """A caption line, the lines that continue it (no gap, same size), and the figure or table it labels:
    the lines next to it (above, else below) that stand in from the text's left edge or are set small."""
    block = [start]
    for i in range(start + 1, len(page.lines)):
        prev, line = page.lines[i - 1], page.lines[i]
        if not (prev.placed and line.placed) or prev.y_last - line.y_first > 1.3 * (page.pitch or 14.0) or line.size != prev.size:
            break
        block.append(i)
    above = _set_in(page, range(start - 1, -1, -1), left_edge)
    return block + (above or _set_in(page, range(block[-1] + 1, len(page.lines)), left_edge))


# Table cells set this much smaller than the page's body belong to the table wherever they start.
CELL_SIZE_RATIO = 0.9


def _set_in(page: Page, order: range, left_edge: float) -> list[int]:
    """Consecutive lines, walking in ``order``, that do not start at the text's left edge or are set
    smaller than the body (cells, labels)."""
    found: list[int] = []
    for i in order:
        line = page.lines[i]
        size = line.size or 10.0
        small = bool(page.body_size) and size <= CELL_SIZE_RATIO * page.body_size
        if not line.placed or (line.x0 - left_edge < 1.5 * size and not small):
            break
        if page.body_size and line.size and line.size > 1.15 * page.body_size:
            break  # a heading
        found.append(i)
    return found


def drop_tables(pages: list[Page], body_size: float | None) -> int:
    """Remove tables: a block of four or more lines set smaller than the body, laid out in columns
    (lines starting at two or more places well apart, each more than once); return lines."""
    if not body_size:
        return 0
    dropped = 0
    for page in pages:
        doomed: set[int] = set()
        block: list[int] = []
        for i, line in enumerate([*page.lines, None]):
            small = line is not None and line.placed and not line.note and line.size and line.size <= 0.9 * body_size
            if small:
                block.append(i)
                continue
            if len(block) >= 4 and sum(1 for count in _columns([page.lines[j].x0 for j in block], body_size) if count >= 2) >= 2:
                doomed.update(block)
            block = []
        dropped += len(doomed)
        page.lines = [line for i, line in enumerate(page.lines) if i not in doomed]
    return dropped


def _columns(starts: list[float], apart: float) -> list[int]:
    """How many lines start in each column: a start within ``apart`` of the last is in its column. (Cut into
    fixed bins, one column whose starts straddled a bin's edge, 205.2 and 206.2 points with bins of 27.4,
    counted as two: a paragraph read by OCR was taken for a table.)"""
    counts: list[int] = []
    last = None
    for start in sorted(starts):
        if last is None or start - last >= apart:
            counts.append(0)
        counts[-1] += 1
        last = start
    return counts


# Labels of a drawing (a state diagram's boxes, a plot's axes): short lines across a cluster of vector
# paths that holds no line of prose. Paths this close are one drawing; smaller clusters are
# underlines or link boxes, larger than this share of the page a background.
DRAWING_JOIN_POINTS = 12.0
MIN_DRAWING_POINTS = 24.0
MAX_DRAWING_PAGE_SHARE = 0.5
MAX_LABEL_WORDS = 4
PROSE_WORDS = 6


def drop_drawing_labels(doc: pdfium.PdfDocument, pages: list[Page]) -> int:
    """Remove the text of vector drawings; return how many lines. Only pages with short lines away from
    the text's left edge are asked for their drawings (loading a page again costs as much as its text)."""
    dropped = 0
    for page in pages:
        if page.left is None or len([line for line in page.lines if _label_like(line, page)]) < 2:
            continue
        drawings = _drawings(doc, page)
        doomed: set[int] = set()
        for left, bottom, right, top in drawings:
            # A label may stand beside its box ("message" left of the box holding "Hello!"): what overlaps it.
            inside = [
                i for i, line in enumerate(page.lines)
                if line.placed and line.x0 <= right and (line.x1 or line.x0) >= left and bottom - 3 <= line.y_first <= top + 3
            ]  # fmt: skip
            if inside and all(len(page.lines[i].text.split()) <= MAX_LABEL_WORDS for i in inside):
                doomed.update(inside)
        dropped += len(doomed)
        page.lines = [line for i, line in enumerate(page.lines) if i not in doomed]
    return dropped


def _label_like(line: Line, page: Page) -> bool:
    size = line.size or 10.0
    return line.placed and len(line.text.split()) <= MAX_LABEL_WORDS and line.x0 - (page.left or 0.0) > 2 * size and not is_code(line)


def _drawings(doc: pdfium.PdfDocument, page: Page) -> list[tuple[float, float, float, float]]:
    """Boxes around clusters of vector paths on a page (left, bottom, right, top)."""
    try:
        pdf_page = doc[page.index]
    except pdfium.PdfiumError:
        return []
    try:
        boxes = [obj.get_bounds() for obj in pdf_page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2)]
    except pdfium.PdfiumError:
        boxes = []
    finally:
        pdf_page.close()
    area = (page.width or 612.0) * (page.height or 792.0)
    boxes = [box for box in boxes if (box[2] - box[0]) * (box[3] - box[1]) < MAX_DRAWING_PAGE_SHARE * area]
    clusters: list[list[float]] = []
    for box in sorted(boxes, key=lambda b: (b[1], b[0])):
        for cluster in clusters:
            if box[0] <= cluster[2] + DRAWING_JOIN_POINTS and cluster[0] <= box[2] + DRAWING_JOIN_POINTS and box[1] <= cluster[3] + DRAWING_JOIN_POINTS and cluster[1] <= box[3] + DRAWING_JOIN_POINTS:
                cluster[:] = [min(cluster[0], box[0]), min(cluster[1], box[1]), max(cluster[2], box[2]), max(cluster[3], box[3])]
                break
        else:
            clusters.append(list(box))
    return [tuple(c) for c in clusters if c[2] - c[0] >= MIN_DRAWING_POINTS and c[3] - c[1] >= MIN_DRAWING_POINTS]
