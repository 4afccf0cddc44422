"""Phase 1: decide what a book file is, by its bytes, and refuse what cannot be read.

The format comes from magic bytes, never from the extension, so a renamed
file is recognised (or refused) for what it is. The format readers do the
deep checks: encryption, DRM, text layer, damage.
"""

from __future__ import annotations

from pathlib import Path

import importlib
from types import ModuleType

from .errors import BookError
from .language import decide_language
from .model import BookFacts, PhaseContext
from .settings import EngineSettings
from .voices import voice_for

PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
# PDF allows up to 1024 bytes of junk before the header.
PDF_HEADER_WINDOW = 1024


def reader_for(fmt: str) -> ModuleType:
    """The reader package of a format ("pdf" or "epub"), imported only when a book of that format comes.

    A short EPUB then skips loading PDFium, Pillow and the OCR layer, and a PDF the EPUB reader.
    """
    return importlib.import_module(f".{fmt}", __package__)


def sniff_format(path: Path) -> str:
    """Return "pdf" or "epub" from the file's first bytes, or raise BookError."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(PDF_HEADER_WINDOW)
    except OSError as error:
        raise BookError("not_a_book", f"cannot be read ({error.strerror})", "check the file exists and is readable") from None
    if size == 0:
        raise BookError("empty", "is empty (0 bytes)", "copy the book again from its source")
    if PDF_MAGIC in head:
        return "pdf"
    if head.startswith(ZIP_MAGIC):
        return "epub"
    raise BookError(
        "not_a_book",
        "is neither a PDF nor an EPUB (its first bytes match neither format)",
        "check that the file really is the book and not a web page or another format",
    )


def validate(ctx: PhaseContext, settings: EngineSettings) -> BookFacts:
    path = ctx.source
    size = path.stat().st_size if path.exists() else 0
    limit = settings.max_book_mb * 1024 * 1024
    fmt = sniff_format(path)
    if size > limit:
        raise BookError(
            "too_large",
            f"is {size / 1048576:.0f} MB, above the {settings.max_book_mb} MB limit for one book",
            "raise engine.max_book_mb in config.yaml if the book is genuine",
        )
    reader = reader_for(fmt)
    facts = reader.inspect(path, settings)
    # The voice must speak the text's language: decide it now, so a book no voice can read
    # is refused before an hour of work, not after.
    sample = reader.sample_text(path, settings)
    ocr_codes: list[str] = []
    if facts.ocr_pages:  # pages read by OCR speak for the book's language too
        ocr_codes, ocr_figures, ocr_sample = reader.read_by_ocr(path, ctx.work_dir, facts, settings, ctx.threads)
        ctx.metrics.update(ocr_figures)
        sample = f"{ocr_sample} {sample}".strip()
    verdict = decide_language(facts.language, sample)
    facts.language, facts.language_declared, facts.language_detected = (
        verdict.language,
        verdict.declared,
        verdict.detected,
    )
    ctx.metrics.update(
        {
            "format": facts.format,
            "title": facts.title,
            "author": facts.author,
            "language": facts.language,
            "language_declared": facts.language_declared,
            "language_detected": facts.language_detected,
            "language_confidence": verdict.confidence,
            "year": facts.year,
            "pages": facts.pages,
            "spine_items": facts.spine_items,
            "size_bytes": facts.size_bytes,
            "encrypted": facts.encrypted,
            "damage": facts.damage,
        }
    )
    ctx.metrics["voice"] = voice_for(facts.language, settings).name
    if ocr_codes:
        reader.check_language_data(facts.language, ocr_codes)
    return facts
