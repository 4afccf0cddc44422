"""Phase 3: chapters of text -> normalised sentences -> chunks sized for the voice.

Each chapter opens with a chunk announcing its title, then its paragraphs,
each normalised for speech (normalize.py), split into sentences, and packed
into chunks of at most ``settings.chunk_max_chars``. A chunk never spans a
paragraph break, so phase 4 can put the paragraph pause exactly where the
book has one, and never spans a chapter. The result is deterministic: phase 4
caches audio by chunk text.
"""

from __future__ import annotations

import errno
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BookError, disk_full_error
from .fileio import atomic_writer
from .model import Chapter, Chunk, ExtractedBook, PhaseContext, from_dict, to_dict
from .normalize import SENTENCE_STARTERS, clean_characters, normalize_heading, normalize_text, numbering_words
from .pronounce.speech import Pronouncer
from .settings import EngineSettings

# Below this a chapter title or an ordinary clause no longer fits in one chunk.
MIN_CHUNK_CHARS = 80

# A sentence ends at . ! ? or an ellipsis, after any closing quotes or
# brackets, where the next one starts with a capital (so '"Stop!" he said.'
# stays one sentence).
_SENTENCE_END = re.compile(r"(?P<stop>\.\.\.|[.!?]+)(?P<close>[\"')\]]*)\s+(?=[\"'(\[]*[A-Z0-9])")
_LAST_TOKEN = re.compile(r"(\S+)$")
_NEXT_WORD = re.compile(r"\s*[\"'(\[]*([\w']+)")
# What normalize.py leaves with a period that is not a full stop: initials
# ("A. Milne"), dotted acronyms ("U.S.", "M.D."), and a few rare abbreviations.
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]|[A-HJ-Z]")
# ("no." is left out: "He said no. Mary left." ends a sentence; "No. 5" is already "number five".)
_UNEXPANDED_ABBREVIATIONS = frozenset({"ed", "eds", "al", "ibid", "op", "cit", "mss", "vol", "pp", "ca"})
# Where a long sentence may be cut: after a clause mark or an ellipsis.
_CLAUSE_BREAK = re.compile(r"(?:[,;:]|\.\.\.)(?=\s)")
# Where a printed sentence may end: after . ! ? or an ellipsis and any closing quotes or brackets.
_PRINTED_END = re.compile(r"(?:[.!?\u2026]+)[\"'\u201d\u2019)\]]*(?=\s)")


@dataclass
class _Tally:
    """Counts for the record, gathered while chunking."""

    sentences: int = 0
    paragraphs: int = 0
    dropped_paragraphs: int = 0
    repeated_headings: int = 0


def split_sentences(text: str) -> list[str]:
    """Normalised text -> sentences, not splitting at initials, acronyms or mid-sentence quotes."""
    sentences = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group("stop") == "." and not _is_full_stop(text, match):
            continue
        end = match.end("close")
        sentence = text[start:end].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_full_stop(text: str, match: re.Match[str]) -> bool:
    token = _LAST_TOKEN.search(text, 0, match.start())
    word = token.group(1).lstrip("\"'([") if token else ""
    if not (_DOTTED.fullmatch(word) or word.lower() in _UNEXPANDED_ABBREVIATIONS):
        return True
    following = _NEXT_WORD.match(text, match.end("close"))
    return bool(following) and following.group(1) in SENTENCE_STARTERS


