"""XHTML to paragraphs: what a narrator reads of one document, in order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from ..plays import closed, spoken_label
from ..sections import CODE_CUE, WEB_ADDRESS, SkippedSection, first_words, link_list_reason, word_count
from .listings import CODE_TAGS, inline_code_words, is_listing
from .markup import INVISIBLE, class_names, comparable, epub_types, first, local, one_line
from .plays import (
    is_direction,
    is_direction_paragraph,
    is_label_paragraph,
    is_persona,
    is_speech_row,
    starts_sentence,
)
from .sections import Reading, element_kind, skipped_section

CONTENTS_LIST_MIN_LINES = 3  # this many link-only paragraphs in a row are a printed contents page
# --- XHTML to text ---------------------------------------------------------------------

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr",
    "html", "legend", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}  # fmt: skip
HEADING_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Nothing here is read aloud: metadata, pictures, media fallbacks, ruby glosses (SVG only for its <text>).
SILENT_TAGS = {
    "audio", "button", "canvas", "embed", "head", "iframe", "img", "input", "map", "math", "noscript", "object",
    "rp", "rt", "script", "select", "style", "template", "textarea", "title", "video", "desc", "metadata", "defs",
}  # fmt: skip
# epub:type (or DPUB-ARIA role without "doc-") values that are never narrated. Kinds of
# sections the user may want (contents, index, copyright...) are in sections.TYPE_KINDS.
NEVER_READ_TYPES = {"backlink", "halftitle", "halftitlepage", "landmarks", "page-list", "pagebreak", "titlepage"}
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
# What may stand between a speaker's label and the speech ("Socrates: Tell me...").
LABEL_PUNCTUATION = ":.—– "
SVG_TEXT_TAGS = {"text", "foreignobject"}
# A printed line that ends a paragraph (or a sentence) on a fixed-layout page.
LINE_END = re.compile(r"[.!?:;…\"”’)\]]$")
WRAPPER_TAGS = {"div", "section", "article", "main", "span", "blockquote", "body"}
# Below this depth elements are walked one by one; deeper markup is read as one run of text.
MAX_WALK_DEPTH = 200
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

    Sections the user does not want read (``Reading``) are left out and listed
    in ``skipped``; code listings become a spoken cue; speaker labels and stage
    directions of plays are set off (``plays``); footnotes that sit inside a
    sentence are read after its paragraph when notes are read at all.
    """

    def __init__(self, reading: Reading, starts: dict[str, list[str]] | None = None) -> None:
        self.reading = reading
        self.starts = {anchor: list(titles) for anchor, titles in (starts or {}).items()}
        self.out: list[Start | Paragraph] = []
        self.parts: list[str] = []
        self.skipped: list[SkippedSection] = []
        self.code_listings = 0
        self.heading = 0  # level of the heading being read, 0 outside headings
        self.link_depth = 0
        self.line_depth = 0
        self.pre_depth = 0
        self.direction_depth = 0  # inside a stage direction
        self.number = ""  # "3. " of an ordered list item, put before its first paragraph
        self.label = ""  # "Lane." of a speaker, put before the speech's first paragraph
        self.later_notes: list[str] = []  # notes met inside a paragraph, read after it
        self.play = False  # the document has speaker labels: all-italic paragraphs are stage directions

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
        self.play = any(is_persona(node) or is_label_paragraph(node) for node in root.iter())
        self._visit(body if body is not None else root, depth=0)
        self._flush()
        self._flush_label()
        return without_contents_lists(self.out, self.reading, self.skipped)

    def _visit(self, node: etree._Element, depth: int) -> None:
        name = local(node)
        if not name:
            return  # comment, processing instruction or unexpanded entity; its tail is read by the parent
        while (inner := wrapped(node, name)) is not None and depth > MAX_WALK_DEPTH // 2:
            # A chain of bare wrappers (a body inside thousands of <div>s) is walked in a loop, not
            # by recursion, so what it wraps keeps its paragraphs at any depth.
            self._start_chapters(node)
            node, name = inner, local(inner)
        self._start_chapters(node)
        if self._left_out(node, name):
            for inner in node.iterdescendants():
                self._start_chapters(inner)  # a chapter may start inside a skipped title page
            return
        if name == "br":
            self.parts.append(LINE_BREAK)
            return
        if self.reading.notes and "noteref" in epub_types(node):
            label = one_line(node)
            if label:
                self.parts.append(f" (note {label})")
            return
        if self._special(node, name):
            return
        block = name in BLOCK_TAGS and not (name in ("td", "th") and is_speech_row(node.getparent()))
        group = bool(class_names(node) & LINE_GROUP_CLASSES)
        direction = is_direction(node) or (self.play and is_direction_paragraph(node))
        link_line = block and is_link_line(node)
        if block or direction:
            self._break(hard=direction)
        if link_line:
            self.link_depth += 1
        if group:
            self.line_depth += 1
        if direction:
            self.direction_depth += 1
        if name in HEADING_TAGS:
            self.heading = int(name[1])
        if name == "pre":
            self.pre_depth += 1
        if name == "li" and local(node.getparent()) == "ol":
            self.number = f"{list_number(node)}. "
        if depth > MAX_WALK_DEPTH:  # keep Python's stack clear of very deep markup: its text is read as one
            self._text(" ".join(node.itertext()))
        else:
            self._text(node.text)
            for child in node:
                self._visit(child, depth + 1)
                self._text(child.tail)
        if block or direction:
            self._break(hard=direction)
        if direction:
            self.direction_depth -= 1
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
        if name == "tr" or (name == "blockquote" and self.label):
            self._flush_label()  # a speaker with no words of their own (only a direction)

    def _left_out(self, node: etree._Element, name: str) -> bool:
        """Nothing to narrate here, or a kind of section the user does not want: left out (and listed)."""
        if name in SILENT_TAGS or node.get("hidden") is not None:
            return True
        if name == "svg":
            return not any(local(inner) in SVG_TEXT_TAGS for inner in node.iterdescendants())
        types = epub_types(node)
        if types & NEVER_READ_TYPES or class_names(node) & NUMBER_CLASSES:
            return True
        found = element_kind(node)
        if found is not None and self.reading.leaves_out(found[0]):
            self.skipped.append(skipped_section(node, *found))
            return True
        if name in ("ul", "ol") and self.reading.leaves_out("bibliography") and self._drop_link_list(node):
            return True
        if self.reading.notes:
            return False
        return "noteref" in types or is_note_link(node, name)

    def _drop_link_list(self, node: etree._Element) -> bool:
        """A list of links right under its own heading ("Samples", "Further resources") is a bibliography:
        it and its heading are left out and listed. A list a sentence introduces is read."""
        heading = node.getprevious()
        while heading is not None and not isinstance(heading.tag, str):
            heading = heading.getprevious()  # a comment between them
        if heading is None or local(heading) not in HEADING_TAGS or (heading.tail or "").strip():
            return False
        items = [item for item in node if local(item) == "li"]
        linked = [any(_external(a) for a in item.iter() if local(a) == "a") or bool(WEB_ADDRESS.search(one_line(item))) for item in items]
        words = sum(len(one_line(item).split()) for item in items)
        reason = link_list_reason(linked, words)
        if not reason:
            return False
        title = one_line(heading)
        last = self.out[-1] if self.out else None
        if isinstance(last, Paragraph) and last.heading and comparable(last.text) == comparable(title):
            self.out.pop()  # its heading was read already: it goes with the list
        self.skipped.append(SkippedSection(title, "bibliography", words + len(title.split()), reason))
        return True

    def _special(self, node: etree._Element, name: str) -> bool:
        """Elements read in their own way: code, speaker labels, notes inside a sentence, SVG text."""
        if not self.reading.read_code and is_listing(node, name):
            self._break(hard=True)
            self.out.append(Paragraph(CODE_CUE))
            self.code_listings += 1
            return True
        if name in CODE_TAGS and not self.reading.read_code:
            self._text(inline_code_words(node))
            return True
        if self._is_label(node):
            self._break(hard=True)
            self._flush_label()
            self.label = spoken_label(one_line(node))
            return True
        if epub_types(node) & NOTE_TYPES and "".join(self.parts).strip():
            self.later_notes.append(one_line(node))  # read after the paragraph, not mid-sentence
            return True
        if name == "svg":  # text on a picture (fixed-layout pages): <text> lines, XHTML in <foreignObject>
            self._break()
            for text in svg_lines(node):
                self._text(f" {text} ")
            self._break()
            for foreign in (inner for inner in node.iterdescendants() if local(inner) == "foreignobject"):
                for child in foreign:
                    self._visit(child, depth=1)
            self._break()
            return True
        return False

    def _is_label(self, node: etree._Element) -> bool:
        """A speaker's label: a persona cell, a bold name opening a paragraph, Feedbooks' name paragraph.
        A persona named inside a stage direction or a sentence ("Lane is arranging tea") is not one."""
        if is_label_paragraph(node):
            return True
        if not is_persona(node) or self.direction_depth:
            return False
        return local(node) in ("td", "th") or not "".join(self.parts).strip()

    def _start_chapters(self, node: etree._Element) -> None:
        anchor = node.get("id") or (node.get("name") if local(node) == "a" else None)
        if anchor and anchor in self.starts:
            self._flush()
            self._flush_label()
            self.out.extend(Start(title) for title in self.starts.pop(anchor))

    def _text(self, text: str | None) -> None:
        if text:
            self.parts.append(text.replace("\n", LINE_BREAK) if self.pre_depth else text)

    def _break(self, hard: bool = False) -> None:
        """A block boundary: a new paragraph, or only a new line inside a line group."""
        if self.line_depth and not hard:
            self.parts.append(LINE_EDGE)
        else:
            self._flush()

    def _flush(self) -> None:
        raw = "".join(self.parts).translate(INVISIBLE)
        self.parts = []
        for text in split_paragraphs(raw):
            text, self.number = self.number + text, ""
            if self.direction_depth:
                text = closed(text)
            elif self.label and starts_sentence(speech := text.lstrip(LABEL_PUNCTUATION)):
                text, self.label = f"{self.label} {speech}", ""
            else:
                self._flush_label()
            self.out.append(Paragraph(text, heading=self.heading, link_only=self.link_depth > 0))
        notes, self.later_notes = self.later_notes, []
        self.out.extend(Paragraph(note) for note in notes if note)

    def _flush_label(self) -> None:
        """A speaker's label that found no speech to lead: said on its own."""
        if self.label:
            self.out.append(Paragraph(self.label))
            self.label = ""


