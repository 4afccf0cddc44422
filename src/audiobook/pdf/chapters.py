"""Where chapters start: the outline, else headings on the page, else runs of pages."""

from __future__ import annotations

import re
from collections import Counter
import unicodedata
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from .layout import Line, Page
from .text import clean_text


# Without an outline or headings, chapters are runs of this many pages (about 20-25 minutes of audio).
PAGES_PER_PART = 10



@dataclass
class Section:
    """Where a chapter starts: a page, and optionally the height of its heading on that page."""

    title: str
    page: int
    top: float | None = None
    lines: list[Line] = field(default_factory=list)
    part: bool = False  # a part ("Part I", "II West-Over-Seas") whose chapters follow as sections of their own


@dataclass
class _Mark:
    level: int
    title: str
    page: int
    top: float | None
    part: bool = False


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
        if all(_PART_TITLE.match(m.title) for m in chosen):
            break  # "Part I", "Part II": parts, whose titles lead their chapters' (_below_parts)
        level += 1
        chosen = [m for m in marks if m.level == level]
    chosen = _below_parts(marks, chosen, len(doc))
    chosen.sort(key=lambda m: (m.page, -(m.top if m.top is not None else float("inf"))))
    sections: list[Section] = []
    for mark in chosen:
        if not mark.title:
            continue
        if sections and sections[-1].page == mark.page and sections[-1].top == mark.top:
            continue  # two bookmarks to one spot: the first names it
        sections.append(Section(mark.title, mark.page, mark.top, part=mark.part))
    return sections


_PART_TITLE = re.compile(r"(?:part|book|volume|teil|livre|partie|parte)\b|[IVXLC]+\.?\s+\S", re.I)
# Children this long (pages, on average) are chapters, not sections of a chapter.
MIN_CHAPTER_PAGES = 6


def _below_parts(marks: list[_Mark], chosen: list[_Mark], page_count: int) -> list[_Mark]:
    """Replace a part ("Part I", "II West-Over-Seas") by its chapters, keeping the part's title on the first.

    A bookmark is a part when it has children and either its title is a part
    label or its children are as long as chapters; the children of a chapter
    (its sections, a page or two each) are left alone.
    """
    out: list[_Mark] = []
    for mark in chosen:
        start = marks.index(mark)
        children = []
        for after in marks[start + 1 :]:
            if after.level <= mark.level:
                break
            if after.level == mark.level + 1:
                children.append(after)
        if len(children) >= 2:
            ends = [m.page for m in children[1:]] + [_next_page(marks, start, mark.level, page_count)]
            average = sum(end - child.page for child, end in zip(children, ends)) / len(children)
            if _PART_TITLE.match(mark.title) or average >= MIN_CHAPTER_PAGES:
                mark.part = True
                out.append(mark)  # the part's own pages (its title, an introduction) before its first chapter
                out += children
                continue
        out.append(mark)
    return out


def _next_page(marks: list[_Mark], start: int, level: int, page_count: int) -> int:
    return next((m.page for m in marks[start + 1 :] if m.level <= level), page_count)


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
    """Chapters from heading lines that open a page ("CHAPTER IV", "Chapter 3", "3. Title").

    A numbered line that is a sentence ("1. Change the name from addTime to Time::add.") is an exercise
    or a list item, not a chapter; so are numbered lines in body type whose numbers start over."""
    sections = []
    bare: list[tuple[Section, str, bool]] = []  # numbered headings without a label: (section, number, set large)
    for page in pages:
        for position, line in enumerate(page.lines[:3]):
            text = line.text.strip()
            labelled = _LABELLED_HEADING.fullmatch(text)
            if not (labelled or _BARE_HEADING.fullmatch(text)) or len(text.split()) > 12 or text.endswith((",", ";")):
                continue
            if not labelled and _SENTENCE.search(text):
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
            if not labelled:
                large = bool(line.size and page.body_size and line.size >= 1.1 * page.body_size)
                bare.append((sections[-1], text.split(".")[0], large))
            break
    numbers = [number for _, number, _ in bare]
    if len(set(numbers)) < len(numbers):  # numbers that start over: a list's items, unless set as headings
        doubtful = {id(section) for section, _, large in bare if not large}
        sections = [section for section in sections if id(section) not in doubtful]
    return sections


# A numbered line that reads as a sentence: four words or more after the number, ending in a stop.
_SENTENCE = re.compile(r"^\d{1,3}\.\s+(?:\S+\s+){3,}\S*\.$")


# A line this much larger than the body, among a page's first lines, may be a heading.
HEADING_SIZE_RATIO = 1.25


