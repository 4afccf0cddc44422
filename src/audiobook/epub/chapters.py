"""Paragraphs and chapter starts into titled chapters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Chapter
from ..sections import (
    BACK_MATTER_SHARE,
    SkippedSection,
    appeal_reason,
    first_words,
    is_licence_text,
    prose_under_listing_heading,
    word_count,
)
from .flatten import Paragraph, Start
from .markup import comparable
from .sections import Reading, heading_kind

# Text before the first contents entry is usually a title or copyright page; this
# much of it is more likely an unlisted preface, kept as a chapter of its own.
LEADING_MIN_WORDS = 300
# Short front matter that says this is a copyright page, not a title page.
COPYRIGHT_WORDS = re.compile(r"©|\bcopyright\b|\bISBN\b|all rights reserved", re.I)
# A chapter is the licence when at least one paragraph in this many names Project Gutenberg's terms.
LICENCE_SHARE = 4
GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG", re.I | re.M)
GUTENBERG_END = re.compile(
    r"^(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg)", re.I | re.M
)

# --- chapters --------------------------------------------------------------------------


def starts_at_headings(blocks: list[Start | Paragraph]) -> list[Start | Paragraph]:
    """Without a table of contents, chapters start at headings named after them: at the
    highest-ranking level used more than once, since one <h1> is often the book's title."""
    levels = [block.heading for block in blocks if isinstance(block, Paragraph) and block.heading]
    repeated = [level for level in set(levels) if levels.count(level) > 1]
    chapter_level = min(repeated or levels or [0])
    out: list[Start | Paragraph] = []
    for block in blocks:
        if isinstance(block, Paragraph) and chapter_level and block.heading == chapter_level:
            out.append(Start(block.text.replace("\n", " ")))
        out.append(block)
    return out


def without_gutenberg_frame(
    blocks: list[Start | Paragraph], notes: list[str], reading: Reading, skipped: list[SkippedSection]
) -> list[Start | Paragraph]:
    """Leave out Project Gutenberg's header and licence around the book (thousands of words
    of legal text nobody wants narrated). Chapter starts are kept; emptied chapters vanish later."""
    if not reading.leaves_out("licence"):
        return blocks
    texts = [block.text if isinstance(block, Paragraph) else "" for block in blocks]
    end = next((i for i, text in enumerate(texts) if GUTENBERG_END.search(text)), len(blocks))
    start = max((i for i, text in enumerate(texts[:end]) if GUTENBERG_START.search(text)), default=-1)
    if start < 0 and end == len(blocks):
        return blocks
    notes.append("Project Gutenberg header and licence left out")
    for title, part in (("Project Gutenberg header", texts[: start + 1]), ("Project Gutenberg licence", texts[end:])):
        if word_count(part):
            skipped.append(
                SkippedSection(title, "licence", word_count(part), "Project Gutenberg's start and end lines")
            )
    return [block for i, block in enumerate(blocks) if isinstance(block, Start) or start < i < end]


@dataclass
class Draft:
    title: str
    paragraphs: list[Paragraph]


def assemble(
    blocks: list[Start | Paragraph],
    book_title: str,
    notes: list[str],
    reading: Reading,
    skipped: list[SkippedSection],
) -> list[Chapter]:
    """Chapters from the flattened book; those of a kind the user does not want are listed in ``skipped``."""
    leading: list[Paragraph] = []
    drafts: list[Draft] = []
    for block in blocks:
        if isinstance(block, Start):
            drafts.append(Draft(block.title, []))
        elif drafts:
            drafts[-1].paragraphs.append(block)
        else:
            leading.append(block)
    if leading:
        words = sum(len(p.text.split()) for p in leading)
        if words >= LEADING_MIN_WORDS or not drafts:
            heading = next((p.text.replace("\n", " ") for p in leading if p.heading), book_title)
            drafts.insert(0, Draft(heading, leading))
        elif COPYRIGHT_WORDS.search(" ".join(p.text for p in leading)):
            title = first_words([p.text for p in leading])
            skipped.append(SkippedSection(title, "copyright", words, "short front matter before the first chapter"))
        else:
            notes.append(f"left out {words} words before the first contents entry (title page)")

    chapters: list[Chapter] = []
    carried = ""  # the title of a part whose page held nothing but that title
    total, seen = sum(len(p.text.split()) for draft in drafts for p in draft.paragraphs), 0
    for draft in drafts:
        title = draft.title or f"Chapter {len(chapters) + 1}"
        paragraphs, repeated = without_title(draft.paragraphs, title)
        at_back = seen > BACK_MATTER_SHARE * total  # after the story: an author's appeal, advertisements
        seen += sum(len(p.text.split()) for p in draft.paragraphs)
        found = section_kind(title, draft.paragraphs, at_back) if paragraphs else None
        if found is not None and reading.leaves_out(found[0]):
            skipped.append(SkippedSection(title, found[0], word_count(paragraphs), found[1]))
            continue
        if not paragraphs:
            if repeated:
                carried = title
            continue
        if carried:
            title, carried = f"{carried}: {title}", ""
        chapters.append(Chapter(index=len(chapters), title=title, paragraphs=paragraphs))
    return chapters


def without_title(paragraphs: list[Paragraph], title: str) -> tuple[list[str], bool]:
    """Drop opening paragraphs that only repeat the chapter title (it is announced anyway).

    Up to three are compared together, for headings split into a number and a
    name (<h2>Chapter I</h2><p>The Beginning</p> under "Chapter I: The Beginning").
    """
    texts = [p.text for p in paragraphs]
    wanted = comparable(title)
    if wanted:
        for count in (1, 2, 3):
            if len(texts) >= count and comparable(" ".join(texts[:count])) == wanted:
                return texts[count:], True
    return texts, False


def section_kind(title: str, paragraphs: list[Paragraph], at_back: bool = False) -> tuple[str, str] | None:
    """The kind of non-narrative section a chapter is, by its title, its own first heading, or its
    words (the Project Gutenberg licence; after the story, an author's appeal or advertisement); None
    for a chapter of the book."""
    texts, entries = [p.text for p in paragraphs], sum(1 for p in paragraphs if p.link_only)
    kind = heading_kind(title)
    if kind and not prose_under_listing_heading(kind, texts, entries):
        return kind, f'heading "{title}"'
    heading = next((p.text.replace("\n", " ") for p in paragraphs[:3] if p.heading), "")
    kind = heading_kind(heading)
    if kind and not prose_under_listing_heading(kind, texts, entries):
        return kind, f'heading "{heading}"'
    marked = sum(1 for p in paragraphs if is_licence_text(p.text))
    if marked >= 2 and marked * LICENCE_SHARE >= len(paragraphs):
        return "licence", "Project Gutenberg licence text"
    if at_back and (reason := appeal_reason(title, texts)):
        return "advertisement", reason
    return None
