"""Pages into lines with their positions, fonts and the page's usual geometry."""

from __future__ import annotations

import ctypes
import functools
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..inline_code import silent_symbols
from .text import HYPHEN_MARKS

# Font names that mark a line as code (typewriter faces) or as mathematics (TeX's and other maths fonts).
_MONO_FONT = re.compile(r"mono|courier|consol|menlo|typewriter|code|^(?:[a-z]{6}\+)?(?:cm|lm|sf|ec|t1)?tt|inconsolata|sourcecodepro", re.I)
_MATH_FONT = re.compile(r"cmmi|cmsy|cmex|msam|msbm|math|euler|eufm|eusm|rsfs|mnsymbol|lmmi|lmsy|cmmib", re.I)
# How many characters of a line are asked for their font: enough to tell a code line from prose with a code word.
FONT_SAMPLES = 5

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
    mono: float = 0.0  # share of sampled characters set in a typewriter (code) font
    math: float = 0.0  # share of sampled characters set in a maths font
    note: bool = False  # a footnote at the foot of its page, read after the paragraph (engine.read_notes)
    alone: bool = False  # a paragraph of its own (a spoken cue standing for a code listing)
    # Where the typeface changes: (offset in text, font name, italic), one entry per run of words set alike.
    fonts: tuple[tuple[int, str, bool], ...] = ()
    opens: bool = False  # opens a paragraph (a play's speech, after its speaker's label)
    direction: bool = False  # a play's stage direction: a paragraph of its own, or several

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
    width: float | None = None  # page width, points
    height: float | None = None  # page height, points
    images: list[tuple[float, float, float, float]] = field(default_factory=list)  # (left, bottom, right, top) of pictures


_LINE = re.compile(r"[^\r\n]+")


def read_pages(doc: pdfium.PdfDocument) -> list[Page]:
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
        spans: list[list[tuple[int, int]]] = []  # per PDFium line, its parts between wide gaps
        for match in _LINE.finditer(text):
            body = match.group()
            if not body.strip():
                continue
            if not placed:
                lines.append(Line(body.strip(), index))
                continue
            first = match.start() + len(body) - len(body.lstrip())
            last = match.start() + len(body.rstrip()) - 1
            spans.append(_split_at_gutters(textpage, text, first, last))
        width, height = page.get_size()
        columns = _has_columns(textpage, text, spans, width)
        for parts in spans:
            if len(parts) >= 2 and _is_margin_number(textpage, text, parts[0], parts[1]):
                # A number set apart before the line (a margin line number, a note's mark) is a line of its own.
                parts = [parts[0]] + (parts[1:] if columns else [(parts[1][0], parts[-1][1])])
            elif not columns:
                parts = [(parts[0][0], parts[-1][1])]
            lines += [_placed_line(textpage, text, start, end, index) for start, end in parts]
        textpage.close()
        images = _image_boxes(page, width * height)
        page.close()
        pages.append(with_layout(Page(index, _in_column_order(lines), width=width, height=height, images=images)))
    return pages


_X, _Y = ctypes.c_double(), ctypes.c_double()
_LEFT, _RIGHT, _BOTTOM, _TOP = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()


def _placed_line(textpage: pdfium.PdfTextPage, text: str, first: int, last: int, index: int) -> Line:
    """The characters first..last (inclusive) of the page as a Line with its position and fonts."""
    mono, math = _font_shares(textpage, text, first, last)
    # Blank what is not read, keeping positions in line with the text page: note marks vanish (a control
    # character, dropped by clean_text); operators of inline code become spaces (a listing keeps its own).
    edits = dict.fromkeys(_note_marks(textpage, text, first, last), "\x00")
    if mono < 0.99:
        edits.update(dict.fromkeys(_inline_code_symbols(textpage, text, first, last), " "))
    if edits:
        text = text[:first] + "".join(edits.get(i, text[i]) for i in range(first, last + 1)) + text[last + 1 :]
    cuts = _space_cuts(textpage, text, first, last + 1)
    line = Line(_with_spaces(text[first : last + 1], cuts), index)
    line.fonts = _font_runs(textpage, text, first, last, cuts)
    pdfium_c.FPDFText_GetCharOrigin(textpage, first, _X, _Y)
    line.x0, line.y_first = _X.value, _Y.value
    pdfium_c.FPDFText_GetCharOrigin(textpage, last, _X, _Y)
    line.y_last = _Y.value
    pdfium_c.FPDFText_GetCharBox(textpage, last, _LEFT, _RIGHT, _BOTTOM, _TOP)
    line.x1 = _RIGHT.value
    line.size = pdfium_c.FPDFText_GetFontSize(textpage, first) or None
    line.mono, line.math = mono, math
    return line


