"""Tesseract's hOCR of one page into the reader's ``Page`` of ``Line``s, without what is not text.

Every rule downstream (running heads, page numbers, footnotes, headings by size,
paragraphs from indents and gaps, hyphenation) works on lines placed in PDF
points with a font size, so an OCR'd page is built the same way: a line's left
edge from its first word, its baseline from hOCR's ``baseline``, its size from
``x_size`` (Tesseract's height of a line's letters, ascender to descender).

Before that, what a reader would not read aloud goes: marks read inside an
illustration (hatching taken for letters: low confidence, no line of words),
a decorative heading Tesseract cannot read (the same), words inside a picture
region and the caption beside it, all counted as dropped words.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from .layout import Line, Page, with_layout

# Tesseract's x_size of a body line, in points, against the font size the text layer gives for the same
# book (rendered at 300 dpi): vc-queueing-theory 13.4 against 13.7, locative-garden 10.3 against 11.0. So
# OCR'd sizes stand beside a text layer's, and a book of both kinds of pages has one body size.
X_SIZE_PER_POINT = 0.96
# A word Tesseract is this sure of (0-100) is a word; hatching, specks and ornaments read as letters
# score below it (the Huck Finn illustration: 13-33; its body text: 84-96, one word at 49).
WORD_CONFIDENCE = 60
# A line is text when this share of its words are words (as above) holding a letter or a digit, and its
# words' mean confidence reaches LINE_CONFIDENCE (a logo read as "QZ..." scores 2-65 on the pages of a scan).
REAL_WORD_SHARE = 0.5
LINE_CONFIDENCE = 70
# Marks at a line's ends below this confidence, or holding no letter or digit, are not words (licence icons
# "[@) By-nc-nb" score 0-51); a word Tesseract doubts more mildly ("I'm" at 57) stays.
TRIM_CONFIDENCE = 52
# A caption sits within this many of its own line heights of its picture.
CAPTION_REACH = 2.5
# Pictures are found on a grid of cells this many pixels wide (2 mm at 300 dpi) ...
CELL = 24
# ... a pixel darker than this (0-255) is ink, a cell with this share of ink is inked ...
DARK = 140
PICTURE_INK = 0.04
# ... and inked cells that touch, spanning this many pixels both ways (about an inch), are a picture.
PICTURE_SIDE = 240

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_NUMBER = r"(-?[\d.]+)"
_BASELINE = re.compile(rf"baseline {_NUMBER} {_NUMBER}")
_X_SIZE = re.compile(rf"x_size {_NUMBER}")
_CONFIDENCE = re.compile(r"x_wconf (\d+)")
_ALNUM = re.compile(r"\w")
_BULLETS = {"e", "°", "«", "»", "+", "*", "o", "©", "@", "¢"}
_LINE_CLASSES = {"ocr_line", "ocr_caption", "ocr_textfloat", "ocr_header", "ocr_footer"}

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels (y down)
Picture = list[Box]  # a picture's rows, top to bottom


@dataclass
class OcrWord:
    text: str
    confidence: int
    box: Box

    @property
    def real(self) -> bool:
        return self.confidence >= WORD_CONFIDENCE and bool(_ALNUM.search(self.text))


@dataclass
class OcrLine:
    words: list[OcrWord]
    box: Box
    baseline: tuple[float, float]  # slope, offset from the box's bottom left (pixels)
    x_size: float
    paragraph: int = 0  # Tesseract's paragraph (ocr_par) the line is in, counted down the page

    @property
    def is_text(self) -> bool:
        """Judged on the words holding a letter or a digit (a dash or a quote mark is neither word nor mark)."""
        words = [word for word in self.words if _ALNUM.search(word.text)]
        if not words:
            return False
        mean = sum(word.confidence for word in words) / len(words)
        return sum(word.real for word in words) >= REAL_WORD_SHARE * len(words) and mean >= LINE_CONFIDENCE


@dataclass
class OcrPage:
    """One page as Tesseract read it, in pixels of the rendered image."""

    index: int
    size: tuple[int, int]  # width, height in pixels
    lines: list[OcrLine]
    photos: list[Box] = field(default_factory=list)  # regions Tesseract's layout analysis found to be pictures
    pictures: list[Picture] = field(default_factory=list)  # ink that is not text (picture_regions)
    trimmed: int = 0  # marks left out at the ends of lines
    inverted: list[Box] = field(default_factory=list)  # lines set light on dark (inverted_lines)

    @property
    def words(self) -> list[OcrWord]:
        return [word for line in self.lines for word in line.words]


def parse_hocr(index: int, hocr: bytes) -> OcrPage:
    """The page's lines and words from Tesseract's hOCR (XHTML; no entity or DTD is ever loaded)."""
    root = etree.fromstring(hocr, _PARSER)
    page = OcrPage(index, (0, 0), [])
    paragraph = 0
    for element in root.iter("{*}div", "{*}span", "{*}p"):
        kind, title = element.get("class", ""), element.get("title", "")
        box = _box(title)
        if kind == "ocr_page" and box:
            page.size = (box[2], box[3])
        elif kind == "ocr_par":
            paragraph += 1
        elif kind == "ocr_photo" and box:
            page.photos.append(box)
        elif kind in _LINE_CLASSES and box:
            words = [_word(span) for span in element.iter("{*}span") if span.get("class") == "ocrx_word"]
            words = [word for word in words if word.text]
            baseline = _BASELINE.search(title)
            x_size = _X_SIZE.search(title)
            if words:
                line = OcrLine(
                    words,
                    box,
                    (float(baseline.group(1)), float(baseline.group(2))) if baseline else (0.0, 0.0),
                    float(x_size.group(1)) if x_size else float(box[3] - box[1]),
                    paragraph,
                )
                page.trimmed += _trim(line)
                page.lines.append(line)
    return page


def _trim(line: OcrLine) -> int:
    """Marks at a line's ends that are not words (a logo, licence icons, a rule's end, a speck) go, when the
    line holds words; a vertical bar between words is the capital I (Tesseract's usual confusion in sans
    faces). A line that fails is judged without the marks at its end: a licence badge read beside a running
    footer ("[G) ev-nc-np" at 1-15 %) failed the whole line on most pages of a book, and the few it did
    not kept the footer.
    Returns how many marks went."""
    words = line.words
    kept = [i for i, word in enumerate(words) if word.confidence >= TRIM_CONFIDENCE and _ALNUM.search(word.text)]
    if not kept:
        return 0
    first, last = kept[0], kept[-1]
    if first + 1 < len(words) and words[first].text in _BULLETS and words[first + 1].text[:1].isupper():
        first += 1  # a list's bullet, which Tesseract reads as a letter ("e How long ...")
    if not line.is_text:
        # Judged again without its end's marks, when they are the lesser part of it (a picture's marks with
        # one word among them stay marks); its start is kept, for the second look at a line whose first
        # words an ornament or a bullet threw off ("® ALC O4i1tis. 2.0, and so on.").
        first, trimmed = 0, OcrLine(words[: last + 1], line.box, line.baseline, line.x_size)
        if 2 * len(trimmed.words) < len(words) or not trimmed.is_text:
            return 0
    line.words = words[first : last + 1]
    for word in line.words[1:-1]:
        if word.text == "|":
            word.text = "I"
    return len(words) - len(line.words)


def _box(title: str) -> Box | None:
    found = _BBOX.search(title)
    return tuple(int(n) for n in found.groups()) if found else None  # type: ignore[return-value]


def _word(span: etree._Element) -> OcrWord:
    title = span.get("title", "")
    confidence = _CONFIDENCE.search(title)
    return OcrWord(" ".join("".join(span.itertext()).split()), int(confidence.group(1)) if confidence else 0, _box(title) or (0, 0, 0, 0))


@dataclass
class Cleaned:
    """A page's text lines, and what was left out of them."""

    lines: list[OcrLine]
    pictures: list[Picture]
    dropped_words: int


