"""Inline code in a sentence as a narrator reads it: its names and words, its punctuation not spelled out.

Code set inside a sentence of prose (a PDF's typewriter face, an EPUB's <code>) is part of
what the sentence says ("use <c:out> to escape it"), so its words are read; its operators
and brackets would come out as "equals", "plus", "dot", which no listener follows. A web
address inside it stays whole, for phase 3 to say shortly. Listings are another matter: a
block of code becomes a spoken cue (pdf.displays, epub.listings).
"""

from __future__ import annotations

from collections.abc import Callable

from .links import link_rest, link_spans

CODE_SYMBOLS = frozenset("+-*/=%<>!&|^~;:{}[]()#@$\\\".")


def silent_symbols(text: str, in_code: Callable[[int], bool] = lambda index: True, before: str = "") -> list[int]:
    """Where the code's punctuation is in ``text`` (at the places ``in_code`` says are code), outside any
    web or e-mail address, also one cut at the end of the line ``before`` and carried on here."""
    symbols = [i for i, ch in enumerate(text) if ch in CODE_SYMBOLS and in_code(i)]
    if not symbols:
        return symbols
    links = {i for start, end in link_spans(text) for i in range(start, end)} | set(range(link_rest(before, text)))
    return [i for i in symbols if i not in links]


def code_words(text: str) -> str:
    """'System.out.println(total);' -> 'System out println total'; '<c:out value="x">' -> 'c out value x'."""
    silent = set(silent_symbols(text))
    return " ".join("".join(" " if i in silent else ch for i, ch in enumerate(text)).split())
