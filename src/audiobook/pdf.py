"""PDF books: phase 1 ``inspect`` and phase 2 ``extract``, both with pypdfium2.

``inspect`` opens the file (with a configured password if it needs one), reads
the metadata and samples pages to refuse what cannot become an audiobook: a
damaged file, a scan without a text layer, or text that comes out as glyph
codes. ``extract`` reads every page into lines with their positions, removes
running headers, footers and page numbers, cuts the book into chapters (outline,
else headings, else runs of pages) and reflows the lines into paragraphs.

Choices a listener would notice: the Project Gutenberg licence is never read
(text outside the START/END markers, and a bookmarked "Project Gutenberg
License" section); front matter before the first chapter is read only when it
is a real preface; PDFium's hyphen markers (U+FFFE) and line-end hyphens before
a small letter join the word; spaces PDFium drops between a small letter and a
capital are put back when the glyphs stand a word-space apart.
"""

from __future__ import annotations

import ctypes
import datetime
import mmap
import re
import statistics
import unicodedata
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from .errors import BookError
from .model import BookFacts, Chapter, ExtractedBook
from .settings import EngineSettings

# Phase 1 reads this many pages, spread over the book, to judge its text.
SAMPLE_PAGES = 24
# Fewer letters than this per sampled page means there is no real text layer.
MIN_LETTERS_PER_PAGE = 20
# Without an outline or headings, chapters are runs of this many pages (about 20-25 minutes of audio).
PAGES_PER_PART = 10
# Front matter before the first bookmark is kept only when it holds this much prose (a preface, not a title page).
MIN_FRONT_MATTER_WORDS = 150
# The damage scan inflates at most this many bytes of compressed streams, so a huge file stays quick.
DAMAGE_SCAN_BUDGET = 64 * 1024 * 1024
COVER_HEIGHT_PX = 1200


# ---------------------------------------------------------------- opening


def _open(path: Path, settings: EngineSettings) -> tuple[pdfium.PdfDocument, bool]:
    """Open the document; return it and whether it is encrypted. Refusals raise BookError."""
    password = settings.password_for(path.name)
    try:
        doc = pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as error:
        raise _open_refusal(getattr(error, "err_code", None), path.name, password) from None
    except OSError as error:
        raise BookError("not_a_book", f"cannot be read ({error.strerror})", "check the file exists and is readable") from None
    # -1 means no security handler; anything else opened only thanks to a (possibly empty) password.
    encrypted = pdfium_c.FPDF_GetSecurityHandlerRevision(doc) != -1
    if len(doc) == 0:
        doc.close()
        raise BookError("corrupt", "is a PDF without pages", "download or export the book again")
    return doc, encrypted


def _open_refusal(code: int | None, name: str, password: str | None) -> BookError:
    if code == pdfium_c.FPDF_ERR_PASSWORD:
        if password is None:
            return BookError(
                "encrypted",
                "is password-protected",
                f'put its password in config.yaml under engine.passwords, keyed by the file name: "{name}": "<password>"',
            )
        return BookError(
            "encrypted",
            "is password-protected and the password given in engine.passwords does not open it",
            f'correct the password for "{name}" under engine.passwords in config.yaml',
        )
    if code == pdfium_c.FPDF_ERR_SECURITY:
        return BookError(
            "drm",
            "is locked by a security handler (DRM) that cannot be opened",
            "export a DRM-free copy from where you got the book",
        )
    return BookError(
        "corrupt",
        "is damaged or incomplete and cannot be opened as a PDF",
        "download or export the file again (a cut-off download looks like this)",
    )


# ---------------------------------------------------------------- phase 1


def inspect(path: Path, settings: EngineSettings) -> BookFacts:
    """Phase 1 for a PDF: the facts about it, or a BookError saying why it cannot be read."""
    doc, encrypted = _open(path, settings)
    try:
        title, author, year = _metadata(doc)
        damage = _check_text(doc)
        if not encrypted:  # encrypted streams do not inflate, so there is nothing to check
            damage += find_stream_damage(path)
        return BookFacts(
            format="pdf",
            size_bytes=path.stat().st_size,
            pages=len(doc),
            title=title,
            author=author,
            language=_catalog_language(doc),
            year=year,
            encrypted=encrypted,
            has_text_layer=True,
            damage=damage,
        )
    finally:
        doc.close()


