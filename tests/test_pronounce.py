"""How words are said: heteronyms by context, lexicons, words to check, and the audition."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiobook.pronounce.audition import sentence_phonemes, voice_sentences, word_phonemes
from audiobook.pronounce.book import pronouncer_for
from audiobook.pronounce.espeak import phonemizing_voice
from audiobook.settings import EngineSettings
from audiobook.voices import read_voice_config, voice_for

HETERONYM_SET = Path(__file__).parent / "data" / "heteronyms.tsv"


def heteronym_rows() -> list[tuple[str, str, str]]:
    lines = HETERONYM_SET.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


@pytest.fixture(scope="module")
def piper_phonemes():
    return phonemizing_voice(read_voice_config(voice_for("en", EngineSettings()).config_path))


def said_right(pronouncer, piper_voice, expected: str, sentence: str) -> bool:
    said = sentence_phonemes(piper_voice, " ".join(voice_sentences(sentence, pronouncer)))
    return word_phonemes(expected)[0] in word_phonemes(said)


def test_heteronym_set_covers_both_senses_of_every_word() -> None:
    rows = heteronym_rows()
    senses: dict[str, set[str]] = {}
    for word, phonemes, _ in rows:
        senses.setdefault(word, set()).add(phonemes)
    assert len(rows) >= 60
    assert len(senses) >= 25 and all(len(found) == 2 for found in senses.values()), senses


def test_heteronyms_are_said_in_their_sense_at_least_95_percent(piper_phonemes) -> None:
    pronouncer = pronouncer_for(EngineSettings(), "en", None)
    rows = heteronym_rows()
    today = sum(said_right(None, piper_phonemes, expected, sentence) for _, expected, sentence in rows)
    wrong = [sentence for _, expected, sentence in rows if not said_right(pronouncer, piper_phonemes, expected, sentence)]
    assert 1 - len(wrong) / len(rows) >= 0.95, wrong
    assert today < len(rows) - len(wrong)  # espeak-ng alone gets fewer right: the set tests something
