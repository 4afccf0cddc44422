"""Phase 1 for a PDF: metadata, and the refusal of books that cannot become audio."""

from __future__ import annotations

import ctypes
import datetime
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..model import BookFacts
from ..settings import EngineSettings
from .damage import find_stream_damage
from .ocr import pages_to_ocr
from .opening import open_pdf
from .quality import check_text
from .text import clean_text



def inspect(path: Path, settings: EngineSettings) -> BookFacts:
    """Phase 1 for a PDF: the facts about it, or a BookError saying why it cannot be read."""
    doc, encrypted = open_pdf(path, settings)
    try:
        title, author, year = _metadata(doc)
        # Pages whose text layer fails are read by OCR (engine.ocr); "never" refuses such a book, as before OCR.
        ocr_pages = pages_to_ocr(doc, settings.ocr)[0] if settings.ocr != "never" else []
        damage = [] if ocr_pages else check_text(doc)
        if not encrypted:  # encrypted streams do not inflate, so there is nothing to check
            damage += find_stream_damage(path)
        return BookFacts(
            format="pdf",
            size_bytes=path.stat().st_size,
            pages=len(doc),
            title=title,
            author=author,
            language=_catalog_language(doc),
            year=year,
            encrypted=encrypted,
            has_text_layer=len(ocr_pages) < len(doc),
            ocr_pages=ocr_pages,
            damage=damage,
        )
    finally:
        doc.close()


def _metadata(doc: pdfium.PdfDocument) -> tuple[str | None, str | None, str | None]:
    info = doc.get_metadata_dict(skip_empty=True)
    title = _clean_title(info.get("Title", ""))
    author = " ".join(info.get("Author", "").split()) or None
    year = None
    for key in ("CreationDate", "ModDate"):
        found = re.match(r"(?:D:)?(\d{4})", info.get(key, "").strip())
        # PDF dates before the format existed, or in the future, are junk.
        if found and 1990 <= int(found.group(1)) <= datetime.date.today().year + 1:
            year = found.group(1)
            break
    return title, author, year


def _clean_title(raw: str) -> str | None:
    title = " ".join(clean_text(raw).split())
    title = re.sub(r"^Microsoft (?:Word|PowerPoint) - ", "", title)
    # Converters often leave the source file name where the title belongs.
    if (
        not title
        or title.lower() in {"untitled", "title"}
        or re.search(r"\.(txt|docx?|odt|rtf|tex|dvi|pdf|html?|ps|indd)$", title, re.I)
    ):
        return None
    return title


def _catalog_language(doc: pdfium.PdfDocument) -> str | None:
    """The /Lang entry of the catalog, if it looks like a language tag."""
    size = pdfium_c.FPDFCatalog_GetLanguage(doc, None, 0)
    if size <= 2:
        return None
    buffer = (ctypes.c_ushort * (size // 2))()
    pdfium_c.FPDFCatalog_GetLanguage(doc, buffer, size)
    tag = bytes(buffer)[: size - 2].decode("utf-16-le", "replace").strip()
    return tag if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", tag) else None

