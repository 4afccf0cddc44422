"""EPUB reader: phase 1 (``inspect``) and phase 2 (``extract``).

An EPUB is a ZIP of XML files: META-INF/container.xml names the package (OPF),
whose spine gives the reading order and whose nav document (EPUB 3) or NCX
(EPUB 2) gives the chapter titles. Books are hostile until proven otherwise, so:

- the archive is read in memory through ``_Archive``, which refuses zip bombs
  (too many members, a huge declared total, an implausible compression ratio)
  and caps every member while it is actually decompressed, because declared
  sizes can lie;
- names from the archive are only ever dictionary keys, never paths on disk;
  every href is resolved inside the archive with posixpath and refused when it
  escapes the root. The only file written is the cover, under a fixed name;
- XML is parsed with entities, DTDs and the network off, and a document that
  declares entities (XXE, billion laughs) is refused rather than expanded.
"""

from __future__ import annotations

import html.entities
import os
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from .errors import BookError
from .fileio import atomic_writer
from .model import BookFacts, Chapter, ExtractedBook
from .settings import EngineSettings

# --- limits: generous for real books, fatal for bombs --------------------------------

MIB = 1024 * 1024
MAX_MEMBERS = 10_000  # real EPUBs hold tens to a few thousand files
MAX_DIRECTORY_BYTES = 8 * MIB  # the ZIP's own file list, checked before zipfile loads it
MAX_XML_BYTES = 32 * MIB  # one container, OPF, NCX, nav or XHTML document
MAX_COVER_BYTES = 16 * MIB
# Deflate tops out near 1000:1 and bombs sit there; real XHTML stays well under 20:1.
MAX_RATIO = 200
RATIO_CHECKED_FROM = 1 * MIB  # tiny members can compress oddly well and cannot hurt
READ_PIECE_BYTES = 64 * 1024
UNPACKED_PER_BOOK_MB = 4  # everything unpacked together: at most 4x engine.max_book_mb
# Text before the first contents entry is usually a title or copyright page; this
# much of it is more likely an unlisted preface, kept as a chapter of its own.
LEADING_MIN_WORDS = 300
CONTENTS_LIST_MIN_LINES = 3  # this many link-only paragraphs in a row are a printed contents page

HOSTILE_ACTION = "the file may be hostile or damaged; get the book again from a trusted source"

# --- XML -------------------------------------------------------------------------------

XML_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)
OPS_NS = "http://www.idpf.org/2007/ops"
OPF_NS = "http://www.idpf.org/2007/opf"
ADOBE_ADEPT_NS = "http://ns.adobe.com/adept"
XLINK_NS = "http://www.w3.org/1999/xlink"

# Font obfuscation (IDPF and Adobe) only scrambles embedded fonts; it is not DRM.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}

DOCUMENT_TYPES = {"application/xhtml+xml", "text/html", "text/x-oeb1-document"}
NCX_TYPE = "application/x-dtbncx+xml"

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
# Guide pages that hold no reading text; skipped unless the contents points inside them.
GUIDE_SKIPPED = {"colophon", "copyright-page", "cover", "index", "loi", "lot", "title-page", "toc"}

# While text is gathered, <br> is LINE_BREAK and a block edge inside a line group is
# LINE_EDGE; XML text can hold neither. Two <br> in a row end a stanza, edges never do.
LINE_BREAK = "\x00"
LINE_EDGE = "\x01"
BREAK_RUN = re.compile(r"[\x00\x01](?:\s*[\x00\x01])*")
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))  # soft hyphen, zero-width space, word joiner, BOM
ENTITY_REFERENCE = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
BRACKET_NOTE = re.compile(r"\[\d{1,3}\]")  # "[12]" as a footnote link

GUTENBERG_START = re.compile(r"^\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG", re.I | re.M)
GUTENBERG_END = re.compile(
    r"^(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG|End of (the )?Project Gutenberg)", re.I | re.M
)

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- public ----------------------------------------------------------------------------


def inspect(path: Path, settings: EngineSettings) -> BookFacts:
    """Phase 1: check the archive, package, DRM and text of an EPUB; describe it or refuse it."""
    path = Path(path)
    damage: list[str] = []
    with _Archive.open(path, settings) as archive:
        package = _read_package(archive)
        _refuse_drm(archive, package, damage)
        reading = _reading_order(archive, package, damage)
        if not reading:
            raise BookError(
                "empty",
                "has no readable documents in its reading order (spine)",
                "check the book opens in an e-book reader",
            )
        has_text, readable = False, 0
        for item in reading:  # every document is parsed, so a hostile one is refused in phase 1
            root = _load_xml(archive, item.path, "text document", html_entities=True)
            if root is None:
                damage.append(f"unreadable document {_shown(item.path)}")
                continue
            readable += 1
            has_text = has_text or _has_text(root)
        if not readable:
            raise BookError("corrupt", "has no text document that can be read as XHTML", HOSTILE_ACTION)
        if not has_text:
            raise BookError(
                "no_text_layer",
                "has no text to read (its pages are pictures only)",
                "use an edition of the book with real text",
            )
        _table_of_contents(archive, package, damage)  # parsed now so a hostile one is refused in phase 1
    return BookFacts(
        format="epub",
        size_bytes=path.stat().st_size,
        spine_items=len(package.spine),
        title=package.title,
        author=" & ".join(package.authors) or None,
        language=package.language,
        year=package.year,
        has_text_layer=True,
        damage=damage,
    )


