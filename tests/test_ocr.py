"""Reading by OCR: scanned pages and glyph-code pages become the book's body, and what OCR cannot read is
refused in one line. Real Tesseract on a few real pages; each test skips without Tesseract (or ../shared)."""

from __future__ import annotations

import importlib.util
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jiwer
import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

from audiobook import errors
from audiobook.settings import EngineSettings
from conftest import CORPUS
from pdf_samples import prose, unicode_font

ORCHESTRATOR = [sys.executable, "-m", "audiobook.orchestrator"]
HUCK = "scanned_image_only_huck_finn_p22.pdf"
# The body of the Huck Finn page (1885 first edition, page 22), as printed: heading, text, no caption.
HUCK_BODY = (
    "Chapter II. We went tip-toeing along a path amongst the trees back towards the end of the widow's garden, "
    "stooping down so as the branches wouldn't scrape our heads. When we was passing by the kitchen I fell over a "
    "root and made a noise. We scrouched down and laid still. Miss Watson's big nigger, named Jim, was setting in "
    "the kitchen door; we could see him pretty clear, because there was a light behind him. He got up and "
    "stretched his neck out about a minute, listening. Then he says, \"Who dah?\" He listened some more; then he "
    "come tip-toeing down and stood right between us; we could a touched him, nearly. Well, likely it was minutes "
    "and minutes that there warn't a sound, and we all there so close together. There was a place on my ankle that "
    "got to itching; but I dasn't scratch it; and then my ear begun to itch; and next my back, right between my "
    "shoulders. Seemed like I'd die if I couldn't scratch. Well, I've noticed that thing plenty of times since. "
    "If you are with the quality, or at a funeral, or trying to go to sleep when you ain't sleepy—if you are anywheres"
)
SCAN_TOOL = CORPUS.parent / "tools" / "scan.py"

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed (scripts/setup.sh as root)")


