"""Whether a hyphen at a line's end belongs to a compound ("entry-level") or only broke a word ("bro-ken").

A PDF's line-end hyphen carries no sign of which it is (Word, LaTeX and PDFium's marker alike), so the
words decide, in English only, where the word lists are: the hyphen stays when the joined form is no
known word but both parts are. Otherwise the word is joined, as before.
"""

from __future__ import annotations

import re

from .voices import primary_language
from .wordlists import common_words, known_word

_LAST_WORD = re.compile(r"[^\W\d_]+$")
_FIRST_WORD = re.compile(r"^[^\W\d_]+")


def keeps_line_end_hyphen(before: str, after: str, language: str | None) -> bool:
    """Whether the hyphen between ``before`` (the text up to the hyphen) and ``after`` (the next line) is
    a compound's own: 'entry' + 'level' keeps it, 'some' + 'thing' and 'doubt' + 'fully' do not."""
    if primary_language(language) != "en":
        return False
    head, tail = _LAST_WORD.search(before), _FIRST_WORD.match(after)
    if head is None or tail is None:
        return False
    first, second = head.group().lower(), tail.group().lower()
    common = common_words()
    if first + second in common or first not in common or second not in common:
        return False
    return not known_word(first + second)
