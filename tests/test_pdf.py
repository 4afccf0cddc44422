"""The PDF reader: phase 1 refusals and facts, phase 2 chapters and clean paragraphs.

Real PDFs only: the corpus books, books written by audiobook.bookmaker, and
small PDFs with one special feature each from tests/pdf_samples.py.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image

from audiobook import pdf
from audiobook.bookmaker import EARNEST_SCENE, make_pdf
from audiobook.errors import BookError
from audiobook.model import ExtractedBook
from audiobook.normalize import normalize_text
from audiobook.pdf.layout import Line
from audiobook.pdf.paragraphs import reflow
from audiobook.plays import closed
from audiobook.settings import EngineSettings

sys.path.insert(0, str(Path(__file__).parent))
import pdf_samples  # noqa: E402
from books import phase_three_sentences  # noqa: E402

ROBIN = "pg_robin_hood_xelatex.pdf"
GERMAN = "thoma_geotopo_de.pdf"
ENCRYPTED = "encrypted_userpw_openpassword.pdf"
SETTINGS = EngineSettings()


def refusal(path: Path, settings: EngineSettings = SETTINGS) -> BookError:
    with pytest.raises(BookError) as caught:
        pdf.inspect(path, settings)
    line = caught.value.line(path.name)
    assert "\n" not in line and "Traceback" not in line and line.startswith(" ".join(path.name.split()) + ": ")
    return caught.value


def read(path: Path, work: Path, settings: EngineSettings = SETTINGS) -> ExtractedBook:
    facts = pdf.inspect(path, settings)
    return pdf.extract(path, facts, settings, work)


def all_paragraphs(book: ExtractedBook) -> list[str]:
    return [p for chapter in book.chapters for p in chapter.paragraphs]


# ---------------------------------------------------------------- corpus: refusals


@pytest.mark.parametrize("name", ["derived_robin_hood_truncated_60pct.pdf", "invalid_header_only.pdf", "derived_zero_byte.pdf"])
def test_damaged_file_is_refused_as_corrupt(corpus: Path, name: str) -> None:
    error = refusal(corpus / name)
    assert error.kind == "corrupt" and error.exit_code == 12
    assert "download or export the file again" in error.line(name)


def test_password_protected_file_says_where_the_password_goes(corpus: Path) -> None:
    error = refusal(corpus / ENCRYPTED)
    assert error.kind == "encrypted"
    line = error.line(ENCRYPTED)
    assert "password-protected" in line and "engine.passwords" in line and "config.yaml" in line and ENCRYPTED in line


def test_password_from_settings_opens_the_book(corpus: Path, tmp_path: Path) -> None:
    settings = EngineSettings(passwords={ENCRYPTED: "openpassword"})
    facts = pdf.inspect(corpus / ENCRYPTED, settings)
    assert facts.encrypted and facts.pages == 1 and facts.language == "en-US"
    book = pdf.extract(corpus / ENCRYPTED, facts, settings, tmp_path)
    assert all_paragraphs(book)[0].startswith("Lorem ipsum dolor sit amet")


def test_wrong_password_is_refused_with_its_own_message(corpus: Path) -> None:
    error = refusal(corpus / ENCRYPTED, EngineSettings(passwords={ENCRYPTED: "not it"}))
    assert error.kind == "encrypted" and "does not open it" in error.line(ENCRYPTED)


def test_scan_without_text_layer_asks_for_ocr_when_ocr_is_off(corpus: Path) -> None:
    error = refusal(corpus / "scanned_image_only_huck_finn_p22.pdf", EngineSettings(ocr="never"))
    assert error.kind == "no_text_layer" and "ocrmypdf" in error.line("scan.pdf")


def test_font_without_unicode_map_is_refused_as_garbled_when_ocr_is_off(corpus: Path) -> None:
    error = refusal(corpus / "type3_font_no_tounicode.pdf", EngineSettings(ocr="never"))
    assert error.kind == "garbled_text" and "glyph codes" in error.line("type3.pdf")


def test_broken_flate_stream_is_read_and_noted(corpus: Path, tmp_path: Path) -> None:
    path = corpus / "corrupted_zlib_stream.pdf"
    facts = pdf.inspect(path, SETTINGS)
    assert facts.damage and "bad checksum" in facts.damage[0]
    text = " ".join(all_paragraphs(pdf.extract(path, facts, SETTINGS, tmp_path)))
    assert "Beautiful is better than ugly." in text and "Namespaces are one honking great idea" in text


# ---------------------------------------------------------------- corpus: Robin Hood


_robin_read: dict[str, tuple[Path, ExtractedBook, float]] = {}


@pytest.fixture
def robin(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ExtractedBook, float]:
    """Robin Hood read once for all the tests that look at it (phases 1 and 2, timed in CPU seconds)."""
    if ROBIN not in _robin_read:
        started = time.process_time()  # CPU time: other work on a shared machine does not count
        book = read(corpus / ROBIN, tmp_path_factory.mktemp("robin"))
        _robin_read[ROBIN] = (corpus / ROBIN, book, time.process_time() - started)
    return _robin_read[ROBIN]


def test_robin_hood_facts(corpus: Path) -> None:
    facts = pdf.inspect(corpus / ROBIN, SETTINGS)
    assert (facts.format, facts.pages, facts.title, facts.author) == ("pdf", 237, "Robin Hood", "J. Walker McSpadden")
    assert facts.year == "2020" and facts.language is None and not facts.encrypted and facts.damage == []
    assert facts.size_bytes == (corpus / ROBIN).stat().st_size


def test_robin_hood_chapters_are_its_bookmarks(robin) -> None:
    path, book, _ = robin
    with pdfium.PdfDocument(path) as doc:
        bookmarks = [mark.get_title() for mark in doc.get_toc()]
    # Every bookmark is a chapter except the licence, which is listed as left out with its word count.
    assert len(bookmarks) == 25 and bookmarks[-1] == "Project Gutenberg License"
    assert [chapter.title for chapter in book.chapters] == bookmarks[:24]
    licence = [section for section in book.skipped if section["kind"] == "licence"]
    assert licence and sum(section["words"] for section in licence) > 2500
    text = " ".join(all_paragraphs(book)).lower()
    assert "project gutenberg" not in text and "gutenberg literary archive" not in text


def test_robin_hood_has_no_running_lines_page_numbers_or_markers(robin) -> None:
    _, book, _ = robin
    titles = {chapter.title.lower() for chapter in book.chapters}
    for paragraph in all_paragraphs(book):
        assert "\ufffe" not in paragraph and "\ufffd" not in paragraph and "\r" not in paragraph
        assert not re.fullmatch(r"\d+|[ivxlc]+", paragraph)
        # Running heads are set in small caps, so they come out lower case: "18 robin hood", "how ... john 17".
        assert not re.search(r"\b\d+ robin hood\b|\brobin hood \d+\b", paragraph)
        lowered = paragraph.lower()
        assert not any(f"{title} " in lowered and re.search(rf"{re.escape(title)} \d", paragraph) for title in titles)


def test_robin_hood_text_is_clean_prose(robin) -> None:
    _, book, _ = robin
    first = book.chapters[0].paragraphs
    assert first[0].startswith("List and hearken, gentlemen,")  # the heading lines are gone, the epigraph stays
    text = " ".join(all_paragraphs(book))
    assert "In the days of good King Harry the Second" in text  # the drop capital is joined to its word
    for word in ("undergrowth", "already", "fellow", "underneath"):  # hyphenated at line ends in the PDF
        assert re.search(rf"\b{word}\b", text)
    assert "was Marian Fitzwalter" in text  # a space PDFium drops, restored from the glyph positions
    lengths = [len(p.split()) for p in all_paragraphs(book)]
    assert 1200 < len(lengths) < 2200 and max(lengths) < 400  # paragraphs, neither lines nor pages


def test_robin_hood_cover_and_speed(robin) -> None:
    _, book, seconds = robin
    with Image.open(book.cover_path) as cover:
        assert cover.format == "JPEG" and 1100 <= cover.height <= 1300
    # About 1.6 s of this is PDFium itself loading 237 pages; the rest must stay small.
    assert seconds < 3.5


# ---------------------------------------------------------------- corpus: German lecture notes


def test_german_maths_notes_pass_and_lose_their_running_heads(corpus: Path, tmp_path: Path) -> None:
    facts = pdf.inspect(corpus / GERMAN, SETTINGS)
    assert facts.pages == 117 and facts.title == "Geometrie und Topologie" and facts.damage == []
    book = pdf.extract(corpus / GERMAN, facts, SETTINGS, tmp_path)
    titles = [chapter.title for chapter in book.chapters]
    assert titles[1:3] == ["1 Topologische Grundbegriffe", "2 Mannigfaltigkeiten und Simplizialkomplexe"]
    assert titles[0] == "Front matter" and "Vorwort" in book.chapters[0].paragraphs
    for paragraph in all_paragraphs(book):
        # Running heads look like "18 1.6. WEGE UND KNOTEN" or "2 Inhaltsverzeichnis".
        assert not re.search(r"\b\d+ \d\.\d\. [A-ZÄÖÜ]{3,}", paragraph), paragraph
        assert "WEGE UND KNOTEN" not in paragraph and "\ufffe" not in paragraph
    assert "Das Skript ist kostenlos über martin-thoma.com/geotopo verfügbar." in " ".join(book.chapters[0].paragraphs)


# ---------------------------------------------------------------- books built by bookmaker


def test_bookmaker_book_round_trips(tmp_path: Path) -> None:
    draft = pdf_samples.draft_book(chapters=4, paragraphs=17)
    book = read(make_pdf(draft, tmp_path / "green.pdf"), tmp_path / "work")
    assert (book.title, book.author, book.language) == ("The Green Forest", "Ann Example", "en")
    assert [c.title for c in book.chapters] == [c.title for c in draft.chapters]
    for got, want in zip(book.chapters, draft.chapters):
        assert got.paragraphs == want.paragraphs
    assert any("outline" in note for note in book.notes) and any("running header" in note for note in book.notes)


def test_bookmaker_book_keeps_every_word_across_many_pages(tmp_path: Path) -> None:
    # Paragraphs separated only by space, with no indent, cannot always be told apart at a page
    # break; the words must all be there, in order, and nearly all breaks found.
    draft = pdf_samples.draft_book(chapters=3, paragraphs=70)
    book = read(make_pdf(draft, tmp_path / "long.pdf"), tmp_path / "work")
    for got, want in zip(book.chapters, draft.chapters):
        assert " ".join(got.paragraphs) == " ".join(want.paragraphs)
        assert len(want.paragraphs) - 3 <= len(got.paragraphs) <= len(want.paragraphs)


def test_without_outline_chapters_come_from_headings(tmp_path: Path) -> None:
    titles = ["Chapter 1. The River", "Chapter 2. The Mill", "Chapter 3. The Sea"]
    draft = pdf_samples.draft_book(chapters=3, paragraphs=9, titles=titles)
    book = read(make_pdf(draft, tmp_path / "plain.pdf", outline=False), tmp_path / "work")
    assert [c.title for c in book.chapters] == titles
    assert book.chapters[1].paragraphs == draft.chapters[1].paragraphs
    assert "no usable outline: chapters found from headings" in book.notes


def test_without_outline_chapters_come_from_headings_set_large(tmp_path: Path) -> None:
    draft = pdf_samples.draft_book(chapters=2, paragraphs=60)
    book = read(make_pdf(draft, tmp_path / "runs.pdf", outline=False), tmp_path / "work")
    assert [c.title for c in book.chapters] == [c.title for c in draft.chapters]  # 14 pt bold over 11 pt prose
    text = " ".join(all_paragraphs(book))
    assert all(p in text for c in draft.chapters for p in c.paragraphs)
    assert not re.search(r"\bthe green forest\b", text)  # the running head is gone (the prose is capitalised)


def test_without_outline_or_headings_chapters_are_runs_of_pages(tmp_path: Path) -> None:
    path = pdf_samples.make_furniture_pdf(tmp_path / "runs.pdf", pages=25)
    book = read(path, tmp_path / "work")
    assert [c.title for c in book.chapters] == ["Part 1", "Part 2", "Part 3"]
    assert len(_text(book).split()) > 25 * 200


def test_typeset_book_loses_headers_with_page_numbers(tmp_path: Path) -> None:
    """Headers like "12 the green forest" and "the first chapter 13", bare numbers at the foot."""
    draft = pdf_samples.draft_book(chapters=5, paragraphs=30)
    path = pdf_samples.make_typeset_pdf(draft, tmp_path / "typeset.pdf")
    with pdfium.PdfDocument(path) as doc:
        raw = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert re.search(r"\d+ the green forest", raw) and re.search(r"the first chapter \d+", raw)  # they are there to remove
    book = read(path, tmp_path / "work")
    for got, want in zip(book.chapters, draft.chapters, strict=True):
        assert (got.title, got.paragraphs) == (want.title, want.paragraphs)


def test_typeset_book_without_outline_finds_chapter_labels(tmp_path: Path) -> None:
    draft = pdf_samples.draft_book(chapters=3, paragraphs=12)
    book = read(pdf_samples.make_typeset_pdf(draft, tmp_path / "typeset.pdf", outline=False), tmp_path / "work")
    assert [c.title for c in book.chapters] == [
        "Chapter I: The First Chapter",
        "Chapter II: The Second Chapter",
        "Chapter III: The Third Chapter",
    ]
    assert book.chapters[2].paragraphs == draft.chapters[2].paragraphs


def test_single_top_bookmark_is_descended_into(tmp_path: Path) -> None:
    draft = pdf_samples.draft_book(chapters=3, paragraphs=4)
    doc = FPDF(format=(148, 210))
    doc.set_font("Helvetica", "", 11)
    doc.add_page()
    doc.start_section(draft.title, level=0)
    for chapter in draft.chapters:
        doc.add_page()
        doc.start_section(chapter.title, level=1)
        for paragraph in chapter.paragraphs:
            doc.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            doc.ln(4)
    doc.output(str(tmp_path / "nested.pdf"))
    book = read(tmp_path / "nested.pdf", tmp_path / "work")
    assert [c.title for c in book.chapters] == [c.title for c in draft.chapters]
    assert book.chapters[0].paragraphs == draft.chapters[0].paragraphs


# ---------------------------------------------------------------- special PDFs


def test_hyphenated_line_ends_are_joined(tmp_path: Path) -> None:
    lines = [
        "This is a sen-",
        "tence that contin-",
        "ues here with a Schwarz-",
        "Weiss word.",
        "",
        "Another para-",
        "graph ends here, for entry-",  # a compound's hyphen at the line's end: "entrylevel" is no word
        "level readers and some-",
        "thing else.",
    ]
    path = pdf_samples.make_lines_pdf(tmp_path / "hyphens.pdf", lines)
    facts = pdf.inspect(path, SETTINGS)
    facts.language = "en"  # as phase 1 detects it in a whole book (a page this short is too little to tell)
    book = pdf.extract(path, facts, SETTINGS, tmp_path / "work")
    assert all_paragraphs(book) == [
        "This is a sentence that continues here with a Schwarz-Weiss word.",
        "Another paragraph ends here, for entry-level readers and something else.",
    ]


def test_ligatures_become_letters(tmp_path: Path) -> None:
    font = pdf_samples.unicode_font()
    if font is None:
        pytest.skip("no TrueType font with ligature glyphs on this machine")
    path = pdf_samples.make_lines_pdf(
        tmp_path / "ligatures.pdf", ["The \ufb01rst \ufb02ower was o\ufb00ered \ufb03 and \ufb04."], font=font
    )
    text = " ".join(all_paragraphs(read(path, tmp_path / "work")))
    assert text == "The first flower was offered ffi and ffl."


def test_clean_text_folds_and_drops_what_cannot_be_spoken() -> None:
    raw = "The \ufb01rst o\ufb00er: un\ufffedercuts, Schwarz\ufffeWei\u00df, x\u00b2 \u00bd\x04\uf8f4 long \u017fea\u00a0now\r\nend\ufffd"
    assert pdf.clean_text(raw) == "The first offer: undercuts, Schwarz-Weiß, x² ½ long sea now end"


def test_a_line_end_hyphen_stays_where_both_parts_are_words_and_the_joined_form_is_not() -> None:
    marked = "entry\ufffelevel, doubt\ufffefully, some\ufffething, cloth\ufffe covered, soft\u00adware"
    assert pdf.clean_text(marked, "en-US") == "entry-level, doubtfully, something, cloth-covered, software"
    # the same where the PDF keeps a plain hyphen at the line's end
    lines = [Line("for entry-", 0), Line("level readers and some-", 0), Line("thing else.", 0)]
    assert reflow(lines, {}, "en") == ["for entry-level readers and something else."]
    # English word lists say nothing of another language's words ("hand" and "lung" are English): joined as before
    assert pdf.clean_text("Hand\ufffelung", "de") == "Handlung" and pdf.clean_text("Hand\ufffelung", "en") == "Hand-lung"


def test_gutenberg_header_and_licence_are_dropped(tmp_path: Path) -> None:
    story = [pdf_samples.prose(1, 5), pdf_samples.prose(2, 4)]
    book = read(pdf_samples.make_gutenberg_pdf(tmp_path / "pg.pdf", story), tmp_path / "work")
    assert all_paragraphs(book) == story
    assert any("START/END markers" in note for note in book.notes)


def test_encrypted_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    path = pdf_samples.make_encrypted_pdf(tmp_path / "owner-only.pdf", user_password="")
    facts = pdf.inspect(path, SETTINGS)
    assert facts.encrypted and facts.damage == []
    assert "A locked story about the forest." in " ".join(all_paragraphs(pdf.extract(path, facts, SETTINGS, tmp_path)))


def test_encrypted_pdf_opens_with_the_password_for_its_file_name(tmp_path: Path) -> None:
    path = pdf_samples.make_encrypted_pdf(tmp_path / "locked book.pdf", user_password="s3cret")
    assert refusal(path).kind == "encrypted"
    assert refusal(path, EngineSettings(passwords={"other.pdf": "s3cret"})).kind == "encrypted"
    settings = EngineSettings(passwords={"locked book.pdf": "s3cret"})
    assert pdf.inspect(path, settings).encrypted
    assert "A locked story about the forest." in " ".join(all_paragraphs(read(path, tmp_path / "work", settings)))


def test_damaged_stream_in_a_built_pdf_is_noted(tmp_path: Path) -> None:
    path = pdf_samples.make_lines_pdf(tmp_path / "good.pdf", ["A line of text that will be damaged."])
    assert pdf.find_stream_damage(path) == []
    data = bytearray(path.read_bytes())
    start = data.index(b"stream\n", data.index(b"/FlateDecode")) + len(b"stream\n")
    end = data.index(b"endstream", start)
    data[end - 3] ^= 0xFF  # inside the Adler-32 checksum at the end of the zlib data
    (tmp_path / "bad.pdf").write_bytes(bytes(data))
    notes = pdf.find_stream_damage(tmp_path / "bad.pdf")
    assert len(notes) == 1 and "bad checksum" in notes[0]


def test_text_quality_tells_words_from_glyph_codes() -> None:
    maths = "Sei (X, d) ein metrischer Raum und Br(x) := { y ∈ X | d(x, y) < r } für x ∈ X, r ∈ R+ ist Basis. " * 5
    english = "Robin Hood and his merry men rode through Sherwood Forest in the early morning. " * 5
    assert not pdf.text_quality(maths).garbled and not pdf.text_quality(english).garbled
    assert pdf.text_quality("\x19\x12\x03\x07 \x05\x11").garbled  # unmapped glyphs come out as control codes
    assert pdf.text_quality("\ue001\ue002\ue003 \ue004\ue005 " * 10).garbled  # private-use glyphs
    soup = "Qxzp Brtkl Mnbvc Ghjkl Wrtzp Sdfgh Plmnk Trvbx " * 4
    assert pdf.text_quality(soup).garbled  # letters, but no words


def test_cover_is_a_rendering_of_page_one(tmp_path: Path) -> None:
    draft = pdf_samples.draft_book(chapters=1, paragraphs=3)
    book = read(make_pdf(draft, tmp_path / "cover.pdf"), tmp_path / "work")
    assert book.cover_path == str(tmp_path / "work" / "cover.jpg")
    with Image.open(book.cover_path) as cover:
        assert cover.height == pytest.approx(pdf.COVER_HEIGHT_PX, abs=2) and cover.width < cover.height


def test_short_front_matter_is_dropped_and_a_preface_is_kept(tmp_path: Path) -> None:
    preface = [pdf_samples.prose(5, 12), pdf_samples.prose(6, 10)]
    draft = pdf_samples.draft_book(chapters=2, paragraphs=3)
    doc = FPDF(format=(148, 210))
    doc.set_font("Helvetica", "", 11)
    doc.add_page()
    for paragraph in preface:
        doc.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
        doc.ln(4)
    for chapter in draft.chapters:
        doc.add_page()
        doc.start_section(chapter.title)
        doc.multi_cell(0, 6, " ".join(chapter.paragraphs), new_x="LMARGIN", new_y="NEXT")
    doc.output(str(tmp_path / "preface.pdf"))
    book = read(tmp_path / "preface.pdf", tmp_path / "work")
    assert book.chapters[0].title == "Front matter" and book.chapters[0].paragraphs == preface
    assert [c.title for c in book.chapters[1:]] == [c.title for c in draft.chapters]


def test_book_error_lines_are_single_lines_for_odd_file_names(tmp_path: Path) -> None:
    path = tmp_path / "a b;$(x)\nname.pdf"
    path.write_bytes(b"%PDF-1.4\n% nothing else\n")
    error = refusal(path)
    assert error.kind == "corrupt" and "\n" not in error.line(path.name)


def test_draft_book_helper_makes_multi_page_chapters(tmp_path: Path) -> None:
    # Guards the tests above: page-crossing paragraphs need chapters longer than a page.
    draft = pdf_samples.draft_book(chapters=2, paragraphs=30)
    with pdfium.PdfDocument(make_pdf(draft, tmp_path / "pages.pdf")) as doc:
        assert len(doc) >= 6


# ---------------------------------------------------------------- issue 11: the body only, the way a narrator reads


def _text(book: ExtractedBook) -> str:
    return " ".join(all_paragraphs(book))


def test_footnote_is_left_out_and_counted_by_default(tmp_path: Path) -> None:
    path = pdf_samples.make_furniture_pdf(tmp_path / "notes.pdf", footnote=True)
    book = read(path, tmp_path / "work")  # a book titled "notes" by its file name: still read, it is no notes section
    assert len(_text(book).split()) > 500 and "narrator reads after" not in _text(book)
    notes = [section for section in book.skipped if section["kind"] == "notes"]
    assert notes and notes[0]["words"] == len(pdf_samples.NOTE_TEXT.split()) + 1  # the mark counts as a word
    assert not re.search(r"\d", _text(book))  # the raised mark is gone from its sentence


def test_footnote_set_flat_and_nearly_body_size_is_told_by_position_and_number(tmp_path: Path) -> None:
    """A print driver flattens the mark onto the line and the note is barely smaller than the text."""
    path = pdf_samples.make_furniture_pdf(tmp_path / "flat.pdf", flat_note=True)
    text = _text(read(path, tmp_path / "work"))
    assert "narrator reads after" not in text and not re.search(r"\d", text)  # no note, and no "1" in its sentence
    plain = pdf_samples.make_furniture_pdf(tmp_path / "plain.pdf")
    assert len(text.split()) == len(_text(read(plain, tmp_path / "work2")).split())


def test_footnote_is_read_after_its_paragraph_when_asked(tmp_path: Path) -> None:
    path = pdf_samples.make_furniture_pdf(tmp_path / "notes.pdf", footnote=True)
    paragraphs = all_paragraphs(read(path, tmp_path / "work", EngineSettings(read_notes=True)))
    [note] = [p for p in paragraphs if pdf_samples.NOTE_TEXT in p]
    assert note.startswith("1 " + pdf_samples.NOTE_TEXT)  # a paragraph of its own, not inside a sentence
    assert not any(pdf_samples.NOTE_TEXT in p for p in paragraphs if p is not note)


def test_code_listing_becomes_a_cue_and_a_snippet_goes_silent(tmp_path: Path) -> None:
    if pdf_samples.matplotlib_font("DejaVuSansMono.ttf") is None:
        pytest.skip("DejaVuSansMono.ttf (shipped with matplotlib) is needed to set code in a typewriter face")
    path = pdf_samples.make_furniture_pdf(tmp_path / "code.pdf", code=True, snippet=True)
    book = read(path, tmp_path / "work")
    text = _text(book)
    assert text.count(pdf.CODE_CUE) == 1  # one listing of six lines; the two-line snippet has no cue
    assert pdf.CODE_CUE in all_paragraphs(book)  # a paragraph of its own, with pauses around it
    assert "System.out" not in text and "total" not in text and "y = y" not in text
    as_code = _text(read(path, tmp_path / "work2", EngineSettings(read_code=True)))
    assert pdf.CODE_CUE not in as_code and "System.out.println(total);" in as_code and "x = x + 1;" in as_code


def test_display_equation_is_left_out(tmp_path: Path) -> None:
    if pdf_samples.matplotlib_font("cmmi10.ttf") is None:
        pytest.skip("cmmi10.ttf (shipped with matplotlib) is needed to set an equation in a maths font")
    path = pdf_samples.make_furniture_pdf(tmp_path / "maths.pdf", equation=True)
    book = read(path, tmp_path / "work")
    assert pdf_samples.EQUATION not in _text(book)
    assert any("display equations" in note for note in book.notes)


def test_margin_line_numbers_headers_and_copyright_footers_are_not_read(tmp_path: Path) -> None:
    path = pdf_samples.make_furniture_pdf(tmp_path / "margins.pdf", margin_numbers=True, footers=True)
    text = _text(read(path, tmp_path / "work"))
    assert not re.search(r"\d", text)  # no "5 10 15 20" down the margin, no "Page 2"
    assert "Copyright" not in text and "Page" not in text
    # Every body line is still there: 24 lines a page, three pages.
    plain = pdf_samples.make_furniture_pdf(tmp_path / "plain.pdf")
    assert len(text.split()) == len(_text(read(plain, tmp_path / "work2")).split())


@pytest.mark.parametrize("trim_box", [True, False], ids=["trim-box", "no-trim-box"])
def test_printers_proof_reads_no_mark_slug_or_ruler_number(tmp_path: Path, trim_box: bool) -> None:
    path = pdf_samples.make_proof_pdf(tmp_path / "proof.pdf", trim_box=trim_box)
    book = read(path, tmp_path / "work")
    text = _text(book)
    assert not re.search(r"\d", text)  # no ruler number, no "Page 47", no "2:14"
    assert "PASS" not in text and "qxd" not in text and "PM" not in text
    # Every body line is read, and the paragraph that runs over each page break stays one.
    body = " ".join(" ".join(pdf_samples._prose_lines(7 * n + 3, 24)) for n in range(6))
    assert text.lower().replace(".", "").split() == body.lower().replace(".", "").split()
    assert len(all_paragraphs(book)) == 2
    # The page boxes decide where they are set; else the marks repeat at one spot on every page.
    said = "outside the trimmed page" if trim_box else "at one spot with the same words"
    assert any(said in note for note in book.notes), book.notes


def test_labels_of_a_vector_drawing_are_not_read_but_a_framed_aside_is(tmp_path: Path) -> None:
    book = read(pdf_samples.make_diagram_pdf(tmp_path / "diagram.pdf"), tmp_path / "work")
    words = _text(book).split()
    assert not set(pdf_samples.DIAGRAM_LABELS) & set(words)  # no "rank Queen suit Hearts" in the flow
    assert "An aside in a frame" in _text(book) and "reading." in words
    assert any("labels inside drawings" in note for note in book.notes)


def test_two_column_page_reads_column_by_column(tmp_path: Path) -> None:
    path = pdf_samples.make_two_column_pdf(tmp_path / "columns.pdf")
    text = _text(read(path, tmp_path / "work"))
    order = [int(number) + (100 if side == "right" else 0) for side, number in re.findall(r"\b(left|right)(\d\d)\b", text)]
    assert order == list(range(30)) + list(range(100, 130))


def test_sections_of_non_narrative_kinds_are_skipped_and_listed(tmp_path: Path) -> None:
    story = [pdf_samples.prose(n, 8) for n in range(4)]
    path = pdf_samples.make_sectioned_pdf(
        tmp_path / "kinds.pdf",
        [
            (0, "Contents", ["The Forest . . . . . 3", "The Castle . . . . . 5"]),
            (0, "Preface", [pdf_samples.prose(1, 4)]),
            (0, "The Forest", story[:2]),
            (0, "The Castle", story[2:]),
            (0, "Bibliography", ["Hood, R. Ballads of the Greenwood. Nottingham, 1450."]),
            (0, "Index", ["arrows, 3, 5", "castle, 5"]),
        ],
    )
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == ["Preface", "The Forest", "The Castle"]
    kinds = {section["title"]: section["kind"] for section in book.skipped}
    assert kinds == {"Contents": "contents", "Bibliography": "bibliography", "Index": "index"}
    assert all(section["words"] > 0 and section["reason"] for section in book.skipped)
    everything = read(path, tmp_path / "work2", EngineSettings(skip=()))
    assert len(everything.chapters) == 6 and everything.skipped == []


@pytest.mark.parametrize("outline", [True, False], ids=["bookmarked", "no-outline"])
def test_title_copyright_and_contents_on_page_one_leave_every_chapter_read(tmp_path: Path, outline: bool) -> None:
    """Pandoc's default template: a contents heading set larger than the chapters' headings, on the page
    that also holds the title and the copyright line, must not take the chapters under it with it; without
    bookmarks (a print driver drops them) the numbered headings running 1, 2, 3 ... are the chapters."""
    names = ["The Outlaw", "A Merry Feast", "The Silver Arrow", "The Sheriff", "The Fair"]
    chapters = [(name, [pdf_samples.prose(10 * n + i, 12) for i in range(8)]) for n, name in enumerate(names)]
    path = pdf_samples.make_title_page_contents_pdf(tmp_path / "novel.pdf", chapters, outline=outline)
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == names
    for (_, paragraphs), chapter in zip(chapters, book.chapters):
        # Every word, and no heading, page number or contents entry (a paragraph may run on over a page break).
        assert " ".join(chapter.paragraphs).split() == " ".join(paragraphs).split()
    assert [section["kind"] for section in book.skipped] == ["contents"] and book.skipped[0]["words"] < 40
    assert book.title == "The Green Forest"  # no metadata: the title page's largest type, not the file's name


def test_an_authors_appeal_after_the_story_is_left_out_by_what_it_says(tmp_path: Path) -> None:
    story = [pdf_samples.prose(n, 12) for n in range(8)]
    appeal = [
        "This book is free. But if you enjoyed this book, here are some things you could do.",
        "Pass the book on to a friend. Sign up for the mailing list: there will be no spam.",
    ]
    # The same words inside the story are the story's: only what comes after it is judged so.
    early = [f"She said: {appeal[1]}", *story[4:]]
    path = pdf_samples.make_sectioned_pdf(
        tmp_path / "appeal.pdf",
        [
            (0, "The Forest", story[:4]),
            (0, "The Letter", early),
            (0, "The Castle", story),
            (0, "Thanks for Reading", appeal),
            (0, "More", ["Also by Ann Example", "The Green Forest. The Silver Arrow. The Merry Feast."]),
        ],
    )
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == ["The Forest", "The Letter", "The Castle"]
    assert [(section["title"], section["kind"]) for section in book.skipped] == [
        ("Thanks for Reading", "advertisement"), ("More", "advertisement")
    ]
    assert all("after the story" in section["reason"] for section in book.skipped)


def test_textbook_without_outline_keeps_its_chapters_and_reads_no_rule_or_cover_cue(tmp_path: Path) -> None:
    """Numbered exercises opening a page are not chapters; a rule typed in hyphens is not "minus minus";
    a cover's title in a typewriter face is display type, not a code listing."""
    book = read(pdf_samples.make_textbook_pdf(tmp_path / "textbook.pdf"), tmp_path / "work")
    assert [chapter.title for chapter in book.chapters][-3:] == [
        "Chapter 1: The First Lesson", "Chapter 2: The Second Lesson", "Chapter 3: The Third Lesson"
    ]
    text = _text(book)
    assert "(Code omitted.)" not in text and not re.search(r"- -|--", text)
    for exercise in pdf_samples.EXERCISES:
        for thing in pdf_samples.EXERCISE_THINGS:
            assert exercise.format(thing) in text  # read in its chapter, as its text
    assert not any("Think Forest" in chapter.title for chapter in book.chapters[-3:])


