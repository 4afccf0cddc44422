"""Page furniture: running headers, footers, page numbers and the Project Gutenberg frame."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from ..sections import LISTING_KINDS, SkippedSection, classify_title, is_skipped
from .layout import Line, Page




EDGE_LINES = 2  # running lines are among the first and last two lines of a page
_ROMAN = re.compile(r"(?=[mdclxvi])m{0,4}(?:cm|cd|d?c{0,3})(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})", re.I)


def _roman_value(text: str) -> int | None:
    if not text or not _ROMAN.fullmatch(text):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
    digits = [values[char] for char in text.lower()]
    return sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d for i, d in enumerate(digits))


def page_number(token: str | None) -> tuple[str, int] | None:
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


def _same(text: str) -> str:
    return " ".join(text.lower().split())


def _edge_positions(page: Page) -> list[int]:
    count = len(page.lines)
    return sorted({i for i in range(min(EDGE_LINES, count))} | {count - 1 - i for i in range(min(EDGE_LINES, count))})


def _edge_offsets(text: str, index: int) -> set[tuple[str, int]]:
    """(kind, page index - number) for a number at either end of the line: a printed page number fits one offset."""
    words = text.split()
    numbers = [page_number(word) for word in {words[0], words[-1]}] if words else []
    return {(number[0], index - number[1]) for number in numbers if number}


def _bare_page_number(line: Line, page: Page) -> bool:
    """A line that is only a number, in arabic or small roman digits, and not set large like a chapter number."""
    number = page_number(line.text) if " " not in line.text else None
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
    page top has a number that does not fit, so it stays; so does a line met
    often inside pages as well (a speaker's name above each speech in a play).
    """
    shapes: dict[str, set[int]] = defaultdict(set)
    texts: dict[str, set[int]] = defaultdict(set)  # the very same words, numbers and all ("OWASP Top 10 2007")
    inside: Counter[str] = Counter()  # shapes met away from the edges: text, not furniture
    offsets: Counter[tuple[str, int]] = Counter()
    for page in pages:
        seen_offsets = set()
        edges = _edge_positions(page)
        for position in edges:
            text = page.lines[position].text
            if _shape(text).strip("# "):
                shapes[_shape(text)].add(page.index)
                texts[_same(text)].add(page.index)
            seen_offsets.update(_edge_offsets(text, page.index))
        offsets.update(seen_offsets)
        inside.update(_shape(line.text) for position, line in enumerate(page.lines) if position not in edges)
    # Roman numbers run only through the front matter, so three pages make them usual; arabic ones need more.
    usual_offsets = {key for key, count in offsets.items() if count >= (3 if key[0] == "roman" else max(3, 0.05 * len(pages)))}
    # A speaker's name alone on its line in a play recurs at page tops too, but also all down the page.
    running = {
        shape for shape, where in shapes.items() if _runs(shape, sorted(where)) and inside[shape] < max(3, 0.5 * len(where))
    }
    # The very same words, numbers and all, running over the pages' edges: a number that never changes is
    # part of the head ("OWASP Top 10 2007"; "2. The Gnat" on every right-hand page of chapter 2).
    repeated = {text for text, where in texts.items() if _shape(text) in running and _runs(text, sorted(where))}
    removed = 0
    for page in pages:
        doomed = set()
        for position in _edge_positions(page):
            line = page.lines[position]
            fits = bool(_edge_offsets(line.text, page.index) & usual_offsets)
            shape = _shape(line.text)
            if (shape in running and not (shape.startswith("#") or shape.endswith("#"))) or (
                fits and len(line.text.split()) <= 16
            ) or _same(line.text) in repeated:
                doomed.add(position)  # (a), (b)
            elif _bare_page_number(line, page) or (fits and " " not in line.text):
                doomed.add(position)  # (c)
        removed += len(doomed)
        page.lines = [line for i, line in enumerate(page.lines) if i not in doomed]
    return removed