def split_long_sentence(sentence: str, max_chars: int) -> list[str]:
    """Cut a sentence longer than ``max_chars`` at its last clause mark before the limit, else at a space."""
    pieces = []
    rest = sentence.strip()
    while len(rest) > max_chars:
        window = rest[: max_chars + 1]
        cut = 0
        for mark in _CLAUSE_BREAK.finditer(window, max_chars // 4):
            if mark.end() <= max_chars:
                cut = mark.end()
        if not cut:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = max_chars  # one unbroken run of letters: nothing better exists
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def pack_sentences(sentences: list[str], max_chars: int) -> list[str]:
    """Whole sentences, greedily, into pieces of at most ``max_chars``."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        for part in split_long_sentence(sentence, max_chars):
            if current and len(current) + 1 + len(part) <= max_chars:
                current = f"{current} {part}"
            else:
                if current:
                    pieces.append(current)
                current = part
    if current:
        pieces.append(current)
    return pieces


def split_printed(text: str, weights: list[int]) -> list[str]:
    """Cut printed text at spaces into len(weights) pieces of about those relative sizes."""
    text = " ".join(text.split())
    if len(weights) <= 1:
        return [text]
    total = sum(max(1, w) for w in weights)
    pieces, start, seen = [], 0, 0
    for weight in weights[:-1]:
        seen += max(1, weight)
        target = round(len(text) * seen / total)
        cut = text.rfind(" ", start, max(start, target) + 1)
        cut = cut if cut > start else text.find(" ", max(start, target))
        cut = cut if cut > start else len(text)
        pieces.append(text[start:cut].strip())
        start = cut
    pieces.append(text[start:].strip())
    return pieces


def printed_sentences(paragraph: str, spoken: list[str]) -> list[str]:
    """The book's own text of each spoken sentence of ``paragraph`` (for subtitles and read-along).

    When normalising changed no letter or digit, the sentences are cut by
    counting them. Otherwise a printed sentence ends where normalising the
    text since the last end gives exactly the next spoken sentence(s);
    sentences no boundary can be found for share the printed text by length.
    """
    printed = " ".join(clean_characters(paragraph).split())
    if len(spoken) <= 1:
        return [printed] * len(spoken)
    keys = [_key(sentence) for sentence in spoken]
    if _key(printed) == "".join(keys):
        return _cut_by_letters(printed, [len(key) for key in keys])
    result: list[str] = []
    start = 0
    for match in _PRINTED_END.finditer(printed):
        if len(result) >= len(spoken) - 1:
            break
        piece = _key(normalize_text(printed[start : match.end()]))
        running, last = "", None
        for number in range(len(result), len(spoken) - 1):
            running += keys[number]
            if len(running) > len(piece):
                break
            if running == piece:
                last = number
                break
        if last is None:
            continue
        group = spoken[len(result) : last + 1]
        result += split_printed(printed[start : match.end()], [len(s) for s in group])
        start = match.end()
    rest = spoken[len(result) :]
    if rest:
        result += split_printed(printed[start:], [len(s) for s in rest])
    return result


def _cut_by_letters(printed: str, counts: list[int]) -> list[str]:
    """Cut ``printed`` after each count of letters and digits, at the next space."""
    pieces, start, position = [], 0, 0
    for count in counts[:-1]:
        seen = 0
        while position < len(printed) and seen < count:
            seen += printed[position].isalnum() and bool(_key(printed[position]))
            position += 1
        while position < len(printed) and not printed[position].isspace():
            position += 1
        pieces.append(printed[start:position].strip())
        start = position
    pieces.append(printed[start:].strip())
    return pieces


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _without_repeated_heading(paragraphs: list[str], announcement: str, numbering: frozenset[str]) -> list[str]:
    """Drop the first paragraphs when they only repeat the title ("CHAPTER IV", "THE RETURN")."""
    title_key = _key(announcement)
    skipped = 0
    while skipped < min(2, len(paragraphs)) and title_key:
        paragraph = paragraphs[skipped]
        key = _key(normalize_heading(paragraph, numbering)) if len(paragraph) <= 120 else ""
        if not key or not (title_key.startswith(key) or title_key.endswith(key)):
            break
        skipped += 1
    return paragraphs[skipped:]


def _sentence_parts(spoken: str, printed: str, max_chars: int, heading: bool = False) -> list[dict[str, Any]]:
    """One sentence as the parts the voice gets (a long one is cut), each with its printed text."""
    parts = split_long_sentence(spoken, max_chars)
    printed_parts = split_printed(printed, [len(part) for part in parts])
    found = [{"spoken": part, "printed": text or part} for part, text in zip(parts, printed_parts, strict=True)]
    if heading:
        for entry in found:
            entry["heading"] = True
    return found


def pack_sentence_parts(parts: list[dict[str, Any]], max_chars: int) -> list[list[dict[str, Any]]]:
    """Sentence parts, greedily, into groups whose spoken text (joined by spaces) fits ``max_chars``."""
    groups: list[list[dict[str, Any]]] = []
    length = 0
    for part in parts:
        size = len(part["spoken"])
        if groups and length + 1 + size <= max_chars:
            groups[-1].append(part)
            length += 1 + size
        else:
            groups.append([part])
            length = size
    return groups


def _chapter_pieces(
    chapter: Chapter, max_chars: int, tally: _Tally, numbering: frozenset[str] = frozenset()
) -> list[tuple[str, bool, list[dict[str, Any]]]]:
    """(text, ends a paragraph, its sentences) for one chapter: the announced title, then its paragraphs."""
    pieces: list[tuple[str, bool, list[dict[str, Any]]]] = []
    announcement = normalize_heading(chapter.title, numbering)
    if announcement:
        tally.sentences += len(split_sentences(announcement))
        title_parts = _sentence_parts(announcement, clean_characters(chapter.title), max_chars, heading=True)
        pieces += [
            (part["spoken"], position == len(title_parts) - 1, [part]) for position, part in enumerate(title_parts)
        ]
    paragraphs = _without_repeated_heading(chapter.paragraphs, announcement, numbering)
    tally.repeated_headings += len(chapter.paragraphs) - len(paragraphs)
    for paragraph in paragraphs:
        spoken = normalize_text(paragraph)
        if not spoken:
            tally.dropped_paragraphs += 1
            continue
        tally.paragraphs += 1
        sentences = split_sentences(spoken)
        tally.sentences += len(sentences)
        parts = [
            part
            for sentence, printed in zip(sentences, printed_sentences(paragraph, sentences), strict=True)
            for part in _sentence_parts(sentence, printed, max_chars)
        ]
        groups = pack_sentence_parts(parts, max_chars)
        pieces += [
            (" ".join(part["spoken"] for part in group), position == len(groups) - 1, group)
            for position, group in enumerate(groups)
        ]
    return pieces


def chunk_book(
    ctx: PhaseContext, book: ExtractedBook, settings: EngineSettings, pronouncer: Pronouncer | None = None
) -> list[Chunk]:
    """Phase 3 entry point: every chapter of ``book`` as speakable chunks, in reading order.

    With a ``pronouncer``, a sentence whose words it settles also gets a "voice"
    form (phonemes for those words) beside its spoken and printed forms.
    """
    max_chars = settings.chunk_max_chars
    if max_chars < MIN_CHUNK_CHARS:
        raise BookError(
            "failed",
            f"engine setting chunk_max_chars is {max_chars}, too small for a sentence",
            f"set chunk_max_chars to at least {MIN_CHUNK_CHARS} (the default is 500)",
        )
    tally = _Tally()
    chunks: list[Chunk] = []
    numbering = numbering_words(chapter.title for chapter in book.chapters)
    for chapter in book.chapters:
        pieces = _chapter_pieces(chapter, max_chars, tally, numbering)
        if not pieces:
            ctx.log.warning("chapter %d (%r) has nothing to read aloud; skipped", chapter.index, chapter.title)
            continue
        title = clean_characters(chapter.title)
        for position, (text, paragraph_end, sentences) in enumerate(pieces):
            last = position == len(pieces) - 1
            chunks.append(
                Chunk(
                    index=len(chunks),
                    chapter=chapter.index,
                    chapter_title=title,
                    text=text,
                    paragraph_end=paragraph_end or last,
                    chapter_end=last,
                    sentences=sentences,
                )
            )
    if not chunks:
        raise BookError(
            "no_text_layer",
            "has no text that can be read aloud (only symbols or empty chapters)",
            "check that the book opens with readable text in a reader",
        )
    if pronouncer is not None:
        started = time.monotonic()
        pronounced = add_voice_forms(chunks, pronouncer)
        ctx.metrics["pronunciation"] = {
            "sentences_changed": pronounced,
            "lexicon_words": sum(pronouncer.lexicon_uses.values()),
            "lexicon_files": pronouncer.lexicon.files,
            "heteronyms": dict(sorted(pronouncer.heteronym_uses.items())),
            "seconds": round(time.monotonic() - started, 3),
        }
    ctx.metrics.update(
        {
            "chunks": len(chunks),
            "sentences": tally.sentences,
            "characters": sum(len(chunk.text) for chunk in chunks),
            "words": sum(len(chunk.text.split()) for chunk in chunks),
            "chapters": len({chunk.chapter for chunk in chunks}),
            "paragraphs": tally.paragraphs,
            "dropped_paragraphs": tally.dropped_paragraphs,
            "repeated_headings": tally.repeated_headings,
            "longest_chunk": max(len(chunk.text) for chunk in chunks),
        }
    )
    ctx.log.info(
        "chunked %d chapters into %d chunks (%d sentences, %d characters)",
        ctx.metrics["chapters"],
        len(chunks),
        tally.sentences,
        ctx.metrics["characters"],
    )
    return chunks


def add_voice_forms(chunks: list[Chunk], pronouncer: Pronouncer) -> int:
    """Give each sentence the pronouncer changes a "voice" form; how many it changed."""
    changed = 0
    for chunk in chunks:
        for sentence in chunk.sentences:
            said = pronouncer.voice_text(sentence["spoken"])
            if said != sentence["spoken"]:
                sentence["voice"] = said
                changed += 1
    return changed


def write_chunks(chunks: list[Chunk], path: Path) -> None:
    """Write chunks as JSON Lines, atomically: a reader sees the old file or the whole new one."""
    try:
        with atomic_writer(path) as stream:
            for chunk in chunks:
                stream.write(json.dumps(to_dict(chunk), ensure_ascii=False) + "\n")
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise disk_full_error(error, path.name) from error
        raise


def read_chunks(path: Path) -> list[Chunk]:
    """Read chunks written by ``write_chunks``; a damaged line names itself."""
    chunks = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                chunks.append(from_dict(Chunk, json.loads(line)))
            except (ValueError, TypeError) as error:
                raise ValueError(f"{path.name} line {number} is not a chunk: {error}") from error
    return chunks
