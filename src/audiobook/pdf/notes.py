"""Footnotes at the foot of the page: set apart from the body, read after the paragraph or left out.

A footnote is told by geometry and type, not by words: the last lines of a
page, set clearly smaller than the book's body text, the first of them opening
with a note mark (a number or a symbol such as * or †).
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
