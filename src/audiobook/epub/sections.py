"""Which parts of an EPUB are non-narrative matter, by the book's own semantics.

An EPUB usually says what a section is: EPUB 3 ``epub:type`` (or a DPUB-ARIA
role) on a section or body, the EPUB 2 ``<guide>``, the nav's ``landmarks``,
Project Gutenberg's ``pg-boilerplate`` sections. That is trusted first; a
heading (``sections.classify_title``) and the Project Gutenberg licence's own
words (``sections.is_licence_text``) come next, in ``chapters``. The kinds are
those of ``audiobook.sections``; whether a kind is read is the user's
``engine.skip`` (notes: ``engine.read_notes``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ..sections import KINDS, SkippedSection, classify_title, first_words, is_skipped
from ..settings import EngineSettings
from .markup import INVISIBLE, epub_types, local

# epub:type values (and DPUB-ARIA roles without "doc-") naming a kind of non-narrative section.
TYPE_KINDS: dict[str, str] = {
    "toc": "contents",
    "index": "index",
    "loi": "figures",
    "lot": "figures",
    "lof": "figures",
    "loa": "figures",
    "lov": "figures",
    "copyright-page": "copyright",
    "colophon": "copyright",
    "imprint": "copyright",
    "bibliography": "bibliography",
    "endnotes": "notes",
    "footnotes": "notes",
    "rearnotes": "notes",
    "endnote": "notes",
    "footnote": "notes",
    "rearnote": "notes",
    "note": "notes",
}
# EPUB 2 guide reference types (landmarks use the epub:type names above).
GUIDE_KINDS: dict[str, str] = {
    "toc": "contents",
    "index": "index",
    "loi": "figures",
    "lot": "figures",
    "copyright-page": "copyright",
    "colophon": "copyright",
    "bibliography": "bibliography",
    "notes": "notes",
}
# Project Gutenberg's header and licence in its EPUBs since 2022 (older ones are found by their words).
LICENCE_CLASSES = {"pg-boilerplate", "pgheader", "pgfooter"}
LICENCE_IDS = {"pg-header", "pg-footer", "pg-machine-header", "pg-start-separator", "pg-end-separator"}
NOTE_COUNT = re.compile(r"(\d+) notes")
SECTION_TAGS = {"section", "body", "div", "aside", "nav", "article", "ol", "ul", "dl", "p", "table", "li", "span", "a"}


@dataclass(frozen=True)
class Reading:
    """What the user asked to hear: the parts of the settings that decide what is left out."""

    skip: tuple[str, ...] = tuple(KINDS)
    read_notes: bool = False
    read_code: bool = False

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> Reading:
        return cls(tuple(settings.skip), settings.read_notes, settings.read_code)

    @property
    def notes(self) -> bool:
        """Footnotes and endnotes are read when asked for, or when notes are not among the kinds skipped."""
        return self.read_notes or "notes" not in self.skip

    def leaves_out(self, kind: str | None) -> bool:
        if kind == "notes":
            return not self.notes
        return is_skipped(kind, self.skip)


def element_kind(node: etree._Element) -> tuple[str, str] | None:
    """The kind of non-narrative section an element is, and why: its epub:type or Project Gutenberg's markup."""
    if local(node) not in SECTION_TAGS:
        return None
    for value in sorted(epub_types(node)):
        kind = TYPE_KINDS.get(value.split(":")[-1])
        if kind:
            return kind, f'marked epub:type "{value}"'
    classes = set((node.get("class") or "").lower().split())
    if classes & LICENCE_CLASSES or (node.get("id") or "").lower() in LICENCE_IDS:
        return "licence", "marked as Project Gutenberg boilerplate"
    return None


def guide_kind(kind: str) -> str | None:
    """The kind of a whole document named by a guide reference or a landmark."""
    return GUIDE_KINDS.get(kind) or TYPE_KINDS.get(kind.split(":")[-1])


def heading_kind(title: str) -> str | None:
    return classify_title(title) if title else None


def skipped_section(node: etree._Element, kind: str, reason: str) -> SkippedSection:
    """The record of an element left out: its heading or first words, and how many words it held."""
    text = " ".join(" ".join(node.itertext()).translate(INVISIBLE).split())  # blocks hold no spaces between them
    heading = next(
        (
            " ".join("".join(h.itertext()).split())
            for h in node.iter()
            if local(h) in ("h1", "h2", "h3", "h4", "h5", "h6")
        ),
        "",
    )
    return SkippedSection(heading or first_words([text]) or KINDS[kind], kind, len(text.split()), reason)


def merged(skipped: list[SkippedSection]) -> list[SkippedSection]:
    """One entry for a run of notes left out of one chapter, not one per footnote."""
    out: list[SkippedSection] = []
    for entry in skipped:
        last = out[-1] if out else None
        if (
            last is not None
            and entry.kind == last.kind == "notes"
            and entry.reason == last.reason
            and entry.words < 200
        ):
            counted = NOTE_COUNT.fullmatch(last.title)
            count = int(counted.group(1)) + 1 if counted else 2
            out[-1] = SkippedSection(f"{count} notes", "notes", last.words + entry.words, last.reason)
            continue
        out.append(entry)
    return out
