"""Whether a PDF has a readable text layer: real words, not images or glyph codes."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import pypdfium2 as pdfium

from ..errors import BookError

# Phase 1 reads this many pages, spread over the book, to judge its text.
SAMPLE_PAGES = 24
# Fewer letters than this per sampled page means there is no real text layer.
MIN_LETTERS_PER_PAGE = 20


@dataclass
class TextQuality:
    """Counts that tell real words from glyph codes in extracted text."""

    visible: int = 0  # characters other than white space
    letters: int = 0
    unreadable: int = 0  # control, private-use, unassigned and replacement characters
    tokens: int = 0
    wordlike: int = 0  # tokens made of letters, like words in any alphabetic script
    long_latin: int = 0  # Latin-script words of four letters or more ...
    voweled: int = 0  # ... and those among them with a vowel (glyph soup mostly has none)

    def __add__(self, other: TextQuality) -> TextQuality:
        return TextQuality(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))

    @property
    def garbled(self) -> bool:
        """Whether this reads as glyph codes rather than words.

        Thresholds leave a wide margin: maths-heavy German lecture notes score
        0.3 % unreadable, 77 % letters and 40 % word-like tokens; a font without
        a Unicode map scores 100 % unreadable.
        """
        if not self.visible:
            return False
        if self.unreadable > 0.15 * self.visible or self.letters < 0.4 * self.visible:
            return True
        if self.tokens >= 20 and self.wordlike < 0.15 * self.tokens:
            return True
        return self.long_latin >= 20 and self.voweled < 0.6 * self.long_latin


_WORDLIKE = re.compile(r"[^\w]*[^\W\d_]{2,}(?:[-'’.][^\W\d_]+)*[^\w]*")
_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{4,}")
_VOWELS = set("aeiouyAEIOUY")


# Scripts written without spaces between words (Chinese, Japanese kana, Thai, Lao, Khmer, Myanmar): a
# whitespace token there is a whole phrase or line, with its punctuation inside, and still real text.
_UNSPACED = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _unspaced_words(token: str) -> bool:
    """A token of a script without spaces: mostly letters, several of them in such a script."""
    letters = sum(1 for char in token if unicodedata.category(char)[0] == "L")
    return len(_UNSPACED.findall(token)) >= 2 and letters >= 0.6 * len(token)


def text_quality(text: str) -> TextQuality:
    quality = TextQuality()
    for char in text:
        if char.isspace():
            continue
        quality.visible += 1
        category = unicodedata.category(char)
        if category[0] == "L":
            quality.letters += 1
        elif char == "\ufffd" or category in ("Cc", "Co", "Cn", "Cs"):
            quality.unreadable += 1
    for token in text.split():
        quality.tokens += 1
        if _WORDLIKE.fullmatch(token) or _unspaced_words(token):
            quality.wordlike += 1
        for word in _LATIN_WORD.findall(token):
            quality.long_latin += 1
            bare = unicodedata.normalize("NFD", word)  # é -> e + accent, so accented vowels count
            quality.voweled += any(char in _VOWELS for char in bare)
    return quality


def check_text(doc: pdfium.PdfDocument) -> list[str]:
    """Refuse a book without a readable text layer; return notes on partly unreadable pages."""
    count = len(doc)
    sample = (
        sorted({round(i * (count - 1) / (SAMPLE_PAGES - 1)) for i in range(SAMPLE_PAGES)})
        if count > SAMPLE_PAGES
        else list(range(count))
    )
    verdict, bad_pages = _judge(doc, sample)
    if verdict and len(sample) < count:
        # A refusal must be sure: read every page before refusing a whole book.
        sample = list(range(count))
        verdict, bad_pages = _judge(doc, sample)
    if verdict == "no_text_layer":
        raise BookError(
            "no_text_layer",
            "has no text layer (its pages are images, e.g. a scan)",
            "run OCR on it first, e.g. `ocrmypdf in.pdf out.pdf`, and use the result",
        )
    if verdict == "garbled_text":
        raise BookError(
            "garbled_text",
            "has text that extracts as glyph codes instead of words (fonts without a Unicode map)",
            "re-export the PDF with embedded Unicode fonts, or OCR it, e.g. `ocrmypdf --force-ocr in.pdf out.pdf`",
        )
    if bad_pages:
        return [f"{bad_pages} of {len(sample)} sampled pages have text that extracts as glyph codes"]
    return []


def _judge(doc: pdfium.PdfDocument, indices: list[int]) -> tuple[str | None, int]:
    total = TextQuality()
    bad_pages = 0
    for index in indices:
        quality = text_quality(_page_text(doc, index))
        total = total + quality
        if quality.visible >= 50 and quality.unreadable > 0.15 * quality.visible:
            bad_pages += 1
    if total.visible == 0:
        return "no_text_layer", bad_pages
    if total.garbled:
        return "garbled_text", bad_pages
    if total.letters < MIN_LETTERS_PER_PAGE * len(indices):
        return "no_text_layer", bad_pages
    return None, bad_pages


def _page_text(doc: pdfium.PdfDocument, index: int) -> str:
    """The text of one page, or "" for a page PDFium cannot load."""
    try:
        page = doc[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return ""
    text = textpage.get_text_range()
    textpage.close()
    page.close()
    return text