_MARK_CHARS = set("0123456789*†‡§¶")


def _note_marks(textpage: pdfium.PdfTextPage, text: str, first: int, last: int) -> set[int]:
    """Footnote marks inside a line: digits or symbols set small and raised above the line's baseline."""
    candidates = [i for i in range(first + 1, last + 1) if text[i] in _MARK_CHARS]
    if not candidates:
        return set()
    size = pdfium_c.FPDFText_GetFontSize(textpage, first) or 10.0
    pdfium_c.FPDFText_GetCharOrigin(textpage, first, _X, _Y)
    baseline = _Y.value
    marks = set()
    for i in candidates:
        pdfium_c.FPDFText_GetCharOrigin(textpage, i, _X, _Y)
        small = (pdfium_c.FPDFText_GetFontSize(textpage, i) or size) < 0.8 * size
        if small and _Y.value > baseline + 0.2 * size:
            marks.add(i)
    return marks


# A gap this many times the font size inside one PDFium line is a column gutter, not a word space.
GUTTER_SIZES = 2.5


def _split_at_gutters(textpage: pdfium.PdfTextPage, text: str, first: int, last: int) -> list[tuple[int, int]]:
    """PDFium joins the lines of two columns that share a baseline; cut them apart where a wide gap runs."""
    count = pdfium_c.FPDFText_CountRects(textpage, first, last - first + 1)
    if count < 2:
        return [(first, last)]
    size = pdfium_c.FPDFText_GetFontSize(textpage, first) or 10.0
    boxes = []
    for i in range(count):
        pdfium_c.FPDFText_GetRect(textpage, i, _LEFT, _TOP, _RIGHT, _BOTTOM)
        boxes.append((_LEFT.value, _RIGHT.value, (_TOP.value + _BOTTOM.value) / 2))
    boxes.sort()
    cuts = []
    for before, after in zip(boxes, boxes[1:]):
        if after[0] - before[1] > GUTTER_SIZES * size:
            at = pdfium_c.FPDFText_GetCharIndexAtPos(textpage, after[0] + 0.5, after[2], 2.0, 2.0)
            if first < at <= last:
                cuts.append(at)
    spans = []
    start = first
    for cut in sorted(set(cuts)):
        end = cut - 1
        while end > start and text[end].isspace():
            end -= 1
        if end >= start and not text[start : end + 1].isspace():
            spans.append((start, end))
        start = cut
    spans.append((start, last))
    return spans


def _is_margin_number(textpage: pdfium.PdfTextPage, text: str, part: tuple[int, int], rest: tuple[int, int]) -> bool:
    """A short number set apart by a wide gap and smaller than the text after it: a margin line number or
    a note's mark (a running head's page number is as large as the head, and stays with it)."""
    if not (text[part[0] : part[1] + 1].strip().isdigit() and part[1] - part[0] < 4):
        return False
    number_size = pdfium_c.FPDFText_GetFontSize(textpage, part[0]) or 0.0
    return number_size < 0.9 * (pdfium_c.FPDFText_GetFontSize(textpage, rest[0]) or 0.0)


