"""Clean-up of PDFium's text: marked hyphens, ligatures, control and private-use characters."""

from __future__ import annotations

import re
import unicodedata

from ..hyphenation import keeps_line_end_hyphen

# PDFium marks a hyphen at a line break with U+FFFE (sometimes U+FFFD); a soft hyphen is one too.
HYPHEN_MARKS = "\ufffe\ufffd\u00ad"

_MARKED_HYPHEN = re.compile(rf"[{HYPHEN_MARKS}]\s*(?=[^\W\d_])")


def _keeps_hyphen(match: re.Match[str], language: str | None) -> bool:
    """A marked hyphen before a capital is a real one ("Anglo-Saxon"); a soft hyphen never is; else the words tell."""
    text = match.string
    if text[match.end()].isupper():
        return True
    return match.group()[0] != "\u00ad" and keeps_line_end_hyphen(text[: match.start()], text[match.end() :], language)


# Ligatures and the long s fold to letters; full-width ASCII and the no-break space fold by NFKC. Nothing
# else is NFKC-folded: that would turn superscripts, fractions and the like into other text.
_FOLD = {code: unicodedata.normalize("NFKC", chr(code)) for code in [*range(0xFB00, 0xFB07), *range(0xFF01, 0xFF5F), 0xA0]}
_FOLD[0x17F] = "s"
_FOLD.update({code: " " for code in (0x09, 0x0A, 0x0D)})
_FOLD.update({code: None for code in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xAD]})
# Format characters (zero-width, bidi marks), private-use glyphs and the non-characters PDFium leaves behind.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff\ue000-\uf8ff\ufff0-\uffff\U000f0000-\U0010ffff]")


def clean_text(text: str, language: str | None = None) -> str:
    """Join marked hyphenation, fold ligatures, drop control and private-use characters, tidy spaces.
    ``language`` (the book's) lets a compound's hyphen at a line break be told by its words."""
    text = _MARKED_HYPHEN.sub(lambda match: "-" if _keeps_hyphen(match, language) else "", text)
    text = _INVISIBLE.sub("", text.translate(_FOLD))
    return " ".join(text.split())

