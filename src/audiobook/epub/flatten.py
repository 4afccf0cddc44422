"""XHTML to paragraphs: what a narrator reads of one document, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from .markup import INVISIBLE, class_names, comparable, epub_types, first, local, one_line

LEADING_MIN_WORDS = 300
CONTENTS_LIST_MIN_LINES = 3  # this many link-only paragraphs in a row are a printed contents page
# --- XHTML to text ---------------------------------------------------------------------

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
    "html", "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}  # fmt: skip
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Nothing here is read aloud: metadata, code, pictures, media fallbacks, ruby glosses.
SILENT_TAGS = {
    "audio", "button", "canvas", "embed", "head", "iframe", "img", "input", "map", "math", "noscript", "object",
    "rp", "rt", "script", "select", "style", "svg", "template", "textarea", "title", "video",
}  # fmt: skip
# epub:type (or DPUB-ARIA role without "doc-") values that are never narrated.
NEVER_READ_TYPES = {
    "backlink", "colophon", "copyright-page", "halftitle", "halftitlepage", "imprint", "index", "landmarks", "loi",
    "lot", "page-list", "pagebreak", "titlepage", "toc",
}  # fmt: skip
NOTE_TYPES = {"endnote", "endnotes", "footnote", "footnotes", "note", "rearnote", "rearnotes"}
# Line and page numbers printed in the margin ("...into the Hofgarten, 10").
NUMBER_CLASSES = {"linenum", "linenumber", "line-number", "lnum", "pagenum", "pagenumber", "page-number"}
# Containers whose child blocks are verse lines of one stanza, not paragraphs.
LINE_GROUP_CLASSES = {"linegroup", "line-group", "lg", "stanza"}
# While text is gathered, <br> is LINE_BREAK and a block edge inside a line group is
# LINE_EDGE; XML text can hold neither. Two <br> in a row end a stanza, edges never do.
LINE_BREAK = "\x00"
LINE_EDGE = "\x01"
BREAK_RUN = re.compile(r"[\x00\x01](?:\s*[\x00\x01])*")
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))  # soft hyphen, zero-width space, word joiner, BOM
BRACKET_NOTE = re.compile(r"\[\d{1,3}\]")  # "[12]" as a footnote link

# --- XHTML to paragraphs ---------------------------------------------------------------


@dataclass
class Start:
    """A chapter starts here (a contents entry or, without contents, a heading)."""

    title: str


@dataclass
class Paragraph:
    text: str  # verse lines are joined with "\n"
    heading: int = 0  # 1 to 6 for the text of <h1> to <h6>
    link_only: bool = False  # the whole paragraph is one link into the book: a contents line


class Flattener:
    """Walk one XHTML document and yield its paragraphs and chapter starts in order.

    Block elements make paragraphs and inline whitespace collapses. <br> breaks
    a line inside its paragraph; a blank line (two <br>) ends the paragraph, as
    it ends a stanza. Lines stay joined with "\\n": a verse line read on into
    the next sounds wrong, and phase 3 can pause there like at a sentence end,
    while "\\n" changes no words (". " would invent punctuation).
    """

    def __init__(self, read_notes: bool, starts: dict[str, list[str]]) -> None:
        self.read_notes = read_notes
        self.starts = {anchor: list(titles) for anchor, titles in starts.items()}
        self.out: list[Start | Paragraph] = []
        self.parts: list[str] = []
        self.heading = 0  # level of the heading being read, 0 outside headings
        self.link_depth = 0
        self.line_depth = 0
        self.pre_depth = 0
        self.number = ""  # "3. " of an ordered list item, put before its first paragraph

    def run(self, root: etree._Element) -> list[Start | Paragraph]:
        ids = {node.get("id") or node.get("name") for node in root.iter() if isinstance(node.tag, str)}
        # Chapters start at the document's top. An anchor the document lacks starts there
        # too when nothing else starts in it (a stale id); otherwise its entry is dropped
        # and the text stays with the chapter around it.
        missing = [anchor for anchor in self.starts if anchor and anchor not in ids]
        lost = [title for anchor in missing for title in self.starts.pop(anchor)]
        top = self.starts.pop("", []) + (lost if not self.starts else [])
        self.out.extend(Start(title) for title in top)
        body = first(root, "body")
        self._visit(body if body is not None else root, depth=0)
        self._flush()
        return without_contents_lists(self.out)

    def _visit(self, node: etree._Element, depth: int) -> None:
        name = local(node)
        if not name:
            return  # comment, processing instruction or unexpanded entity; its tail is read by the parent
        self._start_chapters(node)
        if self._silent(node, name):
            for inner in node.iterdescendants():
                self._start_chapters(inner)  # a chapter may start inside a skipped title page
            return
        if name == "br":
            self.parts.append(LINE_BREAK)
            return
        if self.read_notes and "noteref" in epub_types(node):
            label = one_line(node)
            if label:
                self.parts.append(f" (note {label})")
            return
        block = name in BLOCK_TAGS
        group = bool(class_names(node) & LINE_GROUP_CLASSES)
        link_line = block and is_link_line(node)
        if block:
            self._break()
        if link_line:
            self.link_depth += 1
        if group:
            self.line_depth += 1
        if name in HEADING_TAGS:
            self.heading = int(name[1])
        if name == "pre":
            self.pre_depth += 1
        if name == "li" and local(node.getparent()) == "ol":
            self.number = f"{list_number(node)}. "
        if depth > 200:  # libxml2 limits depth anyway; keep Python's stack clear of it
            self._text("".join(node.itertext()))
        else:
            self._text(node.text)
            for child in node:
                self._visit(child, depth + 1)
                self._text(child.tail)
        if block:
            self._break()
        if name == "li":
            self.number = ""  # an empty item passes no number on
        if link_line:
            self.link_depth -= 1
        if name == "pre":
            self.pre_depth -= 1
        if name in HEADING_TAGS:
            self.heading = 0
        if group:
            self.line_depth -= 1
            self._flush()

    def _silent(self, node: etree._Element, name: str) -> bool:
        if name in SILENT_TAGS or node.get("hidden") is not None:
            return True
        types = epub_types(node)
        if types & NEVER_READ_TYPES or class_names(node) & NUMBER_CLASSES:
            return True
        if self.read_notes:
            return False
        return bool(types & NOTE_TYPES) or "noteref" in types or is_note_link(node, name)

    def _start_chapters(self, node: etree._Element) -> None:
        anchor = node.get("id") or (node.get("name") if local(node) == "a" else None)
        if anchor and anchor in self.starts:
            self._flush()
            self.out.extend(Start(title) for title in self.starts.pop(anchor))

    def _text(self, text: str | None) -> None:
        if text:
            self.parts.append(text.replace("\n", LINE_BREAK) if self.pre_depth else text)

    def _break(self) -> None:
        """A block boundary: a new paragraph, or only a new line inside a line group."""
        if self.line_depth:
            self.parts.append(LINE_EDGE)
        else:
            self._flush()

    def _flush(self) -> None:
        raw = "".join(self.parts).translate(INVISIBLE)
        self.parts = []
        for text in split_paragraphs(raw):
            text, self.number = self.number + text, ""
            self.out.append(Paragraph(text, heading=self.heading, link_only=self.link_depth > 0))


def split_paragraphs(raw: str) -> list[str]:
    """Collapse whitespace per line (any Unicode space, no-break ones too, becomes one plain
    space); blank lines separate paragraphs (stanzas)."""
    raw = BREAK_RUN.sub(lambda run: LINE_BREAK * min(2, run.group(0).count(LINE_BREAK) or 1), raw)
    paragraphs, lines = [], []
    for line in raw.split(LINE_BREAK):
        clean = " ".join(line.split())
        if clean:
            lines.append(clean)
        elif lines:
            paragraphs.append("\n".join(lines))
            lines = []
    if lines:
        paragraphs.append("\n".join(lines))
    return paragraphs


def is_link_line(node: etree._Element) -> bool:
    """A block whose only text is links inside the book, like a line of a printed contents page."""
    if any(local(inner) in BLOCK_TAGS for inner in node.iterdescendants()):
        return False  # checked first: a container stops at its first block, never walking its subtree
    links = [a for a in node.iter() if local(a) == "a" and a.get("href") and not urlsplit(a.get("href", "")).scheme]
    if not links:
        return False
    return comparable(one_line(node)) == comparable(" ".join(one_line(a) for a in links)) != ""


def without_contents_lists(blocks: list[Start | Paragraph]) -> list[Start | Paragraph]:
    """Drop printed contents pages: runs of three or more link-only paragraphs, and their
    "Contents" heading. The chapter titles are announced anyway; a list of them is not prose."""
    out: list[Start | Paragraph] = []
    run: list[Paragraph] = []
    for block in [*blocks, None]:
        if isinstance(block, Paragraph) and block.link_only:
            run.append(block)
            continue
        if len(run) >= CONTENTS_LIST_MIN_LINES:
            last = out[-1] if out else None
            if isinstance(last, Paragraph) and comparable(last.text) in ("contents", "tableofcontents"):
                out.pop()
        else:
            out.extend(run)
        run = []
        if block is not None:
            out.append(block)
    return out


def list_number(li: etree._Element) -> int:
    parent = li.getparent()
    try:
        start = int(parent.get("start", "1"))
    except ValueError:
        start = 1
    return start + sum(1 for sibling in li.itersiblings(preceding=True) if local(sibling) == "li")


def is_note_link(node: etree._Element, name: str) -> bool:
    """Note references without epub:type: <sup><a href="#n1">1</a></sup>, <a href="#n1">[1]</a>."""
    if name not in ("sup", "a"):
        return False
    text = one_line(node)
    if len(text) > 4:
        return False
    if name == "sup":
        return any(local(inner) == "a" and inner.get("href") for inner in node.iterdescendants())
    href = node.get("href") or ""
    has_sup = any(local(inner) == "sup" for inner in node.iterdescendants())
    return "#" in href and (has_sup or bool(BRACKET_NOTE.fullmatch(text)))


def has_text(root: etree._Element) -> bool:
    """Whether the document has anything to narrate (title pages and pictures do not count)."""
    return any(isinstance(block, Paragraph) for block in Flattener(False, {}).run(root))