def test_a_bookmark_named_contents_over_prose_is_read_and_said_so(tmp_path: Path) -> None:
    """A title page bookmarked "Contents" that runs on into the first chapter: the heading does not decide."""
    story = [pdf_samples.prose(n, 14) for n in range(6)]
    path = pdf_samples.make_sectioned_pdf(
        tmp_path / "misnamed.pdf", [(0, "Contents", ["The Forest 1", "The Castle 2", *story[:3]]), (0, "The Castle", story[3:])]
    )
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == ["Contents", "The Castle"]
    assert " ".join(book.chapters[0].paragraphs).split() == " ".join(story[:3]).split()  # the prose, not the entries
    assert [(section["kind"], section["words"]) for section in book.skipped] == [("contents", 7)]
    assert any('read "Contents"' in note for note in book.notes)


def test_a_book_whose_every_section_looks_skippable_is_read_whole(tmp_path: Path) -> None:
    """Bookmarks named "Index" and "Notes" over a story: leaving all of it out would leave no book."""
    story = [pdf_samples.prose(n, 3) for n in range(4)]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "misnamed.pdf", [(0, "Index", story[:2]), (0, "Notes", story[2:])])
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == ["Index", "Notes"]
    assert _text(book).split() == " ".join(story).split()
    assert any("all of it is read" in note for note in book.notes)


