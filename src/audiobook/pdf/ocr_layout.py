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
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from lxml import etree

from ..wordlists import is_common_word
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
# ... or this many of its words in a row are common English words read at this confidence or more (prose
# around inline code Tesseract doubts, read at 0-50 %).
SURE_PROSE_WORDS = 4
SURE_WORD_CONFIDENCE = 90
# Marks at a line's ends below this confidence, or holding no letter or digit, are not words (licence icons
# "[@) By-nc-nb" score 0-51); a word Tesseract doubts more mildly ("I'm" at 57) stays.
TRIM_CONFIDENCE = 52
# A doubted word at a line's end (confidence below TRIM_CONFIDENCE) is still a word from this confidence when
# it is a common English word of four letters or more: vc-queueing-theory's "Kendall's" (26), "Let's" (41)
# against marks read as words, "eels" (0), "Mulizetion" (0), "es" (8), "MM" (11-26).
DOUBTED_WORD_CONFIDENCE = 20
# A typewriter face: each word as wide as its letters' count times the line's median letter width, within
# this share of it or this many letters, whichever is more (the ink of a word is about a fifth of a letter
# short of its count: side bearings) ...
MONO_WIDTHS = 0.06
MONO_LETTER_SLACK = 0.35
MONO_INK_SHORTFALL = 0.2
# ... and no space between words narrower than this many letters (prose spaces: 0.3 to 0.8).
MONO_SPACE = 0.9
# A gap this narrow (in letters) is no space: a letter Tesseract did not see, an underscore (prose's spaces: 0.5
# and up).
MONO_LOST_LETTER = 0.3
# One such line among prose is code when it holds this many words, each within MONO_WIDTHS, or when it is
# set in from the page's usual left edge by this many x_sizes (a display; a paragraph's indent is about one).
MONO_ALONE_WORDS = 4
MONO_DISPLAY_INDENT = 2.0
# A line beside code that only its spacing marks as a typewriter's is code when set in by this many x_sizes
# from the prose's edge (think-java's listings: 1.9; a paragraph's indent, LaTeX's 1.5 em: 1.4 or less) and
# not left of the code beside it by more than this share of one (a listing's lines start within 4 pixels).
MONO_LISTING_INDENT = 1.6
MONO_EDGE_SLACK = 0.25
# A line spaced as a typewriter's whose widths do not tell (a misread or lost letter: "file get_contents()",
# "M require once(...)") is code alone when this share of its words, and two or more, are words of code.
MONO_CODE_WORDS = 0.4
# Short words Tesseract glues to the next word when the space is narrow, longest first.
GLUED_WORDS = ("the", "and", "for", "an", "as", "at", "by", "in", "is", "it", "of", "on", "or", "to", "a")
# A line set at most this share of the page's usual x_size is a footnote's size (viking-tales: 37 beside 62;
# vc-queueing-theory 37 beside 56; locative-garden 36 beside 43).
NOTE_X_SIZE = 0.85
# A line this much larger than its paragraph's median may keep its own size (lines of one paragraph vary by
# a tenth or so; capitals and digits measure a sixth smaller at most).
OWN_SIZE = 1.25
# A band of ink Tesseract found no line in (lost_lines) is read again when its rows each hold this many
# x_sizes' worth of dark pixels (a line of letters: several; a scan's specks: a few pixels) ...
LOST_LINE_INK = 1.0
# ... with gaps of no more than this share of an x_size (between a letter's parts, an i's dot) ...
LOST_LINE_GAP = 0.3
# ... and it is as high as a line of text, from a line of capitals to one with a raised mark, and as wide as
# a few words.
LOST_LINE_LOW = 0.6
LOST_LINE_HIGH = 1.6
LOST_LINE_WIDTH = 4.0
LOST_LINE_MARGIN = 0.4
# A bullet stands this many x_sizes or less before its item's first word (owasp's: 1.9).
BULLET_REACH = 2.5
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
_DESCENDERS = re.compile(rf"x_descenders {_NUMBER}")
_CONFIDENCE = re.compile(r"x_wconf (\d+)")
_ALNUM = re.compile(r"\w")
# A word's letters between quotes and punctuation ("theory.”" -> theory, "Let's" -> let's).
_WORD_CORE = re.compile(r"[\W\d_]*([^\W\d_]+(?:['’][^\W\d_]+)?)[\W\d_]*")
_BULLETS = {"e", "°", "«", "»", "+", "*", "o", "©", "@", "¢"}
_QUOTED_I = re.compile(r"([“‘\"']+)[Tl](am)?([^\w\s]*)")
_GLUED_I = re.compile(r"([^\w\s]*)I(am)([^\w\s]*)")
_GLUED_MARK = re.compile(r"[^\w\s](?=[A-Z][a-z])")
_WEB = re.compile(r"://|www\.", re.I)
# A word of code: brackets, a statement's or an assignment's marks, a variable's sign, an identifier's
# underscore, a comment's slashes, or camelCase ("getParameter").
_CODE_WORD = re.compile(r"[(){}\[\];=<>$_&|]|//|^[a-z]+[A-Z]")
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
    descenders: float = 0.0  # Tesseract's x_descenders: how far the line's letters reach below the baseline
    left: int | None = None  # where the line's print starts, when marks read before its first word are left out

    @property
    def ascent(self) -> float:
        """The letters' height above the baseline: x_size less the descenders."""
        return self.x_size - self.descenders

    @property
    def is_text(self) -> bool:
        """Judged on the words holding a letter or a digit (a dash or a quote mark is neither word nor mark)."""
        words = [word for word in self.words if _ALNUM.search(word.text)]
        if not words:
            return False
        mean = sum(word.confidence for word in words) / len(words)
        return sum(word.real for word in words) >= REAL_WORD_SHARE * len(words) and (mean >= LINE_CONFIDENCE or _sure_prose(words))


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
            descenders = _DESCENDERS.search(title)
            if words:
                line = OcrLine(
                    words,
                    box,
                    (float(baseline.group(1)), float(baseline.group(2))) if baseline else (0.0, 0.0),
                    float(x_size.group(1)) if x_size else float(box[3] - box[1]),
                    paragraph,
                    float(descenders.group(1)) if descenders else 0.0,
                )
                page.trimmed += _trim(line)
                page.lines.append(line)
    return page