def picture_regions(dark: np.ndarray) -> list[Picture]:
    """Where the page's ink is not text: illustrations, ornaments, rules. The page is cut into cells; a cell
    is inked when its dark share (words read as text blanked out) passes PICTURE_INK; touching inked cells
    form a region, and a region this big (an inch square) is a picture, not a speck, a rule or a drop cap.
    A picture is kept as its rows of cells, so text set beside an irregular picture is not inside it."""
    rows, columns = dark.shape[0] // CELL, dark.shape[1] // CELL
    inked = dark[: rows * CELL, : columns * CELL].reshape(rows, CELL, columns, CELL).mean(axis=(1, 3)) > PICTURE_INK
    seen = np.zeros_like(inked)
    regions = []
    for start in zip(*np.nonzero(inked)):
        if seen[start]:
            continue
        seen[start] = True
        stack, cells = [start], []
        while stack:
            row, column = stack.pop()
            cells.append((row, column))
            # Neighbours two cells away count: hatching and stippling leave blank cells inside a picture.
            for near_row in range(max(0, row - 2), min(rows, row + 3)):
                for near_column in range(max(0, column - 2), min(columns, column + 3)):
                    if inked[near_row, near_column] and not seen[near_row, near_column]:
                        seen[near_row, near_column] = True
                        stack.append((near_row, near_column))
        spans: dict[int, list[int]] = {}
        for row, column in cells:
            spans.setdefault(int(row), []).append(int(column))
        width = max(c for _, c in cells) + 1 - min(c for _, c in cells)
        if width * CELL >= PICTURE_SIDE and (max(spans) + 1 - min(spans)) * CELL >= PICTURE_SIDE:
            regions.append([(min(cols) * CELL, row * CELL, (max(cols) + 1) * CELL, (row + 1) * CELL) for row, cols in sorted(spans.items())])
    return regions


