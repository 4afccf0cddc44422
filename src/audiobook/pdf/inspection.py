"""Phase 1 for a PDF: metadata, and the refusal of books that cannot become audio."""

from __future__ import annotations

import ctypes
import datetime
import re
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..model import BookFacts
from ..sections import classify_title
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
        # Pages whose text layer fails are read by OCR (engine.ocr); "never" refuses such a book, as before OCR.
        ocr_pages = pages_to_ocr(doc, settings.ocr)[0] if settings.ocr != "never" else []
        title, author, year = _metadata(doc)
        title = title or printed_title(doc, set(ocr_pages))
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


# The title page is the first page with text, among the first few; its title is its largest type.
TITLE_PAGES = 3
_OPENINGS = {"preface", "foreword", "introduction", "prologue", "prolog", "vorwort", "einleitung", "avant-propos", "prefacio"}
TITLE_SIZE_RATIO = 1.4
MAX_TITLE_WORDS = 15


def printed_title(doc: pdfium.PdfDocument, unreadable: set[int] | frozenset[int] = frozenset()) -> str | None:
    """The title as the title page prints it, for a PDF whose metadata names none: the words set in the
    largest type of the first page with text (a cover picture has none), when that type stands well
    above the page's text (not a page of one size) and is no section's name ("Contents", "Preface").
    None when that page's text is ``unreadable`` (glyph codes: the page is read by OCR)."""
    for index in range(min(TITLE_PAGES, len(doc))):
        try:
            page = doc[index]
            textpage = page.get_textpage()
        except pdfium.PdfiumError:
            continue
        try:
            text = textpage.get_text_range()
            sizes = [pdfium_c.FPDFText_GetFontSize(textpage, i) for i in range(min(len(text), textpage.count_chars()))]
        finally:
            textpage.close()
            page.close()
        letters = sorted(size for size, char in zip(sizes, text) if char.isalpha())
        if len(letters) < 3:
            continue
        if index in unreadable:
            return None
        largest, usual = letters[-1], letters[len(letters) // 2]
        words = " ".join("".join(c if size >= largest - 0.5 else " " for c, size in zip(text, sizes)).split())
        title = " ".join(clean_text(words).split())
        enough = sum(c.isalpha() for c in title) >= 3 and len(title.split()) <= MAX_TITLE_WORDS
        if enough and largest >= TITLE_SIZE_RATIO * usual and not classify_title(title) and title.lower() not in _OPENINGS:
            return title
        return None  # the first page with text is the title page, or there is none
    return None


def _catalog_language(doc: pdfium.PdfDocument) -> str | None:
    """The /Lang entry of the catalog, if it looks like a language tag."""
    size = pdfium_c.FPDFCatalog_GetLanguage(doc, None, 0)
    if size <= 2:
        return None
    buffer = (ctypes.c_ushort * (size // 2))()
    pdfium_c.FPDFCatalog_GetLanguage(doc, buffer, size)
    tag = bytes(buffer)[: size - 2].decode("utf-16-le", "replace").strip()
    return tag if re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*", tag) else None

