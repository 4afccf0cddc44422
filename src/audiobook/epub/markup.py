"""XML parsing that never fetches or expands anything, and small element helpers."""

from __future__ import annotations

import html.entities
import re
from xml.parsers import expat

from lxml import etree

from ..errors import BookError
from .archive import HOSTILE_ACTION, MAX_XML_BYTES, Archive, shown

# --- XML -------------------------------------------------------------------------------

XML_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False
)
OPS_NS = "http://www.idpf.org/2007/ops"
OPF_NS = "http://www.idpf.org/2007/opf"
ADOBE_ADEPT_NS = "http://ns.adobe.com/adept"
XLINK_NS = "http://www.w3.org/1999/xlink"

INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))  # soft hyphen, zero-width space, word joiner, BOM
ENTITY_REFERENCE = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
XML_ENTITIES = {b"amp", b"lt", b"gt", b"quot", b"apos"}
# Markup deeper than libxml2 allows is parsed by expat, without bare wrappers below this depth,
# and with nothing at all below the second one (lxml walks deep trees in time depth squared).
KEPT_DEPTH = 100
MAX_KEPT_DEPTH = 150


def load_xml(archive: Archive, name: str, what: str, *, html_entities: bool = False) -> etree._Element | None:
    return parse_xml(archive.read(name, MAX_XML_BYTES, what), what, html_entities=html_entities)


def parse_xml(data: bytes, what: str, *, html_entities: bool = False) -> etree._Element | None:
    """Parse without fetching or expanding anything; None when even recovery fails.

    Broken markup is common in real books, so a strict parse that fails is
    retried in recover mode. Markup nested deeper than libxml2 allows (256
    levels) is parsed with expat instead, because recover mode would silently
    cut it off there. Either way, a document that declares entities is
    refused: EPUB never needs them, and billion laughs and XXE are made of them.
    """
    if html_entities:
        data = numeric_entities(data)
    root = None
    for recover in (False, True):
        parser = etree.XMLParser(recover=recover, **XML_PARSER_OPTIONS)
        try:
            root = etree.fromstring(data, parser)
        except etree.XMLSyntaxError:
            root = None
        if any(entry.type_name == "ERR_RESOURCE_LIMIT" for entry in parser.error_log):
            return parse_deep(data, what)
        if root is not None:
            break
    if root is None:
        return None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise entities_refused(what)
    return root


def parse_deep(data: bytes, what: str) -> etree._Element | None:
    """Parse deeply nested markup with expat into an lxml tree; None when it is not well-formed.

    expat has no depth limit, but lxml slows down with depth (a tree thousands
    deep costs depth squared to walk), so below KEPT_DEPTH a bare wrapper (an
    element whose first content is another element) is left out and its content
    kept in its place: a paragraph inside a thousand <div>s stays a paragraph,
    its words and inline markup intact. Below MAX_KEPT_DEPTH even elements with
    text are set side by side, in document order. Memory is in proportion to the
    document, capped at MAX_XML_BYTES. Entities stay off: a declaration is
    refused, parameter and external entities are never read.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    open_elements: list[etree._Element | tuple[str, dict[str, str]] | None] = []  # None: a wrapper left out
    kept: list[etree._Element] = []  # the open elements that are in the tree
    roots: list[etree._Element] = []
    closed: list[etree._Element | None] = [None]  # the element whose tail the next text is

    def refuse(*_: object) -> None:
        raise entities_refused(what)

    def materialize(tag: str, attributes: dict[str, str]) -> etree._Element:
        if kept:
            element = etree.SubElement(kept[min(len(kept), MAX_KEPT_DEPTH) - 1], clark(tag), attributes)
        else:
            element = etree.Element(clark(tag), attributes)
            roots.append(element)
        kept.append(element)
        return element

    def start(tag: str, attributes: dict[str, str]) -> None:
        if open_elements and isinstance(open_elements[-1], tuple):
            open_elements[-1] = None  # a bare wrapper, deep down: left out
        attributes = {clark(key): value for key, value in attributes.items()}
        if len(open_elements) < KEPT_DEPTH:
            open_elements.append(materialize(tag, attributes))
        else:
            open_elements.append((tag, attributes))  # made when it turns out to hold text
        closed[0] = None

    def end(_: str) -> None:
        element = open_elements.pop()
        if isinstance(element, tuple):
            element = materialize(*element)
        if element is not None:
            kept.pop()
            closed[0] = element

    def text(data: str) -> None:
        top = open_elements[-1] if open_elements else None
        if isinstance(top, tuple):
            if not data.strip():
                return  # leading whitespace of what may be a bare wrapper
            top = open_elements[-1] = materialize(*top)
        if closed[0] is not None:
            closed[0].tail = (closed[0].tail or "") + data
        elif top is not None:
            top.text = (top.text or "") + data
        elif kept and len(kept[-1]):
            kept[-1][-1].tail = (kept[-1][-1].tail or "") + data
        elif kept:
            kept[-1].text = (kept[-1].text or "") + data

    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, etree.LxmlError, ValueError):
        return None
    return roots[0] if roots else None


def clark(name: str) -> str:
    """expat's "uri local" name as lxml's "{uri}local"."""
    uri, _, local_name = name.rpartition(" ")
    return f"{{{uri}}}{local_name}" if uri else local_name


def entities_refused(what: str) -> BookError:
    return BookError("corrupt", f"has a {what} that declares XML entities, which no EPUB needs", HOSTILE_ACTION)


def load_text_document(archive: Archive, name: str) -> etree._Element:
    """A spine document, parsed; one that cannot be read fails the book in one line naming it,
    rather than leaving the book a chapter short without a word."""
    root = load_xml(archive, name, "text document", html_entities=True)
    if root is None:
        raise BookError(
            "corrupt",
            f"has a text document {shown(name)} that cannot be read as XHTML, even leniently",
            "repair the book with an EPUB editor (e.g. Sigil or Calibre) or get it again",
        )
    return root


def numeric_entities(data: bytes) -> bytes:
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


def local(element: etree._Element) -> str:
    """Lower-case tag name without namespace; "" for comments, PIs and entity references."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local(child) == name]


def first(element: etree._Element, name: str) -> etree._Element | None:
    return next((node for node in element.iter() if local(node) == name), None)


def body_of(root: etree._Element) -> etree._Element:
    """A document's <body>, or the document itself when it has none (an SVG page)."""
    body = first(root, "body")
    return body if body is not None else root


def one_line(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).translate(INVISIBLE).split())


def epub_types(element: etree._Element) -> set[str]:
    """epub:type values plus DPUB-ARIA roles ("doc-endnotes" counts as "endnotes")."""
    value = element.get(f"{{{OPS_NS}}}type") or element.get("epub:type") or ""
    found = set(value.lower().split())
    found.update(role[4:] for role in (element.get("role") or "").lower().split() if role.startswith("doc-"))
    return found


def class_names(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").lower().split())


def comparable(text: str) -> str:
    """Letters and digits only, folded: the form titles are compared in."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())