def wrapped(node: etree._Element, name: str) -> etree._Element | None:
    """The only child of a bare wrapper (a <div> or <section> with nothing else in it), else None."""
    if name not in WRAPPER_TAGS or (node.text or "").strip() or len(node) != 1:
        return None
    inner = node[0]
    if not isinstance(inner.tag, str) or (inner.tail or "").strip():
        return None
    if epub_types(node) or class_names(node) & (LINE_GROUP_CLASSES | NUMBER_CLASSES) or node.get("hidden") is not None:
        return None
    if is_direction(node) or is_persona(node) or element_kind(node) is not None:
        return None
    return inner


def svg_lines(svg: etree._Element) -> list[str]:
    """The text of an SVG picture, line by line from the top (then from the left) where placed."""
    texts = [inner for inner in svg.iterdescendants() if local(inner) == "text"]

    def place(text: etree._Element) -> tuple[float, float]:
        try:
            return float(text.get("y", "")), float(text.get("x", ""))
        except ValueError:
            return 0.0, 0.0

    placed = all(place(text) != (0.0, 0.0) for text in texts)
    return [one_line(text) for text in (sorted(texts, key=place) if placed else texts)]


def joined_lines(blocks: list[Start | Paragraph]) -> list[Start | Paragraph]:
    """A fixed-layout page sets every printed line in its own box: join lines back into
    paragraphs wherever a line does not end a sentence (a hyphen at the end joins the word)."""
    out: list[Start | Paragraph] = []
    for block in blocks:
        last = out[-1] if out else None
        if (
            isinstance(block, Paragraph)
            and isinstance(last, Paragraph)
            and not (block.heading or last.heading or block.link_only or last.link_only)
            and not LINE_END.search(last.text)
        ):
            if last.text.endswith("-") and block.text[:1].islower():
                last.text = last.text[:-1] + block.text
            else:
                last.text = f"{last.text} {block.text}"
            continue
        out.append(block)
    return out


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