def _trim(line: OcrLine) -> int:
    """Marks at a line's ends that are not words (a logo, licence icons, a rule's end, a speck) go, when the
    line holds words; a vertical bar beside a word is the capital I (Tesseract's usual confusion in sans
    faces). A line that fails is judged without the marks at its end: a licence badge read beside a running
    footer ("[G) ev-nc-np" at 1-15 %) failed the whole line on most pages of a book, and the few it did
    not kept the footer. Returns how many marks went."""
    words = line.words
    if not line.is_text:
        kept = [i for i, word in enumerate(words) if word.confidence >= TRIM_CONFIDENCE and _ALNUM.search(word.text)]
        if not kept:
            return 0
        # Judged again without its end's marks, when they are the lesser part of it (a picture's marks with
        # one word among them stay marks); its start is kept, for the second look at a line whose first
        # words an ornament or a bullet threw off ("® ALC O4i1tis. 2.0, and so on.").
        trimmed = OcrLine(words[: kept[-1] + 1], line.box, line.baseline, line.x_size)
        if 2 * len(trimmed.words) < len(words) or not trimmed.is_text:
            return 0
        line.words = trimmed.words
        return len(words) - len(line.words)
    for i, word in enumerate(words):
        if word.text == "|" and _bar_is_i(words, i):
            word.text = "I"
        word.text = _capital_i(word.text)
    kept = [i for i, word in enumerate(words) if _word_at_end(word, after_mark=_after_mark(words, i))]
    if not kept:
        return 0
    first, last = kept[0], kept[-1]
    start = first
    # Marks left out just before the first word, touching it as letters of one text do, are where the line's
    # print starts (a number read at 44 %): its left edge, for indents and columns, is theirs.
    while start > 0 and _ALNUM.search(words[start - 1].text) and words[start].box[0] - words[start - 1].box[2] < 0.5 * line.x_size:
        start -= 1
    if start < first:
        line.left = words[start].box[0]
    elif first and not _ALNUM.search(words[first - 1].text) and words[first].box[0] - words[first - 1].box[2] < BULLET_REACH * line.x_size:
        # A list's bullet read as a sign ("=" for "•") and left out: the item's print starts there, as a text
        # layer's line starts at its bullet, so an item's second line is set in from it.
        line.left = words[first - 1].box[0]
    if first + 1 < len(words) and words[first].text in _BULLETS and words[first + 1].text[:1].isupper():
        line.left = words[first].box[0] if line.left is None else line.left
        first += 1  # a list's bullet, which Tesseract reads as a letter ("e How long ...")
    line.words = words[first : last + 1]
    return len(words) - len(line.words)