def test_parts_in_the_outline_give_way_to_their_chapters(tmp_path: Path) -> None:
    chapter = [pdf_samples.prose(n, 30) for n in range(8)]  # several pages each
    path = pdf_samples.make_sectioned_pdf(
        tmp_path / "parts.pdf",
        [
            (0, "Part I In the Forest", []),
            (1, "The Outlaw", chapter[:4]),
            (1, "The Archer", chapter[4:]),
            (0, "Part II In the Town", []),
            (1, "The Sheriff", chapter[:4]),
            (1, "The Fair", chapter[4:]),
        ],
    )
    titles = [chapter.title for chapter in read(path, tmp_path / "work").chapters]
    # A part with nothing but its title leads the title of its first chapter.
    assert titles == ["Part I In the Forest: The Outlaw", "The Archer", "Part II In the Town: The Sheriff", "The Fair"]


def test_without_outline_chapters_come_from_large_headings(tmp_path: Path) -> None:
    names = ["The Outlaw of Sherwood", "A Merry Feast", "The Silver Arrow"]
    path = pdf_samples.make_sectioned_pdf(
        tmp_path / "plain.pdf", [(0, name, [pdf_samples.prose(n, 40), pdf_samples.prose(n + 9, 30)]) for n, name in enumerate(names)], outline=False
    )
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == names
    assert not any(p.startswith(tuple(names)) for p in all_paragraphs(book))  # the heading is not read twice