_PG_START = re.compile(r"\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)
_PG_END = re.compile(r"\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK", re.I)


def drop_gutenberg_frame(pages: list[Page]) -> int:
    """Drop everything outside the "*** START/END OF THE PROJECT GUTENBERG EBOOK" markers; return the words dropped."""
    lines = [(page, line) for page in pages for line in page.lines]
    start = next((i for i, (_, line) in enumerate(lines) if _PG_START.search(line.text)), None)
    end = next((i for i, (_, line) in enumerate(lines) if _PG_END.search(line.text)), None)
    if start is None and end is None:
        return 0
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
    return max(1, sum(len(line.text.split()) for _, line in lines) - sum(len(line.text.split()) for _, line in lines[keep_from:keep_to]))



def text_blocks(pages: list[Page], body_size: float | None) -> dict[int, tuple[float, float]]:
    """The book's text block, (left, right) edges for left and right pages apart (a two-sided book shifts
    it), keyed by page index % 2: where most full lines of body type start and end."""
    lefts: dict[int, Counter[int]] = {0: Counter(), 1: Counter()}
    rights: dict[int, list[float]] = {0: [], 1: []}
    for page in pages:
        for line in page.lines:
            if line.placed and line.size and body_size and abs(line.size - body_size) <= 0.06 * body_size and len(line.text) >= 30:
                lefts[page.index % 2][round(line.x0)] += 1
                rights[page.index % 2].append(line.x1)
    block = {}
    for parity in (0, 1):
        if sum(lefts[parity].values()) >= 20:
            ends = sorted(rights[parity])
            # The block's edge is the leftmost start that many body lines share (theorems and quotes are indented).
            busiest = lefts[parity].most_common(1)[0][1]
            edge = min(x for x, count in lefts[parity].items() if count >= 0.15 * busiest)
            block[parity] = (edge, ends[int(0.98 * (len(ends) - 1))])
    return block


def drop_outside_block(pages: list[Page], body_size: float | None) -> int:
    """Remove lines that start left of the book's text block, or right of it: margin line numbers,
    printers' slugs, marginal notes, tables set wider than the text."""
    if not body_size:
        return 0
    block = text_blocks(pages, body_size)
    tolerance = max(6.0, 0.8 * body_size)
    removed = 0
    for page in pages:
        if page.index % 2 not in block:
            continue
        left, right = block[page.index % 2]
        kept = [
            line
            for line in page.lines
            if not line.placed or (left - tolerance <= line.x0 and line.x0 <= right - tolerance)
        ]
        removed += len(page.lines) - len(kept)
        page.lines = kept
    return removed


# A line of a contents page or an index: dot leaders, or ending in one or more page numbers ("arithmetic, 12, 40-42").
_REFERENCE_LINE = re.compile(r"(?:\.\s*){3,}\s*\w+$|\S\s*[, ]\s*(?:\d{1,4}|[ivxlc]{1,6})(?:\s*[,–-]\s*\d{1,4})*$")
MIN_REFERENCE_LINES = 8


def drop_reference_pages(pages: list[Page], skip: tuple[str, ...] | list[str]) -> list[tuple[str, int, int]]:
    """Remove contents and index pages: most of their lines point to a page number.

    Returns (kind, first page index, words) per run of such pages; a run in
    the book's last third is an index, earlier it is a contents (or list of figures).
    """
    runs: list[tuple[str, int, int, int]] = []  # kind, first page, words, pages
    for page in pages:
        hits = sum(1 for line in page.lines if _REFERENCE_LINE.search(line.text))
        if len(page.lines) >= MIN_REFERENCE_LINES and hits >= 0.6 * len(page.lines):
            kind = "index" if page.index >= 2 * len(pages) / 3 else "contents"
            if not is_skipped(kind, skip):
                continue
            words = sum(len(line.text.split()) for line in page.lines)
            if runs and runs[-1][0] == kind and runs[-1][1] + runs[-1][3] == page.index:
                runs[-1] = (kind, runs[-1][1], runs[-1][2] + words, runs[-1][3] + 1)
            else:
                runs.append((kind, page.index, words, 1))
            page.lines = []
    return [(kind, first, words) for kind, first, words, _ in runs]


# Matter under a skipped heading is left out only while it is this share of the book's words or less:
# a heading's word never takes a book's body with it (a contents heading set larger than the chapters').
MAX_TITLED_SHARE = 0.15
# A contents, index or list of figures ends where prose starts: this many lines running that are no entry.
PROSE_RUN_LINES = 2
PROSE_LINE_WORDS = 7


def drop_titled_matter(
    pages: list[Page], body_size: float | None, skip: tuple[str, ...] | list[str], notes: list[str] | None = None
) -> list[SkippedSection]:
    """Remove matter under a heading that names a skipped kind ("Related Resources", "Index", "Copyright")
    up to the next heading as large; return what was left out. Bookmarked sections are also judged as
    chapters; this finds those the outline does not name.

    What the heading says is checked against what follows it: a contents, index or list of figures ends
    at the first prose under it, and matter larger than MAX_TITLED_SHARE of the book is read after all
    (said in ``notes``)."""
    if not body_size:
        return []
    sections: list[tuple[SkippedSection, list[Line]]] = []
    current: tuple[SkippedSection, list[Line]] | None = None
    level = 0.0
    for page in pages:
        for line in page.lines:
            heading = bool(line.size) and line.size >= 1.15 * body_size and not line.note
            if heading and (current is None or line.size >= 0.95 * level):
                kind = classify_title(line.text)
                current = None
                if is_skipped(kind, skip):
                    current, level = (SkippedSection(line.text, kind, 0, f'heading "{line.text}"'), []), line.size
                    sections.append(current)
            if current is not None:
                current[1].append(line)
    total = sum(len(line.text.split()) for page in pages for line in page.lines)
    doomed: set[int] = set()
    found = []
    for section, lines in sections:
        if section.kind in LISTING_KINDS:
            lines = lines[: _prose_start(lines, body_size)]
        section.words = sum(len(line.text.split()) for line in lines)
        if section.words > MAX_TITLED_SHARE * total:
            if notes is not None:  # read: the heading alone does not decide that much of the book
                notes.append(f'read {section.words} words under the heading "{section.title}": too much of the book to leave out on its say')
            continue
        doomed.update(id(line) for line in lines)
        found.append(section)
    for page in pages:
        page.lines = [line for line in page.lines if id(line) not in doomed]
    return found


def _prose_start(lines: list[Line], body_size: float) -> int:
    """Where prose begins under a contents-like heading: the first of a run of full lines that are no
    entry (no page number, no dot leaders) and no heading; len(lines) when there is none."""
    run = 0
    for position, line in enumerate(lines[1:], start=1):
        entry = bool(_REFERENCE_LINE.search(line.text)) or (line.size or 0) >= 1.15 * body_size
        run = 0 if entry or len(line.text.split()) < PROSE_LINE_WORDS else run + 1
        if run == PROSE_RUN_LINES:
            start = position - PROSE_RUN_LINES + 1
            # The prose's own heading ("1 The Outlaw", no page number after it) goes with it.
            while start > 1 and (lines[start - 1].size or 0) >= 1.15 * body_size and not _REFERENCE_LINE.search(lines[start - 1].text):
                start -= 1
            return start
    return len(lines)


# What an imprint page says; a page among the book's first or last few that says it, and little else, is one.
# A licence notice on the title's verso says it too ("... under the terms of the GNU General Public License").
_IMPRINT = re.compile(
    r"©|\bcopyright\b|\ball rights reserved\b|\bisbn\b|\bprinted in\b|\bfirst published\b|\bcreative commons\b"
    r"|\bgnu (?:lesser |library )?(?:general public|free documentation) licen[cs]e\b|\bpermission is granted to copy\b"
    r"|\b(?:is|are) (?:free software|licensed under)\b|\bwithout any warranty\b",
    re.I,
)
MAX_IMPRINT_WORDS = 400


def says_imprint(text: str) -> bool:
    """Whether ``text`` says two different things an imprint page says ("©" and an ISBN, "printed in")."""
    return len({match.group().lower() for match in _IMPRINT.finditer(text)}) >= 2


def drop_imprint_pages(pages: list[Page]) -> list[tuple[int, int]]:
    """Remove copyright and imprint pages near the front or back of the book; return (page index, words)."""
    edge = max(2, len(pages) // 20)
    dropped = []
    for page in pages[:edge] + pages[-edge:] if len(pages) > 2 * edge else pages:
        text = " ".join(line.text for line in page.lines)
        words = len(text.split())
        if page.lines and words <= MAX_IMPRINT_WORDS and says_imprint(text):
            dropped.append((page.index, words))
            page.lines = []
    return dropped
