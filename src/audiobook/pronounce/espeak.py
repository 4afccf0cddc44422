"""Phonemes as the voice's own espeak-ng makes them (the phonemizer Piper itself uses).

A respelling such as "Her-MY-oh-nee" becomes phonemes syllable by syllable,
with the stress on the syllable written in capitals, so a user who does not
read IPA can still say where the stress goes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

STRESS_MARKS = "ˈˌ"
# The letters an espeak-ng vowel starts with: its stress mark goes just before it, as espeak-ng writes it.
_VOWEL_START = re.compile("[aeiouyæɑɐɒɔəɚɛɜɝɪʊʌᵻ]")
# A word as sentences are cut into words: letters, with apostrophes inside ("O'Brien").
WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


@lru_cache(maxsize=1)
def _phonemizer():  # type: ignore[no-untyped-def]
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


def phonemes(text: str, espeak_voice: str) -> str:
    """``text`` as espeak-ng phonemes for ``espeak_voice`` (e.g. "en-us"), sentences joined by spaces."""
    sentences = _phonemizer().phonemize(espeak_voice, text)
    said = " ".join("".join(sentence) for sentence in sentences)
    return unicodedata.normalize("NFC", said).strip(" .,;:!?")


def respelling_phonemes(respelling: str, espeak_voice: str) -> str:
    """A respelling as phonemes: hyphens part syllables, a syllable in capitals carries the stress.

    Without a capitalised syllable (or without hyphens) espeak-ng places the stress itself.
    """
    words = respelling.split()
    said = []
    for word in words:
        syllables = [part for part in word.split("-") if part]
        stressed = [part for part in syllables if part.isupper() and len(syllables) > 1]
        if len(syllables) < 2 or len(stressed) != 1:
            said.append(phonemes(word.replace("-", ""), espeak_voice))
            continue
        pieces = []
        for part in syllables:
            bare = phonemes(part.lower(), espeak_voice).translate({ord(mark): None for mark in STRESS_MARKS})
            vowel = _VOWEL_START.search(bare) if part is stressed[0] else None
            pieces.append(bare[: vowel.start()] + "ˈ" + bare[vowel.start() :] if vowel else bare)
        said.append("".join(pieces))
    return " ".join(said)


def is_respelling(text: str) -> bool:
    """Letters, apostrophes, hyphens and spaces only: something espeak-ng can read as words."""
    return bool(text.strip()) and all(WORD.fullmatch(part) for part in re.split(r"[-\s]+", text.strip()) if part)


def phonemizing_voice(config: dict):  # type: ignore[no-untyped-def,type-arg]
    """A Piper voice without its model, from its config: Piper's own phonemizer, nothing to synthesise with."""
    from piper import PiperVoice
    from piper.config import PiperConfig

    return PiperVoice(config=PiperConfig.from_dict(config), session=None)  # type: ignore[arg-type]