def orchestrate(book: Path, out: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    record = out / "book.json"
    proc = subprocess.run([*ORCHESTRATOR, str(book), f"--pipeline-json={record}", *args], capture_output=True, text=True, timeout=300)
    return proc, json.loads(record.read_text())


def body_text(out: Path) -> str:
    """The paragraphs phase 2 extracted (the body a narrator reads, without chapter titles)."""
    book = json.loads((out / "work" / "phase2-extract.json").read_text())["result"]
    return " ".join(paragraph for chapter in book["chapters"] for paragraph in chapter["paragraphs"])


def words(text: str) -> str:
    """Number-blind words: lower-case letters only, roman numerals (chapter numbers) left out."""
    found = re.findall(r"[a-z]+", text.lower().replace("’", "").replace("'", ""))
    return " ".join(word for word in found if not re.fullmatch(r"[ivxlc]+", word) or word == "i")


def test_huck_finn_page_is_read_without_its_illustration_caption_or_ornament(corpus: Path, tmp_path: Path) -> None:
    proc, record = orchestrate(corpus / HUCK, tmp_path / "out", "--phases", "1", "2")
    assert proc.returncode == 0, proc.stderr
    read = words(body_text(tmp_path / "out"))
    assert read.startswith("we went tip toeing"), read[:80]  # the drop cap joined its word
    assert "tip toed along" not in read  # the caption
    error = jiwer.wer(words(HUCK_BODY), read)
    assert error <= 0.03, f"word error {error:.1%}: {read}"
    figures = record["phases"]["1"]["metrics"]
    assert figures["ocr_pages"] == 1 and figures["ocr_words_dropped"] > 0 and figures["ocr_confidence"] > 85
    assert "OCR page 1/1" in proc.stderr
    # The page's reading is kept: phase 1 again (its checkpoint gone) reads no page a second time.
    (tmp_path / "out" / "work" / "phase1-validate.json").unlink()
    proc, again = orchestrate(corpus / HUCK, tmp_path / "out", "--phases", "1")
    assert proc.returncode == 0 and "OCR page" not in proc.stderr, proc.stderr
    assert again["phases"]["1"]["metrics"]["ocr_confidence"] == figures["ocr_confidence"]


def _scan_tool():
    if not SCAN_TOOL.is_file():
        pytest.skip(f"the scan tool is not at {SCAN_TOOL} (lay ../shared beside the repo)")
    spec = importlib.util.spec_from_file_location("shared_scan", SCAN_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scanned_pages_read_as_their_text_layer_does(corpus: Path, tmp_path: Path) -> None:
    """Four pages of a real book as a flatbed scan (tint, skew, noise, JPEG) read like the same pages'
    text layer: the same body, within the issue's bars (inserted <= 10, lost <= 5 per 1,000 words). The
    last holds a line between two display equations that Tesseract's page segmentation finds no line in."""
    book = corpus / "pairs" / "vc-queueing-theory" / "book.pdf"
    pages = [3, 4, 5, 20]
    cut = pdfium.PdfDocument.new()
    cut.import_pages(pdfium.PdfDocument(book), pages)
    cut.save(tmp_path / "pages.pdf")
    _scan_of(_scan_tool(), book, pages, tmp_path / "scan.pdf")
    expected, read = [], []
    for name, into in (("pages.pdf", expected), ("scan.pdf", read)):
        proc, _ = orchestrate(tmp_path / name, tmp_path / name.replace(".pdf", ""), "--phases", "1", "2", "--threads", "2")
        assert proc.returncode == 0, proc.stderr
        into += words(body_text(tmp_path / name.replace(".pdf", ""))).split()
    assert "the average length of the queue itself excluding requests in service is" in " ".join(read)
    output = jiwer.process_words(" ".join(expected), " ".join(read))
    per_1000 = 1000 / len(expected)
    assert output.insertions * per_1000 <= 10 and output.deletions * per_1000 <= 5, (output.insertions, output.deletions, len(expected))


def _scan_of(scan, book: Path, pages: list[int], out: Path) -> Path:
    """Pages of a real book as a flatbed scan (the shared tool's tint, skew, noise and JPEG), pictures only."""
    source = pdfium.PdfDocument(book)
    rng = random.Random(1)
    images = [scan.scanned(source[i].render(scale=300 / 72, grayscale=True).to_pil().convert("L"), rng) for i in pages]
    images[0].save(out, "PDF", resolution=300, save_all=True, append_images=images[1:])
    return out


def test_scanned_listing_is_left_out_as_code(corpus: Path, tmp_path: Path) -> None:
    """A listing in a typewriter face is told by its letters' even widths (OCR names no font), as a text
    layer's font tells it, with the line Tesseract reads spaced as prose between its lines ('System. out.print
    (minute)'); the prose around it stays. Two pages: a book more than 40 % code is set in that face throughout."""
    scan = _scan_of(_scan_tool(), corpus / "pairs" / "think-java" / "book.pdf", [28, 31], tmp_path / "scan.pdf")
    proc, _ = orchestrate(scan, tmp_path / "out", "--phases", "1", "2")
    assert proc.returncode == 0, proc.stderr
    body = words(body_text(tmp_path / "out"))
    assert "the output of this program is" in body and "the syntax for printing a variable" in body, body
    assert "int hour minute" not in body and "hour minute" not in body, body
    assert "system out print minute" not in body and "system out println" not in body, body


def _hocr(paragraphs: list[list[tuple[str, list[tuple[str, int, tuple[int, int, int, int]]]]]]) -> bytes:
    """A page of hOCR as Tesseract writes it: paragraphs of lines (a line's title, its words with their
    confidence and box)."""
    body = ""
    for lines in paragraphs:
        body += "<p class='ocr_par' title='bbox 0 0 1 1'>"
        for title, line_words in lines:
            found = "".join(f"<span class='ocrx_word' title='bbox {' '.join(map(str, box))}; x_wconf {conf}'>{text}</span>" for text, conf, box in line_words)
            body += f"<span class='ocr_line' title=\"{title}\">{found}</span>"
        body += "</p>"
    return f"<html><body><div class='ocr_page' title='bbox 0 0 1749 2481'>{body}</div></body></html>".encode()


def _row(top: int, texts: list[tuple[str, int, int]], x_size: float, descenders: float, space: int = 20) -> tuple[str, list]:
    """A line at ``top`` of words (text, confidence, width), ``space`` pixels apart."""
    line_words, left = [], 210
    for text, conf, width in texts:
        line_words.append((text, conf, (left, top, left + width, top + 40)))
        left += width + space
    title = f"bbox 210 {top} {left} {top + 47}; baseline -0.003 -9; x_size {x_size}; x_descenders {descenders}; x_ascenders 12"
    return title, line_words


def test_ocr_lines_of_capitals_and_digits_keep_the_body_size_and_the_words_tesseract_doubts() -> None:
    """Measured on locative-garden's scan: prose at x_size 43 (descenders 10), a paragraph of street addresses
    in the same type at 35-39 (descenders 5-7, no letter reaches below the line), which the reader then took
    for a table set small; the words Tesseract doubts or misreads beside a bullet or a quote; a note's raised
    mark read as a quote glued to its first word (viking-tales); lines go down the page."""
    from audiobook.pdf.ocr_layout import clean_page, parse_hocr, to_page

    prose = [("Longitude", 96, 240), ("is", 96, 40), ("the", 96, 70), ("East", 96, 100), ("to", 96, 40)]
    hocr = _hocr(
        [
            [_row(600, prose, 43, 10), _row(660, prose, 43, 11)],
            [
                _row(720, [("—122.718733,", 44, 300), ("3711", 93, 80), ("Skyfarm", 92, 160), ("Dr,", 96, 60)], 34.83, 6.83, 10),
                _row(780, [("26th", 96, 90), ("Ave,", 96, 90), ("San", 96, 70), ("Francisco,", 96, 200)], 39, 5),
                _row(840, [("94116”", 96, 130), ("-122.401662,601", 93, 300), ("Townsend", 96, 180)], 39, 5),
            ],
            [_row(900, [("“T", 36, 40), ("am", 95, 60), ("Thesecurity", 88, 230), ("guard,", 96, 120), ("but", 89, 70), ("|", 89, 5)], 43, 10)],
            # given before the line above it, as Tesseract gives a line beside a drop cap
            [_row(1030, [("and", 96, 70), ("inthe", 96, 100), ("form.", 96, 100)], 43, 10)],
            [_row(960, [("=", 64, 20), ("Insert", 45, 120), ("custom", 95, 140), ("random", 96, 150), ("tokens", 96, 130)], 43, 10)],
            [_row(1100, [("‘See", 60, 90), ("note", 96, 80), ("about", 96, 100), ("house", 96, 100)], 33, 8)],  # a note's mark
            # owasp's small-capital heading, which Tesseract puts in one paragraph with the smaller lines under it
            [_row(1160, [("SAMPLES", 96, 190)], 39, 0), _row(1220, [("cve.mitre.org/cvename", 90, 500)], 28, 6), _row(1280, [("cve.mitre.org/2", 90, 400)], 28, 6)],
        ]
    )
    page = parse_hocr(0, hocr)
    lines = to_page(clean_page(page), page, 420.0, 595.0).lines
    assert [line.text for line in lines[2:]] == [
        "3711 Skyfarm Dr,",
        "26th Ave, San Francisco,",
        "94116” -122.401662,601 Townsend",
        "“I am The security guard, but I",
        "Insert custom random tokens",
        "and in the form.",
        "* See note about house",
        "SAMPLES",
        "cve.mitre.org/cvename",
        "cve.mitre.org/2",
    ]
    prose_size = lines[0].size
    assert all(abs(line.size / prose_size - 1) < 0.05 for line in lines[2:5]), [line.size for line in lines]
    assert lines[2].x0 == lines[0].x0  # the print starts where the number Tesseract doubted starts
    assert lines[6].x0 == lines[0].x0  # and where the bullet Tesseract read as "=" and left out stands
    assert lines[-3].size > 1.3 * lines[-1].size and abs(lines[-3].size / prose_size - 39 / 43) < 0.05, [line.size for line in lines]


def test_a_bullets_doubted_first_word_stays_when_its_line_is_read_again() -> None:
    """vc-queueing-theory's "• A queue is a mechanism ...": the bullet read as "e", "A" and "queue" doubted (35 %),
    so the line is read again from its second word; the short first word after the bullet stays, as a longer
    one does ("• How long ..."), where a heading's ornament read as letters ("WM The ...") goes."""
    from audiobook.pdf.ocr_layout import OcrWord, apply_rereads, parse_hocr, second_looks

    rest = [("queue", 35, 150), ("is", 92, 35), ("a", 95, 25), ("mechanism", 95, 250)]
    page = parse_hocr(0, _hocr([[_row(300, [("e", 91, 23), ("A", 35, 34), *rest], 56, 12)], [_row(400, [("WM", 55, 60), *rest], 56, 12)]]))
    looks = second_looks(page)
    assert [line.words[0].text for line, _ in looks] == ["A", "WM"]
    apply_rereads(page, [(line.box, [OcrWord(word.text, 95, word.box) for word in line.words[1:]]) for line, _ in looks])
    assert [" ".join(word.text for word in line.words) for line in page.lines] == ["A queue is a mechanism", "queue is a mechanism"]


def test_running_head_whose_page_number_tesseract_misread_takes_the_pages_own() -> None:
    """think-java's "AO Chapter 3. Input and output" between "38 ..." and "42 ...": the number by the offset
    of page to number its group keeps, so the running-line rule knows the head; a line with more words stays."""
    from audiobook.pdf.layout import Line
    from audiobook.pdf.ocr_layout import with_page_number

    group = [Line("36 Chapter 3. Input and output", 39), Line("38 Chapter 3. Input and output", 41), Line("AO Chapter 3. Input and output", 43)]
    assert with_page_number("AO Chapter 3. Input and output", group[2], group) == "40 Chapter 3. Input and output"
    heading = Line("Chapter 3. Input and output", 45)
    assert with_page_number("Chapter 3. Input and output", heading, [*group, heading]) == "Chapter 3. Input and output"


def _glyph_code_pdf(path: Path, font: Path) -> tuple[str, list[str]]:
    """A clean first page, then two pages in a TrueType font whose Unicode map is taken out: their text
    extracts as glyph codes, as from a font embedded without a ToUnicode map."""
    pdf = FPDF(format=(148, 210))
    pdf.compress = False  # so the map's name can be found and renamed in place
    pdf.add_font("Body", "", str(font))
    pdf.set_margins(18, 18)
    first = prose(7, 12)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, first)
    others = [prose(8, 12), prose(9, 12)]
    for text in others:
        pdf.add_page()
        pdf.set_font("Body", size=11)
        pdf.multi_cell(0, 6, text)
    # A screenshot on the last page: light grey words in a picture, which a text layer never reads either.
    shot = Image.new("L", (900, 260), 235)
    for row, line in enumerate(("Olympics quiz: press start to see how fast", "you are against all the others who played")):
        ImageDraw.Draw(shot).text((30, 60 + 60 * row), line, fill=110, font=ImageFont.truetype(str(font), 30))
    pdf.image(shot, x=18, y=150, w=112)
    data = bytes(pdf.output())
    path.write_bytes(data.replace(b"/ToUnicode", b"/XoUnicode"))  # same length: the offsets stay right
    return first, others


def test_pdf_of_clean_and_glyph_code_pages_is_read_whole(tmp_path: Path) -> None:
    font = unicode_font()
    if font is None:
        pytest.skip("no DejaVu Sans font to build the PDF with")
    first, others = _glyph_code_pdf(tmp_path / "mixed.pdf", font)
    with pdfium.PdfDocument(tmp_path / "mixed.pdf") as doc:
        assert "forest" not in doc[1].get_textpage().get_text_range()  # glyph codes indeed
    proc, record = orchestrate(tmp_path / "mixed.pdf", tmp_path / "out", "--phases", "1", "2")
    assert proc.returncode == 0, proc.stderr
    assert record["phases"]["1"]["metrics"]["ocr_pages"] == 2  # only the pages whose text layer fails
    read = words(body_text(tmp_path / "out"))
    assert jiwer.wer(words(" ".join([first, *others])), read) <= 0.02, read
    assert "olympics" not in read and "quiz" not in read


def test_pages_whose_fonts_lost_their_unicode_maps_are_ocr_and_maths_symbols_are_not(corpus: Path, tmp_path: Path) -> None:
    """A real book's cover and a body page with the fonts' ToUnicode maps taken out: both go to OCR, the
    cover too, whose few garbled title words sit beside formulas in fonts that kept their maps. Lecture
    notes whose symbol fonts have no map (up to a tenth of a page's characters) keep their text layer."""
    from audiobook.pdf.inspection import printed_title
    from audiobook.pdf.ocr import pages_to_ocr

    source = pdfium.PdfDocument(corpus / "pairs" / "vc-queueing-theory" / "book.pdf")
    cut = pdfium.PdfDocument.new()
    cut.import_pages(source, [0, 5])
    cut.save(tmp_path / "mapped.pdf")
    # PDFium writes each font's dictionary as plain text: renaming the key (same length) drops the map.
    (tmp_path / "unmapped.pdf").write_bytes((tmp_path / "mapped.pdf").read_bytes().replace(b"/ToUnicode", b"/XoUnicode"))
    with pdfium.PdfDocument(tmp_path / "unmapped.pdf") as doc:
        assert pages_to_ocr(doc, "auto")[0] == [0, 1]
        assert printed_title(doc, {0, 1}) is None and printed_title(doc) == "5YIYIMRK 8LISV]"  # not the title's glyph codes
    with pdfium.PdfDocument(tmp_path / "mapped.pdf") as doc:
        assert pages_to_ocr(doc, "auto")[0] == []
    with pdfium.PdfDocument(corpus / "thoma_geotopo_de.pdf") as doc:
        assert pages_to_ocr(doc, "auto")[0] == []


def test_a_small_footnote_mark_is_read(corpus: Path, tmp_path: Path) -> None:
    """The raised "1" opening a footnote (20 pixels high, thin), from a page picture stored as JPEG as a
    PDF of pictures stores it: Tesseract reads it alone at 45 % confidence at its size, surely at twice it."""
    import numpy as np

    from audiobook.pdf.ocr import _single_character

    page = pdfium.PdfDocument(corpus / "pairs" / "vc-queueing-theory" / "book.pdf")[5]
    page.render(scale=300 / 72, grayscale=True).to_pil().convert("L").save(tmp_path / "page.pdf", "PDF", resolution=300)
    picture = pdfium.PdfDocument(tmp_path / "page.pdf")[0].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    foot = picture.crop((330, 2980, 440, 3045))
    rows, columns = np.nonzero(np.asarray(foot) < 140)  # the mark's ink, left of the note's first word
    mark = foot.crop((int(columns.min()), int(rows.min()), int(columns.max()) + 1, int(rows.max()) + 1))
    assert mark.height < 30 and _single_character(mark, "mark", ["eng"]) == "1"


def test_a_small_paragraph_whose_ocr_starts_wobble_is_no_table() -> None:
    """OCR places a paragraph's lines a point apart (205.2, 206.2): still one column, so a paragraph set a
    little small is read, while two columns of small lines are a table."""
    from audiobook.pdf.displays import drop_tables
    from audiobook.pdf.layout import Line, Page

    paragraph = Page(0, [Line(f"line {i} of a small paragraph", 0, x0=205.2 + i % 2, size=11.7) for i in range(9)])
    table = Page(1, [Line(f"cell {i}", 1, x0=(100.0, 250.0)[i % 2] + i % 3 / 2, size=11.7) for i in range(6)])
    assert drop_tables([paragraph, table], 13.7) == 6
    assert len(paragraph.lines) == 9 and table.lines == []


def _hocr_line(words: list[tuple[str, int]]) -> bytes:
    spans = "".join(
        f"<span class='ocrx_word' title='bbox {100 * i} 10 {100 * i + 90} 50; x_wconf {confidence}'>{text}</span>"
        for i, (text, confidence) in enumerate(words)
    )
    return (
        "<html xmlns='http://www.w3.org/1999/xhtml'><body><div class='ocr_page' title='bbox 0 0 2000 100'>"
        f"<span class='ocr_line' title='bbox 0 10 {100 * len(words)} 50; baseline 0 -5; x_size 40'>{spans}</span></div></body></html>"
    ).encode()


def test_a_line_is_judged_without_the_badge_read_at_its_end() -> None:
    """A running footer read with the licence badge beside it (as Tesseract reads vc-queueing-theory's):
    the badge's marks go and the footer is a line of text, as on pages read without the badge; a picture's
    marks with one word read among them stay marks."""
    from audiobook.pdf.ocr_layout import parse_hocr

    footer = [("W", 78), ("VividCortex", 78), ("Copyright", 96), ("©", 93), ("2015", 93), ("VividCortex", 92), ("[G)", 15), ("ev-nc-np", 1), ("|", 82)]
    [line] = parse_hocr(0, _hocr_line(footer)).lines
    assert line.is_text and [word.text for word in line.words][-1] == "VividCortex"
    [marks] = parse_hocr(0, _hocr_line([("ee", 20), ("oe", 31), ("ty", 88), ("Sl", 12), ("cae", 9)])).lines
    assert not marks.is_text


def test_noise_and_blank_scan_is_refused_in_one_line(tmp_path: Path) -> None:
    rng = random.Random(3)
    noise = Image.frombytes("L", (600, 800), bytes(rng.choice((0, 255, 255, 255)) for _ in range(600 * 800)))
    blank = Image.new("L", (600, 800), 250)
    noise.save(tmp_path / "noise.pdf", "PDF", resolution=150, save_all=True, append_images=[blank])
    proc, record = orchestrate(tmp_path / "noise.pdf", tmp_path / "out", "--phases", "1", "2", "3")
    assert proc.returncode == errors.EXIT_OCR_UNRELIABLE, proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if "[ERROR]" in line]
    assert "noise.pdf: " in line and "OCR" in line and "Traceback" not in proc.stderr
    assert record["error_kind"] == "ocr_unreliable"