def _capital_i(text: str) -> str:
    """The capital I after an opening quote, which Tesseract reads as T or l in some faces ('“T am old',
    '“Tam your king': 56 times in viking-tales, 148 in by-sound-alone-paperback), is I; "Iam" is "I am"."""
    misread = _QUOTED_I.fullmatch(text) or _GLUED_I.fullmatch(text)
    return f"{misread.group(1)}I{' am' if misread.group(2) else ''}{misread.group(3)}" if misread else text


def _bar_is_i(words: list[OcrWord], i: int) -> bool:
    """Between words, or at a line's end beside a word in lower case ("but |" / "| could"): not a table's rule."""
    before, after = words[i - 1].text if i > 0 else "", words[i + 1].text if i + 1 < len(words) else ""
    if before and after:
        return True
    return (before or after)[:1].islower()


def _core(text: str) -> str | None:
    """A word's letters without the marks and digits around them ("theory.”" -> "theory"), or None."""
    found = _WORD_CORE.fullmatch(text)
    return found.group(1) if found else None


def _after_mark(words: list[OcrWord], i: int) -> bool:
    """A word after a mark that is no word (a list's bullet read as "=", '"' or "*") that opens the line, with
    only common words between: Tesseract doubts the words its bullet crowds ("Limit" at 17 %, "Pay" at 0 %,
    '"Do not' at 18 %)."""
    if not words or words[0].text[:1].isalnum():
        return False
    for word in words[:i]:
        core = _core(word.text)
        if _ALNUM.search(word.text) and not (core and is_common_word(core)):
            return False
    return True


def _sure_prose(words: list[OcrWord]) -> bool:
    """A line of prose whose inline code Tesseract doubts ('directly from the Request object:
    username.Text = Request.QueryString("username"); without using' at 96 % on its words, 0-50 % on its
    code): a run of common words it is sure of, which no logo or hatching reads as, and a line of code with
    its comment seldom holds ("$safe['filename'] = validate_file_name(...); // make it safe")."""
    run = 0
    for word in words:
        core = _core(word.text) if word.confidence >= SURE_WORD_CONFIDENCE else None
        run = run + 1 if core and is_common_word(core) else 0
        if run >= SURE_PROSE_WORDS:
            return True
    return False


def _word_at_end(word: OcrWord, after_mark: bool = False) -> bool:
    """A word Tesseract is fairly sure of, or a common English word of some length it doubts ("theory.”" at 51 %,
    "Let's" at 41 %; after a bullet or an opening quote, any common word: '“I am' with I at 36 %), which no logo or
    icon reads as."""
    if not _ALNUM.search(word.text):
        return False
    if word.confidence >= TRIM_CONFIDENCE:
        return True
    core = _core(word.text)
    doubted = word.confidence >= DOUBTED_WORD_CONFIDENCE or after_mark
    if not doubted or not core or len(core) < (1 if after_mark else 4):
        return False
    core = core.replace("’", "'")
    return is_common_word(core) or (core.endswith("'s") and is_common_word(core[:-2]))  # "Kendall's"


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


