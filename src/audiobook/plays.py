"""How a play is spoken, whichever reader found its labels and directions (PDF or EPUB).

A listener cannot see that "Lane" is a name in a column beside "Yes, sir.", so
a speaker label is said as a sentence of its own ("Lane. Yes, sir."), and a
stage direction is closed with a full stop so the speech after it starts a new
sentence (phase 3 pauses between sentences and paragraphs).
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def spoken_label(text: str) -> str:
    """ "CAPULET" -> "Capulet.", "Lady Bracknell:" -> "Lady Bracknell.": a name said as a sentence."""
    name = " ".join(text.split()).rstrip(".:;,—– ")
    if name.isupper():
        name = name.title()
    return f"{name}." if name else ""


def closed(text: str) -> str:
    """A stage direction ending in a full stop, so the speech after it starts a new sentence."""
    text = text.rstrip()
    if not text or SENTENCE_END.search(text):
        return text
    return text.rstrip(",;:—– ") + "."