def _random_letters_scan(path: Path) -> None:
    """A clean picture of a small page of random letters: Tesseract reads it with confidence (84-86 %
    on such pages) and almost none of it is a word."""
    rng = random.Random(5)
    pdf = FPDF(format=(105, 100))
    pdf.set_margins(10, 10)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, " ".join("".join(rng.choice("bcdfghjklmnpqrstvwxz") + rng.choice("aeiouy") + rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(rng.randint(1, 3))) for _ in range(70)))
    page = pdfium.PdfDocument(bytes(pdf.output()))[0]
    page.render(scale=300 / 72, grayscale=True).to_pil().convert("L").save(path, "PDF", resolution=300)


def test_ocr_of_few_dictionary_words_is_refused_and_such_a_page_in_a_good_book_is_skipped(tmp_path: Path) -> None:
    _random_letters_scan(tmp_path / "letters.pdf")
    proc, record = orchestrate(tmp_path / "letters.pdf", tmp_path / "alone", "--phases", "1")
    assert proc.returncode == errors.EXIT_OCR_UNRELIABLE, proc.stderr
    [line] = [line for line in proc.stderr.splitlines() if "[ERROR]" in line]
    assert re.search(r"letters\.pdf: cannot be read reliably by OCR: mean word confidence \d+ %, \d+ % dictionary words, on 1 of 1", line), line
    # The same page between two pages of prose with a good text layer: left out and listed, the book read.
    prose_pdf = FPDF(format=(148, 210))
    for seed in (1, 2):
        prose_pdf.add_page()
        prose_pdf.set_font("Helvetica", size=11)
        prose_pdf.multi_cell(0, 6, prose(seed, 20))
    book = pdfium.PdfDocument(bytes(prose_pdf.output()))
    book.import_pages(pdfium.PdfDocument(tmp_path / "letters.pdf"), index=1)
    book.save(tmp_path / "book.pdf")
    proc, record = orchestrate(tmp_path / "book.pdf", tmp_path / "book", "--phases", "1")
    assert proc.returncode == 0, proc.stderr
    figures = record["phases"]["1"]["metrics"]
    assert figures["ocr_pages"] == 1 and figures["ocr_pages_skipped"] == [2] and figures["ocr_dictionary_words"] is None


