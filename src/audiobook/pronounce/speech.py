"""A sentence as the voice is given it: lexicon words and heteronyms as ``[[ phonemes ]]``.

When a clause has a word to change, the whole clause goes to the voice as
phonemes: Piper phonemises the text around a ``[[ ]]`` block as separate
utterances, which stresses a clause-final "a" as the letter ("Wait A [[minute]]")
and drops a comma's pause after the block. So the clause is phonemised whole
by the voice's own phonemizer with a stand-in word, and the stand-in's phonemes
are swapped for the word's. Other clauses stay text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from . import heteronyms
from .espeak import WORD
from .lexicon import Lexicon
# A made-up word the phonemizer says one way ("zˈʌmvæks") and no book is likely to hold.
STAND_IN = "zumvax"
_CLAUSE_END = re.compile(r"[,;:.!?]+[\"'”’)\]]*(?=\s)")


def plain(text: str) -> str:
    """Book text as the voice may read it: Piper reads "[[ ... ]]" as raw phonemes, and a book must never steer it."""
    return text.replace("[[", "[").replace("]]", "]")


@dataclass
class Pronouncer:
    """What decides how words are said for one book: its lexicons, and heteronyms for an English book."""

    lexicon: Lexicon = field(default_factory=Lexicon)
    english: bool = True
    phonemizer: Any = None  # a Piper voice (its phonemize()); without one, words become inline blocks
    # What was changed, for the record: word (lower-cased) -> times (a heteronym only where its sense
    # is not the one the voice would say anyway).
    lexicon_uses: dict[str, int] = field(default_factory=dict)
    heteronym_uses: dict[str, int] = field(default_factory=dict)
    _stand_in: re.Pattern[str] | None = None
    _defaults: dict[str, str] = field(default_factory=dict)

    def changes(self, sentence: str) -> list[tuple[int, int, str]]:
        """(start, end, phonemes) of each word of ``sentence`` the lexicon or the heteronym table settles."""
        spans: list[tuple[int, int, str]] = []
        if self.lexicon:
            for match in WORD.finditer(sentence):
                entry = self.lexicon.lookup(match.group())
                if entry is not None:
                    spans.append((match.start(), match.end(), entry.phonemes))
                    _count(self.lexicon_uses, match.group())
        if self.english:
            taken = {start for start, _, _ in spans}
            for start, end, said in heteronyms.choices(sentence):
                # The sense espeak-ng gives the word anyway needs no phonemes: the chunk stays as it was.
                if start not in taken and said != self._default(sentence[start:end]):
                    spans.append((start, end, said))
                    _count(self.heteronym_uses, sentence[start:end])
        return sorted(spans)

    def _default(self, word: str) -> str | None:
        """How the voice says ``word`` on its own (its usual sense), or None without a phonemizer."""
        if self.phonemizer is None:
            return None
        if word not in self._defaults:  # as written: espeak-ng says "Polish" and "polish" differently
            said = "".join(symbol for part in self.phonemizer.phonemize(word) for symbol in part)
            self._defaults[word] = unicodedata.normalize("NFC", said).strip(" .,;:!?")
        return self._defaults[word]

    def voice_text(self, sentence: str) -> str:
        """``sentence`` as the voice is given it: plain text, or phonemes when a word of it is settled here."""
        spans = self.changes(sentence)
        if not spans:
            return plain(sentence)
        whole = self._whole_clauses(sentence, spans)
        if whole is not None:
            return whole
        pieces, position = [], 0
        for start, end, said in spans:
            pieces += [plain(sentence[position:start]), f"[[{said}]]"]
            position = end
        pieces.append(plain(sentence[position:]))
        return "".join(pieces)

    def _whole_clauses(self, sentence: str, spans: list[tuple[int, int, str]]) -> str | None:
        """Each clause holding a settled word phonemised whole, the word's phonemes in its place; the other
        clauses stay text (espeak-ng reads clause by clause anyway). None without a phonemizer."""
        if self.phonemizer is None:
            return None
        pieces: list[str] = []
        for start, end in _clauses(sentence):
            inside = [(a - start, b - start, said) for a, b, said in spans if start <= a < end]
            if not inside:
                pieces.append(plain(sentence[start:end]))
                continue
            block = self._phonemised(sentence[start:end], inside)
            if block is None:
                return None
            pieces.append(block)
        # A text clause ends in its mark, which the phonemizer follows with a space itself: none before a
        # block; and two blocks in a row are one (Piper would put two spaces between them).
        out = pieces[0]
        for previous, piece in zip(pieces, pieces[1:]):
            if previous.startswith("[[") and piece.startswith("[["):
                out = out[:-2] + " " + piece[2:]
            else:
                out += ("" if piece.startswith("[[") else " ") + piece
        return out

    def _phonemised(self, clause: str, spans: list[tuple[int, int, str]]) -> str | None:
        """One clause as a ``[[ ]]`` block of the voice's phonemes, each span's phonemes in its place."""
        if self._stand_in is None:
            alone = "".join(self.phonemizer.phonemize(STAND_IN)[0]).strip(".,;:!? ")
            bare = [symbol for symbol in alone if symbol not in "ˈˌ"]
            self._stand_in = re.compile("[ˈˌ]*".join(re.escape(symbol) for symbol in bare))
        pieces, position = [], 0
        for start, end, _ in spans:
            pieces += [plain(clause[position:start]), STAND_IN]
            position = end
        pieces.append(plain(clause[position:]))
        said = " ".join("".join(part) for part in self.phonemizer.phonemize("".join(pieces))).strip()
        found = list(self._stand_in.finditer(said))
        if len(found) != len(spans):  # the book holds the stand-in itself: fall back to inline blocks
            return None
        out, position = [], 0
        for match, (_, _, phonemes) in zip(found, spans, strict=True):
            out += [said[position : match.start()], unicodedata.normalize("NFD", phonemes)]
            position = match.end()
        out.append(said[position:])
        return "[[" + "".join(out).replace("]", "") + "]]"


def _clauses(sentence: str) -> list[tuple[int, int]]:
    """[start, end) of each clause: up to and including a , ; : or . ! ? followed by a space."""
    bounds, start = [], 0
    for mark in _CLAUSE_END.finditer(sentence):
        bounds.append((start, mark.end()))
        start = mark.end() + 1  # the space after the mark is the joint

    if start < len(sentence):
        bounds.append((start, len(sentence)))
    return bounds


def _count(tally: dict[str, int], word: str) -> None:
    tally[word.lower()] = tally.get(word.lower(), 0) + 1