def test_licence_without_markers_at_the_end_is_cut(tmp_path: Path) -> None:
    licence = [
        "Updated editions will replace the previous one.",
        "THE FULL PROJECT GUTENBERG LICENSE. PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK.",
        pdf_samples.prose(9, 12),
    ]
    story = [pdf_samples.prose(n, 10) for n in range(6)]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "pg.pdf", [(0, "The Forest", story[:3]), (0, "The End", story[3:] + licence)])
    book = read(path, tmp_path / "work")
    assert "gutenberg" not in _text(book).lower() and story[-1] in _text(book)
    assert [section["kind"] for section in book.skipped] == ["licence"]


def test_japanese_pdf_is_text_and_reads_without_spaces(tmp_path: Path) -> None:
    font = pdf_samples.japanese_font()
    if font is None:
        pytest.skip("no Japanese TrueType font (scripts/setup.sh --test installs fonts-ipafont-gothic as root)")
    path = pdf_samples.make_japanese_pdf(tmp_path / "ja.pdf", font)
    facts = pdf.inspect(path, SETTINGS)
    assert facts.has_text_layer
    text = _text(pdf.extract(path, facts, SETTINGS, tmp_path / "work"))
    assert "吾輩は猫である。名前はまだ無い。" in text and "見当がつかぬ。何でも" in text  # lines joined without a space
    assert "先生" in pdf.sample_text(path, SETTINGS)


