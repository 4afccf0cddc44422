"""EPUB reader: phase 1 (``inspect``) and phase 2 (``extract``).

An EPUB is a ZIP of XML files: META-INF/container.xml names the package (OPF),
whose spine gives the reading order and whose nav document (EPUB 3) or NCX
(EPUB 2) gives the chapter titles. Books are hostile until proven otherwise, so:

- the archive is read in memory through ``Archive``, which refuses zip bombs
  (too many members, a huge declared total, an implausible compression ratio)
  and caps every member while it is actually decompressed, because declared
  sizes can lie;
- names from the archive are only ever dictionary keys, never paths on disk;
  every href is resolved inside the archive with posixpath and refused when it
  escapes the root. The only file written is the cover, under a fixed name;
- XML is parsed with entities, DTDs and the network off, and a document that
  declares entities (XXE, billion laughs) is refused rather than expanded.

Modules, by what they do: ``archive`` (the safe ZIP), ``markup`` (XML without
entities), ``package`` (OPF, metadata, DRM), ``toc`` (nav and NCX), ``flatten``
(XHTML to paragraphs), ``chapters`` (paragraphs to chapters), ``cover``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from ..errors import BookError
from ..model import BookFacts, ExtractedBook
from ..sections import SkippedSection, is_licence_text
from ..settings import EngineSettings
from .archive import HOSTILE_ACTION, MAX_MEMBERS, Archive
from .chapters import assemble, starts_at_headings, without_gutenberg_frame
from .cover import save_cover
from .flatten import Flattener, Paragraph, Start, has_text, joined_lines
from .markup import body_of, load_text_document
from .package import is_front_or_back_page, read_package, reading_order, refuse_drm
from .sections import Reading, merged, skipped_section
from .toc import chapter_entries, chapter_starts, guide_pages, landmarks, table_of_contents

__all__ = ["MAX_MEMBERS", "extract", "inspect", "sample_text"]

# Documents parsed for a sample of the text: enough to be spread through the book, few enough to be cheap.
SAMPLE_DOCUMENTS = 8

# --- public ----------------------------------------------------------------------------


def inspect(path: Path, settings: EngineSettings) -> BookFacts:
    """Phase 1: check the archive, package, DRM and text of an EPUB; describe it or refuse it."""
    path = Path(path)
    damage: list[str] = []
    with Archive.open(path, settings) as archive:
        package = read_package(archive)
        refuse_drm(archive, package, damage)
        reading = reading_order(archive, package, damage)
        if not reading:
            raise BookError(
                "empty",
                "has no readable documents in its reading order (spine)",
                "check the book opens in an e-book reader",
            )
        any_text, readable = False, 0
        for item in reading:  # every document is parsed, so a hostile one is refused in phase 1
            root = load_text_document(archive, item.path)
            readable += 1
            any_text = any_text or has_text(root)
        if not readable:
            raise BookError("corrupt", "has no text document that can be read as XHTML", HOSTILE_ACTION)
        if not any_text:
            raise BookError(
                "no_text_layer",
                "has no text to read (its pages are pictures only)",
                "use an edition of the book with real text",
            )
        table_of_contents(archive, package, damage)  # parsed now so a hostile one is refused in phase 1
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
    """Phase 2: the book's chapters in spine order, titled by its table of contents, without
    the sections the user does not want read (listed in ``skipped``)."""
    notes: list[str] = []
    reading = Reading.from_settings(settings)
    skipped: list[SkippedSection] = []
    code_listings = 0
    with Archive.open(Path(path), settings) as archive:
        package = read_package(archive)
        refuse_drm(archive, package, notes)
        documents = reading_order(archive, package, notes)
        entries = chapter_entries(table_of_contents(archive, package, notes))
        starts = chapter_starts(entries, {item.path for item in documents})
        pages = guide_pages(package, entries, landmarks(archive, package))
        blocks: list[Start | Paragraph] = []
        for item in documents:
            page_kind = pages.get(item.path, "")
            if page_kind is None and len(documents) > 1:
                continue  # a cover or title page
            root = load_text_document(archive, item.path)
            if page_kind and reading.leaves_out(page_kind) and len(documents) > 1:
                skipped.append(skipped_section(body_of(root), page_kind, "named so by the book's guide or landmarks"))
                continue
            flattener = Flattener(reading, starts.get(item.path, {}))
            found = flattener.run(root)
            blocks.extend(joined_lines(found) if package.is_fixed_layout(item) else found)
            skipped.extend(merged(flattener.skipped))
            code_listings += flattener.code_listings
        if not starts:
            notes.append("no usable table of contents: chapters start at headings")
            blocks = starts_at_headings(blocks)
        title = package.title or facts.title or Path(path).stem
        blocks = without_gutenberg_frame(blocks, notes, reading, skipped)
        chapters = assemble(blocks, title, notes, reading, skipped)
        cover = save_cover(archive, package, Path(work_dir), notes)
    if code_listings:
        notes.append(f"{code_listings} code listings replaced by a spoken cue (engine.read_code reads them)")
    return ExtractedBook(
        title=title,
        author=" & ".join(package.authors) or facts.author,
        language=package.language or facts.language,
        year=package.year or facts.year,
        chapters=chapters,
        cover_path=cover,
        notes=notes,
        skipped=[asdict(entry) for entry in skipped],
    )


def sample_text(path: Path, settings: EngineSettings, limit: int = 20000) -> str:
    """Up to ``limit`` characters of body text from spine documents spread through the book.

    Phase 1 judges the book's language from it, so it must be the body, not the
    cover, title, copyright or contents pages (often in another language, or
    boilerplate), and cheap: only a few documents are parsed, under the archive's caps.
    """
    with Archive.open(Path(path), settings) as archive:
        package = read_package(archive)
        refuse_drm(archive, package, [])
        everything = reading_order(archive, package, [])
        documents = [item for item in everything if not is_front_or_back_page(package, item)] or everything
        step = max(1, len(documents) // SAMPLE_DOCUMENTS)
        chosen = documents[step // 2 :: step][:SAMPLE_DOCUMENTS]  # spread through the book
        share = max(1, limit // max(1, len(chosen)))
        pieces: list[str] = []
        for item in chosen:
            root = load_text_document(archive, item.path)
            text = " ".join(
                block.text.replace("\n", " ")
                for block in Flattener(Reading()).run(root)
                if isinstance(block, Paragraph) and not block.heading and not is_licence_text(block.text)
            )
            pieces.append(text[:share])
    return " ".join(piece for piece in pieces if piece)[:limit]
