"""Which parts of a book a narrator reads, and which are left out (phase 2).

Both readers (PDF and EPUB) cut a book into sections (chapters, or the pages
before the first chapter) and ask this module what kind of section each one
is. Contents, indexes, lists of figures, copyright pages, advertisements,
licences, bibliographies and notes are not read unless the user turns their
kind back on; every section left out is listed with its word count in the
book's record, so nothing disappears without a word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Every kind of non-narrative matter, with the words the record and the report use for it.
KINDS: dict[str, str] = {
    "contents": "table of contents",
    "index": "index",
    "figures": "list of figures, illustrations or tables",
    "copyright": "copyright or imprint page",
    "advertisement": "advertisements and related resources",
    "licence": "Project Gutenberg header or licence",
    "bibliography": "bibliography or references",
    "notes": "footnotes and endnotes",
}
# Read in place of a code listing (engine.read_code: false), by both readers. Short: a listener needs to
# know something was skipped, not a sentence about it each time.
CODE_CUE = "(Code omitted.)"
# What is left out unless the user asks for it (engine.skip).
DEFAULT_SKIP: tuple[str, ...] = tuple(KINDS)


@dataclass
class SkippedSection:
    """A section (or a run of text) left out of the reading, for the record and the report."""

    title: str  # its heading, or its first words when it has none
    kind: str  # a key of KINDS
    words: int
    reason: str  # how it was recognised, e.g. 'heading "Contents"'


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: the form titles are compared in."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


# Headings that name a kind of section, in the languages the engine meets most.
# Matched against the whole folded heading (an optional leading number or label aside).
_TITLE_PATTERNS: dict[str, str] = {
    "contents": r"(?:table of )?contents|toc|inhalt(?:sverzeichnis)?|table des matieres|sommaire|indice|contenido|inhoud",
    "index": r"(?:general |subject |name )?index(?: of [\w ]+)?|register|stichwortverzeichnis|indice analitico",
    "figures": r"(?:list of |index of )?(?:the )?(?:illustrations|figures|tables|plates|maps)(?: and (?:tables|figures|maps))?"
    r"|abbildungsverzeichnis|tabellenverzeichnis",
    "copyright": r"copyright(?: page)?|imprint|impressum|colophon|legal notice|about this (?:e-?)?book",
    "advertisement": r"(?:other |more )?(?:books|titles) (?:by|from) [\w .'-]+|also (?:by|available)(?: [\w .'-]+)?"
    r"|advertisements?|related (?:resources|titles|books)(?: (?:from|by) [\w .'-]+)?|further resources|about the publisher",
    "licence": r"(?:the )?(?:full )?project gutenberg(?:-tm)? (?:license|licence)(?: [\w ]+)?|license|licence",
    # "Further reading" is often prose about books, so it stays (a user can still skip a bibliography by its name).
    "bibliography": r"bibliography|references|works cited|literature cited|literaturverzeichnis",
    "notes": r"(?:foot|end)?notes|(?:foot|end)notes|anmerkungen",
}
_TITLE_RES = {kind: re.compile(rf"(?:[\divxlc]+[.:)]?\s+)?(?:an? |the )?(?:{pattern})[.:]?", re.I) for kind, pattern in _TITLE_PATTERNS.items()}

# The Project Gutenberg licence and header, whatever the edition's wording.
_LICENCE_MARKS = re.compile(
    r"\*{3}\s*(?:start|end) of (?:the|this) project gutenberg"
    r"|project gutenberg(?:-tm)? (?:license|licence|electronic works?)"
    r"|full project gutenberg license"
    r"|this e-?book is for the use of anyone anywhere",
    re.I,
)


def classify_title(title: str) -> str | None:
    """The kind of section a heading names ("Contents", "List of Illustrations", "Index"), or None."""
    folded = _fold(title)
    if not folded or len(folded) > 80:
        return None
    for kind, pattern in _TITLE_RES.items():
        if pattern.fullmatch(folded):
            return kind
    return None


def is_licence_text(text: str) -> bool:
    """Whether a paragraph is part of the Project Gutenberg header or licence."""
    return bool(_LICENCE_MARKS.search(text))


def word_count(paragraphs: list[str]) -> int:
    return sum(len(p.split()) for p in paragraphs)


def first_words(paragraphs: list[str], count: int = 8) -> str:
    """A title for a section that has none: its first few words."""
    words = " ".join(paragraphs).split()[:count]
    return " ".join(words) + (" …" if len(words) == count else "")


def is_skipped(kind: str | None, skip: tuple[str, ...] | list[str]) -> bool:
    """Whether a section of this kind is left out under the user's engine.skip."""
    return kind is not None and kind in skip


