"""Subtitles: one cue per spoken sentence, timed against the mastered audio.

Phase 5 knows where every sentence sits in the file it encodes (room tone,
pauses, chapters); this module turns those timed sentences into cues of at
most two lines of about 42 characters, cutting a long sentence at its clause
marks and sharing its time between the pieces by length, and writes them as
WebVTT and SRT.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .fileio import atomic_writer

LINE_CHARS = 42
MAX_LINES = 2
# Where a long sentence may be cut for a cue: after a clause mark or a dash.
_CLAUSE_END = re.compile(r"(?:[,;:\u2014\u2013]|\.\.\.|\u2026)[\"'\u201d\u2019)\]]*(?=\s)|(?<=\s)--(?=\s)")


@dataclass(frozen=True)
class TimedSentence:
    """A spoken sentence: its printed text and where it is heard, in seconds from the start of its file."""

    text: str
    start_s: float
    end_s: float
    heading: bool = False  # a chapter title
    chapter: int = 0  # Chapter.index it belongs to


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    lines: tuple[str, ...]


def wrap(text: str, width: int = LINE_CHARS) -> list[str]:
    """Words into lines of at most ``width`` characters (a longer word stands alone), balanced when two."""
    words = text.split()
    if not words:
        return []
    if len(text) <= width:
        return [" ".join(words)]
    # Two lines: the split point that makes the longer line shortest.
    best: tuple[int, int] | None = None
    for cut in range(1, len(words)):
        longest = max(len(" ".join(words[:cut])), len(" ".join(words[cut:])))
        if best is None or longest < best[0]:
            best = (longest, cut)
    if best is not None and best[0] <= width:
        return [" ".join(words[: best[1]]), " ".join(words[best[1] :])]
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def fits(text: str) -> bool:
    return len(wrap(text)) <= MAX_LINES


def split_for_cues(text: str) -> list[str]:
    """A sentence as pieces that each fit a cue: cut at clause marks, else between words."""
    text = " ".join(text.split())
    if fits(text):
        return [text] if text else []
    pieces: list[str] = []
    rest = text
    while rest and not fits(rest):
        limit = LINE_CHARS * MAX_LINES
        cut = 0
        for mark in _CLAUSE_END.finditer(rest, 0, limit + 1):
            if mark.end() >= limit // 4 and fits(rest[: mark.end()]):
                cut = mark.end()
        if not cut:  # no clause mark in reach: the most words that fit
            words = rest.split(" ")
            taken = 1
            while taken < len(words) and fits(" ".join(words[: taken + 1])):
                taken += 1
            cut = len(" ".join(words[:taken]))
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces


def build_cues(sentences: Sequence[TimedSentence]) -> list[Cue]:
    """Cues in time order; a long sentence's time is shared between its pieces by their length."""
    cues: list[Cue] = []
    for sentence in sentences:
        pieces = split_for_cues(sentence.text)
        if not pieces or sentence.end_s <= sentence.start_s:
            continue
        total = sum(len(piece) for piece in pieces)
        start = sentence.start_s
        span = sentence.end_s - sentence.start_s
        for number, piece in enumerate(pieces):
            end = sentence.end_s if number == len(pieces) - 1 else start + span * len(piece) / total
            if cues and start < cues[-1].end_s:  # never overlap the cue before
                start = cues[-1].end_s
            if end > start:
                cues.append(Cue(round(start, 3), round(end, 3), tuple(wrap(piece))))
            start = end
    return cues


def _stamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def webvtt(cues: Sequence[Cue]) -> str:
    """WebVTT text; cue text is escaped (&, <, >), and a line never holds "-->"."""
    blocks = ["WEBVTT\n"]
    for cue in cues:
        lines = [html.escape(line, quote=False).replace("-->", "--&gt;") for line in cue.lines]
        blocks.append(f"{_stamp(cue.start_s, '.')} --> {_stamp(cue.end_s, '.')}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def srt(cues: Sequence[Cue]) -> str:
    """SubRip text: numbered cues, times with a comma, plain text lines."""
    blocks = []
    for number, cue in enumerate(cues, start=1):
        lines = [line.replace("-->", "->") for line in cue.lines]
        blocks.append(f"{number}\n{_stamp(cue.start_s, ',')} --> {_stamp(cue.end_s, ',')}\n" + "\n".join(lines) + "\n")
    return "\n".join(blocks)


def write_subtitles(sentences: Sequence[TimedSentence], stem: Path) -> list[Path]:
    """Write ``stem``.vtt and ``stem``.srt atomically; return their paths."""
    cues = build_cues(sentences)
    paths = []
    for suffix, text in ((".vtt", webvtt(cues)), (".srt", srt(cues))):
        path = stem.with_name(stem.name + suffix)
        with atomic_writer(path) as handle:
            handle.write(text)
        paths.append(path)
    return paths