def test_text_quality_counts_unspaced_scripts_as_words() -> None:
    japanese = "私はその人を常に先生と呼んでいた。だからここでもただ先生と書くだけで本名は打ち明けない。" * 10
    assert not pdf.text_quality(japanese).garbled
    assert pdf.text_quality("\ue000\ue001 \ue002" * 30).garbled  # private-use glyph codes still are


def test_sample_text_comes_from_the_body_spread_over_the_book(tmp_path: Path) -> None:
    book = pdf_samples.draft_book(chapters=5, paragraphs=12)
    path = make_pdf(book, tmp_path / "long.pdf")
    sample = pdf.sample_text(path, SETTINGS, limit=3000)
    assert 2000 <= len(sample) <= 3000
    assert book.title not in sample[:100]  # not the title page first
    chapters_seen = {n for n, chapter in enumerate(book.chapters) if any(p[:40] in sample for p in chapter.paragraphs)}
    assert len(chapters_seen) >= 2


def test_sample_text_is_cheap_for_a_real_book(corpus: Path) -> None:
    started = time.process_time()
    sample = pdf.sample_text(corpus / ROBIN, SETTINGS)
    assert time.process_time() - started < 1.0 and len(sample) == 20000
    assert "Gutenberg" not in sample[:2000] and "Robin" in sample


