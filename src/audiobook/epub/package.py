"""The package (OPF): manifest, spine, guide, metadata, and the DRM check."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from lxml import etree

from ..errors import BookError
from .archive import HOSTILE_ACTION, Archive, resolve, shown
from .markup import ADOBE_ADEPT_NS, OPF_NS, children, first, load_xml, local, one_line

# Font obfuscation (IDPF and Adobe) only scrambles embedded fonts; it is not DRM.
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}

# SVG pages are EPUB 3 content documents too (fixed-layout books); only their <text> is read.
DOCUMENT_TYPES = {"application/xhtml+xml", "text/html", "text/x-oeb1-document", "image/svg+xml"}
NCX_TYPE = "application/x-dtbncx+xml"

# --- the package -----------------------------------------------------------------------


@dataclass
class Item:
    id: str
    path: str  # archive member name
    media_type: str
    properties: set[str]


@dataclass
class Package:
    path: str
    title: str | None
    authors: list[str]
    language: str | None
    year: str | None
    items: dict[str, Item]  # by manifest id
    spine: list[tuple[Item, bool]]  # item and whether it is linear (read in order)
    ncx_id: str | None
    cover_meta: str | None  # EPUB 2 <meta name="cover" content="...">
    guide: list[tuple[str, str, str]] = field(default_factory=list)  # type, archive name, fragment
    fixed_layout: bool = False  # rendition:layout pre-paginated for the whole book
    layouts: dict[str, bool] = field(default_factory=dict)  # archive name -> fixed layout, where a spine entry says

    def is_fixed_layout(self, item: Item) -> bool:
        """Whether a document is a fixed-layout page (its lines may be set in boxes of their own)."""
        return self.layouts.get(item.path, self.fixed_layout)


def read_package(archive: Archive) -> Package:
    container_name = archive.find("META-INF/container.xml")
    if container_name is None:
        raise BookError(
            "not_a_book",
            "is a ZIP archive but not an EPUB (it has no META-INF/container.xml)",
            "check the file is really the book; convert other formats to EPUB first",
        )
    container = load_xml(archive, container_name, "container file")
    rootfiles = [] if container is None else [node for node in container.iter() if local(node) == "rootfile"]
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
    target = resolve("", (preferred or full_paths)[0], "container entry")
    opf_name = archive.find(target[0]) if target else None
    if opf_name is None:
        raise BookError(
            "corrupt",
            "lacks the package file (OPF) its container names",
            "repair the book with an EPUB editor or get it again",
        )
    opf = load_xml(archive, opf_name, "package file (OPF)")
    if opf is None:
        raise BookError(
            "corrupt",
            "has a package file (OPF) that is not readable XML",
            "repair the book with an EPUB editor or get it again",
        )

    items: dict[str, Item] = {}
    for node in opf.iter():
        if local(node) != "item" or not node.get("id") or not node.get("href"):
            continue
        where = resolve(opf_name, node.get("href", ""), "manifest entry")
        if where is not None:
            name = archive.find(where[0]) or where[0]
            identifier = unicodedata.normalize("NFC", node.get("id", ""))  # ids and idrefs may differ in form
            items[identifier] = Item(
                identifier,
                name,
                (node.get("media-type") or "").lower(),
                set((node.get("properties") or "").split()),
            )
    spine_node = first(opf, "spine")
    spine, layouts = [], {}
    if spine_node is not None:
        for ref in children(spine_node, "itemref"):
            item = items.get(unicodedata.normalize("NFC", ref.get("idref", "")))
            if item is not None:
                spine.append((item, (ref.get("linear") or "yes").strip().lower() != "no"))
                properties = set((ref.get("properties") or "").split())
                if properties & {"rendition:layout-pre-paginated", "rendition:layout-reflowable"}:
                    layouts[item.path] = "rendition:layout-pre-paginated" in properties
    guide = []
    for ref in (node for node in opf.iter() if local(node) == "reference"):
        where = resolve(opf_name, ref.get("href", ""), "guide entry") if ref.get("href") else None
        if where is not None:
            guide.append(((ref.get("type") or "").lower(), archive.find(where[0]) or where[0], where[1]))
    metadata = first(opf, "metadata")
    title, authors, language, year, cover_meta = (
        read_metadata(metadata) if metadata is not None else (None, [], None, None, None)
    )
    return Package(
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
        fixed_layout=any(
            local(node) == "meta" and node.get("property") == "rendition:layout" and one_line(node) == "pre-paginated"
            for node in (metadata.iter() if metadata is not None else ())
        ),
        layouts=layouts,
    )


def read_metadata(metadata: etree._Element) -> tuple[str | None, list[str], str | None, str | None, str | None]:
    by_name: dict[str, list[etree._Element]] = {}
    for node in metadata.iter():  # .iter(): EPUB 2 books may nest them in <dc-metadata>
        by_name.setdefault(local(node), []).append(node)
    titles = [one_line(node) for node in by_name.get("title", [])]
    languages = [one_line(node) for node in by_name.get("language", [])]
    # EPUB 3 gives roles in <meta refines="#id" property="role">, EPUB 2 in opf:role.
    roles: dict[str, set[str]] = {}
    for meta in by_name.get("meta", []):
        if meta.get("property") == "role" and meta.get("refines", "").startswith("#"):
            roles.setdefault(meta.get("refines", "")[1:], set()).add(one_line(meta))
    creators = []
    for node in by_name.get("creator", []):
        name = one_line(node)
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
        match = re.match(r"\s*(\d{4})", one_line(node))
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


def refuse_drm(archive: Archive, package: Package, notes: list[str]) -> None:
    """Refuse books whose text is encrypted; font obfuscation alone is fine."""
    listing = archive.find("META-INF/encryption.xml")
    if listing is None:
        return
    root = load_xml(archive, listing, "encryption list")
    if root is None:
        raise BookError("corrupt", "has an unreadable encryption list (META-INF/encryption.xml)", HOSTILE_ACTION)
    texts = {
        item.path for item in package.items.values() if item.media_type in DOCUMENT_TYPES or item.media_type == NCX_TYPE
    }
    texts.add(package.path)
    encrypted_text, encrypted_other = 0, 0
    for data in (node for node in root.iter() if local(node) == "encrypteddata"):
        method = first(data, "encryptionmethod")
        if method is not None and method.get("Algorithm", "") in FONT_OBFUSCATION:
            continue
        reference = first(data, "cipherreference")
        where = resolve("", reference.get("URI", ""), "encryption entry") if reference is not None else None
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


def reading_order(archive: Archive, package: Package, notes: list[str]) -> list[Item]:
    """Linear spine documents that exist, each once. linear="no" items (pop-up notes,
    covers) are outside the reading order by the spec's own definition."""
    order, seen = [], set()
    for item, linear in package.spine:
        if not linear or item.path in seen or item.media_type not in DOCUMENT_TYPES:
            continue
        seen.add(item.path)
        if archive.find(item.path) is None:
            notes.append(f"missing document in the spine: {shown(item.path)}")
            continue
        order.append(item)
    return order


# Words in a document's file name or manifest id that mark pages around the body. Calibre
# names whole books "index_split_000.html": a name with "split" in it is a piece of the body.
FRONT_OR_BACK_WORDS = {
    "cover", "title", "titlepage", "halftitle", "halftitlepage", "copyright", "imprint", "colophon", "uncopyright",
    "toc", "contents", "nav", "index", "loi", "lot", "endnotes", "footnotes", "notes", "license", "licence", "about",
}  # fmt: skip
# Guide types of the same pages.
FRONT_OR_BACK_GUIDE = {"cover", "title-page", "toc", "copyright-page", "colophon", "index", "loi", "lot"}


def is_front_or_back_page(package: Package, item: Item) -> bool:
    """Whether a spine document is, by its name or the guide, a cover, title, copyright, contents or index page."""
    if "nav" in item.properties:
        return True
    if any(name == item.path and kind in FRONT_OR_BACK_GUIDE for kind, name, _ in package.guide):
        return True
    for name in (item.path.rsplit("/", 1)[-1].rsplit(".", 1)[0], item.id):
        words = set(re.findall(r"[a-z]+", name.lower()))
        if "split" not in words and words & FRONT_OR_BACK_WORDS:
            return True
    return False