def test_two_letters_of_glyph_codes_are_too_little_text_even_by_ocr(corpus: Path, tmp_path: Path) -> None:
    proc, record = orchestrate(corpus / "type3_font_no_tounicode.pdf", tmp_path / "out", "--phases", "1")
    assert proc.returncode == errors.EXIT_OCR_UNRELIABLE, proc.stderr
    assert "too little text" in record["error"]


def test_ocr_settings_are_checked() -> None:
    assert EngineSettings.from_mapping({"ocr": "always", "ocr_languages": ["eng", "deu"]}).ocr_languages == ("eng", "deu")
    with pytest.raises(ValueError, match="engine.ocr"):
        EngineSettings.from_mapping({"ocr": "sometimes"})
    with pytest.raises(ValueError, match="ocr_languages"):
        EngineSettings.from_mapping({"ocr_languages": ["../../etc/x"]})


def test_german_scan_without_german_ocr_data_names_the_package_to_add(corpus: Path, tmp_path: Path) -> None:
    from audiobook.pdf.ocr import installed_languages
    from audiobook.voices import resolve_voice

    if "deu" in installed_languages():
        pytest.skip("German OCR data is installed here")
    source = pdfium.PdfDocument(corpus / "thoma_geotopo_de.pdf")
    source[20].render(scale=200 / 72, grayscale=True).to_pil().save(tmp_path / "seite.pdf", "PDF", resolution=200)
    # A German voice is configured (the installed voice, its config saying German), so the voice is no obstacle.
    voice = resolve_voice(EngineSettings())
    (tmp_path / "de_DE-x.onnx").symlink_to(voice.model_path)
    config = json.loads(voice.config_path.read_text())
    config["language"] = {"code": "de_DE"}
    config["espeak"] = {"voice": "de"}
    (tmp_path / "de_DE-x.onnx.json").write_text(json.dumps(config))
    settings = json.dumps({"voices": {"de": str(tmp_path / "de_DE-x.onnx")}})
    proc, record = orchestrate(tmp_path / "seite.pdf", tmp_path / "out", "--phases", "1", "--settings-json", settings)
    assert proc.returncode == errors.EXIT_OCR_UNRELIABLE, proc.stderr
    assert "German" in record["error"] and "tesseract-ocr-deu" in record["error"]


