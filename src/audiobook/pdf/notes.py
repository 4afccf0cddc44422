"""Footnotes at the foot of the page: set apart from the body, read after the paragraph or left out.

A footnote is told by geometry and type, not by words: the last lines of a
page, set clearly smaller than the book's body text, the first of them opening
with a note mark (a number or a symbol such as * or †). Notes set as large as
the body, their marks not raised (a print driver flattens them), are told by
position and numbers: a block below the last body line past a gap, each note's
number carried by the text above as a mark set against a word.
"""

from __future__ import annotations

import re

from .layout import Page

# Text this much smaller than the body is not body text (footnotes are set at about 80 % or less).
NOTE_SIZE_RATIO = 0.88
# A mark, then a space or the note's first word: some typesetters (Typst) set the mark against the note's
# text ("3My first book", "1https://..."), a capital or a quote after it.
_NOTE_MARK = re.compile(r"^(?:\d{1,3}|[*†‡§¶]+|[a-z])(?:[.)]|\s|$)|^\d{1,3}(?=[A-Z“‘\"']|https?:)")


def mark_footnotes(pages: list[Page], body_size: float | None) -> int:
    """Flag the footnote lines at the foot of each page (Line.note); return how many lines."""
    if not body_size:
        return 0
    marked = 0
    for page in pages:
        lines = page.lines
        if flat := _flat_notes(page, body_size):
            marked += flat
            continue
        start = len(lines)
        while start > 0 and lines[start - 1].size and lines[start - 1].size <= NOTE_SIZE_RATIO * body_size:
            start -= 1
        if start == len(lines) or start == 0:
            continue  # no small lines at the foot, or a page of small text only (not notes)
        above, top = lines[start - 1], lines[start]
        if above.placed and top.placed and top.y_first > above.y_last - 0.5 * body_size:
            continue  # beside the last body line, not below it: a margin number, not a note
        # The block opens with a note mark; notes after the first may open anywhere in it.
        if not any(_NOTE_MARK.match(line.text) for line in lines[start : start + 2]):
            continue
        for line in lines[start:]:
            line.note = True
            marked += 1
    return marked


# Notes set (nearly) as large as the body, their marks not raised (a book re-saved through a print driver):
# a block below the last body line, past a gap of this many line pitches, at most this many lines ...
NOTE_GAP_PITCHES = 1.4
MAX_FLAT_NOTE_LINES = 12
# ... not larger than the body, whose every note opens with a number that the text above carries as a mark
# set against a word or its stop ("the end.3 Next").
_NOTE_NUMBER = re.compile(r"^(\d{1,3})(?=\s|[A-Z“‘\"'])")


def _flat_notes(page: Page, body_size: float) -> int:
    """Flag a page's notes told by position and by their numbers matching marks in its text; the marks
    are blanked from the text. Return how many lines (0 when the foot is no such block)."""
    lines, pitch = page.lines, page.pitch or 1.2 * body_size
    if len(lines) < 4 or not all(line.placed for line in lines):
        return 0
    for start in range(len(lines) - 1, max(0, len(lines) - 1 - MAX_FLAT_NOTE_LINES), -1):
        above = lines[start - 1]
        if above.y_last - lines[start].y_first > NOTE_GAP_PITCHES * pitch:
            break
    else:
        return 0
    block, body = lines[start:], lines[:start]
    if len(block) > len(body) or any((line.size or body_size) > 1.02 * body_size for line in block):
        return 0
    numbers = [found.group(1) for line in block if (found := _NOTE_NUMBER.match(line.text))]
    if not numbers or not _NOTE_NUMBER.match(block[0].text):
        return 0
    marks = {number: re.compile(rf"(?<=[^\W\d_]|[.,;:!?”’\"')\]]){number}(?=\s|$|[,;:])") for number in numbers}
    if not all(any(mark.search(line.text) for line in body) for mark in marks.values()):
        return 0
    for line in body:
        for mark in marks.values():
            # A control character in the mark's place, as for a raised mark: dropped by clean_text, offsets kept.
            line.text = mark.sub(lambda found: "\x00" * len(found.group()), line.text)
    for line in block:
        line.note = True
    return len(block)