def extract(path: Path, facts: BookFacts, settings: EngineSettings, work_dir: Path) -> ExtractedBook:
    """Phase 2: the book's chapters in spine order, titled by its table of contents."""
    notes: list[str] = []
    with _Archive.open(Path(path), settings) as archive:
        package = _read_package(archive)
        _refuse_drm(archive, package, notes)
        reading = _reading_order(archive, package, notes)
        entries = _chapter_entries(_table_of_contents(archive, package, notes))
        starts = _chapter_starts(entries, {item.path for item in reading})
        skipped = _guide_skipped(package, entries)
        blocks: list[_Start | _Paragraph] = []
        for item in reading:
            if item.path in skipped and len(reading) > 1:
                continue
            root = _load_xml(archive, item.path, "text document", html_entities=True)
            if root is None:
                notes.append(f"unreadable document skipped: {_shown(item.path)}")
                continue
            blocks.extend(_Flattener(settings.read_notes, starts.get(item.path, {})).run(root))
        if not starts:
            notes.append("no usable table of contents: chapters start at headings")
            blocks = _starts_at_headings(blocks)
        title = package.title or facts.title or Path(path).stem
        blocks = _without_gutenberg_frame(blocks, notes)
        chapters = _assemble(blocks, title, notes)
        cover = _save_cover(archive, package, Path(work_dir), notes)
    return ExtractedBook(
        title=title,
        author=" & ".join(package.authors) or facts.author,
        language=package.language or facts.language,
        year=package.year or facts.year,
        chapters=chapters,
        cover_path=cover,
        notes=notes,
    )


# --- the archive -----------------------------------------------------------------------