def test_link_list_under_a_heading_in_capitals_at_the_body_size_is_left_out() -> None:
    """A scan measures owasp's small-capital headings within one size's spread of the body: a heading in
    capitals opens a list all the same, and one address alone under its heading is a list of one link; the
    prose under a heading in capitals, and a sentence's own links, are read."""
    from audiobook.pdf.layout import Line, Page
    from audiobook.pdf.linklists import drop_link_lists

    def line(text: str, x0: float = 72.0) -> Line:
        return Line(text, 0, x0=x0, x1=400.0, y_first=0.0, y_last=0.0, size=10.0)

    body = [line("Avoid the use of interpreters when possible."), line("See http://www.owasp.org/ for more.")]
    samples = [line("SAMPLES"), line("http://cve.mitre.org/cgi-bin/cvename.cgi?name=CVE-2006-5121")]
    references = [line("REFERENCES"), line("CWE: CWE-89 (SQL Injection), CWE-77 (Command"), line("Injection), others.", 90.0)]
    references += [line("OWASP, http://www.owasp.org/index.php/SQL_Injection"), line("OWASP Guide, http://www.owasp.org/index.php/Guide")]
    protection = [line("PROTECTION"), line("Use strongly typed parameterized query APIs.")]
    # Measured on owasp's scan: no bullet seen and one address line lost, so one item of five holds an address;
    # its catalogue numbers tell it.
    lost = [line("REFERENCES"), line("CWE: CWE-200 (Information Leak), CWE-203 (Discrepancy Information Leak)")]
    lost += [line("Through Debug Information), CWE-209 (Error Message Information Leak), others.")]
    lost += [line("WASC Threat Classification:"), line("OWASP, http://www.owasp.org/index.php/Error_Handling")]
    # The closing chapter's title, measured at its sections' size: a heading over lists of links and a little prose.
    closing = [line("REFERENCES"), line("OWASP PROJECTS"), line("OWASP is the premier site for web application security.")]
    closing += [line("The following OWASP projects are most likely to be useful:"), line("OWASP Testing Guide", 90.0)]
    closing += [line("BOOKS"), line("[HOW1] Howard M., Lipner S., The Security Development Lifecycle, ISBN 0735622140", 90.0)]
    closing += [line("[SHI1] Shiflett, C., Essential PHP Security, ISBN 059600656X", 90.0)]
    closing += [line("WEB SITES"), line("OWASP, http://www.owasp.org", 90.0), line("SANS, http://www.sans.org/top20/", 90.0)]
    # A heading over sections of prose and one list of links is read.
    advice = [line("WHERE TO GO NEXT"), line("FOR ARCHITECTS")]
    advice += [line(f"Design your features securely and review them with care, {n} times a year.") for n in range(6)]
    advice += [line("FURTHER READING"), line("OWASP, http://www.owasp.org", 90.0), line("SANS, http://www.sans.org/", 90.0)]
    page = Page(0, body + samples + references + protection + lost + advice + closing)
    found = drop_link_lists([page], 10.0, ["bibliography"])
    titles = ["SAMPLES", "REFERENCES", "REFERENCES", "FURTHER READING", "REFERENCES", "OWASP PROJECTS", "BOOKS", "WEB SITES"]
    assert [section.title for section in found] == titles
    assert [kept.text for kept in page.lines] == [kept.text for kept in body + protection + advice[:8]]


