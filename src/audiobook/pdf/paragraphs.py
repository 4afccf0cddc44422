"""Lines into paragraphs, and the clean-up of PDFium's text."""

from __future__ import annotations

import re
from dataclasses import replace

from ..hyphenation import keeps_line_end_hyphen
from ..links import link_rest
from .layout import Line, Page
from .text import HYPHEN_MARKS, clean_text

_SENTENCE_END = re.compile(r"[.!?:…][\"'”’»)\]]*$")


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


def _join(text: str, more: str, language: str | None) -> str:
    if link_rest(text, more):
        return text + more  # a web address cut at the line's end ("http://google." + "github.io/...")
    if text[-1] in HYPHEN_MARKS:
        return text + more  # clean_text decides whether it was a compound's hyphen
    if len(text) >= 2 and text[-1] in "-\u2010" and text[-2].isalpha() and more[:1].islower():
        # a word broken at the line end, or a compound whose hyphen fell there ("entry-" / "level")
        return text[:-1] + ("-" if keeps_line_end_hyphen(text[:-1], more, language) else "") + more
    if text[-1] in "\u2013\u2014" or _is_drop_capital(text, more):
        return text + more  # a dash that binds words, or a drop capital
    if _UNSPACED_SIDE.match(text[-1]) and _UNSPACED_SIDE.match(more[:1]):
        return text + more  # Chinese, Japanese, Thai ...: lines break inside words and no space is written
    return text + " " + more


# Characters of scripts written without spaces, and their full-width punctuation (、。「」).
_UNSPACED_SIDE = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def reflow(lines: list[Line], pages: dict[int, Page], language: str | None = None) -> list[str]:
    """Lines into paragraphs of clean text; footnote lines (Line.note) follow the paragraph they interrupt.
    ``language`` (the book's, a BCP 47 tag) tells whether a line-end hyphen can be judged by its words."""
    paragraphs: list[str] = []
    current = ""
    prev: Line | None = None
    note_lines: list[Line] = []
    for line in lines:
        if line.note:
            note_lines.append(line)
            continue
        drop_capital = prev is not None and _is_drop_capital(prev.text, line.text)
        alone = line.alone or (prev is not None and prev.alone)
        # A play's speech opens with its label; a stage direction stands apart from the speech around it.
        staged = line.opens or (prev is not None and prev.direction != line.direction)
        if current and prev is not None and (alone or staged or (not drop_capital and _starts_paragraph(prev, line, pages))):
            paragraphs.append(current)
            current = ""
            if note_lines:
                paragraphs += reflow(_as_body(note_lines), pages, language)
                note_lines = []
        current = _join(current, line.text, language) if current else line.text
        prev = line
    if current:
        paragraphs.append(current)
    if note_lines:
        paragraphs += reflow(_as_body(note_lines), pages, language)
    return [text for text in (clean_text(p, language) for p in paragraphs) if text]


def _as_body(note_lines: list[Line]) -> list[Line]:
    """Footnote lines to reflow among themselves (each note opens with its mark, so a new paragraph)."""
    return [replace(line, note=False) for line in note_lines]