def _has_columns(textpage: pdfium.PdfTextPage, text: str, spans: list[list[tuple[int, int]]], width: float) -> bool:
    """Whether a page is set in two columns: many lines break at a wide gap near the middle into two runs
    of text (not a title and its page number, as in a contents, nor a running head)."""
    middle = width / 2
    two_columns = 0
    for parts in spans:
        if len(parts) != 2:
            continue
        (a_first, a_last), (b_first, b_last) = parts
        if a_last - a_first < 12 or b_last - b_first < 12:
            continue
        pdfium_c.FPDFText_GetCharBox(textpage, a_last, _LEFT, _RIGHT, _BOTTOM, _TOP)
        left_ends = _RIGHT.value
        pdfium_c.FPDFText_GetCharBox(textpage, b_first, _LEFT, _RIGHT, _BOTTOM, _TOP)
        if left_ends < middle + 0.05 * width and _LEFT.value > middle - 0.05 * width:
            two_columns += 1
    return two_columns >= 5 and two_columns >= 0.3 * len(spans)


def _in_column_order(lines: list[Line]) -> list[Line]:
    """Two-column pages read column by column: full-width lines above the columns, the left column,
    the right one, then full-width lines below (a footnote across the page)."""
    placed = [line for line in lines if line.placed]
    if len(placed) < 10:
        return lines
    middle = (min(line.x0 for line in placed) + max(line.x1 for line in placed)) / 2
    left = [line for line in placed if line.x1 <= middle + 2]
    right = [line for line in placed if line.x0 >= middle - 2]
    # Columns: many lines on each side of the middle, few lines across it.
    if len(left) < 5 or len(right) < 5 or len(left) + len(right) < 0.8 * len(placed):
        return lines
    sides = {id(line) for line in left + right}
    column_top = max(line.y_first for line in left + right)
    column_foot = min(line.y_first for line in left + right)
    across = [line for line in lines if id(line) not in sides]
    above = [line for line in across if not line.placed or line.y_first > column_top]
    below = [line for line in across if line not in above]
    if any(line.y_first > column_foot for line in below):
        return lines  # full-width text between column lines: not a simple two-column page
    return above + left + right + below


# PDFium infers spaces from gaps and misses some in tightly justified lines ("wasMarian"). A small letter
# followed by a capital is where that shows and where a word rarely continues, so the gap is checked there.
_SMALL_THEN_CAPITAL = re.compile(r"[a-z\u00df-\u00ff](?=[A-Z\u00c0-\u00de])")


def _space_cuts(textpage: pdfium.PdfTextPage, text: str, start: int, end: int) -> list[int]:
    """Offsets into text[start:end] where a word space PDFium missed goes."""
    cuts = []
    for match in _SMALL_THEN_CAPITAL.finditer(text, start, end):
        before, after = textpage.get_charbox(match.start()), textpage.get_charbox(match.start() + 1)
        size = pdfium_c.FPDFText_GetFontSize(textpage, match.start() + 1) or 10.0
        if after[0] - before[2] > 0.1 * size and not _in_typewriter(textpage, match.start()):
            cuts.append(match.end() - start)  # a word space, not letter spacing (a typewriter face spaces every glyph)
    return cuts


def _with_spaces(line: str, cuts: list[int]) -> str:
    for cut in reversed(cuts):
        line = line[:cut] + " " + line[cut:]
    return line


_WORD_START = re.compile(r"(?<!\S)\S*?(\w)")
_ITALIC_FONT = re.compile(r"ital|obli|slant|cm(?:b?x?ti|sl|itt)\d|[-_,](?:bold|semibold|medium)?it$", re.I)
_ITALIC_FLAG = 1 << 6  # the PDF font descriptor's Italic flag


