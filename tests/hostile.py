"""Hostile and awkward inputs for the reliability tests, built on demand.

Books whose every paragraph is different (so every chunk has audio of its
own in the cache), books renamed to bytes that are not UTF-8, an oversized
PDF, and EPUBs that attack the reader: zip bombs, paths out of the archive,
external entities (XXE) and entity expansion (billion laughs).
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

from audiobook.bookmaker import DraftBook, DraftChapter, make_epub, make_pdf

SUBJECTS = ["the miller", "a heron", "the ferryman", "an old dog", "the baker's son", "a girl with a lantern"]
DEEDS = ["crossed the bridge", "waited by the weir", "counted the barges", "mended a net", "sang to the geese"]
TIMES = ["at dawn", "before the rain", "on market day", "after supper", "in the first frost"]


def varied_paragraphs(count: int, start: int = 0) -> list[str]:
    """``count`` paragraphs, no two alike, of two short sentences each."""
    paragraphs = []
    for number in range(start, start + count):
        subject = SUBJECTS[number % len(SUBJECTS)]
        deed = DEEDS[(number // len(SUBJECTS)) % len(DEEDS)]
        when = TIMES[(number // 3) % len(TIMES)]
        paragraphs.append(
            f"On day {number + 1}, {subject} {deed} {when}. Nobody else saw what happened on day {number + 1}."
        )
    return paragraphs


def distinct_book(folder: Path, name: str, chapters: int = 2, paragraphs: int = 3, title: str | None = None) -> Path:
    """A PDF or EPUB (by ``name``'s suffix) whose paragraphs are all different."""
    draft = DraftBook(
        title=Path(name).stem.title() if title is None else title,
        author="Test Author",
        chapters=[
            DraftChapter(f"Chapter {c + 1}", varied_paragraphs(paragraphs, start=c * paragraphs))
            for c in range(chapters)
        ],
    )
    path = folder / name
    return make_pdf(draft, path) if name.endswith(".pdf") else make_epub(draft, path)


def rename_to_bytes(path: Path, raw_name: bytes) -> Path:
    """Rename ``path`` to ``raw_name`` in the same folder (any bytes the file system takes)."""
    target = os.path.join(os.fsencode(path.parent), raw_name)
    os.rename(os.fsencode(path), target)
    return Path(os.fsdecode(target))


def untitled_pdf(folder: Path, name: str) -> Path:
    """A PDF with no title in its metadata: the reader takes the title from the file name."""
    return distinct_book(folder, name, chapters=1, paragraphs=1, title="")


def oversized_pdf(path: Path, megabytes: int) -> Path:
    """A real small PDF padded with comment lines to ``megabytes`` MB."""
    distinct_book(path.parent, path.name, chapters=1, paragraphs=1)
    line = b"%" + b"x" * 1023 + b"\n"
    with open(path, "ab") as handle:
        for _ in range(megabytes * 1024):
            handle.write(line)
    return path


# --- EPUBs ---------------------------------------------------------------------------

CONTAINER = (
    b'<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    b'<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
    b"</rootfiles></container>"
)


def chapter_page(body: str, prolog: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>A</title></head><body>{body}</body></html>'
    ).encode()


def write_epub(
    path: Path,
    chapter: bytes,
    *,
    chapter_href: str = "chapter.xhtml",
    extra_members: dict[str, bytes] | None = None,
    opf_prolog: str = "",
) -> Path:
    """A minimal EPUB 3: one chapter (``chapter_href``, relative to OEBPS/), a nav, and extra members."""
    nav = chapter_page(
        '<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc"><ol>'
        f'<li><a href="{chapter_href}">Chapter 1</a></li></ol></nav>'
    )
    opf = (
        f'<?xml version="1.0" encoding="utf-8"?>\n{opf_prolog}'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">urn:uuid:1</dc:identifier>'
        "<dc:title>Hostile</dc:title><dc:language>en</dc:language>"
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta></metadata>'
        '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
        f'<item id="c1" href="{chapter_href}" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c1"/></spine></package>'
    ).encode()
    members = {"META-INF/container.xml": CONTAINER, "OEBPS/content.opf": opf, "OEBPS/nav.xhtml": nav}
    if not chapter_href.startswith("../"):
        members[f"OEBPS/{chapter_href}"] = chapter
    members.update(extra_members or {})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def zip_bomb_epub(path: Path, megabytes: int = 256) -> Path:
    """A book with a member of ``megabytes`` MB of zeros (a few hundred KB packed)."""
    write_epub(path, chapter_page("<p>A small book with a large secret.</p>"))
    info = zipfile.ZipInfo("OEBPS/images/padding.bin")
    info.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "a") as archive, archive.open(info, "w") as member:
        block = bytes(1 << 20)
        for _ in range(megabytes):
            member.write(block)
    return path


def lying_size_epub(path: Path, megabytes: int = 64) -> Path:
    """A chapter of ``megabytes`` MB of spaces whose ZIP headers claim it is 2 KB."""
    page = chapter_page("<p>" + " " * (megabytes << 20) + "</p>")
    write_epub(path, page)
    _patch_declared_size(path, "OEBPS/chapter.xhtml", 2048)
    return path


def traversal_epub(path: Path, escape_name: str) -> Path:
    """Members named ``../../escape_name`` and a chapter whose href climbs out of the book."""
    return write_epub(
        path,
        chapter_page("<p>Escaped.</p>"),
        chapter_href=f"../../../{escape_name}",
        extra_members={f"../../{escape_name}": b"written outside", f"/tmp/{escape_name}": b"absolute"},
    )


def xxe_epub(path: Path, secret: Path) -> Path:
    """A chapter whose DTD pulls ``secret`` in through an external entity."""
    prolog = f'<!DOCTYPE html [<!ENTITY secret SYSTEM "file://{secret}">]>\n'
    return write_epub(path, chapter_page("<h1>Chapter</h1><p>The secret is &secret;.</p>", prolog))


def billion_laughs_epub(path: Path) -> Path:
    """Ten levels of ten entities each: a billion 'lol's if expanded, in the package document."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{("&lol%d;" % (n - 1)) * 10}">' for n in range(1, 10)
    ]
    prolog = f"<!DOCTYPE package [{''.join(entities)}]>\n"
    return write_epub(path, chapter_page("<p>&lol9;</p>", prolog), opf_prolog=prolog)


def _patch_declared_size(path: Path, name: str, declared: int) -> None:
    """Make both ZIP headers of member ``name`` claim ``declared`` bytes uncompressed."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = bytearray(path.read_bytes())
    # Local header: uncompressed size at offset 22.
    struct.pack_into("<I", data, info.header_offset + 22, declared)
    # Central directory entry: find it by signature and name, uncompressed size at offset 24.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, position + 24, declared)
            break
        position = data.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(data))
