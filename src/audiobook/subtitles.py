"""Subtitles: one cue per spoken sentence, timed against the mastered audio.

Phase 5 knows where every sentence sits in the file it encodes (room tone,
pauses, chapters); this module turns those timed sentences into cues of at
most two lines of about 42 characters, cutting a long sentence at its clause
marks and sharing its time between the pieces by spoken length, and writes them as
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
    pauses: tuple[tuple[float, float], ...] = ()  # quiet stretches inside it (seconds): where a long one is cut


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


# Marks the voice may pause at inside a sentence (a full stop is left out: "Dr. Jekyll" has none).
_VOICE_PAUSE_MARK = re.compile(r"(?:[,;:!?\u2014\u2013]|\.\.\.|\u2026|--)[\"'\u201d\u2019)\]]*(?=\s)")
# How far from where its mark is expected (by length) a pause may be and still be that mark's.
PAUSE_REACH_S = 0.8


# Cost (seconds) of leaving a clause mark without a pause, or a pause without a mark.
_UNMATCHED_COST_S = 0.3

# Characters said far slower than they are printed, and how many plain characters
# each is worth in time. Measured on the voice: plain prose is ~0.055 s a character,
# a letter of an initialism read by its name ("M.D., LL.D.") ~0.28 s with its dot,
# a digit read as part of a number word ("1886") ~0.33 s.
_INITIALISM_LETTER = re.compile(r"(?<![\w.])(?:[A-Z]{1,2}\.){2,}")
_INITIALISM_LETTER_WEIGHT = 4  # plus 1 for its dot
_DIGIT_WEIGHT = 6


def spoken_positions(text: str) -> list[float]:
    """How far into saying ``text`` each character position is, in plain-character units.

    ``result[i]`` is the spoken length of ``text[:i]``: a cut's time within a
    sentence follows how long its text takes to say, not to print.
    """
    weights = [1.0] * len(text)
    for token in _INITIALISM_LETTER.finditer(text):
        for at in range(token.start(), token.end()):
            if text[at].isalpha():
                weights[at] = _INITIALISM_LETTER_WEIGHT
    for at, char in enumerate(text):
        if char.isdigit():
            weights[at] = _DIGIT_WEIGHT
    positions = [0.0]
    for weight in weights:
        positions.append(positions[-1] + weight)
    return positions


def _anchors(sentence: TimedSentence, text: str) -> list[tuple[int, float, float]]:
    """(character, time the speech before it ends, time the speech after it starts), in order.

    The sentence's start and end, and the clause marks matched to the voice's
    pauses. The match is an alignment in order: on the speech alone (pauses
    taken out), a mark is expected as far in as its character is in the
    spoken length of the text; marks and pauses pair up where that is closest,
    within PAUSE_REACH_S.
    """
    pauses = sorted(p for p in sentence.pauses if sentence.start_s <= p[0] < p[1] <= sentence.end_s)
    marks = [mark.end() for mark in _VOICE_PAUSE_MARK.finditer(text)]
    edges = [(0, sentence.start_s, sentence.start_s), (len(text), sentence.end_s, sentence.end_s)]
    if not pauses or not marks:
        return edges
    speech = sentence.end_s - sentence.start_s - sum(b - a for a, b in pauses)
    heard, silent = [], 0.0
    for a, b in pauses:
        heard.append(a - sentence.start_s - silent)  # speech before this pause
        silent += b - a
    spoken = spoken_positions(text)
    expected = [speech * spoken[position] / max(1.0, spoken[-1]) for position in marks]
    # cost[i][j]: best alignment of the first i marks with the first j pauses.
    rows, cols = len(marks) + 1, len(pauses) + 1
    cost = [[0.0] * cols for _ in range(rows)]
    step = [[""] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            if i == j == 0:
                continue
            options = []
            if i:
                options.append((cost[i - 1][j] + _UNMATCHED_COST_S, "mark"))
            if j:
                options.append((cost[i][j - 1] + _UNMATCHED_COST_S, "pause"))
            if i and j and abs(expected[i - 1] - heard[j - 1]) <= PAUSE_REACH_S:
                options.append((cost[i - 1][j - 1] + abs(expected[i - 1] - heard[j - 1]), "pair"))
            cost[i][j], step[i][j] = min(options)
    pairs = []
    i, j = len(marks), len(pauses)
    while i or j:
        move = step[i][j]
        if move == "pair":
            pairs.append((marks[i - 1], *pauses[j - 1]))
        i, j = (i - 1 if move in ("pair", "mark") else i), (j - 1 if move in ("pair", "pause") else j)
    return [edges[0], *reversed(pairs), edges[1]]


def piece_times(sentence: TimedSentence, pieces: Sequence[str]) -> list[tuple[float, float]]:
    """(start, end) of each piece of a sentence.

    The voice pauses at clause marks; those pauses, matched to their marks,
    fix the time of the text around them, and a cut between two of them is
    placed by spoken length (an initialism or a number takes longer to say
    than its print suggests). A cut at a matched mark ends the piece where the pause
    starts and starts the next where it ends.
    """
    text = " ".join(pieces)
    anchors = _anchors(sentence, text)
    spoken = spoken_positions(text)
    times: list[tuple[float, float]] = []
    start, position = sentence.start_s, 0
    for piece in pieces[:-1]:
        position += len(piece)
        after = next(i for i, anchor in enumerate(anchors) if anchor[0] >= position)
        if anchors[after][0] == position:
            end, next_start = anchors[after][1], anchors[after][2]
        else:
            (char_a, _, time_a), (char_b, time_b, _) = anchors[after - 1], anchors[after]
            share = (spoken[position] - spoken[char_a]) / max(1.0, spoken[char_b] - spoken[char_a])
            end = next_start = time_a + (time_b - time_a) * share
        times.append((start, end))
        start = next_start
        position += 1  # the space between pieces
    times.append((start, sentence.end_s))
    return times


def build_cues(sentences: Sequence[TimedSentence]) -> list[Cue]:
    """Cues in time order; a long sentence's pieces are cut at the voice's pauses (else by length)."""
    cues: list[Cue] = []
    for sentence in sentences:
        pieces = split_for_cues(sentence.text)
        if not pieces or sentence.end_s <= sentence.start_s:
            continue
        for piece, (start, end) in zip(pieces, piece_times(sentence, pieces), strict=True):
            if cues and start < cues[-1].end_s:  # never overlap the cue before
                start = cues[-1].end_s
            if end > start:
                cues.append(Cue(round(start, 3), round(end, 3), tuple(wrap(piece))))
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
