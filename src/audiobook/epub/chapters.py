"""Paragraphs and chapter starts into titled chapters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Chapter
from .flatten import Paragraph, Start
from .markup import comparable

# Text before the first contents entry is usually a title or copyright page; this
# much of it is more likely an unlisted preface, kept as a chapter of its own.
LEADING_MIN_WORDS = 300
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


def without_gutenberg_frame(blocks: list[Start | Paragraph], notes: list[str]) -> list[Start | Paragraph]:
    """Leave out Project Gutenberg's header and licence around the book (thousands of words
    of legal text nobody wants narrated). Chapter starts are kept; emptied chapters vanish later."""
    texts = [block.text if isinstance(block, Paragraph) else "" for block in blocks]
    end = next((i for i, text in enumerate(texts) if GUTENBERG_END.search(text)), len(blocks))
    start = max((i for i, text in enumerate(texts[:end]) if GUTENBERG_START.search(text)), default=-1)
    if start < 0 and end == len(blocks):
        return blocks
    notes.append("Project Gutenberg header and licence left out")
    return [block for i, block in enumerate(blocks) if isinstance(block, Start) or start < i < end]


@dataclass
class Draft:
    title: str
    paragraphs: list[Paragraph]


def assemble(blocks: list[Start | Paragraph], book_title: str, notes: list[str]) -> list[Chapter]:
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
        else:
            notes.append(f"left out {words} words before the first contents entry (title or copyright page)")

    chapters: list[Chapter] = []
    carried = ""  # the title of a part whose page held nothing but that title
    for draft in drafts:
        title = draft.title or f"Chapter {len(chapters) + 1}"
        paragraphs, repeated = without_title(draft.paragraphs, title)
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