def test_copyright_page_is_left_out_and_listed(tmp_path: Path) -> None:
    names = ["The Outlaw of Sherwood", "A Merry Feast"]
    imprint = ["Copyright © 2015 Example Press. All rights reserved.", "ISBN 978-0-00-000000-0. Printed in England."]
    sections = [(0, "The Green Forest", imprint)] + [(0, name, [pdf_samples.prose(n, 40)]) for n, name in enumerate(names)]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "imprint.pdf", sections, outline=False)
    book = read(path, tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == names
    assert "Copyright" not in _text(book) and "ISBN" not in _text(book)
    [section] = book.skipped
    assert section["kind"] == "copyright" and section["words"] >= 12  # the whole page, its title line too


def test_licence_notice_on_the_title_verso_is_left_out(tmp_path: Path) -> None:
    names = ["The Outlaw of Sherwood", "A Merry Feast"]
    notice = [
        "This book is free software; you can redistribute it under the terms of the GNU General Public License "
        "as published by the Free Software Foundation.",
        "It is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY.",
    ]
    sections = [(0, "The Green Forest", notice)] + [(0, name, [pdf_samples.prose(n, 40)]) for n, name in enumerate(names)]
    book = read(pdf_samples.make_sectioned_pdf(tmp_path / "gpl.pdf", sections, outline=False), tmp_path / "work")
    assert [chapter.title for chapter in book.chapters] == names and "GNU" not in _text(book)
    assert [section["kind"] for section in book.skipped] == ["copyright"]


def test_endnotes_section_is_read_when_notes_are_asked_for(tmp_path: Path) -> None:
    story = [pdf_samples.prose(n, 10) for n in range(3)]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "endnotes.pdf", [(0, "The Forest", story), (0, "Notes", ["1. The forest is Sherwood."])])
    assert [c.title for c in read(path, tmp_path / "a").chapters] == ["The Forest"]
    assert [c.title for c in read(path, tmp_path / "b", EngineSettings(read_notes=True)).chapters] == ["The Forest", "Notes"]


