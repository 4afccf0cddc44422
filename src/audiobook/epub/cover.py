"""The book's cover picture, saved under a fixed name in the work folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..fileio import atomic_writer
from .archive import MAX_COVER_BYTES, MIB, Archive, resolve
from .markup import XLINK_NS, load_xml, local
from .package import Package

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# --- cover -----------------------------------------------------------------------------


def cover_candidates(archive: Archive, package: Package) -> Iterator[str]:
    """Cover pictures in order of trust: EPUB 3 cover-image, EPUB 2 <meta name="cover">, the guide's cover."""
    for item in package.items.values():
        if "cover-image" in item.properties:
            yield item.path
    if package.cover_meta:
        item = package.items.get(package.cover_meta)
        if item is not None:
            yield item.path
        else:
            where = resolve(package.path, package.cover_meta, "cover entry")  # some books give an href here
            if where is not None:
                yield where[0]
    for kind, name, _ in package.guide:
        found = archive.find(name) if kind == "cover" else None
        if found is None:
            continue
        if not found.lower().endswith((".xhtml", ".html", ".htm", ".xml")):
            yield found
            continue
        page = load_xml(archive, found, "cover page", html_entities=True)  # a page showing the picture
        for node in page.iter() if page is not None else ():
            href = node.get("src") if local(node) == "img" else None
            if local(node) == "image":
                href = node.get(f"{{{XLINK_NS}}}href") or node.get("href")
            where = resolve(found, href, "cover picture") if href else None
            if where is not None:
                yield where[0]
                break


def save_cover(archive: Archive, package: Package, work_dir: Path, notes: list[str]) -> str | None:
    """Write the first JPEG or PNG cover as work_dir/cover.jpg or cover.png.

    The file name is fixed here; nothing from the book becomes a path.
    """
    unusable = ""
    for candidate in cover_candidates(archive, package):
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
