"""The table of contents (EPUB 3 nav or EPUB 2 NCX) and which entries start chapters."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .archive import Archive, plain_name, resolve
from .markup import children, epub_types, first, load_xml, local, one_line
from .package import NCX_TYPE, Package
from .sections import guide_kind

# Guide pages and landmarks that hold no reading text; skipped unless the contents points inside them.
# (Contents, index, copyright pages... are kinds of sections the user may turn on: sections.GUIDE_KINDS.)
NEVER_READ_PAGES = {"cover", "title-page", "titlepage", "halftitlepage"}

# --- table of contents ----------------------------------------------------------------


@dataclass
class TocEntry:
    title: str
    target: tuple[str, str] | None  # archive name and fragment ("" for the document's top)
    children: list[TocEntry] = field(default_factory=list)

    def position(self) -> tuple[str, str] | None:
        """Where the entry starts: its own target, else its first child's (a heading-only entry)."""
        if self.target is not None:
            return self.target
        return next((pos for child in self.children if (pos := child.position()) is not None), None)


def table_of_contents(archive: Archive, package: Package, notes: list[str]) -> list[TocEntry]:
    """The EPUB 3 nav (epub:type="toc") if it has entries, else the EPUB 2 NCX navMap."""
    nav = next((item for item in package.items.values() if "nav" in item.properties), None)
    if nav is not None and archive.find(nav.path):
        root = load_xml(archive, archive.find(nav.path) or nav.path, "navigation document", html_entities=True)
        entries = nav_entries(root, nav.path) if root is not None else []
        if entries:
            return entries
        notes.append("navigation document has no usable table of contents")
    ncx = package.items.get(package.ncx_id or "") or next(
        (i for i in package.items.values() if i.media_type == NCX_TYPE), None
    )
    if ncx is not None and archive.find(ncx.path):
        root = load_xml(archive, archive.find(ncx.path) or ncx.path, "NCX table of contents", html_entities=True)
        nav_map = first(root, "navmap") if root is not None else None
        if nav_map is not None:
            return ncx_entries(nav_map, ncx.path)
    return []


def nav_entries(root: etree._Element, base: str) -> list[TocEntry]:
    navs = [node for node in root.iter() if local(node) == "nav"]
    toc = next((nav for nav in navs if "toc" in epub_types(nav)), navs[0] if navs else None)
    top = first(toc, "ol") if toc is not None else None
    return nav_list(top, base) if top is not None else []


def nav_list(ol: etree._Element, base: str) -> list[TocEntry]:
    entries = []
    for li in children(ol, "li"):
        label = next((child for child in li if local(child) in ("a", "span")), None)
        href = label.get("href") if label is not None and local(label) == "a" else None
        target = resolve(base, href, "contents entry") if href else None
        sub = next(iter(children(li, "ol")), None)
        entries.append(TocEntry(one_line(label), target, nav_list(sub, base) if sub is not None else []))
    return entries


def ncx_entries(parent: etree._Element, base: str) -> list[TocEntry]:
    entries = []
    for point in children(parent, "navpoint"):
        label = next(iter(children(point, "navlabel")), None)
        content = next(iter(children(point, "content")), None)
        src = content.get("src") if content is not None else None
        target = resolve(base, src, "contents entry") if src else None
        text = one_line(first(label, "text")) if label is not None else ""
        entries.append(TocEntry(text, target, ncx_entries(point, base)))
    return entries


def chapter_entries(entries: list[TocEntry], top: bool = True) -> list[TocEntry]:
    """Flatten the contents tree into the entries that start chapters.

    A chapter is a top-level entry, below a single wrapper entry (the book's
    title over everything) if there is one. An entry's children become chapters
    too when one of them starts in another document: that is a part made of
    chapter files. Children that only point at anchors inside their parent's
    own document are its sections and stay inside its chapter, so an audiobook
    does not get a chapter per subheading.
    """
    chosen: list[TocEntry] = []
    while top and len(entries) == 1 and entries[0].children:
        entries = entries[0].children  # the wrapper's own page, if any, is the book's opening
    for entry in entries:
        chosen.append(entry)
        own = entry.target[0] if entry.target else None
        if any((pos := child.position()) is not None and pos[0] != own for child in entry.children):
            chosen.extend(chapter_entries(entry.children, top=False))
    return chosen


def chapter_starts(entries: list[TocEntry], reading: set[str]) -> dict[str, dict[str, list[str]]]:
    """Document -> anchor ("" = top of the document) -> titles of the chapters starting there."""
    documents = {plain_name(name): name for name in reading}  # sloppy books mix letter case and Unicode forms
    starts: dict[str, dict[str, list[str]]] = {}
    for entry in entries:
        position = entry.position()
        document = documents.get(plain_name(position[0])) if position is not None else None
        if document is not None:
            starts.setdefault(document, {}).setdefault(position[1], []).append(entry.title)
    return starts


def guide_pages(package: Package, entries: list[TocEntry], marks: list[tuple[str, str, str]]) -> dict[str, str | None]:
    """Whole documents the guide or the nav's landmarks call a cover, title, contents,
    copyright or index page... -> their kind of section (None: a cover or title page, never read).

    A document the contents points into with an anchor holds more than that
    page (a whole book in one file), so it is kept.
    """
    anchored = {pos[0] for entry in entries if (pos := entry.position()) is not None and pos[1]}
    pages: dict[str, str | None] = {}
    for kind, name, fragment in [*package.guide, *marks]:
        if fragment or name in anchored:
            continue
        if kind in NEVER_READ_PAGES:
            pages[name] = None
        elif guide_kind(kind):
            pages.setdefault(name, guide_kind(kind))
    return pages


def landmarks(archive: Archive, package: Package) -> list[tuple[str, str, str]]:
    """The EPUB 3 nav's landmarks as (epub:type, archive name, fragment), like the EPUB 2 guide."""
    nav = next((item for item in package.items.values() if "nav" in item.properties), None)
    name = archive.find(nav.path) if nav is not None else None
    root = load_xml(archive, name, "navigation document", html_entities=True) if name else None
    marks = []
    for block in (node for node in (root.iter() if root is not None else ()) if local(node) == "nav"):
        if "landmarks" not in epub_types(block):
            continue
        for link in (a for a in block.iter() if local(a) == "a" and a.get("href")):
            where = resolve(nav.path, link.get("href", ""), "landmark")
            if where is not None:
                marks.extend((kind, archive.find(where[0]) or where[0], where[1]) for kind in epub_types(link))
    return marks
