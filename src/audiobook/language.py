"""The language a book is written in, from its text (phase 1).

Books often declare no language (most PDFs) or the wrong one (an EPUB made
from a template says "en" whatever it holds). The voice must match the text,
so phase 1 detects the language of a sample of the body with lingua (offline,
statistical n-gram models shipped in its wheel) and decides which language
the book is read in:

- no declaration: the detected language;
- a declaration the text contradicts (confidently): the detected language;
- otherwise: the declaration (it may carry a region, "en-GB").

A sample too short or too mixed to judge leaves the declaration as it is.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .voices import primary_language

if TYPE_CHECKING:  # lingua is imported only when there is text to judge
    from lingua import LanguageDetector

# Letters needed before a guess means anything: about two sentences.
MIN_LETTERS = 60
# Characters judged: enough for a clear verdict on real prose, little enough to stay cheap (lingua's
# time grows with the text; 4,000 characters take a few hundredths of a second once its models are loaded).
SAMPLE_CHARS = 4000
# Below this share for the best language the text is mixed or unclear: keep what the book declares.
MIN_CONFIDENCE = 0.6
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class LanguageVerdict:
    """What phase 1 decided about a book's language, and from what."""

    language: str | None  # the tag the book is read in ("en-GB", "de"); None: unknown
    declared: str | None  # as the book's metadata says
    detected: str | None  # ISO 639-1 code from the text; None when the text was too short or unclear
    confidence: float | None  # the detector's share for ``detected``


@functools.cache
def _detector() -> LanguageDetector:
    from lingua import LanguageDetectorBuilder

    # Low-accuracy mode uses trigram models only: a tenth of the memory and load time of the full
    # models, and as exact on a few thousand characters of prose (it is weak only on single sentences).
    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_language(text: str) -> tuple[str, float] | None:
    """The ISO 639-1 code of the text's language and the detector's confidence, or None if it cannot tell."""
    sample = " ".join(text.split())[:SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < MIN_LETTERS:
        return None
    values = _detector().compute_language_confidence_values(sample)
    if not values:
        return None
    best = values[0]
    if best.value < MIN_CONFIDENCE:
        return None
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def decide_language(declared: str | None, sample: str) -> LanguageVerdict:
    """The language a book is read in, from its declaration and a sample of its text."""
    found = detect_language(sample)
    detected, confidence = found if found else (None, None)
    language = declared
    if detected is not None and primary_language(declared) != detected:
        language = detected
    return LanguageVerdict(language=language, declared=declared, detected=detected, confidence=confidence)