def test_prose_around_inline_code_tesseract_doubts_is_text() -> None:
    """Measured on owasp's scan: a line of prose whose inline code Tesseract reads at 0-50 % (mean 60, under the
    line bar) is text; a line of code with its comment, some words read at 90 % or more, is not."""
    from audiobook.pdf.ocr_layout import OcrLine, OcrWord

    def ocr_line(words: list[tuple[str, int]]) -> OcrLine:
        line = [OcrWord(text, confidence, (0, 0, 10, 10)) for text, confidence in words]
        return OcrLine(line, (0, 0, 100, 10), (0.0, 0.0), 37.0)

    prose = [("directly", 96), ("from", 96), ("the", 96), ("Request", 96), ("object:", 96), ("username.", 0), ("Text", 0)]
    prose += [("=", 96), ("Request", 50), (".QueryString", 0), ('("username")', 0), (";", 90), ("without", 96), ("using", 96)]
    code = [("$safe[", 65), ("‘filename’", 0), ("]=", 0), ("validate", 92), ("file", 92), ("name", 25)]
    code += [("($hostile[‘unsafe", 25), ("filename’]);", 91), ("//", 90), ("make", 96), ("it", 96), ("safe", 96)]
    assert ocr_line(prose).is_text
    assert not ocr_line(code).is_text