def _external(link: etree._Element) -> bool:
    return urlsplit(link.get("href", "")).scheme in ("http", "https", "ftp")


def is_link_line(node: etree._Element) -> bool:
    """A block whose only text is links inside the book, like a line of a printed contents page."""
    if any(local(inner) in BLOCK_TAGS for inner in node.iterdescendants()):
        return False  # checked first: a container stops at its first block, never walking its subtree
    links = [a for a in node.iter() if local(a) == "a" and a.get("href") and not urlsplit(a.get("href", "")).scheme]
    if not links:
        return False
    return comparable(one_line(node)) == comparable(" ".join(one_line(a) for a in links)) != ""


def without_contents_lists(
    blocks: list[Start | Paragraph], reading: Reading, skipped: list[SkippedSection]
) -> list[Start | Paragraph]:
    """Drop printed contents pages: runs of three or more link-only paragraphs, and their
    "Contents" heading. The chapter titles are announced anyway; a list of them is not prose."""
    if not reading.leaves_out("contents"):
        return blocks
    out: list[Start | Paragraph] = []
    run: list[Paragraph] = []
    for block in [*blocks, None]:
        if isinstance(block, Paragraph) and block.link_only:
            run.append(block)
            continue
        if len(run) >= CONTENTS_LIST_MIN_LINES:
            last = out[-1] if out else None
            title = first_words([p.text for p in run])
            if isinstance(last, Paragraph) and comparable(last.text) in ("contents", "tableofcontents"):
                title = out.pop().text
            words = word_count([p.text for p in run])
            skipped.append(SkippedSection(title, "contents", words, f"a list of {len(run)} links into the book"))
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
    """Whether the document has any text (title pages and pictures do not count). Every kind of
    section counts here: a book of nothing but notes has text, though the user may skip it all."""
    everything = Reading(skip=(), read_notes=True, read_code=True)
    return any(isinstance(block, Paragraph) for block in Flattener(everything).run(root))