def lost_lines(dark: np.ndarray, page: OcrPage, pictures: list[Picture]) -> list[Box]:
    """Bands of ink across the text's width where Tesseract's page segmentation found no line at all, as high
    as a line of text: a display equation's lead-in ("The average length of the queue itself ... is", set
    between two equations) went with the equations' block, on every kind of page. The caller reads each band
    again on its own; an equation or a rule reads as no text and stays out."""
    text = [line for line in page.lines if line.is_text]
    if len(text) < 3:
        return []  # a page of pictures or a heading alone: nothing to measure a line by
    body = statistics.median(line.x_size for line in text)
    left, right = min(line.box[0] for line in text), max(line.box[2] for line in text)
    ink = dark[:, left:right].copy()
    for line in page.lines:
        ink[max(0, line.box[1] - 3) : line.box[3] + 4, max(0, line.box[0] - left - 3) : max(0, line.box[2] - left + 4)] = False
    for row in (row for picture in pictures for row in picture):
        ink[row[1] : row[3], max(0, row[0] - left) : max(0, row[2] - left)] = False
    # A row of a line of letters holds a stroke every letter or so; scattered specks of a scan do not.
    inked = ink.sum(axis=1) >= LOST_LINE_INK * body
    found, start, gap = [], None, 0
    for y, on in enumerate([*inked, False]):
        if on:
            start, gap = (y if start is None else start), 0
            continue
        gap += 1
        if start is None or gap <= LOST_LINE_GAP * body:
            continue
        top, bottom = start, y - gap + 1
        start = None
        if not LOST_LINE_LOW * body <= bottom - top <= LOST_LINE_HIGH * body:
            continue
        columns = np.nonzero(ink[top:bottom].any(axis=0))[0]
        if len(columns) and columns[-1] - columns[0] >= LOST_LINE_WIDTH * body:
            # Descenders and accents hold too little ink a row to count: the band is read with a margin.
            margin = int(LOST_LINE_MARGIN * body)
            found.append((left + int(columns[0]), max(0, top - margin), left + int(columns[-1]) + 1, min(dark.shape[0], bottom + margin)))
    return found


def found_lines(page: OcrPage, found: list[tuple[Box, list[OcrLine]]]) -> None:
    """Put the lines read in lost bands (``lost_lines``) in their places down the page, each its own paragraph."""
    paragraph = max((line.paragraph for line in page.lines), default=0)
    for _, lines in found:
        for line in lines:
            paragraph += 1
            line.paragraph = paragraph
            at = next((i for i, other in enumerate(page.lines) if other.box[1] > line.box[1]), len(page.lines))
            page.lines.insert(at, line)


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
            words = by_box[line.box]
            # A common word doubted after a list's bullet ("e How long ...") was no ornament: it stays (an
            # ornament read as two letters, "WM", may be a common word); a shorter one ("e A queue is ...")
            # when a bullet or a sign was left out before it (where the line's print starts).
            first = line.words[0]
            after_bullet = line.left is not None and line.left < first.box[0]
            if words and (len(first.text) >= 3 or after_bullet) and _word_at_end(first, after_mark=True) and first.box[2] <= words[0].box[0]:
                words = [line.words[0], *words]
            page.trimmed += len(line.words) - len(words)
            line.words = words


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
    # A paragraph's lines share the median of their sizes: one line's measure wanders with the letters it holds.
    by_paragraph: dict[int, list[float]] = {}
    x_sizes = _x_sizes(cleaned.lines)
    usual = statistics.median(x_sizes) if x_sizes else 0.0
    for ocr_line, x_size in zip(cleaned.lines, x_sizes):
        by_paragraph.setdefault(ocr_line.paragraph, []).append(x_size)
    typewriter = {id(line) for line in typewriter_lines(cleaned.lines)}
    marked = {id(line) for line in _small_lines_opening_with_a_mark(cleaned.lines)}
    lines = []
    for ocr_line, x_size in zip(cleaned.lines, x_sizes):
        left, _, right, bottom = ocr_line.box
        slope, offset = ocr_line.baseline
        first = ocr_line.left if ocr_line.left is not None else ocr_line.words[0].box[0]
        baseline_px = bottom + offset + slope * (first - left)
        line = Line(" ".join(_unglued(word.text) for word in ocr_line.words), page.index)
        if id(ocr_line) in marked:
            line.text = f"* {line.text[1:]}"  # a note's mark Tesseract read as a sign glued to the first word
        line.x0, line.x1 = first * scale_x, right * scale_x
        line.y_first = line.y_last = height - baseline_px * scale_y
        shared = statistics.median(by_paragraph[ocr_line.paragraph])
        # A heading Tesseract put in one paragraph with the smaller lines beside it ("SAMPLES" at 39 pixels over
        # owasp's code at 28, its text at 36) keeps its own size, when that is nearer the page's usual one.
        own = x_size > OWN_SIZE * shared and abs(x_size - usual) < x_size - shared
        line.size = round((x_size if own else shared) * scale_y / X_SIZE_PER_POINT, 1)
        line.mono = 1.0 if id(ocr_line) in typewriter else 0.0
        lines.append(line)
    # Pictures and their captions are gone already: the page goes without picture boxes (a picture's outline
    # would cover the text set beside it, which the text-layer reader's figure rule would then drop).
    return with_layout(Page(page.index, _rows_joined(lines, width), width=width, height=height))


