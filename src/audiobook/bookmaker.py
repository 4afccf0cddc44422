"""Build small, real PDF and EPUB books from text.

Used for the sample books in ``input/`` (scripts/make_sample_books.py), by the
tests, and by the benchmarks, which need books of a chosen size. The files are
ordinary books: a PDF with an outline, running headers and page numbers, an
EPUB 3 with a nav document (or an EPUB 2 with an NCX), so that every phase
meets what it meets in the wild.
"""

from __future__ import annotations

import html
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DraftChapter:
    title: str
    paragraphs: list[str]


@dataclass
class DraftBook:
    title: str
    author: str
    chapters: list[DraftChapter]
    language: str = "en"
    year: str | None = None
    cover_png: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)


def make_pdf(book: DraftBook, path: Path, *, outline: bool = True, running_header: bool = True) -> Path:
    """Write ``book`` as a PDF: one chapter per new page, headers and page numbers."""
    from fpdf import FPDF  # only needed to build books, not to read them

    class _Pdf(FPDF):
        def header(self) -> None:
            if running_header and self.page_no() > 1:
                self.set_font("Helvetica", "I", 9)
                self.cell(0, 8, _latin1(book.title.lower()), align="C")
                self.ln(10)

        def footer(self) -> None:
            if running_header:
                self.set_y(-15)
                self.set_font("Helvetica", "", 9)
                self.cell(0, 8, str(self.page_no()), align="C")

    pdf = _Pdf(format=(148, 210))  # A5 in mm
    pdf.set_title(book.title)
    pdf.set_author(book.author)
    pdf.set_lang(book.language)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, _latin1(book.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(0, 8, _latin1(f"by {book.author}"), align="C", new_x="LMARGIN", new_y="NEXT")
    for chapter in book.chapters:
        pdf.add_page()
        if outline:
            pdf.start_section(_latin1(chapter.title))
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 9, _latin1(chapter.title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in chapter.paragraphs:
            pdf.multi_cell(0, 6, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def make_epub(book: DraftBook, path: Path, *, version: int = 3) -> Path:
    """Write ``book`` as an EPUB 3 (nav document) or EPUB 2 (NCX only)."""
    if version not in (2, 3):
        raise ValueError("EPUB version must be 2 or 3")
    book_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, book.title + book.author)}"
    esc = html.escape
    items, spine, nav_points, nav_links = [], [], [], []
    files: dict[str, bytes] = {}
    for number, chapter in enumerate(book.chapters, start=1):
        name = f"chapter-{number}.xhtml"
        body = "".join(f"<p>{esc(p)}</p>\n" for p in chapter.paragraphs)
        files[f"OEBPS/{name}"] = _xhtml(chapter.title, f"<h2>{esc(chapter.title)}</h2>\n{body}", book.language)
        items.append(f'<item id="c{number}" href="{name}" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{number}"/>')
        nav_points.append(
            f'<navPoint id="n{number}" playOrder="{number}"><navLabel><text>{esc(chapter.title)}</text></navLabel>'
            f'<content src="{name}"/></navPoint>'
        )
        nav_links.append(f'<li><a href="{name}">{esc(chapter.title)}</a></li>')
    items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    files["OEBPS/toc.ncx"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        f'<head><meta name="dtb:uid" content="{book_id}"/></head>'
        f"<docTitle><text>{esc(book.title)}</text></docTitle>"
        f"<navMap>{''.join(nav_points)}</navMap></ncx>"
    ).encode()
    if version == 3:
        files["OEBPS/nav.xhtml"] = _xhtml(
            "Contents",
            f'<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc"><ol>{"".join(nav_links)}</ol></nav>',
            book.language,
        )
        items.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
    cover_meta = ""
    if book.cover_png:
        files["OEBPS/cover.png"] = book.cover_png
        props = ' properties="cover-image"' if version == 3 else ""
        items.append(f'<item id="cover" href="cover.png" media-type="image/png"{props}/>')
        cover_meta = '<meta name="cover" content="cover"/>'
    date = f"<dc:date>{esc(book.year)}</dc:date>" if book.year else ""
    modified = '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>' if version == 3 else ""
    files["OEBPS/content.opf"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="uid">{book_id}</dc:identifier><dc:title>{esc(book.title)}</dc:title>'
        f"<dc:creator>{esc(book.author)}</dc:creator><dc:language>{esc(book.language)}</dc:language>"
        f"{date}{modified}{cover_meta}</metadata>"
        f"<manifest>{''.join(items)}</manifest>"
        f'<spine toc="ncx">{"".join(spine)}</spine></package>'
    ).encode()
    container = (
        '<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        # The mimetype entry comes first and uncompressed, as the OCF spec requires.
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in files.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _xhtml(title: str, body: str, language: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="{html.escape(language)}">'
        f"<head><title>{html.escape(title)}</title></head><body>{body}</body></html>"
    ).encode()


def _latin1(text: str) -> str:
    """fpdf2's core fonts cover Latin-1 only; map typographic quotes and dashes."""
    table = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "--", "\u2013": "-", "\u2026": "..."}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")
