"""Lists of links under their own small heading ("Samples", "References", "Further resources"): a bibliography.

Read aloud, such a list is "cve dot mitre dot org, cve dot mitre dot org ..." and nothing a listener can
follow. It is told by what it holds, not by its heading's word: the lines between a small heading and the
next heading, most of its items holding a web address. Links a sentence introduces ("consult the Testing
Guide:" and two addresses) have no heading of their own and stay, each said shortly as its site.
"""

from __future__ import annotations

import re

from ..sections import WEB_ADDRESS, SkippedSection, is_skipped, link_list_reason
from .furniture import says_imprint
from .layout import Line, Page

# A section's heading, however small: a short line set a little larger than the body (not as large as a
# chapter's title: a chapter of links and a sentence is the author's) and not ending a sentence.
MINOR_HEADING_RATIO = 1.05
MAX_MINOR_HEADING_RATIO = 1.5
MAX_HEADING_WORDS = 8


# A heading in capitals (small capitals, as OCR reads them) with this many letters or more is a heading at the
# body's own size too: a scan measures owasp's 11-point small capitals over a 10-point body at 1.05-1.10 of it,
# within the spread of one size, where the text layer gives 1.11. (What follows it is a list of links or not
# by its items, as under any heading.)
MIN_CAPITALS_HEADING_LETTERS = 4

# Catalogue numbers of references: a book's ISBN, an RFC, a DOI, an entry of a numbered catalogue in capitals
# (CWE-209, CVE-2006-4899). A reference list whose addresses OCR lost or never had is told by them.
CATALOGUE_NUMBER = re.compile(r"\b(?:ISBN|RFC)[\s:-]*\d|\bdoi:\s*10\.|\b[A-Z]{2,5}-\d{2,}\b")
# The share of a heading's sections that are lists of links for the whole to be a bibliography.
MIN_GROUP_LISTS = 0.5


def is_minor_heading(line: Line, body_size: float) -> bool:
    words = line.text.split()
    capitals = line.text.isupper() and sum(char.isalpha() for char in line.text) >= MIN_CAPITALS_HEADING_LETTERS
    return (
        bool(line.size)
        and (1.0 if capitals else MINOR_HEADING_RATIO) * body_size <= line.size <= MAX_MINOR_HEADING_RATIO * body_size
        and 0 < len(words) <= MAX_HEADING_WORDS
        and not line.text.rstrip().endswith((".", ",", ";"))
    )


def drop_link_lists(pages: list[Page], body_size: float | None, skip: tuple[str, ...] | list[str]) -> list[SkippedSection]:
    """Remove each heading with the list of links under it; return what was left out (kind "bibliography")."""
    if not body_size or not is_skipped("bibliography", skip):
        return []
    blocks: list[list[Line]] = [[]]  # the lines under each heading, the heading first
    for page in pages:
        for line in page.lines:
            if is_minor_heading(line, body_size):
                blocks.append([])
            elif line.size and line.size > MAX_MINOR_HEADING_RATIO * body_size:
                blocks.append([])
                blocks.append([])  # a chapter's title ends the list before it and opens no list of its own
            blocks[-1].append(line)
    doomed: set[int] = set()
    found = []
    reasons = [_list_reason(block, body_size) for block in blocks]
    for position, block in enumerate(blocks):
        if len(block) == 1 and is_minor_heading(block[0], body_size):
            sections = _sections(blocks[position + 1 :], body_size)
            reason = _group_reason(sections, reasons[position + 1 : position + 1 + len(sections)])
            if reason:
                reasons[position] = reason
                for under in range(position + 1, position + 1 + len(sections)):
                    reasons[under] = reasons[under] or f"a section under {block[0].text}"
    for block, reason in zip(blocks, reasons):
        if reason:
            doomed.update(id(line) for line in block)
            found.append(SkippedSection(block[0].text, "bibliography", sum(len(line.text.split()) for line in block), reason))
    if doomed:
        for page in pages:
            page.lines = [line for line in page.lines if id(line) not in doomed]
    return found


def _list_reason(block: list[Line], body_size: float) -> str:
    """Why the lines under a small heading are a list of links ("" when they are not, or have no heading)."""
    if not block or not is_minor_heading(block[0], body_size):
        return ""
    if says_imprint(" ".join(line.text for line in block)):
        return ""  # an ISBN beside "©" and "All rights reserved" is the book's own: an imprint, not a reference
    items = _items(block[1:])
    words = sum(len(line.text.split()) for line in block)
    reason = link_list_reason([any(_cites(line.text) for line in item) for item in items], words)
    if not reason and len(items) == 1 and all(_only_addresses(line.text) for line in items[0]):
        reason = "its one item is a web address"  # "Samples" and one address: a list of one link
    return reason


def _sections(after: list[list[Line]], body_size: float) -> list[list[Line]]:
    """The sections under a heading with no lines of its own: each small heading with its lines, up to the
    next title or the next heading with no lines of its own."""
    sections = []
    for block in after:
        if not block or not is_minor_heading(block[0], body_size) or len(block) == 1:
            break
        sections.append(block)
    return sections


def _group_reason(sections: list[list[Line]], reasons: list[str]) -> str:
    """A heading over small headings ("References" over "Projects", "Books", "Web sites": a scan measures a
    closing chapter's title at its sections' size) is a bibliography when most of its sections, and most of
    their words, are lists of links."""
    words = [sum(len(line.text.split()) for line in section) for section in sections]
    linked = sum(count for count, reason in zip(words, reasons) if reason)
    lists = sum(bool(reason) for reason in reasons)
    if len(sections) >= 2 and lists >= MIN_GROUP_LISTS * len(sections) and linked > sum(words) - linked:
        return f"{lists} of the {len(sections)} sections under it are lists of links"
    return ""


def _items(lines: list[Line]) -> list[list[Line]]:
    """The list's items: each opens at the list's left edge; lines set further in continue it."""
    placed = [line.x0 for line in lines if line.placed]
    edge = min(placed) if placed else 0.0
    items: list[list[Line]] = []
    for line in lines:
        if not items or not line.placed or line.x0 <= edge + 2:
            items.append([])
        items[-1].append(line)
    return items


def _cites(text: str) -> bool:
    """A line of a reference: a web address, or a catalogue number a reader looks up ("ISBN 0735622140",
    "CWE-209", "RFC 2616", "doi:10.1145/…")."""
    return bool(WEB_ADDRESS.search(text) or CATALOGUE_NUMBER.search(text))


def _only_addresses(text: str) -> bool:
    return not WEB_ADDRESS.sub("", text).strip()