def typewriter_lines(lines: list[OcrLine]) -> list[OcrLine]:
    """Lines set in a typewriter face (code listings, a program's output), which OCR names no font for: every
    letter takes the same width, so a line's words are as wide as their letters' count says, and a space
    between them is a letter's width or more. Two such lines in a run are code, with the lines too short to
    tell between and beside them (a brace, a keyword); one line alone only when it holds MONO_ALONE_WORDS
    words each within MONO_WIDTHS of its count (a justified line beside a picture, spaced wide, passes the
    looser test: Huck Finn's "ankle that got to itching; but I") or is set in as a display."""
    edge = statistics.median(line.box[0] for line in lines) if lines else 0
    kinds = []
    for i, line in enumerate(lines):
        if any(_WEB.search(word.text) for word in line.words):
            kinds.append("prose")  # a web address in prose, its parts read apart ("index.php/Testing for Data")
        elif i and _WEB.search(lines[i - 1].words[-1].text):
            kinds.append("short")  # the rest of an address the line before breaks ("for Denial_of Service")
        else:
            kind = _typewriter_kind(line, line.words[0].box[0] - edge >= MONO_DISPLAY_INDENT * line.x_size)
            kinds.append("coded" if kind in ("mono", "spaced") and _reads_as_code(line) else kind)
    found: set[int] = set()
    run: list[int] = []
    for i, kind in enumerate([*kinds, "prose"]):
        if kind not in ("prose", "spaced"):
            run.append(i)
            continue
        if sum(kinds[j] != "short" for j in run) >= 2 or any(kinds[j] in ("alone", "coded") for j in run):
            found.update(run)
        run = []
    # Where the prose starts: a listing is set in from it (its lines' first words, not their boxes, which a
    # speck left of a line widens).
    prose = sorted(line.words[0].box[0] for i, (line, kind) in enumerate(zip(lines, kinds)) if i not in found and kind != "short" and len(line.words) >= 6)
    if prose:
        _add_lone_lines(lines, kinds, found, prose[len(prose) // 10])
        _grow_listings(lines, kinds, found, prose[len(prose) // 10])
    return [line for i, line in enumerate(lines) if i in found]


def _reads_as_code(line: OcrLine) -> bool:
    """Most of its words, near enough, are words of code (a line of prose naming a function or two holds a
    third at most: "passed to system() eval() passthru() or (the backtick operator).")."""
    code = sum(bool(_CODE_WORD.search(word.text)) for word in line.words)
    return code >= 2 and code >= MONO_CODE_WORDS * len(line.words)


def _listing_set_in(line: OcrLine, prose_edge: int) -> bool:
    """Set in from the prose's edge as a listing is (a line's box starts where its print does, with the marks
    left out of its words: a comment's "//")."""
    return line.box[0] - prose_edge >= MONO_LISTING_INDENT * line.x_size


def _add_lone_lines(lines: list[OcrLine], kinds: list[str], found: set[int], prose_edge: int) -> None:
    """A line of the page's typewriter face standing alone is code when its words are as wide as a code line's
    letters make them: one of two words or more anywhere ("import java.util.Scanner;"; prose that passes the
    spacing test is set narrower: "are invoked." at 21.5 pixels a letter beside code at 25), a shorter one,
    whose widths tell less, when set in as a listing is ("double y;"). Each code line measures its own letter:
    a page may hold a program's output in another size, and a short line measures loosely."""
    letters = {round(_letter_width(lines[i].words), 1) for i in found if kinds[i] in ("mono", "alone")}
    for i, (line, kind) in enumerate(zip(lines, kinds)):
        lone = kind in ("mono", "spaced") or kind == "short" and _listing_set_in(line, prose_edge)
        if lone and any(_fits_letter(line.words, letter) for letter in letters):
            found.add(i)


def _grow_listings(lines: list[OcrLine], kinds: list[str], found: set[int], prose_edge: int) -> None:
    """Lines a listing's run missed: a typewriter line beside code (a line between broke their run); in a
    listing set in from the prose's edge, a line spaced as a typewriter's whose widths a misread letter or a
    lost semicolon puts off ("inches = (int) (cm / centPerInch)"), or a short one, beside a code line and not
    left of it, and any line between two such code lines ('System.out.print ("wug")', its words read
    overlapping). A listing keeps to its own edge or further in, and the prose after it goes back left;
    justified prose is spaced as wide at times, so a listing at the prose's own edge grows no further."""
    grown = True
    while grown:
        grown = False
        for i, (line, kind) in enumerate(zip(lines, kinds)):
            if i in found:
                continue
            beside = [j for j in (i - 1, i + 1) if j in found]
            inside = [j for j in beside if line.box[0] >= lines[j].box[0] - MONO_EDGE_SLACK * lines[j].x_size]
            listing = _listing_set_in(line, prose_edge) and (kind in ("spaced", "short") and inside or len(inside) == 2)
            if kind == "mono" and beside or listing:
                found.add(i)
                grown = True


def _typewriter_kind(line: OcrLine, set_in: bool) -> str:
    """"prose"; "short" (too few words to tell); "mono" (set in a typewriter face); "alone" (so clearly, or set
    in from the text's edge as a display is, that it is code without a second line: "String message;");
    "spaced" (spaced as a typewriter's, half its words or more as wide as their count: code beside code)."""
    counted = [word for word in line.words if len(word.text) >= 3]
    if len(counted) < 2:
        return "short"
    letter = _letter_width(line.words)
    spaces = [(after.box[0] - before.box[2]) / letter for before, after in zip(line.words, line.words[1:])]
    if _narrowest_space(spaces) < MONO_SPACE:
        return "prose"
    misses = [_width_miss(word, letter) for word in counted]
    fits = [miss <= max(MONO_WIDTHS * count, MONO_LETTER_SLACK) for miss, count in misses]
    if not all(fits):
        return "spaced" if 2 * sum(fits) >= len(fits) else "prose"
    strict = all(miss <= MONO_WIDTHS * count for miss, count in misses)
    return "alone" if (strict and len(counted) >= MONO_ALONE_WORDS) or set_in else "mono"


def _letter_width(words: list[OcrWord]) -> float:
    """The width of a letter, were the words set in a typewriter face (the median over words of three or more)."""
    counted = [word for word in words if len(word.text) >= 3] or words
    return statistics.median((word.box[2] - word.box[0]) / max(len(word.text) - MONO_INK_SHORTFALL, 0.5) for word in counted)


def _fits_letter(words: list[OcrWord], letter: float) -> bool:
    """Every word as wide as its count of this letter says, and every space a letter wide or more."""
    for word in words:
        miss, count = _width_miss(word, letter)
        if miss > max(MONO_WIDTHS * count, MONO_LETTER_SLACK):
            return False
    return _narrowest_space([(after.box[0] - before.box[2]) / letter for before, after in zip(words, words[1:])]) >= MONO_SPACE


def _width_miss(word: OcrWord, letter: float) -> tuple[float, float]:
    """By how many letters a word's width misses what its count of letters says, and that count (its ink
    falls short of its last letter's advance)."""
    count = len(word.text) - MONO_INK_SHORTFALL
    return abs(word.box[2] - word.box[0] - letter * count) / letter, count


def _narrowest_space(spaces: list[float]) -> float:
    """The narrowest space between words, in letters, leaving out the gaps where Tesseract lost a letter
    between two parts of one word ("$ REQUEST['id']" for "$_REQUEST['id']": a seventh of a letter)."""
    return min((space for space in spaces if space >= MONO_LOST_LETTER), default=MONO_SPACE)


def _small_lines_opening_with_a_mark(lines: list[OcrLine]) -> list[OcrLine]:
    """Lines set small (a footnote's size) whose first word opens with one sign glued to a capital ('‘See note
    about house', '*See', '>See' in viking-tales): the note's raised mark, which Tesseract read as the nearest
    sign it knows, so the note's mark is lost and the reader takes the note for body text."""
    sizes = [line.x_size for line in lines]
    body = statistics.median(sizes) if sizes else 0.0
    return [line for line in lines if line.x_size <= NOTE_X_SIZE * body and _GLUED_MARK.match(line.words[0].text)]


def _unglued(text: str) -> str:
    """A short word Tesseract glued to the next where the space was narrow ("Thesecurity", "Toreduce"): a
    word no English text holds (wordfreq knows none of it) that is one of GLUED_WORDS and a common word; or,
    not a common word, two of GLUED_WORDS ("inthe", "itis", "ona"; the web's typing gives these a frequency
    of their own, so only the commonness of the whole is asked)."""
    core = _core(text) or ""
    if len(core) < 3 or not core.isalpha() or not core[1:].islower() or is_common_word(core):
        return text
    short = next((short for short in GLUED_WORDS if core.lower().startswith(short) and core[len(short) :] in GLUED_WORDS), None)
    if short and short not in ("a", "the"):  # an article before a function word is no phrase
        at = text.index(core) + len(short)
        return f"{text[:at]} {text[at:]}"
    from wordfreq import zipf_frequency  # only here: importing it costs a quarter of a second

    if len(core) < 4 or zipf_frequency(core, "en") > 0:
        return text
    for short in GLUED_WORDS:
        rest = core[len(short) :]
        if core.lower().startswith(short) and len(rest) >= 3 and is_common_word(rest):
            at = text.index(core) + len(short)
            return f"{text[:at]} {text[at:]}"
    return text


def _x_sizes(lines: list[OcrLine]) -> list[float]:
    """Each line's x_size, or what its height above the baseline makes it when that is more. Tesseract's
    x_size is the letters' height above the baseline plus the descenders it sees, and a line of capitals and
    digits shows none: street addresses measured 35-40 pixels beside prose at 43 in the same type, in
    locative-garden, their height above the baseline 34 beside 33. The page's own ratio of the two (its
    prose, most of its lines) turns that height into a size."""
    ratios = [line.x_size / line.ascent for line in lines if line.descenders > 0 and line.ascent > 0]
    ratio = statistics.median(ratios) if ratios else 1.0
    return [max(line.x_size, line.ascent * ratio) if line.descenders > 0 else line.x_size for line in lines]


def _rows_joined(lines: list[Line], width: float) -> list[Line]:
    """Lines on one baseline as one line, left to right, as PDFium gives a text layer's (a table's row, a
    running head and its page number), and the rows down the page: Tesseract reads a table's cells as lines
    of their own. Not on a page set in two columns, whose lines side by side are read column by column."""
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
    # Down the page: Tesseract reads a line beside a drop cap as a block of its own and may give it after
    # the lines below it ("the west of Iceland ... T was a spring day").
    rows.sort(key=lambda row: -(row[0].y_first or 0.0))
    joined = []
    for row in rows:
        row.sort(key=lambda line: line.x0)
        first = row[0]
        first.text, first.x1 = " ".join(line.text for line in row), max(line.x1 for line in row)
        joined.append(first)
    return joined


def with_page_number(reading: str, line: Line, group: list[Line]) -> str:
    """The reading a running head or footer takes on its page, when the group's other readings carry a page
    number and this line has a word in the number's place that Tesseract misread ("ao Chapter 3 Input and
    output" for "42 Chapter 3 ..."): the page's own number, by the offset of page to number the group's
    other lines keep. Then the reader's rule for running lines knows it, as it knows the rest."""
    numbered = [other.text for other in group if other.text[:1].isdigit() or other.text[-1:].isdigit()]
    # The numbered lines' reading, not a misread one, which may be as common and come first.
    words, own = Counter(numbered).most_common(1)[0][0].split() if numbered else [], line.text.split()
    at = 0 if words and words[0].isdigit() else -1 if words and words[-1].isdigit() else None
    if at is None or len(own) != len(words) or own[at].isdigit():
        return reading
    offsets = Counter(other.page - int(other.text.split()[at]) for other in group if other.text.split()[at].isdigit())
    offset, count = offsets.most_common(1)[0] if offsets else (0, 0)
    if count < 2 or line.page - offset < 1:
        return reading
    words[at] = str(line.page - offset)
    return " ".join(words)