def text_blanked(image: np.ndarray, page: OcrPage) -> np.ndarray:
    """The page's ink (True where dark) with the words read as text blanked out."""
    dark = image < DARK
    for line in page.lines:
        if line.is_text:
            for word in line.words:
                if word.real:
                    left, top, right, bottom = word.box
                    dark[max(0, top - 3) : bottom + 4, max(0, left - 3) : right + 4] = False
    return dark


def marks_before_lines(dark: np.ndarray, page: OcrPage) -> list[tuple[Box, Box, str]]:
    """Ink just left of a line's first word that Tesseract did not read with it: (the word's box, the ink's
    box, its kind). Taller than the word and close to it, a drop cap ("cap"); small and raised above the
    word's foot in a line set small, a footnote's mark ("mark"). The caller reads it as one character."""
    found = []
    sizes = [line.x_size for line in page.lines if line.is_text]
    body = statistics.median(sizes) if sizes else 0.0
    for line in page.lines:
        if not line.is_text:
            continue
        word = line.words[0].box
        height = word[3] - word[1]
        cap = _ink_before(dark, word, (word[1] - 2 * height, word[3] + int(3 * line.x_size)), 0.6 * line.x_size, 0.25 * line.x_size)
        if cap and 1.3 * height <= cap[3] - cap[1] <= 5 * height and cap[2] - cap[0] >= 0.4 * line.x_size:
            found.append((word, cap, "cap"))
            continue
        if line.x_size > 0.9 * body:
            continue
        mark = _ink_before(dark, word, (word[1] - height // 2, word[3]), 2.5 * line.x_size, 0.1 * line.x_size)
        if mark and 0.3 * height <= mark[3] - mark[1] <= 0.8 * height and mark[3] <= word[3] - 0.25 * height:
            found.append((word, mark, "mark"))
    return found


def _ink_before(dark: np.ndarray, word: Box, band: tuple[int, int], reach: float, stroke_gap: float) -> Box | None:
    """The box of the nearest ink left of ``word``, starting within ``reach`` pixels of it, inside the rows
    of ``band``: columns of ink with gaps narrower than ``stroke_gap`` (inside a letter), as one mark."""
    top, bottom = max(0, band[0]), min(dark.shape[0], band[1])
    start = max(0, word[0] - int(reach) - 6 * (word[3] - word[1]))
    strip = dark[top:bottom, start : max(start, word[0] - 2)]
    columns = strip.any(axis=0)
    if not columns.any() or start + int(np.nonzero(columns)[0][-1]) < word[0] - reach:
        return None
    right = int(np.nonzero(columns)[0][-1])
    left, gap = right, 0
    while left > 0 and gap < stroke_gap:
        left -= 1
        gap = 0 if columns[left] else gap + 1
    left += gap
    rows = np.nonzero(strip[:, left : right + 1].any(axis=1))[0]
    return (start + left, top + int(rows[0]), start + right + 1, top + int(rows[-1]) + 1)


def inverted_lines(image: np.ndarray, page: OcrPage) -> list[Box]:
    """Text lines set light on a darker panel: in the line's box, the letters stand out above its usual
    (median) grey rather than below it, as dark letters on paper do."""
    found = []
    for line in page.lines:
        if line.is_text:
            low, middle, high = np.percentile(image[line.box[1] : line.box[3], line.box[0] : line.box[2]], [5, 50, 95])
            if high - middle > middle - low:
                found.append(line.box)
    return found


def second_looks(page: OcrPage) -> list[tuple[OcrLine, Box]]:
    """Lines worth reading again without their first "word": an ornament beside a heading (a coloured bar,
    a fleuron) read as letters ("WM The Queueing ...") throws Tesseract off the words next to it ("The" at
    16 % confidence). Returns each such line and the part of it to read again."""
    found = []
    for line in page.lines:
        words = line.words
        if len(words) < 2 or words[0].real or not any(word.real for word in words[1:]):
            continue
        if not line.is_text or not words[1].real:
            found.append((line, (words[1].box[0] - 6, line.box[1] - 6, line.box[2] + 6, line.box[3] + 6)))
    return found


def apply_rereads(page: OcrPage, rereads: list[tuple[Box, list[OcrWord]]]) -> None:
    """Put the words of lines read again in place of the first reading (the ornament counted as dropped)."""
    by_box = {tuple(box): words for box, words in rereads}
    for line in page.lines:
        if line.box in by_box:
            page.trimmed += len(line.words) - len(by_box[line.box])
            line.words = by_box[line.box]


def join_marks(page: OcrPage, marks: list[tuple[Box, str, str]]) -> None:
    """Put each drop cap read in front of its word: "W" + "E went" is "We went" (small capitals after a
    drop cap are the rest of the word, in lower case when they are); a note's mark opens its line ("1 The")."""
    found = {tuple(box): (kind, text) for box, kind, text in marks}
    for line in page.lines:
        word = line.words[0]
        kind, text = found.get(word.box, ("", ""))
        if kind == "cap":
            rest = word.text.lower() if word.text.isupper() and len(line.words) > 1 and line.words[1].text.islower() else word.text
            word.text = text + rest
        elif kind == "mark":
            line.words.insert(0, OcrWord(text, 100, word.box))


def clean_page(page: OcrPage) -> Cleaned:
    """Keep the lines of text: not marks read in pictures, not words inside pictures, not captions."""
    text = [line for line in page.lines if line.is_text]
    marks = [line for line in page.lines if not line.is_text]
    pictures = [[photo] for photo in page.photos] + page.pictures
    # Light text on a dark panel is read, though the panel is ink like a picture's.
    inside = [line for line in text if line.box not in page.inverted and any(_mostly_inside(line.box, picture) for picture in pictures)]
    text = [line for line in text if line not in inside]
    body_x_size = statistics.median(line.x_size for line in text) if text else 0.0
    captions = [line for line in text if _is_caption(line, pictures, body_x_size)]
    kept = [line for line in text if line not in captions]
    dropped = page.trimmed + sum(len(line.words) for line in marks + inside + captions)
    return Cleaned(kept, pictures, dropped)


def _mostly_inside(box: Box, picture: Picture) -> bool:
    covered = 0
    for row in picture:
        width = max(0, min(box[2], row[2]) - max(box[0], row[0]))
        covered += width * max(0, min(box[3], row[3]) - max(box[1], row[1]))
    return covered >= 0.5 * max(1, (box[2] - box[0]) * (box[3] - box[1]))


def _outline(picture: Picture) -> Box:
    return min(r[0] for r in picture), picture[0][1], max(r[2] for r in picture), picture[-1][3]


def _is_caption(line: OcrLine, pictures: list[Picture], body_x_size: float) -> bool:
    """A line set smaller than the text, just below or above a picture and under its width."""
    if not body_x_size or line.x_size >= 0.85 * body_x_size:
        return False
    left, top, right, bottom = line.box
    reach = CAPTION_REACH * (bottom - top)
    for picture in map(_outline, pictures):
        across = min(right, picture[2]) - max(left, picture[0])
        below = 0 <= top - picture[3] <= reach
        above = 0 <= picture[1] - bottom <= reach
        if across >= 0.5 * (right - left) and (below or above):
            return True
    return False


def to_page(cleaned: Cleaned, page: OcrPage, width: float, height: float) -> Page:
    """The reader's Page (PDF points, y up) from the page's kept lines."""
    scale_x, scale_y = width / max(page.size[0], 1), height / max(page.size[1], 1)
    # Tesseract's x_size follows the letters a line holds (a line of street addresses, capitals and digits,
    # measured 36-39 pixels beside prose at 43 in the same type): a paragraph's lines share its median.
    by_paragraph: dict[int, list[float]] = {}
    for ocr_line in cleaned.lines:
        by_paragraph.setdefault(ocr_line.paragraph, []).append(ocr_line.x_size)
    lines = []
    for ocr_line in cleaned.lines:
        left, _, right, bottom = ocr_line.box
        slope, offset = ocr_line.baseline
        first = ocr_line.words[0].box[0]
        baseline_px = bottom + offset + slope * (first - left)
        line = Line(" ".join(word.text for word in ocr_line.words), page.index)
        line.x0, line.x1 = first * scale_x, right * scale_x
        line.y_first = line.y_last = height - baseline_px * scale_y
        line.size = round(statistics.median(by_paragraph[ocr_line.paragraph]) * scale_y / X_SIZE_PER_POINT, 1)
        lines.append(line)
    # Pictures and their captions are gone already: the page goes without picture boxes (a picture's outline
    # would cover the text set beside it, which the text-layer reader's figure rule would then drop).
    return with_layout(Page(page.index, _rows_joined(lines, width), width=width, height=height))


def _rows_joined(lines: list[Line], width: float) -> list[Line]:
    """Lines on one baseline as one line, left to right, as PDFium gives a text layer's (a table's row, a
    running head and its page number): Tesseract reads a table's cells as lines of their own. Not on a page
    set in two columns, whose lines side by side are read column by column."""
    rows: list[list[Line]] = []
    for line in lines:
        row = next((row for row in rows if abs(row[0].y_first - line.y_first) < 0.3 * (line.size or 10.0)), None)
        if row is not None and not any(line.x0 < other.x1 and other.x0 < line.x1 for other in row):
            row.append(line)
        else:
            rows.append([line])
    middle = width / 2
    side_by_side = sum(1 for row in rows if len(row) == 2 and min(l.x1 for l in row) < middle < max(l.x0 for l in row))
    if side_by_side >= 5:
        return lines
    joined = []
    for row in rows:
        row.sort(key=lambda line: line.x0)
        first = row[0]
        first.text, first.x1 = " ".join(line.text for line in row), max(line.x1 for line in row)
        joined.append(first)
    return joined