def _metadata(doc: pdfium.PdfDocument) -> tuple[str | None, str | None, str | None]:
    info = doc.get_metadata_dict(skip_empty=True)
    title = _clean_title(info.get("Title", ""))
    author = " ".join(info.get("Author", "").split()) or None
    year = None
    for key in ("CreationDate", "ModDate"):
        found = re.match(r"(?:D:)?(\d{4})", info.get(key, "").strip())
        # PDF dates before the format existed, or in the future, are junk.
        if found and 1990 <= int(found.group(1)) <= datetime.date.today().year + 1:
            year = found.group(1)
            break
    return title, author, year


def _clean_title(raw: str) -> str | None:
    title = " ".join(clean_text(raw).split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    # Converters often leave the source file name where the title belongs.
    if (
        not title
        or title.lower() in {"untitled", "title"}
        or re.search(r"\.(txt|docx?|odt|rtf|tex|dvi|pdf|html?|ps|indd)$", title, re.I)
    ):
        return None
    return title


def _catalog_language(doc: pdfium.PdfDocument) -> str | None:
    """The /Lang entry of the catalog, if it looks like a language tag."""
    size = pdfium_c.FPDFCatalog_GetLanguage(doc, None, 0)
    if size <= 2:
        return None
    buffer = (ctypes.c_ushort * (size // 2))()
    pdfium_c.FPDFCatalog_GetLanguage(doc, buffer, size)
    tag = bytes(buffer)[: size - 2].decode("utf-16-le", "replace").strip()
    return tag if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", tag) else None


@dataclass
class TextQuality:
    """Counts that tell real words from glyph codes in extracted text."""

    visible: int = 0  # characters other than white space
    letters: int = 0
    unreadable: int = 0  # control, private-use, unassigned and replacement characters
    tokens: int = 0
    wordlike: int = 0  # tokens made of letters, like words in any alphabetic script
    long_latin: int = 0  # Latin-script words of four letters or more ...
    voweled: int = 0  # ... and those among them with a vowel (glyph soup mostly has none)

    def __add__(self, other: TextQuality) -> TextQuality:
        return TextQuality(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    @property
    def garbled(self) -> bool:
        """Whether this reads as glyph codes rather than words.

        Thresholds leave a wide margin: maths-heavy German lecture notes score
        0.3 % unreadable, 77 % letters and 40 % word-like tokens; a font without
        a Unicode map scores 100 % unreadable.
        """
        if not self.visible:
            return False
        if self.unreadable > 0.15 * self.visible or self.letters < 0.4 * self.visible:
            return True
        if self.tokens >= 20 and self.wordlike < 0.15 * self.tokens:
            return True
        return self.long_latin >= 20 and self.voweled < 0.6 * self.long_latin


_WORDLIKE = re.compile(r"[^\w]*[^\W\d_]{2,}(?:[-'’.][^\W\d_]+)*[^\w]*")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{4,}")
_VOWELS = set("aeiouyAEIOUY")


def text_quality(text: str) -> TextQuality:
    quality = TextQuality()
    for char in text:
        if char.isspace():
            continue
        quality.visible += 1
        category = unicodedata.category(char)
        if category[0] == "L":
            quality.letters += 1
        elif char == "\ufffd" or category in ("Cc", "Co", "Cn", "Cs"):
            quality.unreadable += 1
    for token in text.split():
        quality.tokens += 1
        if _WORDLIKE.fullmatch(token):
            quality.wordlike += 1
        for word in _LATIN_WORD.findall(token):
            quality.long_latin += 1
            bare = unicodedata.normalize("NFD", word)  # é -> e + accent, so accented vowels count
            quality.voweled += any(char in _VOWELS for char in bare)
    return quality


def _check_text(doc: pdfium.PdfDocument) -> list[str]:
    """Refuse a book without a readable text layer; return notes on partly unreadable pages."""
    count = len(doc)
    sample = (
        sorted({round(i * (count - 1) / (SAMPLE_PAGES - 1)) for i in range(SAMPLE_PAGES)})
        if count > SAMPLE_PAGES
        else list(range(count))
    )
    verdict, bad_pages = _judge(doc, sample)
    if verdict and len(sample) < count:
        # A refusal must be sure: read every page before refusing a whole book.
        sample = list(range(count))
        verdict, bad_pages = _judge(doc, sample)
    if verdict == "no_text_layer":
        raise BookError(
            "no_text_layer",
            "has no text layer (its pages are images, e.g. a scan)",
            "run OCR on it first, e.g. `ocrmypdf in.pdf out.pdf`, and use the result",
        )
    if verdict == "garbled_text":
        raise BookError(
            "garbled_text",
            "has text that extracts as glyph codes instead of words (fonts without a Unicode map)",
            "re-export the PDF with embedded Unicode fonts, or OCR it, e.g. `ocrmypdf --force-ocr in.pdf out.pdf`",
        )
    if bad_pages:
        return [f"{bad_pages} of {len(sample)} sampled pages have text that extracts as glyph codes"]
    return []


def _judge(doc: pdfium.PdfDocument, indices: list[int]) -> tuple[str | None, int]:
    total = TextQuality()
    bad_pages = 0
    for index in indices:
        quality = text_quality(_page_text(doc, index))
        total = total + quality
        if quality.visible >= 50 and quality.unreadable > 0.15 * quality.visible:
            bad_pages += 1
    if total.visible == 0:
        return "no_text_layer", bad_pages
    if total.garbled:
        return "garbled_text", bad_pages
    if total.letters < MIN_LETTERS_PER_PAGE * len(indices):
        return "no_text_layer", bad_pages
    return None, bad_pages


def _page_text(doc: pdfium.PdfDocument, index: int) -> str:
    """The text of one page, or "" for a page PDFium cannot load."""
    try:
        page = doc[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return ""
    text = textpage.get_text_range()
    textpage.close()
    page.close()
    return text


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


# ---------------------------------------------------------------- phase 2: reading lines


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


def _read_pages(doc: pdfium.PdfDocument) -> list[Page]:
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
            if (joins := sum(line.text.count(mark) for mark in _HYPHEN_MARKS)) and line.y_first > line.y_last:
                pitches += [(line.y_first - line.y_last) / joins] * joins
        page.pitch = statistics.median(pitches) if pitches else None
        page.body_size = statistics.median(line.size or 0.0 for line in placed) or None
    return page


def _set_foot(pages: list[Page]) -> None:
    """Note how low text goes on a full page (after running lines are gone), to see a page that stops short.

    That is the lowest last baseline found on two pages or more: with a ragged
    bottom, full pages end a little higher or lower depending on the spacing above.
    """
    feet = Counter(round(page.lines[-1].y_last) for page in pages if len(page.lines) >= 5 and page.lines[-1].placed)
    common = [foot for foot, count in feet.items() if count >= 2] or list(feet)
    for page in pages:
        page.foot = min(common) if common else None


# ---------------------------------------------------------------- running headers, footers, page numbers

EDGE_LINES = 2  # running lines are among the first and last two lines of a page
_ROMAN = re.compile(r"(?=[mdclxvi])m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})", re.I)


def _roman_value(text: str) -> int | None:
    if not text or not _ROMAN.fullmatch(text):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    digits = [values[char] for char in text.lower()]
    return sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d for i, d in enumerate(digits))


def _page_number(token: str | None) -> tuple[str, int] | None:
    """("arabic", n) or ("roman", n) for a token that may be a printed page number."""
    if not token:
        return None
    if token.isdigit() and len(token) <= 4:
        return "arabic", int(token)
    if token.islower() or len(token) > 1:  # a lone capital I, V or X is more often a letter than a page number
        value = _roman_value(token)
        if value:
            return "roman", value
    return None


def _shape(text: str) -> str:
    """The line with its page number blanked, so running lines of different pages compare equal."""
    words = re.sub(r"\d+", "#", " ".join(text.lower().split())).split()
    for end in (0, -1):
        if words and _roman_value(words[end]):
            words[end] = "#"
    return " ".join(words)


def _edge_positions(page: Page) -> list[int]:
    count = len(page.lines)
    return sorted({i for i in range(min(EDGE_LINES, count))} | {count - 1 - i for i in range(min(EDGE_LINES, count))})


def _edge_offsets(text: str, index: int) -> set[tuple[str, int]]:
    """(kind, page index - number) for a number at either end of the line: a printed page number fits one offset."""
    words = text.split()
    numbers = [_page_number(word) for word in {words[0], words[-1]}] if words else []
    return {(number[0], index - number[1]) for number in numbers if number}


def _bare_page_number(line: Line, page: Page) -> bool:
    """A line that is only a number, in arabic or small roman digits, and not set large like a chapter number."""
    number = _page_number(line.text) if " " not in line.text else None
    if number is None or (number[0] == "roman" and not line.text.islower()):
        return False
    return not (line.size and page.body_size and line.size > 1.3 * page.body_size)


def _runs(shape: str, where: list[int]) -> bool:
    """Whether a line of this shape runs over the pages: on three or more, mostly within two pages of another."""
    near = sum(1 for i, p in enumerate(where) if (i and p - where[i - 1] <= 2) or (i + 1 < len(where) and where[i + 1] - p <= 2))
    return len(where) >= 3 and near >= 0.6 * len(where)


def drop_running_lines(pages: list[Page]) -> int:
    """Remove running headers, footers and page numbers from the page edges; return how many.

    A line at a page edge goes when (a) its shape (numbers blanked) recurs at
    the edges of nearby pages and has no number at either end ("robin hood"),
    (b) it has a number at one end that fits the page index by the book's usual
    offset (printed page = index - offset: "18 robin hood", "the outlaw 17"),
    or (c) it is nothing but a page number. A chapter label ("Chapter IV") at a
    page top has a number that does not fit, so it stays.
    """
    shapes: dict[str, set[int]] = defaultdict(set)
    offsets: Counter[tuple[str, int]] = Counter()
    for page in pages:
        seen_offsets = set()
        for position in _edge_positions(page):
            text = page.lines[position].text
            if _shape(text).strip("# "):
                shapes[_shape(text)].add(page.index)
            seen_offsets.update(_edge_offsets(text, page.index))
        offsets.update(seen_offsets)
    # Roman numbers run only through the front matter, so three pages make them usual; arabic ones need more.
    usual_offsets = {key for key, count in offsets.items() if count >= (3 if key[0] == "roman" else max(3, 0.05 * len(pages)))}
    running = {shape for shape, where in shapes.items() if _runs(shape, sorted(where))}
    removed = 0
    for page in pages:
        doomed = set()
        for position in _edge_positions(page):
            line = page.lines[position]
            fits = bool(_edge_offsets(line.text, page.index) & usual_offsets)
            shape = _shape(line.text)
            if (shape in running and not (shape.startswith("#") or shape.endswith("#"))) or (
                fits and len(line.text.split()) <= 16
            ):
                doomed.add(position)  # (a), (b)
            elif _bare_page_number(line, page) or (fits and " " not in line.text):
                doomed.add(position)  # (c)
        removed += len(doomed)
        page.lines = [line for i, line in enumerate(page.lines) if i not in doomed]
    return removed


# ---------------------------------------------------------------- Project Gutenberg boilerplate

_PG_START = re.compile(r"\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)
_PG_END = re.compile(r"\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)


def drop_gutenberg_frame(pages: list[Page]) -> bool:
    """Drop everything outside the "*** START/END OF THE PROJECT GUTENBERG EBOOK" markers."""
    lines = [(page, line) for page in pages for line in page.lines]
    start = next((i for i, (_, line) in enumerate(lines) if _PG_START.search(line.text)), None)
    end = next((i for i, (_, line) in enumerate(lines) if _PG_END.search(line.text)), None)
    if start is None and end is None:
        return False
    keep_from = 0
    if start is not None:
        keep_from = start + 1
        # The marker may wrap; it ends at its closing "***".
        if "***" not in lines[start][1].text[_PG_START.search(lines[start][1].text).end() :]:
            for i in range(start + 1, min(start + 4, len(lines))):
                if "***" in lines[i][1].text:
                    keep_from = i + 1
                    break
    keep_to = end if end is not None and end >= keep_from else len(lines)
    kept = {id(line) for _, line in lines[keep_from:keep_to]}
    for page in pages:
        page.lines = [line for line in page.lines if id(line) in kept]
    return True


# ---------------------------------------------------------------- chapters


@dataclass
class Section:
    """Where a chapter starts: a page, and optionally the height of its heading on that page."""

    title: str
    page: int
    top: float | None = None
    lines: list[Line] = field(default_factory=list)


@dataclass
class _Mark:
    level: int
    title: str
    page: int
    top: float | None


def outline_sections(doc: pdfium.PdfDocument) -> list[Section]:
    """Chapters from the bookmarks.

    The top level is used, because that is where books put their chapters.
    When the top level is a wrapper (fewer than three entries, each with
    children: the book's own title, or "Part I/II"), its children are used
    instead, so that a book does not become one or two huge chapters.
    """
    marks = []
    for bookmark in doc.get_toc(max_depth=8):
        target = _bookmark_target(doc, bookmark.raw)
        if target is not None:
            marks.append(_Mark(bookmark.level, " ".join(clean_text(bookmark.get_title()).split()), *target))
    parents = {id(mark) for mark, after in zip(marks, marks[1:]) if after.level > mark.level}
    level, chosen = 0, [m for m in marks if m.level == 0]
    while 0 < len(chosen) < 3 and all(id(m) in parents for m in chosen):
        level += 1
        chosen = [m for m in marks if m.level == level]
    chosen.sort(key=lambda m: (m.page, -(m.top if m.top is not None else float("inf"))))
    sections: list[Section] = []
    for mark in chosen:
        if not mark.title:
            continue
        if sections and sections[-1].page == mark.page and sections[-1].top == mark.top:
            continue  # two bookmarks to one spot: the first names it
        sections.append(Section(mark.title, mark.page, mark.top))
    return sections


def _bookmark_target(doc: pdfium.PdfDocument, bookmark) -> tuple[int, float | None] | None:
    """(page index, y of the target on that page) of a bookmark, by destination or GoTo action."""
    dest = pdfium_c.FPDFBookmark_GetDest(doc, bookmark)
    if not dest:
        action = pdfium_c.FPDFBookmark_GetAction(bookmark)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_GOTO:
            return None
        dest = pdfium_c.FPDFAction_GetDest(doc, action)
        if not dest:
            return None
    page = pdfium_c.FPDFDest_GetDestPageIndex(doc, dest)
    if page < 0 or page >= len(doc):
        return None
    has_x, has_y, has_zoom = pdfium_c.FPDF_BOOL(), pdfium_c.FPDF_BOOL(), pdfium_c.FPDF_BOOL()
    x, y, zoom = pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT(), pdfium_c.FS_FLOAT()
    if pdfium_c.FPDFDest_GetLocationInPage(dest, has_x, has_y, has_zoom, x, y, zoom) and has_y.value:
        return page, y.value
    return page, None


_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    "sixteen|seventeen|eighteen|nineteen|twenty|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last"
)
_CHAPTER_WORDS = r"chapter|chap\.|book|part|kapitel|teil|chapitre|livre|cap[ií]tulo|capitolo|hoofdstuk|letter|stave|canto"
# "Chapter IV", "CHAPTER 3. The River", "Part One": a label, maybe followed by the title.
_LABELLED_HEADING = re.compile(
    rf"(?:{_CHAPTER_WORDS})\s+(?:\d{{1,3}}|[ivxlcdm]{{1,8}}|{_NUMBER_WORDS})\b[.:]?(?:\s+(?P<rest>\S.*))?", re.I
)
# "IV" or "IV." alone, or "3. The River": a bare number and a short title.
_BARE_HEADING = re.compile(r"(?:[IVXLC]{1,7}\.?|\d{1,3}\.\s+[A-Z\u00c0-\u00de].{0,70})")


def heading_sections(pages: list[Page]) -> list[Section]:
    """Chapters from heading lines that open a page ("CHAPTER IV", "Chapter 3", "3. Title")."""
    sections = []
    for page in pages:
        for position, line in enumerate(page.lines[:3]):
            text = line.text.strip()
            labelled = _LABELLED_HEADING.fullmatch(text)
            if not (labelled or _BARE_HEADING.fullmatch(text)) or len(text.split()) > 12 or text.endswith((",", ";")):
                continue
            title = text
            following = page.lines[position + 1].text.strip() if position + 1 < len(page.lines) else ""
            # A bare label is often followed by the chapter's name on its own line.
            if (
                (not labelled or not labelled.group("rest"))
                and 0 < len(following.split()) <= 10
                and not following.endswith((".", ",", ";"))
            ):
                title = f"{text.rstrip('.:')}: {following}"
            sections.append(Section(" ".join(clean_text(title).split()), page.index, line.y_first))
            break
    return sections


def page_sections(pages: list[Page], title: str) -> list[Section]:
    if len(pages) <= PAGES_PER_PART:
        return [Section(title, 0)]
    return [Section(f"Part {n + 1}", start) for n, start in enumerate(range(0, len(pages), PAGES_PER_PART))]


def _fill_sections(pages: list[Page], sections: list[Section]) -> list[Line]:
    """Give each section its lines; return the lines before the first one (front matter)."""
    front: list[Line] = []
    target = front
    upcoming = list(sections)
    for page in pages:
        for line in page.lines:
            # A section starts at its page, at the first line at or below its heading (when the heading's height is known).
            while upcoming and (
                upcoming[0].page < page.index
                or (
                    upcoming[0].page == page.index
                    and (upcoming[0].top is None or not line.placed or line.y_first <= upcoming[0].top + 2)
                )
            ):
                target = upcoming.pop(0).lines
            target.append(line)
    return front


def _key(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text.lower()) if char.isalnum())


_LABEL = re.compile(
    rf"(?:(?:{_CHAPTER_WORDS})\s+)?(?:\d{{1,3}}(?:\.\d{{1,3}})*|[ivxlcdm]{{1,8}}|{_NUMBER_WORDS})\b[.:]?\s*", re.I
)


def strip_heading(lines: list[Line], title: str) -> list[Line]:
    """Drop the lines that open a chapter with its label ("Chapter I") and its title, already in Chapter.title."""
    wants = {key for key in (_key(title), _key(_LABEL.sub("", title, count=1))) if key}
    got = ""
    for position, line in enumerate(lines[:5]):
        text = line.text.strip()
        if _LABELLED_HEADING.fullmatch(text) or re.fullmatch(r"[IVXLC]{1,7}\.?|\d{1,3}\.?", text):
            continue
        key = _key(text)
        if not key or not any(want.startswith(got + key) for want in wants):
            return lines[position:]
        got += key
    return lines[5:]


# ---------------------------------------------------------------- paragraphs

_SENTENCE_END = re.compile(r"[.!?:…][\"'”’»)\]]*$")
_HYPHEN_MARKS = "\ufffe\ufffd\u00ad"


def _starts_paragraph(prev: Line, line: Line, pages: dict[int, Page]) -> bool:
    """Whether ``line`` opens a new paragraph after ``prev``: a gap, an indent, or a short closing line."""
    first = line.text.lstrip(_OPENING + " ")[:1]
    opens = bool(first) and (first.isupper() or first.isdigit())
    if not (prev.placed and line.placed):  # no positions: only a short line that ends a sentence tells
        return bool(_SENTENCE_END.search(prev.text)) and opens and len(prev.text) < 50
    here, before = pages[line.page], pages[prev.page]
    size = line.size or 10.0
    if prev.page == line.page and abs(prev.y_last - line.y_first) < 0.5 * (here.pitch or size):
        return False  # the same visual line: a superscript, a subscript or a second column of a table
    if prev.size and line.size and abs(prev.size - line.size) > 0.15 * max(prev.size, line.size):
        return True  # a heading or a note in another size
    if prev.page == line.page and here.pitch and prev.y_last - line.y_first > 1.45 * here.pitch:
        return True  # a blank line's worth of space
    if here.left is not None and line.x0 - here.left > 0.5 * size and abs(line.x0 - prev.x0) > 0.25 * size and opens:
        return True  # an indented first line (but not the second line of an indented block)
    if prev.page != line.page and before.foot is not None and before.pitch and prev.y_last > before.foot + 0.8 * before.pitch:
        return opens and bool(_SENTENCE_END.search(prev.text))  # the page stopped short: the paragraph ended there
    if before.left is not None and before.right is not None:
        short = prev.x1 < before.right - 0.2 * (before.right - before.left)
        return short and opens and bool(_SENTENCE_END.search(prev.text))
    return False


_OPENING = "\"'“‘«([„"


def _is_drop_capital(text: str, more: str) -> bool:
    """A big first letter set apart from its word ("I" + "n the days"), or the quote mark before it."""
    letter = text.lstrip(_OPENING)
    if len(text) > 3 or not more[:1].isalpha():
        return False
    return letter == "" or (len(letter) == 1 and letter.isupper() and more[:1].islower())


def _join(text: str, more: str) -> str:
    if text[-1] in _HYPHEN_MARKS:
        return text[:-1] + ("-" if more[:1].isupper() else "") + more
    if len(text) >= 2 and text[-1] in "-\u2010" and text[-2].isalpha() and more[:1].islower():
        return text[:-1] + more  # a word broken at the line end
    if text[-1] in "\u2013\u2014" or _is_drop_capital(text, more):
        return text + more  # a dash that binds words, or a drop capital
    return text + " " + more


def reflow(lines: list[Line], pages: dict[int, Page]) -> list[str]:
    """Lines into paragraphs of clean text."""
    paragraphs: list[str] = []
    current = ""
    prev: Line | None = None
    for line in lines:
        drop_capital = prev is not None and _is_drop_capital(prev.text, line.text)
        if current and prev is not None and not drop_capital and _starts_paragraph(prev, line, pages):
            paragraphs.append(current)
            current = ""
        current = _join(current, line.text) if current else line.text
        prev = line
    if current:
        paragraphs.append(current)
    return [text for text in (clean_text(p) for p in paragraphs) if text]


# Ligatures and the long s fold to letters; full-width ASCII and the no-break space fold by NFKC. Nothing
# else is NFKC-folded: that would turn superscripts, fractions and the like into other text.
_FOLD = {code: unicodedata.normalize("NFKC", chr(code)) for code in [*range(0xFB00, 0xFB07), *range(0xFF01, 0xFF5F), 0xA0]}
_FOLD[0x17F] = "s"
_FOLD.update({code: " " for code in (0x09, 0x0A, 0x0D)})
_FOLD.update({code: None for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xAD]})
# Format characters (zero-width, bidi marks), private-use glyphs and the non-characters PDFium leaves behind.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ue000-\uf8ff\ufff0-\uffff\U000f0000-\U0010ffff]")


def clean_text(text: str) -> str:
    """Join marked hyphenation, fold ligatures, drop control and private-use characters, tidy spaces."""
    # PDFium marks a hyphen at a line break with U+FFFE (sometimes U+FFFD); before a capital it is a real hyphen.
    text = re.sub(rf"[{_HYPHEN_MARKS}]\s*(?=[^\W\d_])", lambda m: "-" if m.string[m.end()].isupper() else "", text)
    text = _INVISIBLE.sub("", text.translate(_FOLD))
    return " ".join(text.split())


# ---------------------------------------------------------------- phase 2


_DOT_LEADER = re.compile(r"(?:\.\s*){3,}\s*\w+$")
_PG_HEADER_LINE = re.compile(
    r"(?:title|author|editor|translator|release date|last updated|posting date|language|character set encoding|"
    r"produced by|e-?book number|e-?text|compiled on|credits)\s*(?:#\d+)?\s*:",
    re.I,
)


def extract(path: Path, facts: BookFacts, settings: EngineSettings, work_dir: Path) -> ExtractedBook:
    """Phase 2 for a PDF: chapters of clean paragraphs, with a cover rendered from page one."""
    doc, _ = _open(path, settings)
    try:
        notes: list[str] = []
        pages = _read_pages(doc)
        removed = drop_running_lines(pages)
        if removed:
            notes.append(f"removed {removed} running header, footer and page-number lines")
        if drop_gutenberg_frame(pages):
            notes.append("dropped the Project Gutenberg header and licence outside the START/END markers")
        _set_foot(pages)
        title = facts.title or _title_from_name(path)
        chapters, front = _chapters(doc, pages, title, notes)
        cover_path = render_cover(doc, work_dir, notes)
    finally:
        doc.close()
    if front:
        chapters.insert(0, Chapter(0, "Front matter", front))
    for position, chapter in enumerate(chapters):
        chapter.index = position
    return ExtractedBook(
        title=title,
        author=facts.author,
        language=facts.language,
        year=facts.year,
        chapters=chapters,
        cover_path=cover_path,
        notes=notes,
    )


def _chapters(doc: pdfium.PdfDocument, pages: list[Page], title: str, notes: list[str]) -> tuple[list[Chapter], list[str]]:
    """The chapters, by the first way that finds more than one, and the front matter worth keeping."""
    by_index = {page.index: page for page in pages}
    sections = outline_sections(doc)
    strip = True
    if len(sections) >= 2:  # a lone bookmark ("Cover") says nothing about chapters
        notes.append(f"chapters from the outline ({len(sections)} bookmarks)")
    else:
        sections = heading_sections(pages)
        if len(sections) >= 2:
            notes.append("no usable outline: chapters found from headings")
        else:
            sections, strip = page_sections(pages, title), False
            if len(sections) > 1:
                notes.append(f"no usable outline or chapter headings: chapters are runs of {PAGES_PER_PART} pages")
    front_lines = _fill_sections(pages, sections)
    chapters = []
    for section in sections:
        lines = strip_heading(section.lines, section.title) if strip else section.lines
        paragraphs = reflow(lines, by_index)
        if paragraphs:
            chapters.append(Chapter(len(chapters), section.title, paragraphs))
    return chapters, _front_matter(front_lines, by_index, notes)


def _front_matter(lines: list[Line], pages: dict[int, Page], notes: list[str]) -> list[str]:
    """Keep what comes before the first chapter only when it is prose (a preface), not a title page or contents."""
    if not lines:
        return []
    lines = [line for line in lines if not _is_contents_line(line.text) and not _PG_HEADER_LINE.match(line.text)]
    paragraphs = [p for p in reflow(lines, pages) if "gutenberg" not in p.lower()]
    words = sum(len(p.split()) for p in paragraphs)
    if words < MIN_FRONT_MATTER_WORDS:
        notes.append("dropped the front matter before the first chapter (title page, contents)")
        return []
    notes.append(f"kept {words} words before the first chapter as front matter")
    return paragraphs


def _is_contents_line(text: str) -> bool:
    """An entry of a table of contents: dotted leaders, or a short line ending in a page number ("ii how ... john 16")."""
    words = text.split()
    return bool(_DOT_LEADER.search(text)) or (2 <= len(words) <= 11 and _page_number(words[-1]) is not None)


def _title_from_name(path: Path) -> str:
    return " ".join(re.sub(r"[_\-.]+", " ", path.stem).split()) or "Untitled"


def render_cover(doc: pdfium.PdfDocument, work_dir: Path, notes: list[str]) -> str | None:
    """Render page one to work_dir/cover.jpg (about COVER_HEIGHT_PX tall); None when it is blank."""
    page = doc[0]
    try:
        height = page.get_height()
        bitmap = page.render(scale=min(max(COVER_HEIGHT_PX / height, 0.1), 10))
        try:
            image = bitmap.to_pil().convert("RGB")
        except ImportError:  # Pillow comes with matplotlib; without it there is simply no cover
            notes.append("no cover: Pillow is not installed")
            return None
    finally:
        page.close()
    if image.convert("L").getextrema()[0] >= 250:
        notes.append("no cover: the first page is blank")
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "cover.jpg"
    image.save(target, "JPEG", quality=85)
    return str(target)


def sample_text(path: Path, settings: EngineSettings, limit: int = 20000) -> str:
    """Up to ``limit`` characters of text from pages spread through the book (for its language)."""
    doc, _ = _open(path, settings)
    try:
        count = len(doc)
        # Skip the first and last tenth (title, copyright, index, licence) when the book is long enough.
        first, last = (count // 10, count - count // 10) if count >= 10 else (0, count)
        step = max(1, (last - first) // 12)
        pieces, size = [], 0
        for index in range(first, last, step):
            text = " ".join(_page_text(doc, index).split())
            pieces.append(text)
            size += len(text)
            if size >= limit:
                break
        return " ".join(pieces)[:limit]
    finally:
        doc.close()