def test_text_over_a_page_filling_picture_is_read(tmp_path: Path) -> None:
    """A picture the size of the page is a scan or a background, not a figure: the text on it is the book."""
    story = [pdf_samples.prose(n, 5) for n in range(4)]
    book = read(pdf_samples.make_text_over_picture_pdf(tmp_path / "ocr.pdf", story), tmp_path / "work")
    assert all(paragraph in _text(book) for paragraph in story)


def test_gutenberg_header_without_markers_is_left_out(tmp_path: Path) -> None:
    header = [
        "The Project Gutenberg eBook of The Green Forest. This ebook is for the use of anyone anywhere in the United "
        "States and most other parts of the world at no cost and with almost no restrictions whatsoever.",
        "Title: The Green Forest",
        "Release date: May 1, 2020 [eBook #12345]",
    ]
    story = [pdf_samples.prose(n, 10) for n in range(4)]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "pgh.pdf", [(0, "The Forest", header + story[:2]), (0, "The Castle", story[2:])])
    book = read(path, tmp_path / "work")
    assert all_paragraphs(book) == story
    assert [section["kind"] for section in book.skipped] == ["licence"]


def test_caption_under_a_picture_goes_and_a_heading_under_a_logo_stays(tmp_path: Path) -> None:
    """A caption is centred on its picture; a heading that starts under a small logo only overlaps it."""
    text = _text(read(pdf_samples.make_logo_and_figure_pdf(tmp_path / "report.pdf"), tmp_path / "work"))
    assert pdf_samples.LOGO_HEADING in text
    assert pdf_samples.FIGURE_CAPTION not in text


def test_table_under_its_caption_is_left_out(tmp_path: Path) -> None:
    book = read(pdf_samples.make_table_pdf(tmp_path / "table.pdf"), tmp_path / "work")
    text = _text(book)
    assert not any(cell in text for row in pdf_samples.TABLE_CELLS for cell in row) and "Outlaws and what" not in text
    assert len(text.split()) >= 20 * 8  # the prose around it stays


def test_contents_page_by_its_page_numbers_and_engine_skip_brings_it_back(tmp_path: Path) -> None:
    entries = [f"{name} {3 + 4 * n}" for n, name in enumerate(["The Forest", "The Castle", "The Fair", "The Arrow", "The River",
                                                                "The Abbey", "The Sheriff", "The Bishop", "The King", "The End"])]
    story = [pdf_samples.prose(n, 10) for n in range(6)]
    sections = [(0, "The Green Forest", entries), (0, "The Forest", story[:3]), (0, "The Castle", story[3:])]
    path = pdf_samples.make_sectioned_pdf(tmp_path / "toc.pdf", sections, outline=False)
    book = read(path, tmp_path / "a")
    assert "The Arrow 15" not in _text(book) and [s["kind"] for s in book.skipped] == ["contents"]
    assert "The Arrow 15" in _text(read(path, tmp_path / "b", EngineSettings(skip=())))


