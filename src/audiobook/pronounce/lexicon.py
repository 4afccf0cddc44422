"""Pronunciation lexicons: a batch-wide file and a per-book file, word -> how to say it.

One entry a line, UTF-8: the word, a tab, and how to say it -- a respelling
("Her-MY-oh-nee") or phonemes in ``[[ ... ]]``. Further tab-separated columns
are notes; a line whose second column is empty is a word not yet decided (so
a words-to-check list can be dropped in as it is). A word matches whole words,
case-insensitively; ``=Word`` matches only that case; ``/pattern/`` is a
regular expression a whole word must match. ``#`` starts a comment line.

A file with one bad line is refused whole, with ``file:line: what is wrong``:
nothing is half-applied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .espeak import WORD, is_respelling, respelling_phonemes

# A book's own lexicon sits beside it in input/: "<book file name>.lexicon.tsv".
BOOK_LEXICON_SUFFIX = ".lexicon.tsv"
_PHONEME_BLOCK = re.compile(r"\[\[(.*)\]\]")


class LexiconError(ValueError):
    """One bad line of a lexicon file: ``line`` is "file:line: what is wrong; what to do"."""

    def __init__(self, path: Path | str, number: int, problem: str) -> None:
        self.line = f"{path}:{number}: {problem}" if number else f"{path}: {problem}"
        super().__init__(self.line)


@dataclass(frozen=True)
class Entry:
    """One lexicon line, with its pronunciation already as the voice's phonemes."""

    word: str  # as written, without its mark
    phonemes: str
    kind: str  # "word" (any case), "exact" (=Word) or "pattern" (/regex/)
    pattern: re.Pattern[str] | None = None


@dataclass
class Lexicon:
    """The entries of one or more files; a later file's entries win over an earlier one's."""

    words: dict[str, Entry] = field(default_factory=dict)  # lower-cased word -> entry
    exact: dict[str, Entry] = field(default_factory=dict)
    patterns: list[Entry] = field(default_factory=list)  # the later file's first
    files: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.words or self.exact or self.patterns)

    def lookup(self, word: str) -> Entry | None:
        """The entry that says how to say ``word``: case-sensitive first, then any case, then patterns."""
        found = self.exact.get(word) or self.words.get(word.lower())
        if found is not None:
            return found
        return next((entry for entry in self.patterns if entry.pattern and entry.pattern.fullmatch(word)), None)

    def add(self, entries: Iterable[Entry]) -> None:
        patterns = []
        for entry in entries:
            if entry.kind == "pattern":
                patterns.append(entry)
            elif entry.kind == "exact":
                self.exact[entry.word] = entry
            else:
                self.words[entry.word.lower()] = entry
        self.patterns[:0] = patterns


def read_lexicon(path: Path, espeak_voice: str, phoneme_symbols: frozenset[str] | None) -> list[Entry]:
    """Every entry of one file; raises ``LexiconError`` at its first bad line (or when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise LexiconError(path, 0, f"cannot be read ({error.strerror}); check the path in engine.lexicon") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        number = data[: error.start].count(b"\n") + 1
        raise LexiconError(path, number, "is not UTF-8 text; save the file as UTF-8") from None
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        entry = parse_line(raw, path, number, espeak_voice, phoneme_symbols)
        if entry is None:
            continue
        identity = (entry.kind, entry.word.lower() if entry.kind == "word" else entry.word)
        if identity in seen:
            raise LexiconError(path, number, f"{entry.word!r} is already given on line {seen[identity]}; keep one")
        seen[identity] = number
        entries.append(entry)
    return entries


def parse_line(
    raw: str, path: Path, number: int, espeak_voice: str, phoneme_symbols: frozenset[str] | None
) -> Entry | None:
    """One line as an entry; None for a blank line, a comment or a word with nothing said for it yet."""
    line = unicodedata.normalize("NFC", raw.rstrip("\r\n"))
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    columns = line.split("\t")
    if len(columns) < 2:
        raise LexiconError(path, number, "no tab between the word and how to say it; separate them with one tab")
    word, said = columns[0].strip(), columns[1].strip()
    if not said:
        return None
    kind, pattern = "word", None
    if len(word) > 2 and word.startswith("/") and word.endswith("/"):
        kind, word = "pattern", word[1:-1]
        try:
            pattern = re.compile(word)
        except re.error as error:
            raise LexiconError(path, number, f"/{word}/ is not a regular expression ({error})") from None
    elif word.startswith("="):
        kind, word = "exact", word[1:]
    if kind != "pattern" and not WORD.fullmatch(word):
        raise LexiconError(
            path, number, f"{columns[0]!r} is not one word (letters and apostrophes); write one word or a /pattern/"
        )
    return Entry(word, _phonemes(said, path, number, espeak_voice, phoneme_symbols), kind, pattern)


def _phonemes(said: str, path: Path, number: int, espeak_voice: str, phoneme_symbols: frozenset[str] | None) -> str:
    block = _PHONEME_BLOCK.fullmatch(said)
    if block:
        phonemes = block.group(1).strip()
        unknown = sorted({symbol for symbol in phonemes if symbol != " "} - phoneme_symbols) if phoneme_symbols else []
        if not phonemes or "[" in phonemes or "]" in phonemes:
            raise LexiconError(path, number, f"{said!r} holds no phonemes; write them as [[ phonemes ]]")
        if unknown:
            raise LexiconError(
                path,
                number,
                f"{''.join(unknown)!r} in {said!r} is not a phoneme the voice knows; "
                "copy phonemes from `batch-audiobook say --phonemes`",
            )
        return phonemes
    if "[" in said or "]" in said:
        raise LexiconError(path, number, f"{said!r} has unbalanced brackets; write phonemes as [[ phonemes ]]")
    if not is_respelling(said):
        raise LexiconError(
            path, number, f"{said!r} is neither a respelling (letters and hyphens) nor [[ phonemes ]]"
        )
    return respelling_phonemes(said, espeak_voice)


def book_lexicon_path(book: Path) -> Path:
    """Where a book's own lexicon is looked for: beside it, named after the whole file name."""
    return book.with_name(book.name + BOOK_LEXICON_SUFFIX)


def load_lexicons(
    paths: Iterable[Path], espeak_voice: str, phoneme_symbols: frozenset[str] | None
) -> Lexicon:
    """The files in order, each later one overriding the earlier; all of them read before any is used."""
    lexicon = Lexicon()
    for path in paths:
        lexicon.add(read_lexicon(path, espeak_voice, phoneme_symbols))
        lexicon.files.append(str(path))
    return lexicon