def size_heading_sections(pages: list[Page], body_size: float | None) -> list[Section]:
    """Chapters from headings told by their size: short lines set large among a page's first lines.

    The largest heading size found on two pages or more is the chapter's (smaller ones are sections);
    a heading that wraps over two large lines is one title.
    """
    if not body_size:
        return []
    found: list[tuple[float, Section]] = []
    for page in pages:
        big: list[Line] = []
        for line in page.lines[:4]:
            if line.size and line.size >= HEADING_SIZE_RATIO * body_size and not line.note:
                if big and abs(line.size - big[0].size) > 0.5:
                    break
                big.append(line)
            elif big:
                break
        title = " ".join(" ".join(clean_text(line.text) for line in big).split())
        # A drop capital ("K" of "King") is large too, but it is no title.
        if big and len(title.split()) <= 14 and sum(char.isalpha() for char in title) >= 3 and not title.endswith((",", ";")):
            found.append((big[0].size, Section(title, page.index, big[0].y_first)))
    sizes = Counter(round(size) for size, _ in found)
    chapter_sizes = [size for size, count in sizes.items() if count >= 2]
    if not chapter_sizes:
        return []
    chapter_size = max(chapter_sizes)
    return [section for size, section in found if round(size) >= chapter_size]


# "1   The Outlaw", "12. A Merry Feast": a numbered heading in a line of its own, anywhere on the page.
_NUMBERED = re.compile(r"(\d{1,3})\.?\s+(\S.{0,70})")
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi|-bd\b|\bbd\b", re.I)
MIN_NUMBERED_CHAPTERS = 3


def numbered_sections(pages: list[Page], body_size: float | None) -> list[Section]:
    """Chapters from numbered headings that run 1, 2, 3 ... through the book, each set apart from the
    body by its size or a bold face, wherever on the page they stand (sections that run on without a
    page break, as LaTeX's article class sets them). Numbers that start over (exercises, lists) or
    lines in body type are not chapters; the longest run from 1 is taken."""
    if not body_size:
        return []
    runs: list[list[Section]] = []
    for page in pages:
        for line in page.lines:
            found = _NUMBERED.fullmatch(line.text.strip())
            if not found or not _set_apart(line, body_size) or len(line.text.split()) > 10:
                continue
            title = " ".join(clean_text(found.group(2)).split())
            if title.endswith((".", ",", ";", ":")) or not title[:1].isupper() or title.split()[-1].isdigit():
                continue  # a sentence, or a contents entry with its page number
            number = int(found.group(1))
            if number == 1:
                runs.append([])
            elif not runs or len(runs[-1]) != number - 1:
                continue
            runs[-1].append(Section(title, page.index, line.y_first))
    best = max(reversed(runs), key=len, default=[])  # of two as long, the later: a contents lists them first
    return best if len(best) >= MIN_NUMBERED_CHAPTERS else []


def _set_apart(line: Line, body_size: float) -> bool:
    bold = bool(line.fonts) and all(_BOLD_FONT.search(name) for _, name, _ in line.fonts)
    return bool(line.size) and (line.size >= 1.1 * body_size or (bold and line.size >= 0.95 * body_size))


def page_sections(pages: list[Page], title: str) -> list[Section]:
    if len(pages) <= PAGES_PER_PART:
        return [Section(title, 0)]
    return [Section(f"Part {n + 1}", start) for n, start in enumerate(range(0, len(pages), PAGES_PER_PART))]


def fill_sections(pages: list[Page], sections: list[Section]) -> list[Line]:
    """Give each section its lines; return the lines before the first one (front matter)."""
    front: list[Line] = []
    target = front
    upcoming = list(sections)
    for page in pages:
        for position, line in enumerate(page.lines):
            # A section starts at its page, at the first line at or below its heading (when the heading's height is known).
            while upcoming and (
                upcoming[0].page < page.index
                or (
                    upcoming[0].page == page.index
                    and (upcoming[0].top is None or not line.placed or line.y_first <= upcoming[0].top + 2)
                    and not _ends_above_heading(page, position, upcoming[0].top)
                )
            ):
                target = upcoming.pop(0).lines
            target.append(line)
    return front


def _ends_above_heading(page: Page, position: int, top: float | None) -> bool:
    """A target set on the baseline of the line before the heading (some producers do): that line still
    belongs to the section before, when the next line is the (larger) heading."""
    line = page.lines[position]
    following = page.lines[position + 1] if position + 1 < len(page.lines) else None
    if top is None or following is None or not (line.placed and following.placed and line.size and following.size):
        return False
    return abs(line.y_first - top) <= 2 and following.size > 1.15 * line.size


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
        # The line may carry a number the bookmark leaves out ("2   A Merry Feast" under "A Merry Feast").
        key = next((key for key in (_key(text), _key(_LABEL.sub("", text, count=1))) if key and any(want.startswith(got + key) for want in wants)), "")
        if not key:
            return lines[position:]
        got += key
    return lines[5:]

