"""Phase 2 for a PDF: the book as chapters of clean paragraphs, with a cover.

Choices a listener would notice: the Project Gutenberg licence is never read
(text outside the START/END markers, and a section recognised as licence);
front matter before the first chapter is read only when it is a real preface;
PDFium's hyphen markers (U+FFFE) and line-end hyphens before a small letter
join the word; spaces PDFium drops between a small letter and a capital are
put back when the glyphs stand a word-space apart.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

import pypdfium2 as pdfium

from ..model import BookFacts, Chapter, ExtractedBook
from ..settings import EngineSettings
from ..sections import BACK_MATTER_SHARE, KINDS, SkippedSection, classify_title, first_words, is_licence_text, is_skipped, section_kind, word_count
from .chapters import (
    PAGES_PER_PART,
    fill_sections,
    heading_sections,
    numbered_sections,
    outline_sections,
    page_sections,
    size_heading_sections,
    strip_heading,
)
from .displays import drop_drawing_labels, drop_equations, drop_figures, drop_rules, drop_tables, handle_code
from .furniture import (
    drop_gutenberg_frame,
    drop_imprint_pages,
    drop_outside_block,
    drop_reference_pages,
    drop_running_lines,
    drop_titled_matter,
    page_number,
    text_blocks,
)
from .layout import Line, Page, book_body_size, read_pages, set_foot
from .linklists import drop_link_lists
from .marks import drop_fixed_lines, drop_outside_trim, trimmed_pages
from .notes import mark_footnotes
from .ocr import replace_with_ocr
from .opening import open_pdf
from .paragraphs import reflow
from .plays import mark_play

# Front matter before the first bookmark is kept only when it holds this much prose (a preface, not a title page).
MIN_FRONT_MATTER_WORDS = 150
COVER_HEIGHT_PX = 1200



_DOT_LEADER = re.compile(r"(?:\.\s*){3,}\s*\w+$")
_PG_HEADER_LINE = re.compile(
    r"(?:title|author|editor|translator|release date|last updated|posting date|language|character set encoding|"
    r"produced by|e-?book number|e-?text|compiled on|credits)\s*(?:#\d+)?\s*:",
    re.I,
)


def extract(path: Path, facts: BookFacts, settings: EngineSettings, work_dir: Path) -> ExtractedBook:
    """Phase 2 for a PDF: chapters of clean paragraphs, with a cover rendered from page one."""
    doc, _ = open_pdf(path, settings)
    try:
        notes: list[str] = []
        skipped: list[SkippedSection] = []
        pages = read_pages(doc)
        if facts.ocr_pages:
            notes += replace_with_ocr(doc, pages, path, facts, settings, work_dir)
        _drop_proof_marks(doc, pages, notes)
        frame_words = drop_gutenberg_frame(pages)
        if frame_words:
            notes.append("dropped the Project Gutenberg header and licence outside the START/END markers")
            skipped.append(SkippedSection("Project Gutenberg header and licence", "licence", frame_words, "outside the START/END markers"))
        _drop_furniture(pages, settings, notes, skipped)
        set_foot(pages)
        labels, directions = mark_play(pages)
        if labels:
            notes.append(f"read as a play: {labels} speaker labels, {directions} stage directions set apart")
        title = facts.title or _title_from_name(path)
        chapters, front, named = _chapters(doc, pages, title, notes, facts.language)
        cover_path = render_cover(doc, work_dir, notes)
    finally:
        doc.close()
    if front:
        chapters.insert(0, Chapter(0, "Front matter", front))
    chapters = _leave_out_sections(chapters, settings, skipped, notes, named)
    for position, chapter in enumerate(chapters):
        chapter.index = position
    return ExtractedBook(
        title=title,
        author=facts.author,
        language=facts.language,
        year=facts.year,
        chapters=chapters,
        cover_path=cover_path,
        notes=notes,
        skipped=[asdict(section) for section in skipped],
    )


def _drop_proof_marks(doc: pdfium.PdfDocument, pages: list[Page], notes: list[str]) -> None:
    """Printer's marks, slugs and rulers outside the trimmed page (before the running heads are looked for
    at the pages' edges), running heads and page numbers, what stays at one spot on most pages, and the
    labels inside vector drawings (the page's objects tell where they are)."""
    for what, count in (
        ("lines outside the trimmed page (printer's marks, slugs, rulers)", drop_outside_trim(pages, trimmed_pages(doc))),
        ("running header, footer and page-number lines", drop_running_lines(pages)),
        ("lines at one spot with the same words on most pages (slugs, rulers)", drop_fixed_lines(pages)),
        ("labels inside drawings", drop_drawing_labels(doc, pages)),
    ):
        if count:
            notes.append(f"left out {count} {what}")


def _drop_furniture(pages: list[Page], settings: EngineSettings, notes: list[str], skipped: list[SkippedSection]) -> None:
    """Everything on the page that is not the body's prose: notes, margins, pictures, equations, code."""
    body_size = book_body_size(pages)
    marked = mark_footnotes(pages, body_size)
    if marked and not settings.read_notes:
        words = sum(len(line.text.split()) for page in pages for line in page.lines if line.note)
        for page in pages:
            page.lines = [line for line in page.lines if not line.note]
        skipped.append(SkippedSection("Footnotes", "notes", words, f"{marked} lines set small at the foot of their pages"))
    elif marked:
        notes.append(f"read {marked} footnote lines after the paragraph they interrupt")
    skipped += drop_titled_matter(pages, body_size, _skip(settings), notes)
    skipped += drop_link_lists(pages, body_size, _skip(settings))
    if is_skipped("copyright", _skip(settings)):
        for index, words in drop_imprint_pages(pages):
            skipped.append(SkippedSection(f"Copyright page (page {index + 1})", "copyright", words, "copyright and imprint wording"))
    for kind, first, words in drop_reference_pages(pages, _skip(settings)):
        skipped.append(SkippedSection(f"{KINDS[kind].capitalize()} (page {first + 1})", kind, words, "most lines point to page numbers"))
    for what, count in (
        ("lines outside the text block (margin numbers, slugs, wide tables)", drop_outside_block(pages, body_size)),
        ("lines of figures and their captions", drop_figures(pages, text_blocks(pages, body_size))),
        ("lines of tables", drop_tables(pages, body_size)),
        ("lines of display equations", drop_equations(pages)),
        ("lines that are rules or ornaments typed in characters", drop_rules(pages)),
        ("code listings (a short cue for each long one)", handle_code(pages, settings.read_code, body_size)),
    ):
        if count:
            notes.append(f"left out {count} {what}")


def _cut_trailing_licence(chapters: list[Chapter], skipped: list[SkippedSection]) -> None:
    """The Project Gutenberg licence closes a book even when no marker or bookmark sets it apart:
    cut from its first paragraph in the book's second half to the end."""
    total = sum(word_count(chapter.paragraphs) for chapter in chapters)
    seen = 0
    for position, chapter in enumerate(chapters):
        for index, paragraph in enumerate(chapter.paragraphs):
            if seen > total / 2 and is_licence_text(paragraph):
                cut = chapter.paragraphs[index:] + [p for later in chapters[position + 1 :] for p in later.paragraphs]
                skipped.append(SkippedSection(first_words(cut), "licence", word_count(cut), "Project Gutenberg licence wording"))
                chapter.paragraphs = chapter.paragraphs[:index]
                del chapters[position + 1 :]
                return
            seen += len(paragraph.split())


# The Project Gutenberg header sits within this many words of the start.
HEADER_REACH_WORDS = 3000


def _cut_leading_header(chapters: list[Chapter], skipped: list[SkippedSection]) -> None:
    """The Project Gutenberg header opens a book even without a START marker: its paragraphs (the licence
    sentence, "Title:", "Release date:" lines) near the start are left out."""
    seen = words = 0
    for chapter in chapters:
        kept = []
        for paragraph in chapter.paragraphs:
            if seen < HEADER_REACH_WORDS and (is_licence_text(paragraph) or _PG_HEADER_LINE.match(paragraph)):
                words += len(paragraph.split())
            else:
                kept.append(paragraph)
            seen += len(paragraph.split())
        chapter.paragraphs = kept
        if seen >= HEADER_REACH_WORDS:
            break
    if words:
        skipped.append(SkippedSection("Project Gutenberg header", "licence", words, "Project Gutenberg header wording"))


def _skip(settings: EngineSettings) -> tuple[str, ...]:
    """The kinds left out; notes sections are read when engine.read_notes asks for notes."""
    return tuple(kind for kind in settings.skip if not (kind == "notes" and settings.read_notes))


def _leave_out_sections(
    chapters: list[Chapter], settings: EngineSettings, skipped: list[SkippedSection], notes: list[str], named: bool = True
) -> list[Chapter]:
    """Drop chapters that are not the book's body (contents, index, licence ...) by their kind, and list them."""
    if is_skipped("licence", _skip(settings)):
        _cut_leading_header(chapters, skipped)
        _cut_trailing_licence(chapters, skipped)
    kept = []
    judged = len(skipped)  # the sections judged below start here in the list of what was left out
    total, seen = sum(word_count(chapter.paragraphs) for chapter in chapters), 0
    for chapter in chapters:
        at_back = seen > BACK_MATTER_SHARE * total
        seen += word_count(chapter.paragraphs)
        kind, reason = section_kind(chapter.title if named else "", chapter.paragraphs, at_back)
        if named and kind is None and is_skipped(classify_title(chapter.title), _skip(settings)):
            notes.append(f'read "{chapter.title}": its heading names matter left out, but it holds prose')
        if is_skipped(kind, _skip(settings)):
            words = word_count(chapter.paragraphs)
            skipped.append(SkippedSection(chapter.title or first_words(chapter.paragraphs), kind, words, reason))
        elif chapter.paragraphs:
            kept.append(chapter)
    if not kept and any(chapter.paragraphs for chapter in chapters):
        # Every section looked like matter a narrator skips: a guess that wrong is worse than reading it all.
        del skipped[judged:]
        notes.append("every section looked like matter a narrator skips (contents, index ...): all of it is read")
        kept = [chapter for chapter in chapters if chapter.paragraphs]
    return kept


def _chapters(
    doc: pdfium.PdfDocument, pages: list[Page], title: str, notes: list[str], language: str | None
) -> tuple[list[Chapter], list[str], bool]:
    """The chapters, by the first way that finds more than one, the front matter worth keeping, and whether
    the chapters are named by the book (outline, headings) rather than after its title or as runs of pages."""
    by_index = {page.index: page for page in pages}
    sections = outline_sections(doc)
    strip = True
    if len(sections) >= 2:  # a lone bookmark ("Cover") says nothing about chapters
        notes.append(f"chapters from the outline ({len(sections)} bookmarks)")
    else:
        sections = heading_sections(pages)
        if len(sections) < 2:
            sections = size_heading_sections(pages, book_body_size(pages))
        if len(sections) < 2:
            sections = numbered_sections(pages, book_body_size(pages))
        if len(sections) >= 2:
            notes.append("no usable outline: chapters found from headings")
        else:
            sections, strip = page_sections(pages, title), False
            if len(sections) > 1:
                notes.append(f"no usable outline or chapter headings: chapters are runs of {PAGES_PER_PART} pages")
    front_lines = fill_sections(pages, sections)
    chapters = []
    part = ""  # the title of a part whose pages hold nothing but its title: it leads its first chapter's title
    for section in sections:
        lines = strip_heading(section.lines, section.title) if strip else section.lines
        paragraphs = reflow(lines, by_index, language)
        if section.part and not paragraphs:
            part = section.title
        elif paragraphs:
            chapters.append(Chapter(len(chapters), f"{part}: {section.title}" if part else section.title, paragraphs))
            part = ""
    return chapters, _front_matter(front_lines, by_index, notes, language), strip


def _front_matter(lines: list[Line], pages: dict[int, Page], notes: list[str], language: str | None) -> list[str]:
    """Keep what comes before the first chapter only when it is prose (a preface), not a title page or contents."""
    if not lines:
        return []
    lines = [line for line in lines if not _is_contents_line(line.text) and not _PG_HEADER_LINE.match(line.text)]
    paragraphs = [p for p in reflow(lines, pages, language) if "gutenberg" not in p.lower()]
    words = sum(len(p.split()) for p in paragraphs)
    if words < MIN_FRONT_MATTER_WORDS:
        notes.append("dropped the front matter before the first chapter (title page, contents)")
        return []
    notes.append(f"kept {words} words before the first chapter as front matter")
    return paragraphs


def _is_contents_line(text: str) -> bool:
    """An entry of a table of contents: dotted leaders, or a short line ending in a page number ("ii how ... john 16")."""
    words = text.split()
    return bool(_DOT_LEADER.search(text)) or (2 <= len(words) <= 11 and page_number(words[-1]) is not None)


def _title_from_name(path: Path) -> str:
    return " ".join(re.sub(r"[_\-.]+", " ", path.stem).split()) or "Untitled"


def render_cover(doc: pdfium.PdfDocument, work_dir: Path, notes: list[str]) -> str | None:
    """Render page one to work_dir/cover.jpg (about COVER_HEIGHT_PX tall); None when it is blank."""
    page = doc[0]
    try:
        height = page.get_height()
        bitmap = page.render(scale=min(max(COVER_HEIGHT_PX / height, 0.1), 10))
        try:
            image = bitmap.to_pil().convert("RGB")
        except ImportError:  # Pillow comes with matplotlib; without it there is simply no cover
            notes.append("no cover: Pillow is not installed")
            return None
    finally:
        page.close()
    if image.convert("L").getextrema()[0] >= 250:
        notes.append("no cover: the first page is blank")
        return None
    work_dir.mkdir(parents=True, exist_ok=True)
    target = work_dir / "cover.jpg"
    image.save(target, "JPEG", quality=85)
    return str(target)