# A line of a table of contents or an index: it ends in a page number (or a list of them), or has dot leaders.
_REFERENCE_LINE = re.compile(r"(?:\.\s*){3,}\s*\w+$|[\w)’'”,;:]\s+(?:\d{1,4}|[ivxlc]{1,6})(?:\s*[,–-]\s*\d{1,4})*$")


def section_kind(title: str, paragraphs: list[str], at_back: bool = False) -> tuple[str | None, str]:
    """The kind of a whole section (a KINDS key or None) and how it was recognised.

    By its heading first; else by its text: the Project Gutenberg licence by its
    wording, a contents or an index by most of its lines ending in page numbers,
    and (``at_back``: after the story) the author's appeals and advertisements.
    """
    kind = classify_title(title)
    entries = [p for p in paragraphs if _REFERENCE_LINE.search(p)]
    if prose_under_listing_heading(kind, paragraphs, len(entries)):
        kind = None  # a contents heading over a page that goes on into the story: the text decides
    if kind:
        return kind, f'heading "{title}"'
    opening = paragraphs[:5]
    if any(is_licence_text(p) for p in opening):
        return "licence", "Project Gutenberg licence wording"
    if len(paragraphs) >= 5 and len(entries) >= 0.6 * len(paragraphs):
        return "contents", "most of its lines end in page numbers"
    if at_back and (reason := appeal_reason(title, paragraphs)):
        return "advertisement", reason
    return None, ""


def appeal_reason(title: str, paragraphs: list[str]) -> str:
    """Why a short section after the story is the author's appeal or an advertisement ("" when it is not):
    two or more of the things such pages ask of a reader. The caller knows the section is after the story."""
    if word_count(paragraphs) > MAX_APPEAL_WORDS:
        return ""
    if paragraphs and (opening := _OTHER_BOOKS.match(paragraphs[0])):
        return f'opens "{opening.group()}" after the story'  # "ALSO BY JANE DOE" set as a line, not a heading
    asks = sorted({match.group().lower() for match in _APPEAL.finditer(" ".join([title, *paragraphs[:12]]))})
    return f"an appeal to the reader after the story ({', '.join(asks[:3])})" if len(asks) >= MIN_APPEAL_MARKS else ""


# What an author's appeal or a publisher's advertisement says after the story: "Three things to do if you
# enjoyed this book", "sign up for the mailing list", "Also by ...", "leave a review".
_APPEAL = re.compile(
    r"\bif you (?:have )?(?:enjoy(?:ed)?|liked|loved) (?:this|the|my) (?:book|novel|story)|\bmailing list\b|\bnewsletter\b"
    r"|\bsign up\b|\b(?:leave|write|post) (?:a|an honest) review\b|\bdonate\b|\balso by\b|\bother (?:books|titles|novels) by\b"
    r"|\bcoming soon\b|\bavailable (?:now|wherever)\b|\bpre-?order\b|\bpass (?:the|this) book on\b",
    re.I,
)
MIN_APPEAL_MARKS = 2
_OTHER_BOOKS = re.compile(r"(?:also by|(?:other|more) (?:books|titles|novels) (?:by|from))\b[^.:\n]{0,40}", re.I)
# Sections that start after this share of the book's words are after the story (appeals, advertisements).
BACK_MATTER_SHARE = 0.8
MAX_APPEAL_WORDS = 1500


LISTING_KINDS = ("contents", "index", "figures")
# Prose: this many words or more, in paragraphs of which few are entries pointing to a page.
PROSE_WORDS = 300
MAX_PROSE_ENTRY_SHARE = 0.3


def prose_under_listing_heading(kind: str | None, paragraphs: list[str], entries: int) -> bool:
    """Whether a section whose heading names a contents, index or list of figures holds prose instead
    of the ``entries`` (lines pointing to a page or a link) such a list is made of: then it is read."""
    return (
        kind in LISTING_KINDS
        and word_count(paragraphs) >= PROSE_WORDS
        and entries < MAX_PROSE_ENTRY_SHARE * len(paragraphs)
    )


# A list is a bibliography of links when at least this share of its items holds a web address and it is
# no longer than this: one rule never removes a chapter's worth of text on its own say (both readers).
MIN_LINK_SHARE = 0.5
MAX_LINK_LIST_WORDS = 600
WEB_ADDRESS = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|io)(?:/\S*)?\b", re.I)


def link_list_reason(linked: list[bool], words: int) -> str:
    """Why a list under its own heading is a bibliography of links ("" when it is not), from which of its
    items hold a web address and how many words it has."""
    links = sum(linked)
    if len(linked) >= 2 and links >= MIN_LINK_SHARE * len(linked) and words <= MAX_LINK_LIST_WORDS:
        return f"{links} of its {len(linked)} items are web addresses"
    return ""