def _font_runs(
    textpage: pdfium.PdfTextPage, text: str, first: int, last: int, cuts: list[int]
) -> tuple[tuple[int, str, bool], ...]:
    """Runs of words set in one typeface, asked at each word's first letter (cheap, and enough to tell a
    speaker's label or a stage direction from the speech): (offset in the spaced line, font, italic)."""
    runs: list[tuple[int, str, bool]] = []
    for match in _WORD_START.finditer(text[first : last + 1]):
        spot = first + match.start(1)
        pdfium_c.FPDFText_GetFontInfo(textpage, spot, _FONT_NAME, len(_FONT_NAME), _FONT_FLAGS)
        name, italic = _face(_FONT_NAME.value)
        italic = italic or bool(_FONT_FLAGS.value & _ITALIC_FLAG)
        if not runs or runs[-1][1:] != (name, italic):
            offset = match.start()
            runs.append((offset + sum(1 for cut in cuts if cut <= offset), name, italic))
    return tuple(runs)


@functools.lru_cache(maxsize=512)
def _face(name: bytes) -> tuple[str, bool]:
    """(font name without its subset prefix, italic by its name); a book uses few fonts, so asked once each."""
    text = name.decode("latin-1").split("+")[-1]
    return text, bool(_ITALIC_FONT.search(text))


def with_layout(page: Page) -> Page:
    """Set the page's usual left margin, right edge, line pitch and body size from its placed lines
    (read from the text layer or by OCR), which the paragraph and furniture rules measure against."""
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



_FONT_NAME = ctypes.create_string_buffer(128)
_FONT_FLAGS = ctypes.c_int()


def _font_shares(textpage: pdfium.PdfTextPage, text: str, first: int, last: int) -> tuple[float, float]:
    """Shares of a few characters spread over the line that are set in a code font and in a maths font."""
    step = max(1, (last - first) // (FONT_SAMPLES - 1))
    spots = [i for i in range(first, last + 1, step) if not text[i].isspace()]
    mono = math = 0
    for spot in spots:
        pdfium_c.FPDFText_GetFontInfo(textpage, spot, _FONT_NAME, len(_FONT_NAME), _FONT_FLAGS)
        is_mono, is_math = _font_kind(_FONT_NAME.value)
        mono += is_mono
        math += is_math
    return (mono / len(spots), math / len(spots)) if spots else (0.0, 0.0)


def _inline_code_symbols(textpage: pdfium.PdfTextPage, text: str, first: int, last: int) -> list[int]:
    """Operators and brackets of inline code in a prose line (set in a typewriter face): its words stay,
    and so does a web address in that face (phase 3 says it shortly), also the rest of one cut at the line above."""
    line, before = text[first : last + 1], text[max(0, first - 300) : first]
    return [first + i for i in silent_symbols(line, lambda i: _in_typewriter(textpage, first + i), before)]


def _in_typewriter(textpage: pdfium.PdfTextPage, index: int) -> bool:
    pdfium_c.FPDFText_GetFontInfo(textpage, index, _FONT_NAME, len(_FONT_NAME), _FONT_FLAGS)
    return _font_kind(_FONT_NAME.value)[0]


@functools.lru_cache(maxsize=512)
def _font_kind(name: bytes) -> tuple[bool, bool]:
    """(typewriter face, maths face) for a font name; a book uses few fonts, so this is asked once each."""
    text = name.decode("latin-1")
    return bool(_MONO_FONT.search(text)), bool(_MATH_FONT.search(text))


def _image_boxes(page: pdfium.PdfPage, page_area: float) -> list[tuple[float, float, float, float]]:
    """Where pictures sit on the page: big enough to be a figure (not a rule or a bullet), and not the
    page itself (a scan under its OCR text, a background), which the text sits on rather than beside."""
    boxes = []
    try:
        for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
            left, bottom, right, top = obj.get_bounds()
            if right - left > 30 and top - bottom > 30 and (right - left) * (top - bottom) < 0.6 * page_area:
                boxes.append((left, bottom, right, top))
    except pdfium.PdfiumError:
        pass
    return boxes


def book_body_size(pages: list[Page]) -> float | None:
    """The font size most of the book's text is set in (weighted by characters)."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for line in page.lines:
            if line.size:
                sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else None