def test_a_typewriter_line_whose_widths_a_misread_letter_puts_off_is_code_by_its_characters() -> None:
    """Measured on owasp's scan (page 16): code of one line at the prose's own edge, its letters' widths put
    off by Tesseract's misreadings ("M require once(...)", "Shostile = &$ POST; // ..."), among prose that
    names functions ("passed to system() eval() passthru() or ...")."""
    from audiobook.pdf.ocr_layout import OcrLine, OcrWord, typewriter_lines

    def ocr_line(top: int, x_size: float, words: str, edges: list[int]) -> OcrLine:
        """The words and each one's left and right edge in pixels (the typewriter rules measure across only)."""
        boxes = [(left, top, right, top + 30) for left, right in zip(edges[::2], edges[1::2])]
        line = [OcrWord(text, 90, box) for text, box in zip(words.split(), boxes)]
        return OcrLine(line, (edges[0], top, edges[-1], top + 30), (0.0, -8.0), x_size, descenders=7.0)

    assignment = ocr_line(465, 34.0, "Shostile = &$ POST; // refer to POST variables, not $ REQUEST", [
        378, 531, 556, 572, 598, 630, 657, 747, 778, 810, 837, 932,
        957, 992, 1017, 1092, 1115, 1305, 1336, 1392, 1418, 1430, 1434, 1592])
    prose = ocr_line(599, 36.0, "Therefore any operation based upon hostile input is immediately obvious:", [
        374, 539, 553, 611, 623, 785, 800, 895, 910, 992, 1007, 1116, 1130, 1215, 1228, 1250, 1263, 1471, 1483, 1622])
    require = ocr_line(740, 28.0, "M require once($safe[‘filename’] . ‘inc.php’);", [
        377, 403, 452, 587, 589, 1040, 1077, 1082, 1118, 1322])
    named = "PHP: Be extremely cautious if data is passed to system() eval() passthru() or (the backtick operator)."
    functions = ocr_line(1762, 37.0, named, [
        453, 527, 542, 581, 593, 761, 773, 913, 926, 946, 957, 1028, 1044, 1066, 1079, 1190, 1203, 1236, 1250, 1390, 1403, 1494,
        1509, 1675, 1688, 1722, 1761, 1821, 1835, 1970, 1983, 2151])
    found = typewriter_lines([prose, assignment, prose, require, prose, functions, prose])
    assert found == [assignment, require]
