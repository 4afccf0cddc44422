"""Plays in a PDF: speaker labels spoken as labels, stage directions set off from the speech.

A label is found by how it is set, never by a list of names: a short run at the
start of a line in capitals ending in a full stop or colon ("LANE. Yes, sir."),
a short run in a typeface other than the speech's (bold, small capitals), or a
short name alone on its line in capitals or its own typeface above the speech.
Such runs are labels only when they behave like a play's: at least two names
each open three speeches or more, and labels open a good share of the lines
where they occur. So bold run-in words ("Note.") or small capitals opening a
chapter in a prose book change nothing. In a play so found, a speaker heard
once or twice ("Chorus") is labelled too when set just like the others.

Within the play, text in italics is a stage direction when it reads like one
(bracketed, a whole line, or two words or more opening with a capital): it
becomes a paragraph of its own, closed with a full stop, so phase 3 pauses
around it. A single italic word is emphasis and stays in the speech.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from ..plays import closed, spoken_label
from .layout import Line, Page

LABEL_MAX_WORDS = 4
LABEL_MAX_CHARS = 40
MIN_LABEL_USES = 3  # a name that opens fewer speeches is not a speaker's label
MIN_SPEAKERS = 2
MIN_LABEL_SHARE = 0.1  # of the lines from the first label to the last: a play, not a book with run-in headings

# "LANE. Yes", "LADY BRACKNELL: Good", "MRS. ALLONBY. Quite": capitals, then a stop or colon, then the speech.
_CAPITAL_LABEL = re.compile(r"(?P<name>[A-Z][A-Z'’\-]*(?:\.? [A-Z][A-Z'’\-]*){0,3})[.:](?= +\S)")
_SPEECH_START = re.compile(r"[\"'“‘(\[]*[A-Z0-9]|[(\[]")
_CLOSING_BRACKET = re.compile(r"[)\]](?P<after>[.,;:!?]?)$")


@dataclass
class Label:
    end: int  # where the speech starts in the line's text (the text's length when the label stands alone)
    name: str  # the name as printed, without its closing stop
    setting: tuple[str, str, float]  # how it is set apart ("alone", "capitals" or "face"), in what font and size


def _key(name: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", name).casefold().split())


def _is_name(name: str, set_apart: bool = False) -> bool:
    """Short, opening with a capital, and no sentence inside ("Yes, sir" is a speech, not a name). A name
    set apart by its face may open with a small letter: small capitals often come out of a PDF as "lane"."""
    short = len(name) <= LABEL_MAX_CHARS and len(name.split()) <= LABEL_MAX_WORDS
    opening = name[:1].isupper() or (set_apart and name[:1].isalpha())
    return short and opening and not any(mark in name for mark in ",;!?\"“”")


def _capitals(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def _face(line: Line) -> tuple[str, bool] | None:
    """The one typeface of a line set in one face, else None."""
    return (line.fonts[0][1], line.fonts[0][2]) if len(line.fonts) == 1 else None


def _label_at(line: Line, following: Line | None, body_face: str) -> Label | None:
    """The speaker's label that opens this line, if its setting says it is one (``body_face``: the font
    most lines open in, which a label set apart by its face is not)."""
    text = line.text
    # A name alone on its line, above the speech, in capitals or in a face of its own (not italics).
    name = text.strip().rstrip(".:")
    if following is not None and _is_name(name, set_apart=True) and _SPEECH_START.match(following.text):
        face, next_face = _face(line), (following.fonts[0][1:] if following.fonts else None)
        own_face = face is not None and not face[1] and face[0] != body_face
        if (_capitals(name) and _is_name(name)) or (own_face and next_face is not None and face != next_face):
            return Label(len(text), name, ("alone", *_first_font(line)))
    # Capitals closed by a stop or colon, the speech after them on the line.
    match = _CAPITAL_LABEL.match(text)
    if match and _capitals(match["name"]) and (_SPEECH_START.match(text[match.end() :].lstrip()) or _italic_at(line, match.end() + 1)):
        return Label(match.end(), match["name"], ("capitals", *_first_font(line)))
    # A short run in its own face (bold, small capitals), then the speech in another.
    if len(line.fonts) >= 2 and line.fonts[0][0] == 0 and not line.fonts[0][2] and line.fonts[0][1] != body_face:
        end = line.fonts[1][0]
        name = text[:end].strip().rstrip(".:")
        rest = text[end:].lstrip(".:—– ")  # the label's stop may be set in the speech's face
        if _is_name(name, set_apart=True) and (_SPEECH_START.match(rest) or line.fonts[1][2]):
            return Label(len(text) - len(rest), name, ("face", *_first_font(line)))
    return None


def _first_font(line: Line) -> tuple[str, float]:
    return (line.fonts[0][1] if line.fonts else "", round(line.size or 0.0, 1))


def _body_face(lines: list[Line]) -> str:
    """The font most of the text is set in, counted by characters."""
    faces: Counter[str] = Counter()
    for line in lines:
        for (offset, name, _), following in zip(line.fonts, [*line.fonts[1:], (len(line.text), "", False)]):
            faces[name] += following[0] - offset
    return faces.most_common(1)[0][0] if faces else ""


def _italic_at(line: Line, offset: int) -> bool:
    """Whether the text from ``offset`` on is set in italics (a direction right after a label)."""
    runs = [run for run in line.fonts if run[0] <= offset]
    return bool(runs) and runs[-1][2]


def _spoken(name: str) -> str:
    """ "LANE" -> "Lane.", "lady bracknell" (small capitals) -> "Lady Bracknell."."""
    return spoken_label(name.title() if name.islower() else name)


def _segments(line: Line, start: int) -> list[tuple[str, bool]]:
    """The line's text from ``start`` in runs of (text, italic); names in capitals inside italics
    ("Enter LANE, with a salver") belong to the italics around them."""
    bounds = [(offset, italic) for offset, _, italic in line.fonts] or [(0, False)]
    pieces = []
    for (offset, italic), following in zip(bounds, [*bounds[1:], (len(line.text), False)]):
        piece = line.text[max(offset, start) : following[0]].strip()
        if piece and following[0] > start:
            pieces.append([piece, italic])
    for position in range(1, len(pieces) - 1):
        if not pieces[position][1] and pieces[position - 1][1] and pieces[position + 1][1] and _capitals(pieces[position][0]):
            pieces[position][1] = True
    merged: list[tuple[str, bool]] = []
    for piece, italic in pieces:
        if merged and merged[-1][1] == italic:
            merged[-1] = (f"{merged[-1][0]} {piece}", italic)
        else:
            merged.append((piece, italic))
    return merged


def _reads_as_direction(text: str, whole_line: bool, continuing: bool) -> bool:
    """Italics that are a stage direction, not emphasis: bracketed, a line of their own (or the start of
    a speech), a continuation of the direction on the line before, or two words or more opening with a capital."""
    return text[:1] in "([" or whole_line or continuing or (len(text.split()) >= 2 and text[:1].isupper())


def mark_play(pages: list[Page]) -> tuple[int, int]:
    """Find a play's labels and directions in the body and set them apart (in place): a labelled line
    opens a paragraph with "Name."; a direction becomes a paragraph of its own. (labels, directions)."""
    spots = [(page, position) for page in pages for position, line in enumerate(page.lines) if not line.note]
    lines = [page.lines[position] for page, position in spots]
    body_face = _body_face(lines)
    found = {}
    for number, line in enumerate(lines):
        following = lines[number + 1] if number + 1 < len(lines) else None
        if label := _label_at(line, following, body_face):
            found[number] = label
    uses = Counter(_key(label.name) for label in found.values())
    names = {name for name, count in uses.items() if count >= MIN_LABEL_USES}
    recurring = {number: label for number, label in found.items() if _key(label.name) in names}
    if len(names) < MIN_SPEAKERS or not recurring or len(recurring) < MIN_LABEL_SHARE * (max(recurring) - min(recurring) + 1):
        return 0, 0
    # In a play, a name that speaks once or twice ("Chorus", "Second Citizen") is set like the others.
    settings = {label.setting for label in recurring.values()}
    found = {number: label for number, label in found.items() if label.setting in settings}
    # Directions are looked for from the first label's page to the end of the last one's.
    first_page, last_page = spots[min(found)][0].index, spots[max(found)][0].index
    directions = 0
    rebuilt: dict[int, list[Line]] = {}
    continuing = False
    above = ""  # a label alone on its line, said at the start of the speech below it ("Lane. Yes, sir.")
    for number, line in enumerate(lines):
        if not first_page <= line.page <= last_page and not above:
            continue
        pieces = []
        label = found.get(number)
        if above:
            pieces.append(replace(line, text=above, opens=True, fonts=()))
        above = ""
        if label and label.end >= len(line.text.rstrip()):
            above, continuing, rebuilt[number] = _spoken(label.name), False, pieces
            continue
        if label:
            pieces.append(replace(line, text=_spoken(label.name), opens=True, fonts=()))
            continuing = False
        segments = _segments(line, label.end if label else 0)
        # The line's size is its first letter's: the label's, which may be set smaller than the speech, and
        # the speech's own is not known; without one, no break is made for a change of size.
        size = None if label else line.size
        for place, (text, italic) in enumerate(segments):
            opening = (len(segments) == 1 and not label) or (bool(label) and place == 0)
            direction = italic and _reads_as_direction(text, opening, continuing)
            directions += direction and not continuing
            pieces.append(replace(line, text=text, direction=direction, size=size, fonts=()))
            continuing = direction
        rebuilt[number] = pieces
    _finish_directions([piece for number in sorted(rebuilt) for piece in rebuilt[number]])
    for number in sorted(rebuilt, reverse=True):
        page, position = spots[number]
        page.lines[position : position + 1] = rebuilt[number]
    return len(found), directions


def _finish_directions(pieces: list[Line]) -> None:
    """A direction loses its brackets (no narrator says them) and ends with a full stop, so the speech
    after it starts a sentence of its own; it may run over several lines."""
    runs: list[list[Line]] = []
    for position, piece in enumerate(pieces):
        if not piece.direction:
            continue
        if position and pieces[position - 1].direction and not piece.opens and runs:
            runs[-1].append(piece)
        else:
            runs.append([piece])
    for run in runs:
        first, last = run[0], run[-1]
        closing = _CLOSING_BRACKET.search(last.text)
        if first.text[:1] in "([" and closing:
            last.text = last.text[: closing.start()].rstrip() + closing["after"]
            first.text = first.text[1:].lstrip()  # after the closing one: first and last may be one piece
        last.text = closed(last.text)