class _Archive:
    """A ZIP read only through size caps. Member names are keys here, never paths on disk."""

    def __init__(self, archive: zipfile.ZipFile, total_limit: int) -> None:
        self.zip = archive
        self.members = {info.filename: info for info in archive.infolist()}
        self.folded = {name.casefold(): name for name in self.members}
        self.total_limit = total_limit
        self.total_read = 0

    @classmethod
    def open(cls, path: Path, settings: EngineSettings) -> _Archive:
        _check_directory(path)
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
            raise BookError(
                "corrupt",
                f"is not a readable ZIP archive, as every EPUB is ({_printable(str(error))})",
                "copy the book again from its source",
            ) from None
        try:
            total_limit = settings.max_book_mb * MIB * UNPACKED_PER_BOOK_MB
            _check_members(archive.infolist(), total_limit)
        except BookError:
            archive.close()
            raise
        return cls(archive, total_limit)

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def find(self, name: str) -> str | None:
        """The member called ``name``, matched exactly or, for sloppy books, ignoring case."""
        if name in self.members:
            return name
        return self.folded.get(name.casefold())

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def read(self, name: str, cap: int, what: str) -> bytes:
        info = self.members[name]
        if info.file_size > cap:
            raise BookError(
                "too_large",
                f"has a {what} of {info.file_size / MIB:.0f} MB, more than a book ever needs",
                HOSTILE_ACTION,
            )
        # Read in small pieces: zipfile stops at the declared size, but decompresses a whole
        # read() request first, so one big read() could still unpack that much.
        limit, pieces, got = min(cap, info.file_size), [], 0
        try:
            with self.zip.open(info) as handle:
                while piece := handle.read(READ_PIECE_BYTES):
                    got += len(piece)
                    if got > limit:
                        raise BookError(
                            "corrupt", f"has a {what} that unpacks to more than its archive says", HOSTILE_ACTION
                        )
                    pieces.append(piece)
        except RuntimeError:  # zipfile's word for a password-protected member
            raise BookError(
                "encrypted",
                "is a password-protected ZIP, not a readable EPUB",
                "export or download an unprotected (DRM-free) copy of the book",
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as error:
            raise BookError(
                "corrupt", f"has a damaged {what} {_shown(name)} ({_printable(str(error))})", HOSTILE_ACTION
            ) from None
        data = b"".join(pieces)
        self.total_read += len(data)
        if self.total_read > self.total_limit:
            raise BookError("too_large", "unpacks to more data than its archive declares", HOSTILE_ACTION)
        return data


def _check_directory(path: Path) -> None:
    """Refuse a ZIP whose file list is huge before zipfile builds an object per entry."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - (22 + 65535)))  # end record plus the longest comment
            tail = handle.read()
    except OSError as error:
        raise BookError(
            "not_a_book", f"cannot be read ({error.strerror})", "check the file exists and is readable"
        ) from None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # no end record: zipfile will call it what it is
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        raise BookError(
            "too_large", "is a ZIP64 archive (over 65,535 files or 4 GB), far beyond any book", HOSTILE_ACTION
        )
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise BookError(
            "too_large", f"holds {entries:,} files, more than the {MAX_MEMBERS:,} a book may have", HOSTILE_ACTION
        )


def _check_members(infos: list[zipfile.ZipInfo], total_limit: int) -> None:
    """Refuse zip bombs by what the archive declares; ``_Archive.read`` catches the liars."""
    if len(infos) > MAX_MEMBERS:
        raise BookError(
            "too_large", f"holds {len(infos):,} files, more than the {MAX_MEMBERS:,} a book may have", HOSTILE_ACTION
        )
    total = sum(info.file_size for info in infos)
    if total > total_limit:
        raise BookError(
            "too_large",
            f"would unpack to {total / MIB:,.0f} MB, above the {total_limit // MIB:,} MB allowed",
            "raise engine.max_book_mb in config.yaml if the book is genuine",
        )
    for info in infos:
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BookError(
                "corrupt",
                f"looks like a zip bomb: one file unpacks {info.file_size // max(info.compress_size, 1):,} times larger",
                HOSTILE_ACTION,
            )


def _resolve(base: str, href: str, what: str) -> tuple[str, str] | None:
    """Archive name and fragment that ``href`` (relative to member ``base``) points at.

    None for links outside the book (http:, mailto:). A path that climbs out of
    the archive root is refused: no real book has one.
    """
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc:
        return None
    relative = unquote(parts.path)
    if not relative:
        return base, unquote(parts.fragment)
    name = posixpath.normpath(posixpath.join(posixpath.dirname(base), relative))
    if name.startswith("/") or name == ".." or name.startswith("../"):
        raise BookError("corrupt", f"has a {what} that points outside the book ({_shown(href)})", HOSTILE_ACTION)
    return name, unquote(parts.fragment)


def _shown(text: str, limit: int = 60) -> str:
    """A name from the book, quoted and shortened, safe to put in the user's one line."""
    clean = _printable(text)
    return repr(clean if len(clean) <= limit else clean[: limit - 1] + "…")


def _printable(text: str) -> str:
    """No control characters (terminal escapes, newlines) from a book reach the user's screen."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


# --- XML -------------------------------------------------------------------------------


def _load_xml(archive: _Archive, name: str, what: str, *, html_entities: bool = False) -> etree._Element | None:
    return _parse_xml(archive.read(name, MAX_XML_BYTES, what), what, html_entities=html_entities)


def _parse_xml(data: bytes, what: str, *, html_entities: bool = False) -> etree._Element | None:
    """Parse without fetching or expanding anything; None when even recovery fails.

    Broken markup is common in real books, so a strict parse that fails is
    retried in recover mode. Either way, a document that declares entities is
    refused: EPUB never needs them, and billion laughs and XXE are made of them.
    """
    if html_entities:
        data = _numeric_entities(data)
    root = None
    for recover in (False, True):
        try:
            root = etree.fromstring(data, etree.XMLParser(recover=recover, **XML_PARSER_OPTIONS))
        except etree.XMLSyntaxError:
            root = None
        if root is not None:
            break
    if root is None:
        return None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise BookError("corrupt", f"has a {what} that declares XML entities, which no EPUB needs", HOSTILE_ACTION)
    return root


def _numeric_entities(data: bytes) -> bytes:
    """Turn HTML named entities (&nbsp; &mdash;) into character references.

    EPUB 2 XHTML often uses them without declaring them, and with DTD loading
    off the XML parser does not know them. UTF-16 text is left alone.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        return data

    def numeric(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        text = None if name in XML_ENTITIES else html.entities.html5.get(name.decode("ascii") + ";")
        if text is None:
            return match.group(0)
        return "".join(f"&#{ord(ch)};" for ch in text).encode("ascii")

    return ENTITY_REFERENCE.sub(numeric, data)


def _local(element: etree._Element) -> str:
    """Lower-case tag name without namespace; "" for comments, PIs and entity references."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child) == name]


def _first(element: etree._Element, name: str) -> etree._Element | None:
    return next((node for node in element.iter() if _local(node) == name), None)


def _one_line(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).translate(INVISIBLE).split())


def _types(element: etree._Element) -> set[str]:
    """epub:type values plus DPUB-ARIA roles ("doc-endnotes" counts as "endnotes")."""
    value = element.get(f"{{{OPS_NS}}}type") or element.get("epub:type") or ""
    found = set(value.lower().split())
    found.update(role[4:] for role in (element.get("role") or "").lower().split() if role.startswith("doc-"))
    return found


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").lower().split())


# --- the package -----------------------------------------------------------------------


@dataclass
class _Item:
    id: str
    path: str  # archive member name
    media_type: str
    properties: set[str]


@dataclass
class _Package:
    path: str
    title: str | None
    authors: list[str]
    language: str | None
    year: str | None
    items: dict[str, _Item]  # by manifest id
    spine: list[tuple[_Item, bool]]  # item and whether it is linear (read in order)
    ncx_id: str | None
    cover_meta: str | None  # EPUB 2 <meta name="cover" content="...">
    guide: list[tuple[str, str, str]] = field(default_factory=list)  # type, archive name, fragment


def _read_package(archive: _Archive) -> _Package:
    container_name = archive.find("META-INF/container.xml")
    if container_name is None:
        raise BookError(
            "not_a_book",
            "is a ZIP archive but not an EPUB (it has no META-INF/container.xml)",
            "check the file is really the book; convert other formats to EPUB first",
        )
    container = _load_xml(archive, container_name, "container file")
    rootfiles = [] if container is None else [node for node in container.iter() if _local(node) == "rootfile"]
    full_paths = [node.get("full-path", "") for node in rootfiles if node.get("full-path")]
    preferred = [
        node.get("full-path", "") for node in rootfiles if node.get("media-type") == "application/oebps-package+xml"
    ]
    if not full_paths:
        raise BookError(
            "corrupt",
            "has a container file that names no package (OPF)",
            "repair the book with an EPUB editor or get it again",
        )
    target = _resolve("", (preferred or full_paths)[0], "container entry")
    opf_name = archive.find(target[0]) if target else None
    if opf_name is None:
        raise BookError(
            "corrupt",
            "lacks the package file (OPF) its container names",
            "repair the book with an EPUB editor or get it again",
        )
    opf = _load_xml(archive, opf_name, "package file (OPF)")
    if opf is None:
        raise BookError(
            "corrupt",
            "has a package file (OPF) that is not readable XML",
            "repair the book with an EPUB editor or get it again",
        )

    items: dict[str, _Item] = {}
    for node in opf.iter():
        if _local(node) != "item" or not node.get("id") or not node.get("href"):
            continue
        where = _resolve(opf_name, node.get("href", ""), "manifest entry")
        if where is not None:
            name = archive.find(where[0]) or where[0]
            items[node.get("id", "")] = _Item(
                node.get("id", ""),
                name,
                (node.get("media-type") or "").lower(),
                set((node.get("properties") or "").split()),
            )
    spine_node = _first(opf, "spine")
    spine = []
    if spine_node is not None:
        for ref in _children(spine_node, "itemref"):
            item = items.get(ref.get("idref", ""))
            if item is not None:
                spine.append((item, (ref.get("linear") or "yes").strip().lower() != "no"))
    guide = []
    for ref in (node for node in opf.iter() if _local(node) == "reference"):
        where = _resolve(opf_name, ref.get("href", ""), "guide entry") if ref.get("href") else None
        if where is not None:
            guide.append(((ref.get("type") or "").lower(), archive.find(where[0]) or where[0], where[1]))
    metadata = _first(opf, "metadata")
    title, authors, language, year, cover_meta = (
        _read_metadata(metadata) if metadata is not None else (None, [], None, None, None)
    )
    return _Package(
        path=opf_name,
        title=title,
        authors=authors,
        language=language,
        year=year,
        items=items,
        spine=spine,
        ncx_id=spine_node.get("toc") if spine_node is not None else None,
        cover_meta=cover_meta,
        guide=guide,
    )


def _read_metadata(metadata: etree._Element) -> tuple[str | None, list[str], str | None, str | None, str | None]:
    by_name: dict[str, list[etree._Element]] = {}
    for node in metadata.iter():  # .iter(): EPUB 2 books may nest them in <dc-metadata>
        by_name.setdefault(_local(node), []).append(node)
    titles = [_one_line(node) for node in by_name.get("title", [])]
    languages = [_one_line(node) for node in by_name.get("language", [])]
    # EPUB 3 gives roles in <meta refines="#id" property="role">, EPUB 2 in opf:role.
    roles: dict[str, set[str]] = {}
    for meta in by_name.get("meta", []):
        if meta.get("property") == "role" and meta.get("refines", "").startswith("#"):
            roles.setdefault(meta.get("refines", "")[1:], set()).add(_one_line(meta))
    creators = []
    for node in by_name.get("creator", []):
        name = _one_line(node)
        epub2_role = node.get(f"{{{OPF_NS}}}role")
        node_roles = {epub2_role} if epub2_role else roles.get(node.get("id", ""), set())
        if name:
            creators.append((name, node_roles))
    # Illustrators and editors are creators too; the author is whoever has no role or "aut".
    authors = [name for name, found in creators if not found or "aut" in found] or [name for name, _ in creators]
    year = None
    for node in by_name.get("date", []):
        if (node.get(f"{{{OPF_NS}}}event") or "").lower() == "modification":
            continue  # when the file was edited, not when the book appeared
        match = re.match(r"\s*(\d{4})", _one_line(node))
        if match:
            year = match.group(1)
            break
    cover_meta = next((meta.get("content") for meta in by_name.get("meta", []) if meta.get("name") == "cover"), None)
    return (
        next((t for t in titles if t), None),
        authors,
        next((lang for lang in languages if lang), None),
        year,
        cover_meta,
    )


def _refuse_drm(archive: _Archive, package: _Package, notes: list[str]) -> None:
    """Refuse books whose text is encrypted; font obfuscation alone is fine."""
    listing = archive.find("META-INF/encryption.xml")
    if listing is None:
        return
    root = _load_xml(archive, listing, "encryption list")
    if root is None:
        raise BookError("corrupt", "has an unreadable encryption list (META-INF/encryption.xml)", HOSTILE_ACTION)
    texts = {
        item.path for item in package.items.values() if item.media_type in DOCUMENT_TYPES or item.media_type == NCX_TYPE
    }
    texts.add(package.path)
    encrypted_text, encrypted_other = 0, 0
    for data in (node for node in root.iter() if _local(node) == "encrypteddata"):
        method = _first(data, "encryptionmethod")
        if method is not None and method.get("Algorithm", "") in FONT_OBFUSCATION:
            continue
        reference = _first(data, "cipherreference")
        where = _resolve("", reference.get("URI", ""), "encryption entry") if reference is not None else None
        if where is None:
            continue
        name = archive.find(where[0]) or where[0]
        if name in texts or name.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
            encrypted_text += 1
        else:
            encrypted_other += 1
    if encrypted_text:
        scheme = ""
        if ADOBE_ADEPT_NS in etree.tostring(root, encoding="unicode"):
            scheme = " (Adobe ADEPT)"
        elif archive.find("META-INF/license.lcpl"):
            scheme = " (Readium LCP)"
        elif archive.find("META-INF/sinf.xml"):
            scheme = " (Apple FairPlay)"
        raise BookError(
            "drm",
            f"is DRM-protected{scheme}: its text is encrypted ({encrypted_text} documents)",
            "only DRM-free books can be read; buy or download a DRM-free copy of the book",
        )
    if encrypted_other:
        notes.append(f"{encrypted_other} encrypted pictures or fonts ignored; the text is clear")


def _reading_order(archive: _Archive, package: _Package, notes: list[str]) -> list[_Item]:
    """Linear spine documents that exist, each once. linear="no" items (pop-up notes,
    covers) are outside the reading order by the spec's own definition."""
    order, seen = [], set()
    for item, linear in package.spine:
        if not linear or item.path in seen or item.media_type not in DOCUMENT_TYPES:
            continue
        seen.add(item.path)
        if archive.find(item.path) is None:
            notes.append(f"missing document in the spine: {_shown(item.path)}")
            continue
        order.append(item)
    return order


def _has_text(root: etree._Element) -> bool:
    """Whether the document has anything to narrate (title pages and pictures do not count)."""
    return any(isinstance(block, _Paragraph) for block in _Flattener(False, {}).run(root))


# --- table of contents ----------------------------------------------------------------


@dataclass
class _TocEntry:
    title: str
    target: tuple[str, str] | None  # archive name and fragment ("" for the document's top)
    children: list[_TocEntry] = field(default_factory=list)

    def position(self) -> tuple[str, str] | None:
        """Where the entry starts: its own target, else its first child's (a heading-only entry)."""
        if self.target is not None:
            return self.target
        return next((pos for child in self.children if (pos := child.position()) is not None), None)


def _table_of_contents(archive: _Archive, package: _Package, notes: list[str]) -> list[_TocEntry]:
    """The EPUB 3 nav (epub:type="toc") if it has entries, else the EPUB 2 NCX navMap."""
    nav = next((item for item in package.items.values() if "nav" in item.properties), None)
    if nav is not None and archive.find(nav.path):
        root = _load_xml(archive, archive.find(nav.path) or nav.path, "navigation document", html_entities=True)
        entries = _nav_entries(root, nav.path) if root is not None else []
        if entries:
            return entries
        notes.append("navigation document has no usable table of contents")
    ncx = package.items.get(package.ncx_id or "") or next(
        (i for i in package.items.values() if i.media_type == NCX_TYPE), None
    )
    if ncx is not None and archive.find(ncx.path):
        root = _load_xml(archive, archive.find(ncx.path) or ncx.path, "NCX table of contents", html_entities=True)
        nav_map = _first(root, "navmap") if root is not None else None
        if nav_map is not None:
            return _ncx_entries(nav_map, ncx.path)
    return []


def _nav_entries(root: etree._Element, base: str) -> list[_TocEntry]:
    navs = [node for node in root.iter() if _local(node) == "nav"]
    toc = next((nav for nav in navs if "toc" in _types(nav)), navs[0] if navs else None)
    top = _first(toc, "ol") if toc is not None else None
    return _nav_list(top, base) if top is not None else []


def _nav_list(ol: etree._Element, base: str) -> list[_TocEntry]:
    entries = []
    for li in _children(ol, "li"):
        label = next((child for child in li if _local(child) in ("a", "span")), None)
        href = label.get("href") if label is not None and _local(label) == "a" else None
        target = _resolve(base, href, "contents entry") if href else None
        sub = next(iter(_children(li, "ol")), None)
        entries.append(_TocEntry(_one_line(label), target, _nav_list(sub, base) if sub is not None else []))
    return entries


def _ncx_entries(parent: etree._Element, base: str) -> list[_TocEntry]:
    entries = []
    for point in _children(parent, "navpoint"):
        label = next(iter(_children(point, "navlabel")), None)
        content = next(iter(_children(point, "content")), None)
        src = content.get("src") if content is not None else None
        target = _resolve(base, src, "contents entry") if src else None
        text = _one_line(_first(label, "text")) if label is not None else ""
        entries.append(_TocEntry(text, target, _ncx_entries(point, base)))
    return entries


def _chapter_entries(entries: list[_TocEntry], top: bool = True) -> list[_TocEntry]:
    """Flatten the contents tree into the entries that start chapters.

    A chapter is a top-level entry, below a single wrapper entry (the book's
    title over everything) if there is one. An entry's children become chapters
    too when one of them starts in another document: that is a part made of
    chapter files. Children that only point at anchors inside their parent's
    own document are its sections and stay inside its chapter, so an audiobook
    does not get a chapter per subheading.
    """
    chosen: list[_TocEntry] = []
    while top and len(entries) == 1 and entries[0].children:
        entries = entries[0].children  # the wrapper's own page, if any, is the book's opening
    for entry in entries:
        chosen.append(entry)
        own = entry.target[0] if entry.target else None
        if any((pos := child.position()) is not None and pos[0] != own for child in entry.children):
            chosen.extend(_chapter_entries(entry.children, top=False))
    return chosen


def _chapter_starts(entries: list[_TocEntry], reading: set[str]) -> dict[str, dict[str, list[str]]]:
    """Document -> anchor ("" = top of the document) -> titles of the chapters starting there."""
    documents = {name.casefold(): name for name in reading}  # sloppy books mix letter case
    starts: dict[str, dict[str, list[str]]] = {}
    for entry in entries:
        position = entry.position()
        document = documents.get(position[0].casefold()) if position is not None else None
        if document is not None:
            starts.setdefault(document, {}).setdefault(position[1], []).append(entry.title)
    return starts


def _guide_skipped(package: _Package, entries: list[_TocEntry]) -> set[str]:
    """Whole documents the guide calls a title, contents or copyright page.

    A document the contents points into with an anchor holds more than that
    page (a whole book in one file), so it is kept.
    """
    anchored = {pos[0] for entry in entries if (pos := entry.position()) is not None and pos[1]}
    return {
        name
        for kind, name, fragment in package.guide
        if kind in GUIDE_SKIPPED and not fragment and name not in anchored
    }


# --- XHTML to paragraphs ---------------------------------------------------------------


@dataclass
class _Start:
    """A chapter starts here (a contents entry or, without contents, a heading)."""

    title: str


@dataclass
class _Paragraph:
    text: str  # verse lines are joined with "\n"
    heading: int = 0  # 1 to 6 for the text of <h1> to <h6>
    link_only: bool = False  # the whole paragraph is one link into the book: a contents line


class _Flattener:
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
        self.out: list[_Start | _Paragraph] = []
        self.parts: list[str] = []
        self.heading = 0  # level of the heading being read, 0 outside headings
        self.link_depth = 0
        self.line_depth = 0
        self.pre_depth = 0
        self.number = ""  # "3. " of an ordered list item, put before its first paragraph

    def run(self, root: etree._Element) -> list[_Start | _Paragraph]:
        ids = {node.get("id") or node.get("name") for node in root.iter() if isinstance(node.tag, str)}
        # Chapters start at the document's top. An anchor the document lacks starts there
        # too when nothing else starts in it (a stale id); otherwise its entry is dropped
        # and the text stays with the chapter around it.
        missing = [anchor for anchor in self.starts if anchor and anchor not in ids]
        lost = [title for anchor in missing for title in self.starts.pop(anchor)]
        top = self.starts.pop("", []) + (lost if not self.starts else [])
        self.out.extend(_Start(title) for title in top)
        body = _first(root, "body")
        self._visit(body if body is not None else root, depth=0)
        self._flush()
        return _without_contents_lists(self.out)

    def _visit(self, node: etree._Element, depth: int) -> None:
        name = _local(node)
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
        if self.read_notes and "noteref" in _types(node):
            label = _one_line(node)
            if label:
                self.parts.append(f" (note {label})")
            return
        block = name in BLOCK_TAGS
        group = bool(_classes(node) & LINE_GROUP_CLASSES)
        link_line = block and _is_link_line(node)
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
        if name == "li" and _local(node.getparent()) == "ol":
            self.number = f"{_list_number(node)}. "
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
        types = _types(node)
        if types & NEVER_READ_TYPES or _classes(node) & NUMBER_CLASSES:
            return True
        if self.read_notes:
            return False
        return bool(types & NOTE_TYPES) or "noteref" in types or _is_note_link(node, name)

    def _start_chapters(self, node: etree._Element) -> None:
        anchor = node.get("id") or (node.get("name") if _local(node) == "a" else None)
        if anchor and anchor in self.starts:
            self._flush()
            self.out.extend(_Start(title) for title in self.starts.pop(anchor))

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
        for text in _paragraphs(raw):
            text, self.number = self.number + text, ""
            self.out.append(_Paragraph(text, heading=self.heading, link_only=self.link_depth > 0))


def _paragraphs(raw: str) -> list[str]:
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


def _is_link_line(node: etree._Element) -> bool:
    """A block whose only text is links inside the book, like a line of a printed contents page."""
    if any(_local(inner) in BLOCK_TAGS for inner in node.iterdescendants()):
        return False  # checked first: a container stops at its first block, never walking its subtree
    links = [a for a in node.iter() if _local(a) == "a" and a.get("href") and not urlsplit(a.get("href", "")).scheme]
    if not links:
        return False
    return _comparable(_one_line(node)) == _comparable(" ".join(_one_line(a) for a in links)) != ""


def _without_contents_lists(blocks: list[_Start | _Paragraph]) -> list[_Start | _Paragraph]:
    """Drop printed contents pages: runs of three or more link-only paragraphs, and their
    "Contents" heading. The chapter titles are announced anyway; a list of them is not prose."""
    out: list[_Start | _Paragraph] = []
    run: list[_Paragraph] = []
    for block in [*blocks, None]:
        if isinstance(block, _Paragraph) and block.link_only:
            run.append(block)
            continue
        if len(run) >= CONTENTS_LIST_MIN_LINES:
            last = out[-1] if out else None
            if isinstance(last, _Paragraph) and _comparable(last.text) in ("contents", "tableofcontents"):
                out.pop()
        else:
            out.extend(run)
        run = []
        if block is not None:
            out.append(block)
    return out


def _list_number(li: etree._Element) -> int:
    parent = li.getparent()
    try:
        start = int(parent.get("start", "1"))
    except ValueError:
        start = 1
    return start + sum(1 for sibling in li.itersiblings(preceding=True) if _local(sibling) == "li")


def _is_note_link(node: etree._Element, name: str) -> bool:
    """Note references without epub:type: <sup><a href="#n1">1</a></sup>, <a href="#n1">[1]</a>."""
    if name not in ("sup", "a"):
        return False
    text = _one_line(node)
    if len(text) > 4:
        return False
    if name == "sup":
        return any(_local(inner) == "a" and inner.get("href") for inner in node.iterdescendants())
    href = node.get("href") or ""
    has_sup = any(_local(inner) == "sup" for inner in node.iterdescendants())
    return "#" in href and (has_sup or bool(BRACKET_NOTE.fullmatch(text)))


# --- chapters --------------------------------------------------------------------------


def _starts_at_headings(blocks: list[_Start | _Paragraph]) -> list[_Start | _Paragraph]:
    """Without a table of contents, chapters start at headings named after them: at the
    highest-ranking level used more than once, since one <h1> is often the book's title."""
    levels = [block.heading for block in blocks if isinstance(block, _Paragraph) and block.heading]
    repeated = [level for level in set(levels) if levels.count(level) > 1]
    chapter_level = min(repeated or levels or [0])
    out: list[_Start | _Paragraph] = []
    for block in blocks:
        if isinstance(block, _Paragraph) and chapter_level and block.heading == chapter_level:
            out.append(_Start(block.text.replace("\n", " ")))
        out.append(block)
    return out


def _without_gutenberg_frame(blocks: list[_Start | _Paragraph], notes: list[str]) -> list[_Start | _Paragraph]:
    """Leave out Project Gutenberg's header and licence around the book (thousands of words
    of legal text nobody wants narrated). Chapter starts are kept; emptied chapters vanish later."""
    texts = [block.text if isinstance(block, _Paragraph) else "" for block in blocks]
    end = next((i for i, text in enumerate(texts) if GUTENBERG_END.search(text)), len(blocks))
    start = max((i for i, text in enumerate(texts[:end]) if GUTENBERG_START.search(text)), default=-1)
    if start < 0 and end == len(blocks):
        return blocks
    notes.append("Project Gutenberg header and licence left out")
    return [block for i, block in enumerate(blocks) if isinstance(block, _Start) or start < i < end]


@dataclass
class _Draft:
    title: str
    paragraphs: list[_Paragraph]


def _assemble(blocks: list[_Start | _Paragraph], book_title: str, notes: list[str]) -> list[Chapter]:
    leading: list[_Paragraph] = []
    drafts: list[_Draft] = []
    for block in blocks:
        if isinstance(block, _Start):
            drafts.append(_Draft(block.title, []))
        elif drafts:
            drafts[-1].paragraphs.append(block)
        else:
            leading.append(block)
    if leading:
        words = sum(len(p.text.split()) for p in leading)
        if words >= LEADING_MIN_WORDS or not drafts:
            heading = next((p.text.replace("\n", " ") for p in leading if p.heading), book_title)
            drafts.insert(0, _Draft(heading, leading))
        else:
            notes.append(f"left out {words} words before the first contents entry (title or copyright page)")

    chapters: list[Chapter] = []
    carried = ""  # the title of a part whose page held nothing but that title
    for draft in drafts:
        title = draft.title or f"Chapter {len(chapters) + 1}"
        paragraphs, repeated = _without_title(draft.paragraphs, title)
        if not paragraphs:
            if repeated:
                carried = title
            continue
        if carried:
            title, carried = f"{carried}: {title}", ""
        chapters.append(Chapter(index=len(chapters), title=title, paragraphs=paragraphs))
    return chapters


def _without_title(paragraphs: list[_Paragraph], title: str) -> tuple[list[str], bool]:
    """Drop opening paragraphs that only repeat the chapter title (it is announced anyway).

    Up to three are compared together, for headings split into a number and a
    name (<h2>Chapter I</h2><p>The Beginning</p> under "Chapter I: The Beginning").
    """
    texts = [p.text for p in paragraphs]
    wanted = _comparable(title)
    if wanted:
        for count in (1, 2, 3):
            if len(texts) >= count and _comparable(" ".join(texts[:count])) == wanted:
                return texts[count:], True
    return texts, False


def _comparable(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


# --- cover -----------------------------------------------------------------------------


def _cover_candidates(archive: _Archive, package: _Package) -> Iterator[str]:
    """Cover pictures in order of trust: EPUB 3 cover-image, EPUB 2 <meta name="cover">, the guide's cover."""
    for item in package.items.values():
        if "cover-image" in item.properties:
            yield item.path
    if package.cover_meta:
        item = package.items.get(package.cover_meta)
        if item is not None:
            yield item.path
        else:
            where = _resolve(package.path, package.cover_meta, "cover entry")  # some books give an href here
            if where is not None:
                yield where[0]
    for kind, name, _ in package.guide:
        found = archive.find(name) if kind == "cover" else None
        if found is None:
            continue
        if not found.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
            yield found
            continue
        page = _load_xml(archive, found, "cover page", html_entities=True)  # a page showing the picture
        for node in page.iter() if page is not None else ():
            href = node.get("src") if _local(node) == "img" else None
            if _local(node) == "image":
                href = node.get(f"{{{XLINK_NS}}}href") or node.get("href")
            where = _resolve(found, href, "cover picture") if href else None
            if where is not None:
                yield where[0]
                break


def _save_cover(archive: _Archive, package: _Package, work_dir: Path, notes: list[str]) -> str | None:
    """Write the first JPEG or PNG cover as work_dir/cover.jpg or cover.png.

    The file name is fixed here; nothing from the book becomes a path.
    """
    unusable = ""
    for candidate in _cover_candidates(archive, package):
        name = archive.find(candidate)
        if name is None:
            continue
        if archive.size(name) > MAX_COVER_BYTES:
            unusable = f"larger than {MAX_COVER_BYTES // MIB} MB"
            continue
        data = archive.read(name, MAX_COVER_BYTES, "cover picture")
        file_name = "cover.jpg" if data.startswith(JPEG_MAGIC) else "cover.png" if data.startswith(PNG_MAGIC) else None
        if file_name is None:
            unusable = "not a JPEG or PNG picture"
            continue
        with atomic_writer(work_dir / file_name, "wb") as handle:
            handle.write(data)
        return file_name  # relative to the work folder, like the chunk audio
    if unusable:
        notes.append(f"cover left out: {unusable}")
    return None


def sample_text(path: Path, settings: EngineSettings, limit: int = 20000) -> str:
    """Up to ``limit`` characters of text from spine documents spread through the book (for its language)."""
    with _Archive.open(Path(path), settings) as archive:
        package = _read_package(archive)
        reading = _reading_order(archive, package, [])
        middle = reading[len(reading) // 4 :] + reading[: len(reading) // 4]  # past the title and copyright pages
        pieces, size = [], 0
        for item in middle:
            root = _load_xml(archive, item.path, "text document", html_entities=True)
            if root is None:
                continue
            text = " ".join(" ".join(root.itertext()).split())
            pieces.append(text)
            size += len(text)
            if size >= limit:
                break
    return " ".join(pieces)[:limit]