def test_inline_code_keeps_its_words_and_loses_its_operators(tmp_path: Path) -> None:
    mono = pdf_samples.matplotlib_font("DejaVuSansMono.ttf")
    if mono is None:
        pytest.skip("DejaVuSansMono.ttf (shipped with matplotlib) is needed to set code in a typewriter face")
    text = _text(read(pdf_samples.make_inline_code_pdf(tmp_path / "inline.pdf", mono), tmp_path / "work"))
    assert "Then we call System out println total to show the sum of the outlaws." in text
    # A web address in the typewriter face keeps its dots and slashes, so phase 3 says it as in prose.
    assert "The map is at http://www.example.org/wiki/Sherwood_Forest for all." in text
    spoken = normalize_text(text)
    assert "The map is at www dot example dot org, wiki, Sherwood Forest for all." in spoken
    assert "Print it with c out value name in the page." in spoken
    assert "kept at www dot example dot org, guides, Outlaw Style dot html for all." in spoken  # cut at the line's end


# ---------------------------------------------------------------- plays (issue 11 item 5)


# The scene, with a word of emphasis in italics that stays in its speech, and directions long enough to
# run over two lines, on a line of their own and within a speech.
SCENE = EARNEST_SCENE + [
    ("Lane", "I *never* heard it, sir."),
    ("", "Enter Lady Bracknell and Gwendolen, who stand for a moment at the door of the morning-room."),
    ("Algernon", "Good afternoon. [He goes forward to meet them with every sign of pleasure, bowing low.] Dear aunt."),
]
SPEAKERS = {speaker for speaker, _ in SCENE if speaker}
# Each stage direction as a sentence of its own: on a line of its own, or "[...]" within a speech.
DIRECTIONS = [closed(words) for speaker, words in SCENE if not speaker] + [
    closed(found) for speaker, words in SCENE if speaker for found in re.findall(r"\[(.*?)\]", words)
]


@pytest.mark.parametrize("style", ["capitals", "bold", "smallcaps", "alone"])
def test_play_labels_end_a_sentence_and_directions_stand_alone(tmp_path: Path, style: str) -> None:
    book_file = pdf_samples.make_play_pdf(tmp_path / f"{style}.pdf", style, SCENE)
    book = read(book_file, tmp_path / "w")
    assert any("read as a play" in note for note in book.notes)
    assert "Lane. Yes, sir." in all_paragraphs(book)  # the label leads its speech, as in the EPUB reader
    sentences = phase_three_sentences(book_file, tmp_path)
    labels = [s for s in sentences if s in {f"{speaker}." for speaker in SPEAKERS}]
    assert len(labels) == sum(1 for speaker, _ in SCENE if speaker)  # a sentence break after every label
    assert "I never heard it, sir." in sentences  # a word in italics is emphasis, not a direction
    assert not any(s.isupper() for s in sentences)  # labels in normal capitalisation, not shouted
    assert "Lane. Yes, sir." not in sentences and "Lane Yes, sir." not in " ".join(sentences)
    for direction in DIRECTIONS:  # each direction a sentence of its own, never run into a speech
        assert direction in sentences, (direction, sentences)
        core = direction.rstrip(".")
        assert all(s == direction or core not in s for s in sentences if s != core + "."), (direction, sentences)
    assert "Algernon." in sentences[sentences.index("Inspects them, takes two, and sits down on the sofa.") - 1]
    assert sentences[sentences.index("Inspects them, takes two, and sits down on the sofa.") + 1].startswith("Oh!")


def test_prose_with_run_in_words_and_small_capitals_is_not_a_play(tmp_path: Path) -> None:
    """Bold run-in words ("Note.", "Example.") and chapters opening in small capitals, with italics for
    emphasis, in paragraphs of ordinary length: read word for word as written, nothing set apart."""
    prose = pdf_samples.prose
    chapters = [
        [
            (opening, style, f"{lead} {prose(10 * number + position, 7)}")
            for position, (opening, style, lead) in enumerate(
                [
                    (f"THE {word}", "caps", "Was green and deep."),
                    ("Note.", "bold", "The outlaws rode *along its paths* with bows."),
                    ("", "", "The sheriff *waited* in his castle. *Then he Rode* away."),
                    ("Example.", "bold", "The people of the town loved *the merry band* well."),
                ]
            )
        ]
        for number, word in enumerate(["FOREST", "SHERIFF", "PEOPLE", "CASTLE"])
    ]
    book = read(pdf_samples.make_run_in_prose_pdf(tmp_path / "prose.pdf", chapters), tmp_path / "w")
    assert not any("play" in note for note in book.notes)
    written = [f"{opening} {rest}".strip().replace("*", "") for chapter in chapters for opening, _, rest in chapter]
    assert " ".join(all_paragraphs(book)) == " ".join(written)
    assert any(p.startswith("Note. The outlaws rode along its paths with bows.") for p in all_paragraphs(book))


@pytest.mark.parametrize("style", ["capitals", "alone"])
def test_long_play_leads_every_speech_with_its_label(tmp_path: Path, style: str) -> None:
    """Over many pages: names alone at the top of a page are labels, not running heads, and a speaker
    heard only once ("Chorus") is labelled like the others."""
    speakers = ["Romeo", "Juliet", "Nurse", "Friar Laurence"]
    speeches = [(speakers[n % 4], pdf_samples.prose(n, 1 + n % 4)) for n in range(70)]
    speeches[9], speeches[40] = ("Chorus", pdf_samples.prose(500, 2)), ("First Citizen", pdf_samples.prose(501, 1))
    book = read(pdf_samples.make_play_pdf(tmp_path / "long.pdf", style, speeches), tmp_path / "w")
    assert all_paragraphs(book)[1:] == [f"{speaker}. {words}" for speaker, words in speeches]
