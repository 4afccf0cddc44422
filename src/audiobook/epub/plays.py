"""Plays: speaker labels spoken as labels, stage directions set off from the speech.

A listener cannot see that "Lane" is a name in a column beside "Yes, sir.",
so a label is read as a sentence of its own ("Lane. Yes, sir.") and a stage
direction gets its own paragraph, closed with a full stop, so phase 3 pauses
before and after it and it never runs into the speech. Three markups are met:

- Standard Ebooks: a table row per speech, ``<td epub:type="z3998:persona">``
  beside the speech cell, directions as ``<i epub:type="z3998:stage-direction">``;
- Feedbooks: ``<p><strong>CAPULET</strong></p>`` followed by the speech in a
  ``<blockquote>``;
- a span or paragraph of class "speaker" (or "persona"), and directions of
  class "stage-direction".
"""

from __future__ import annotations

import re

from lxml import etree

from .markup import class_names, epub_types, local, one_line

PERSONA_TYPES = {"z3998:persona"}
# Only names no prose uses: a "character" class marks names inside ordinary sentences too.
PERSONA_CLASSES = {"persona", "speaker", "speaker-name", "speech-speaker"}
DIRECTION_TYPES = {"z3998:stage-direction"}
DIRECTION_CLASSES = {"stage-direction", "stagedirection", "stage-dir", "stagedir"}
LABEL_MAX_WORDS = 5
LABEL_MAX_CHARS = 40
LABEL_TAGS = {"strong", "b"}
ITALIC_TAGS = {"em", "i"}
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
UPPER_START = re.compile(r"[\"'“‘(\[]*[A-Z0-9]")


def is_persona(node: etree._Element) -> bool:
    return bool(epub_types(node) & PERSONA_TYPES or class_names(node) & PERSONA_CLASSES)


def is_direction(node: etree._Element) -> bool:
    return bool(epub_types(node) & DIRECTION_TYPES or class_names(node) & DIRECTION_CLASSES)


def is_direction_paragraph(node: etree._Element) -> bool:
    """In a play, a paragraph that is all italics ("<p><em>Exeunt CAPULET and PARIS</em></p>") is a direction."""
    if local(node) != "p" or (node.text or "").strip():
        return False
    inner = [child for child in node if isinstance(child.tag, str)]
    return len(inner) == 1 and local(inner[0]) in ITALIC_TAGS and not (inner[0].tail or "").strip()


def is_speech_row(row: etree._Element) -> bool:
    """A table row that holds a speaker's cell (Standard Ebooks' play tables)."""
    return local(row) == "tr" and any(is_persona(cell) for cell in row)


def is_label_paragraph(node: etree._Element) -> bool:
    """Feedbooks' speaker label: a paragraph that is only a short bold name, with the speech in the next blockquote."""
    if local(node) != "p":
        return False
    inner = [child for child in node if isinstance(child.tag, str)]
    if len(inner) != 1 or local(inner[0]) not in LABEL_TAGS:
        return False
    if (node.text or "").strip() or (inner[0].tail or "").strip() or len(inner[0]):
        return False
    text = one_line(inner[0])
    if not text or len(text) > LABEL_MAX_CHARS or len(text.split()) > LABEL_MAX_WORDS:
        return False
    following = node.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    return following is not None and local(following) == "blockquote"


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


def starts_sentence(text: str) -> bool:
    """Whether phase 3 would start a sentence at this text after ". " (it needs a capital or digit)."""
    return bool(UPPER_START.match(text))
