"""Try how a text will be said: the phonemes a book's voice is given, or the sound itself."""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

import numpy as np

from ..chunk import split_sentences
from ..normalize import normalize_text
from ..settings import EngineSettings
from .espeak import STRESS_MARKS
from .speech import Pronouncer, plain

if TYPE_CHECKING:
    from piper import PiperVoice

def voice_sentences(text: str, pronouncer: Pronouncer | None) -> list[str]:
    """``text`` as phase 3 hands it to the voice: normalised, in sentences, each in its voice form."""
    sentences = split_sentences(normalize_text(text))
    return [pronouncer.voice_text(sentence) if pronouncer else plain(sentence) for sentence in sentences]


def sentence_phonemes(piper_voice: PiperVoice, sentence: str) -> str:
    """One voice-form sentence as the phonemes Piper gives its model (its own clauses joined)."""
    return unicodedata.normalize("NFC", " ".join("".join(part) for part in piper_voice.phonemize(sentence)))


def word_phonemes(phonemes: str) -> list[str]:
    """The words of a phoneme string, without stress marks and punctuation, to compare senses."""
    bare = phonemes.translate({ord(mark): None for mark in STRESS_MARKS})
    return [word.strip(".,;:!?\"'()—-") for word in bare.split()]


def synthesize_text(piper_voice: PiperVoice, sentences: list[str], settings: EngineSettings) -> np.ndarray:
    """The sentences as phase 4 would speak them, int16 samples."""
    from ..speak import synthesize_sentences

    return synthesize_sentences(piper_voice, sentences, settings)[0]

