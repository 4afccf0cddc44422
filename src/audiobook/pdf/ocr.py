"""OCR where a PDF's text layer fails, page by page, with Tesseract 5.

A page keeps its text layer when it has a good one. A page with no text but
something drawn on it (a scan, letters drawn as curves) or with text that
extracts as glyph codes is rendered with PDFium at ``DPI`` and read by the
``tesseract`` command (hOCR: word boxes, baselines, line heights and
confidences), one process per page with ``OMP_THREAD_LIMIT=1`` and as many at
once as the book has threads: Tesseract's own threads gain little on a page,
and processes side by side scale with cores. Each page's hOCR is kept in the
book's work folder as it is made, so a killed or failed run never reads a
finished page again.

Phase 1 reads the pages (so the language is decided from the OCR'd text and a
book OCR cannot read is refused at once); phase 2 builds the reader's pages
from the same hOCR, so every rule of the text-layer reader applies unchanged.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from ..errors import BookError
from ..fileio import read_json, sha256_file, write_json
from ..model import BookFacts
from ..settings import EngineSettings
from ..voices import LANGUAGE_NAMES, THREE_LETTER_CODES, primary_language
from ..wordlists import frequencies
from .layout import Line, Page, with_layout
from .ocr_layout import (
    Box,
    Cleaned,
    OcrLine,
    OcrPage,
    OcrWord,
    Picture,
    apply_rereads,
    clean_page,
    found_lines,
    inverted_lines,
    join_marks,
    lost_lines,
    marks_before_lines,
    parse_hocr,
    picture_regions,
    second_looks,
    text_blanked,
    to_page,
    with_page_number,
)
from .opening import open_pdf
from .quality import SAMPLE_PAGES, TextQuality, text_quality

# Pages are rendered at this resolution: Tesseract reads body text best with letters 20-40 pixels high.
DPI = 300
# A page read by OCR is trusted when the mean confidence (0-100) of the words it keeps reaches this.
# Measured per page (20 words or more): scans of by-sound-alone-paperback 93.6-96.0, locative-garden
# 87.9-96.0, vc-queueing-theory 91.5-95.1; the 1885 Huck Finn page 94. Salt-and-pepper noise and blank
# pages keep no word at all (lines below 70 are marks, not text), and fail as too little text.
PAGE_CONFIDENCE = 70
# A page whose characters are this share or more without a Unicode map (a font without ToUnicode) is
# glyph codes however its text reads: whatever it extracts as ("4EKI" for "Page", a title in shifted
# letters beside formulas in fonts that kept their maps) is not what is printed. Measured a page: lecture
# notes whose symbol fonts lack a map 0-9.5 % (thoma_geotopo_de, 96 of 117 pages above 0), a programming
# book 0-0.6 %, every other corpus PDF 0; vc-queueing-theory with its body fonts' maps removed 65 % (the
# cover: the title beside formulas) and 90-100 % on every other page.
UNMAPPED_SHARE = 0.25
# Every this-many-th character is looked at: a page's share to a few per cent at an eighth of the cost
# (all of them took 0.2 s on 24 pages of a novel, as long as extracting their text).
UNMAPPED_STRIDE = 8
# A page read by OCR is trusted when this share of its words (two letters or more) are in wordfreq's small
# lists of the languages read with (words heard once a million words or more). Measured a page (10 words
# or more), English read with English data: scans of the six pairs' books 83.5-99.5 % (the lowest a
# security report's acronyms and a page of references), the 1885 Huck Finn page 94 %, pages blurred (4 px)
# or drawn at 60 dpi 91-99 %; a page of random letters, read at 84-86 % confidence, 10-12 %. A book in a
# language read without its data scores between (German notes read with English: 34-45 %) and is kept
# for the language check, which names the data to install.
PAGE_DICTIONARY = 0.25
# A page of fewer such words is not judged by them (a heading, a caption alone).
DICTIONARY_MIN_WORDS = 10
_WORD_PIECE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Languages written without spaces between words: no list of words measures them.
_UNSPACED_LANGUAGES = {"zh", "ja", "th", "lo", "km", "my", "bo"}
# A book is read when its readable text reaches this many letters per page (as phase 1 asks of a text layer).
MIN_LETTERS_PER_PAGE = 20
# A drawn page's embedded picture smaller than this share of the page is a picture (_embedded_pictures).
EMBEDDED_PICTURE_SHARE = 0.5
# A mark read alone (a note's number) this many pixels high or less is enlarged first (_single_character).
SMALL_MARK = 32
# A line read in a band of ink the page's segmentation missed is kept when it holds this many words Tesseract
# is sure of (the lead-in of vc-queueing-theory's equation: 12; viking-tales' glossary, "Aegir (ē´ jĭr)": 2),
# not ink at an illustration's edge read as one letter ("b" beside "=<SS" at 0 %).
LOST_LINE_WORDS = 2
# Parts of a page read on their own are framed by this many white pixels.
FRAME = 20
PROGRESS_FILE = "ocr_progress.json"
# Bump when what is kept of a page changes (its pictures, marks, lines read again), so old pages are read anew;
# a look that only adds to a kept page (lost lines: the key "found") is taken on kept pages without it instead.
CACHE_VERSION = 5
# Tesseract's language data by ISO 639-1 code (the inverse of the voices' table, ISO 639-2/T first).
_TESSERACT_CODES = {"zh": "chi_sim", **{two: three for three, two in reversed(list(THREE_LETTER_CODES.items()))}}

log = logging.getLogger("audiobook")


@dataclass
class OcrResult:
    """What OCR made of a book's pages, for phase 1's verdict and phase 2's pages."""

    pages: dict[int, Cleaned] = field(default_factory=dict)
    raw: dict[int, OcrPage] = field(default_factory=dict)
    skipped: list[int] = field(default_factory=list)  # pages whose OCR is unreliable: left out, never read as noise
    dictionary: dict[int, float] = field(default_factory=dict)  # each judged page's share of dictionary words
    seconds: float = 0.0

    def confidence(self, index: int) -> float | None:
        words = [word.confidence for line in self.pages[index].lines for word in line.words]
        return sum(words) / len(words) if words else None


def pages_to_ocr(doc: pdfium.PdfDocument, mode: str) -> tuple[list[int], int]:
    """The pages whose text layer fails (all pages when mode is "always"), and the letters the others hold.

    Pages spread over the book (phase 1's sample) are looked at first; only when one of them needs OCR is
    every page looked at, so a book with a good text layer costs no second reading of all its pages."""
    count = len(doc)
    spread = sorted({round(i * (count - 1) / (SAMPLE_PAGES - 1)) for i in range(SAMPLE_PAGES)}) if count > SAMPLE_PAGES else range(count)
    if mode != "always" and not any(_needs_ocr(doc, index)[0] for index in spread):
        return [], sum(_needs_ocr(doc, index)[1] for index in spread) * count // max(len(spread), 1)
    chosen, letters = [], 0
    for index in range(count):
        needed, found = _needs_ocr(doc, index)
        if needed or mode == "always":
            chosen.append(index)
        else:
            letters += found
    return chosen, letters


def _needs_ocr(doc: pdfium.PdfDocument, index: int) -> tuple[bool, int]:
    """Whether a page's text layer fails (no text over something drawn, or glyph codes), and its letters."""
    try:
        page = doc[index]
        textpage = page.get_textpage()
    except pdfium.PdfiumError:
        return False, 0
    text = textpage.get_text_range()
    unmapped = _unmapped_share(textpage)
    textpage.close()
    drawn = pdfium_c.FPDFPage_CountObjects(page) > 0
    page.close()
    quality = text_quality(text)
    return (drawn and quality.visible == 0) or unmapped >= UNMAPPED_SHARE or _glyph_codes(text, quality), quality.letters


def _unmapped_share(textpage: pdfium.PdfTextPage) -> float:
    """The share of a page's characters whose font gives them no Unicode value (PDFium's own verdict,
    character by character), looking at every UNMAPPED_STRIDE-th character."""
    count = pdfium_c.FPDFText_CountChars(textpage.raw)
    seen = unmapped = 0
    for index in range(0, count, UNMAPPED_STRIDE):
        if chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index)).isspace():
            continue
        seen += 1
        unmapped += pdfium_c.FPDFText_HasUnicodeMapError(textpage.raw, index) == 1
    return unmapped / seen if seen else 0.0


def _glyph_codes(text: str, quality: TextQuality) -> bool:
    """A page whose text is glyph codes: unmapped characters, or tokens with letters that are not words
    ("/g18/g152"), as phase 1 judges a whole book (maths notes' formulas are 40-50 % word-like, glyph
    codes under 15 %). A contents page (dot leaders, numbers) is neither."""
    if quality.unreadable >= 2 and quality.unreadable > 0.15 * quality.visible:
        return True
    lettered = [token for token in text.split() if any(char.isalpha() for char in token)]
    if len(lettered) < 20:
        return False
    words = text_quality(" ".join(lettered))
    # A font without a Unicode map whose glyph numbers fall on ASCII reads as shifted letters: "4EKI" for
    # "Page", "XLI GPEWWMG" for "the classic": capitals through whole words, which prose never has.
    shouting = sum(1 for token in lettered if len(token) >= 2 and token.isupper()) > 0.6 * len(lettered)
    return shouting or words.wordlike < 0.15 * words.tokens or (words.long_latin >= 20 and words.voweled < 0.6 * words.long_latin)


def languages(settings: EngineSettings) -> list[str]:
    """Tesseract languages to read with: engine.ocr_languages, else English and the voices' languages,
    each only if its data is installed."""
    voiced = [tesseract_code(language) for language in settings.voices]
    wanted = list(settings.ocr_languages) or ["eng", *(code for code in voiced if code)]
    have = installed_languages()
    chosen = [code for code in dict.fromkeys(wanted) if code in have]
    if not chosen:
        raise BookError(
            "tool_failed",
            f"needs OCR, and no Tesseract language data for {'+'.join(dict.fromkeys(wanted))} is installed",
            f"install it (Debian: apt-get install {' '.join(package_for(code) for code in dict.fromkeys(wanted))}) or run scripts/setup.sh as root",
        )
    return chosen


def package_for(code: str) -> str:
    """The Debian package holding Tesseract's data for a language ("deu" -> tesseract-ocr-deu)."""
    return f"tesseract-ocr-{code.lower().replace('_', '-')}"


def tesseract_code(language: str | None) -> str | None:
    """Tesseract's code for a book language tag ("de-AT" -> "deu")."""
    primary = primary_language(language)
    return _TESSERACT_CODES.get(primary) if primary else None


@functools.cache
def installed_languages() -> frozenset[str]:
    if shutil.which("tesseract") is None:
        raise BookError(
            "tool_failed",
            "needs OCR (its pages are pictures or glyph codes) and Tesseract is not installed",
            "run scripts/setup.sh as root, or apt-get install tesseract-ocr tesseract-ocr-eng; "
            "or set engine.ocr: never to refuse such books",
        )
    listing = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False).stdout
    return frozenset(line.strip() for line in listing.splitlines()[1:] if line.strip())


@functools.cache
def _tesseract_version() -> str:
    result = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).splitlines()[0].strip() if (result.stdout or result.stderr) else ""


def cache_dir(source: Path, work_dir: Path, codes: list[str]) -> Path:
    """Where this book's pages are kept: a new folder when the book, the languages or Tesseract change."""
    key = f"{CACHE_VERSION}|{sha256_file(source)}|{DPI}|{'+'.join(codes)}|{_tesseract_version()}"
    return work_dir / "ocr" / hashlib.sha256(key.encode()).hexdigest()[:16]


def read_pages(doc: pdfium.PdfDocument, indices: list[int], folder: Path, codes: list[str], threads: int) -> OcrResult:
    """OCR the pages (those already in ``folder`` are read from it), with ``threads`` Tesseract processes."""
    result = OcrResult()
    todo = [index for index in indices if not _page_file(folder, index).exists()]
    started = time.monotonic()
    if todo:
        folder.mkdir(parents=True, exist_ok=True)
        done = len(indices) - len(todo)
        running: dict[Future[bytes], tuple[int, Image.Image, list[Picture]]] = {}
        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for index in todo:
                # PDFium is not thread-safe: pages are rendered here, one at a time, and Tesseract runs beside.
                image, embedded = _render(doc, index)
                running[pool.submit(_tesseract, image, codes)] = (index, image, embedded)
                if len(running) >= 2 * max(1, threads):
                    done = _collect(running, folder, codes, done, len(indices), wait(running, return_when=FIRST_COMPLETED).done)
            while running:
                done = _collect(running, folder, codes, done, len(indices), wait(running, return_when=FIRST_COMPLETED).done)
    result.seconds = time.monotonic() - started
    for index in indices:
        saved = read_json(_page_file(folder, index))
        raw = parse_hocr(index, saved["hocr"].encode())
        apply_rereads(raw, [(tuple(box), [OcrWord(text, conf, tuple(at)) for text, conf, at in words]) for box, words in saved["rereads"]])
        raw.pictures = [[tuple(row) for row in picture] for picture in saved["pictures"]]
        raw.inverted = [tuple(box) for box in saved["inverted"]]
        join_marks(raw, [(tuple(box), kind, text) for box, kind, text in saved["marks"]])
        if "found" not in saved:
            # Kept before lost lines were looked for: only that look is taken now, not the whole page read again.
            saved["found"] = _read_lost_lines(_render(doc, index)[0], raw, raw.pictures, codes)
            write_json(_page_file(folder, index), saved)
        found_lines(raw, [(tuple(box), _band_lines(index, tuple(box), hocr)) for box, hocr in saved["found"]])
        result.raw[index], result.pages[index] = raw, clean_page(raw)
    return result


def _collect(
    running: dict[Future[bytes], tuple[int, Image.Image, list[Picture]]],
    folder: Path,
    codes: list[str],
    done: int,
    total: int,
    finished: Iterable[Future[bytes]],
) -> int:
    """Keep each finished page (its hOCR and where its pictures are) as soon as it is read."""
    for future in finished:
        index, image, embedded = running.pop(future)
        hocr = future.result()
        page = parse_hocr(index, hocr)
        rereads = [(line.box, words) for line, box in second_looks(page) if (words := _reread(image, box, codes))]
        apply_rereads(page, rereads)
        pixels = np.asarray(image)
        inverted = inverted_lines(pixels, page)
        dark = text_blanked(pixels, page)
        pictures = picture_regions(dark) + embedded
        marks = [(word, kind, text) for word, box, kind in marks_before_lines(dark, page) if (text := _single_character(image.crop(box), kind, codes))]
        found = _read_lost_lines(image, page, pictures, codes, dark)
        saved = {"hocr": hocr.decode("utf-8"), "rereads": [(box, [(w.text, w.confidence, w.box) for w in words]) for box, words in rereads]}
        write_json(_page_file(folder, index), {**saved, "pictures": pictures, "inverted": inverted, "marks": marks, "found": found})
        done += 1
        log.info("OCR page %d/%d", done, total)
        try:
            write_json(folder.parent.parent / PROGRESS_FILE, {"done": done, "total": total, "time": time.time()})
        except OSError:
            pass  # progress is a courtesy
    return done


def _page_file(folder: Path, index: int) -> Path:
    return folder / f"page-{index + 1:05d}.json"


def _render(doc: pdfium.PdfDocument, index: int) -> tuple[Image.Image, list[Picture]]:
    """The page as a greyscale image at about DPI: a scanned page's own picture when it is the whole page,
    upright, at close to DPI (no resampling, and a tenth of the time of drawing the page), else drawn;
    and where a drawn page's embedded pictures are on it."""
    page = doc[index]
    try:
        try:
            objects = list(page.get_objects(max_depth=1))
        except pdfium.PdfiumError:
            objects = []
        scan = _whole_page_picture(page, objects)
        if scan:
            return scan.to_pil().convert("L"), []
        return page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L"), _embedded_pictures(page, objects)
    finally:
        page.close()


def _embedded_pictures(page: pdfium.PdfPage, objects: list[pdfium.PdfObject]) -> list[Picture]:
    """The boxes (pixels at DPI) of the pictures a drawn page embeds (a screenshot, a photo), when the page
    also holds text or drawing: what OCR reads inside one is no more the body than a text layer's picture
    is (a screenshot's light grey is not ink enough for ``picture_regions``). A picture of half the page or
    more (a background, a scanned page in pieces) is not one."""
    try:
        width, height = page.get_size()
        images = [thing.get_bounds() for thing in objects if thing.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
    except pdfium.PdfiumError:
        return []
    if len(images) == len(objects):
        return []  # pictures only: a scan, read whole
    scale = DPI / 72
    return [
        [(round(left * scale), round((height - top) * scale), round(right * scale), round((height - bottom) * scale))]
        for left, bottom, right, top in images
        if (right - left) * (top - bottom) < EMBEDDED_PICTURE_SHARE * width * height
    ]


def _whole_page_picture(page: pdfium.PdfPage, objects: list[pdfium.PdfObject]) -> pdfium.PdfBitmap | None:
    """The page's one picture, when it covers the page upright at close to DPI (a scan), else None."""
    try:
        if len(objects) != 1 or objects[0].type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return None
        matrix = objects[0].get_matrix()
        width, height = page.get_size()
        left, bottom, right, top = objects[0].get_bounds()
        if matrix.b or matrix.c or matrix.a <= 0 or matrix.d <= 0 or (right - left) * (top - bottom) < 0.97 * width * height:
            return None  # rotated, flipped or not the whole page: drawn instead
        pixels = objects[0].get_px_size()[0]
        if abs(pixels / ((right - left) / 72) - DPI) > 0.1 * DPI:
            return None
        return objects[0].get_bitmap(render=False)
    except pdfium.PdfiumError:
        return None


def _reread(image: Image.Image, box: Box, codes: list[str]) -> list[OcrWord] | None:
    """Part of a line read again on its own (single-line mode), its words placed on the page; None unless
    it reads as a line of text."""
    left, top = max(0, box[0]), max(0, box[1])
    framed = _framed(image.crop((left, top, box[2], box[3])))
    rows = [row.split("\t") for row in _tesseract(framed, codes, "tsv", "--psm", "7").decode("utf-8", "replace").splitlines()[1:]]
    words = [
        OcrWord(row[11].strip(), int(float(row[10])), _moved((int(row[6]), int(row[7]), int(row[6]) + int(row[8]), int(row[7]) + int(row[9])), left - FRAME, top - FRAME))
        for row in rows
        if len(row) >= 12 and row[0] == "5" and row[11].strip()
    ]
    return words if words and OcrLine(words, box, (0.0, 0.0), 1.0).is_text else None


def _read_lost_lines(image: Image.Image, page: OcrPage, pictures: list[Picture], codes: list[str], dark: np.ndarray | None = None) -> list[tuple[Box, str]]:
    """Each band of ink the page's segmentation found no line in (``lost_lines``), read on its own as one line
    (hOCR, for its size and baseline): the band and its hOCR, when it reads as a line of text."""
    if dark is None:
        dark = text_blanked(np.asarray(image), page)
    found = []
    for box in lost_lines(dark, page, pictures):
        hocr = _tesseract(_framed(image.crop(box)), codes, "hocr", "--psm", "7").decode("utf-8")
        if _band_lines(page.index, box, hocr):
            found.append((box, hocr))
    return found


def _band_lines(index: int, box: Box, hocr: str) -> list[OcrLine]:
    """The lines of prose in a band's hOCR, placed on the page (the band was read inside its frame)."""
    lines = [line for line in parse_hocr(index, hocr.encode()).lines if line.is_text and sum(word.real for word in line.words) >= LOST_LINE_WORDS]
    for line in lines:
        line.box = _moved(line.box, box[0] - FRAME, box[1] - FRAME)
        for word in line.words:
            word.box = _moved(word.box, box[0] - FRAME, box[1] - FRAME)
    return lines


def _framed(part: Image.Image) -> Image.Image:
    """Part of a page inside FRAME white pixels each side: Tesseract reads nothing touching an image's edge."""
    framed = Image.new("L", (part.width + 2 * FRAME, part.height + 2 * FRAME), 255)
    framed.paste(part, (FRAME, FRAME))
    return framed


def _moved(box: Box, across: int, down: int) -> Box:
    return box[0] + across, box[1] + down, box[2] + across, box[3] + down


def _single_character(image: Image.Image, kind: str, codes: list[str]) -> str | None:
    """A drop cap or a note's mark read alone (Tesseract's single-character mode), if it is what it should
    be (a capital letter; a digit or a note symbol), read with confidence. A small mark is read at twice
    its size: a footnote's "1" (20 pixels high, thin) in page pictures stored as JPEG without scan noise
    was read at 45 % confidence or as "|" on 3 of 10 pages of vc-queueing-theory, at twice the size on all
    10 (at three times on none); on noisy scans and drawn pages twice the size reads the same marks."""
    if image.height < SMALL_MARK:
        image = image.resize((2 * image.width, 2 * image.height), Image.Resampling.LANCZOS)
    tsv = _tesseract(_framed(image), codes, "tsv", "--psm", "10").decode("utf-8", "replace").splitlines()
    rows = [row.split("\t") for row in tsv[1:]]
    read = [(float(row[10]), row[11].strip()) for row in rows if len(row) >= 12 and row[11].strip()]
    if len(read) != 1 or read[0][0] < 50:
        return None
    text = read[0][1]
    if kind == "cap":
        return text if len(text) == 1 and text.isalpha() and text.isupper() else None
    return text if re.fullmatch(r"\d{1,2}|[*†‡§¶]", text) else None


def _tesseract(image: Image.Image, codes: list[str], output: str = "hocr", *options: str) -> bytes:
    """Tesseract's reading of an image, given as an uncompressed TIFF file: written in 2 ms and the quickest
    for it to read (measured on 12 pages: TIFF 5.9 CPU s, PNG 6.0 plus 0.1 s a page to compress, PGM 6.8,
    and a page through its standard input a fifth longer again)."""
    with tempfile.NamedTemporaryFile(suffix=".tif") as file:
        image.save(file, "TIFF")
        file.flush()
        command = ["tesseract", file.name, "stdout", "--dpi", str(DPI), "-l", "+".join(codes), *options, output]
        done = subprocess.run(command, capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False)
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BookError("tool_failed", f"Tesseract failed on a page ({message[-1] if message else f'exit {done.returncode}'})", "check the Tesseract install (tesseract --version)", retryable=True)
    return done.stdout


def judge(result: OcrResult, text_letters: int, text_pages: int, page_count: int, codes: list[str]) -> None:
    """Mark pages whose OCR is unreliable (low confidence, or few dictionary words in the languages read
    with) as skipped; refuse a book whose OCR cannot be trusted (most of its pages unreliable), or that
    holds too little text even by OCR (blank or noise-only pages)."""
    read = [index for index in result.pages if result.pages[index].lines]
    scores = {index: result.confidence(index) or 0.0 for index in read}
    lists = word_lists(codes)
    shares = {index: dictionary_share(result.pages[index], lists) for index in read} if lists else {}
    result.dictionary = {index: share for index, share in shares.items() if share is not None}
    result.skipped = [index for index in read if scores[index] < PAGE_CONFIDENCE or result.dictionary.get(index, 1.0) < PAGE_DICTIONARY]
    trusted = [index for index in read if index not in result.skipped]
    letters = text_letters + sum(
        sum(char.isalpha() for word in line.words for char in word.text) for index in trusted for line in result.pages[index].lines
    )
    if len(result.skipped) > len(trusted) + text_pages:
        mean = sum(scores[index] for index in result.skipped) / len(result.skipped)
        judged = [result.dictionary[index] for index in result.skipped if index in result.dictionary]
        words = f", {100 * sum(judged) / len(judged):.0f} % dictionary words," if judged else ""
        raise BookError(
            "ocr_unreliable",
            f"cannot be read reliably by OCR: mean word confidence {mean:.0f} %{words} on {len(result.skipped)} of {len(result.pages)} scanned pages",
            "use a cleaner scan (300 dpi, straight, good contrast) or a PDF with a text layer; for a book in a language "
            f"other than {'+'.join(codes)}, install its Tesseract data (Debian: tesseract-ocr-LANG) and add it to engine.ocr_languages",
        )
    if letters < MIN_LETTERS_PER_PAGE * page_count:
        raise BookError(
            "ocr_unreliable",
            f"has too little text to read, even by OCR ({letters} letters on {page_count} page{'s' if page_count != 1 else ''}; "
            "blank or noise-only pages?)",
            "check that the PDF holds the book's pages, or use a cleaner scan",
        )


def word_lists(codes: list[str]) -> list[dict[str, float]]:
    """wordfreq's lists for the languages read with; none (no dictionary check) when one of them has no
    list or is written without spaces between words (a Thai "word" is a phrase, in no list)."""
    lists = []
    for code in codes:
        language = THREE_LETTER_CODES.get(code)
        found = frequencies(language) if language and language not in _UNSPACED_LANGUAGES else None
        if found is None:
            return []
        lists.append(found)
    return lists


def dictionary_share(page: Cleaned, lists: list[dict[str, float]]) -> float | None:
    """The share of a page's kept words (of two letters or more) found in the word lists; None for a
    page of too few words to tell (a heading alone)."""
    pieces = [piece.lower().replace("’", "'") for line in page.lines for word in line.words for piece in _WORD_PIECE.findall(word.text)]
    pieces = [piece for piece in pieces if len(piece) >= 2]
    if len(pieces) < DICTIONARY_MIN_WORDS:
        return None
    return sum(any(piece in words for words in lists) for piece in pieces) / len(pieces)


def metrics(result: OcrResult) -> dict[str, object]:
    """What the record keeps of OCR: pages, seconds, mean confidence, words dropped, pages skipped."""
    words = [word.confidence for index, page in result.pages.items() if index not in result.skipped for line in page.lines for word in line.words]
    return {
        "ocr_pages": len(result.pages),
        "ocr_seconds": round(result.seconds, 1),
        "ocr_confidence": round(sum(words) / len(words), 1) if words else None,
        "ocr_dictionary_words": round(100 * sum(kept) / len(kept), 1) if (kept := [share for index, share in result.dictionary.items() if index not in result.skipped]) else None,
        "ocr_words_dropped": sum(page.dropped_words for page in result.pages.values()),
        "ocr_pages_skipped": [index + 1 for index in result.skipped],
    }


def sample_lines(result: OcrResult, limit: int = 20000) -> str:
    """Prose lines of the trusted OCR'd pages, for phase 1's language detection."""
    pieces, size = [], 0
    for index in sorted(result.pages):
        if index in result.skipped:
            continue
        for line in result.pages[index].lines:
            text = " ".join(word.text for word in line.words)
            if len(text) >= 25:
                pieces.append(text)
                size += len(text) + 1
        if size >= limit:
            break
    return " ".join(pieces)[:limit]


def layout_pages(doc: pdfium.PdfDocument, result: OcrResult) -> dict[int, Page]:
    """The reader's pages for the OCR'd pages; an unreliable page is an empty page."""
    pages = {}
    for index, cleaned in result.pages.items():
        page = doc[index]
        width, height = page.get_size()
        page.close()
        if index in result.skipped:
            pages[index] = Page(index, [], width=width, height=height)
        else:
            pages[index] = to_page(cleaned, result.raw[index], width, height)
    _settle_running_lines(list(pages.values()))
    _settle_sizes(list(pages.values()))
    return pages


# OCR'd sizes within this ratio of one another are one size printed (Tesseract's line heights vary by a few
# per cent: body lines of one page 54-57 pixels), and rules that compare sizes (headings) must see one.
SAME_SIZE = 1.08
# Lines within this share of the body size are body text: a paragraph of capitals and digits measures up to
# a tenth small (locative-garden: 39 pixels beside 43), footnotes a sixth or more (36 beside 43).
BODY_BAND = 0.10


def _settle_sizes(pages: list[Page]) -> None:
    """Give body lines the body's size (the median size by characters), and the lines of each other run of
    near-equal sizes the run's median: grouping runs alone cut the body in two where its sizes spread."""
    lines = sorted((line for page in pages for line in page.lines if line.size), key=lambda line: line.size or 0.0)
    total, seen, body = sum(len(line.text) for line in lines), 0, None
    for line in lines:
        seen += len(line.text)
        if seen >= total / 2:
            body = line.size
            break
    if body:
        for line in lines:
            if abs((line.size or 0.0) / body - 1) <= BODY_BAND:
                line.size = body
        lines = [line for line in lines if line.size != body]
    run: list[Line] = []
    for line in [*lines, None]:
        if line is not None and (not run or (line.size or 0.0) <= SAME_SIZE * (run[0].size or 0.0)):
            run.append(line)
            continue
        middle = run[len(run) // 2].size if run else None
        for member in run:
            member.size = middle
        run = [line] if line is not None else []
    for page in pages:
        with_layout(page)  # the page's usual size and pitch from the settled sizes

# Lines at page edges this alike (difflib's ratio, letters only) are one running head or footer read twice.
RUNNING_ALIKE = 0.8
RUNNING_GAP = 4  # pages
EDGE_LINES = 2


def _settle_running_lines(pages: list[Page]) -> None:
    """OCR reads the same running head or footer a little differently from page to page ("Ww VividCortex
    Copyright", "w VividCortex Copyright"): edge lines that nearly match edge lines of two or more other
    pages take the group's most common reading, so the reader's rule for running lines sees one line.
    A line with a number at either end (a page number) keeps its own reading: its number matters."""
    groups: list[list[Line]] = []
    for page in pages:
        lines = page.lines
        for line in lines[:EDGE_LINES] + lines[max(EDGE_LINES, len(lines) - EDGE_LINES) :]:
            key = _letters(line.text)
            if not key:
                continue
            # A running line recurs within a few pages: only groups seen lately are compared (a whole book's
            # edge lines against each other took a minute on 380 pages).
            for group in (group for group in reversed(groups) if group[-1].page >= page.index - RUNNING_GAP):
                matcher = difflib.SequenceMatcher(None, key, _letters(group[0].text))
                if matcher.real_quick_ratio() >= RUNNING_ALIKE and matcher.ratio() >= RUNNING_ALIKE:
                    group.append(line)
                    break
            else:
                groups.append([line])
    for group in groups:
        if len({line.page for line in group}) < 3:
            continue
        common = Counter(line.text for line in group).most_common(1)[0][0]
        for line in group:
            if not (line.text[:1].isdigit() or line.text[-1:].isdigit()):
                line.text = with_page_number(common, line, group)


def _letters(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalpha())


def read_by_ocr(source: Path, work_dir: Path, facts: BookFacts, settings: EngineSettings, threads: int) -> tuple[list[str], dict[str, object], str]:
    """Phase 1: OCR the pages whose text layer fails; return the languages read with, the record's
    figures and a sample of the OCR'd prose (for the language). A book OCR cannot read is refused."""
    codes = languages(settings)
    doc, _ = open_pdf(source, settings)
    try:
        chosen, text_letters = pages_to_ocr(doc, settings.ocr)
        result = read_pages(doc, facts.ocr_pages, cache_dir(source, work_dir, codes), codes, threads)
        judge(result, text_letters, len(doc) - len(chosen), len(doc), codes)
    finally:
        doc.close()
    return codes, {**metrics(result), "ocr_languages": codes}, sample_lines(result)


def check_language_data(language: str | None, codes: list[str]) -> None:
    """A book OCR'd without its language's data loses its accents and special letters: refuse it, naming
    what to add (English data reads any Latin script, badly: "für" comes out "fiir")."""
    code = tesseract_code(language)
    if code is None or code in codes:
        return
    name = LANGUAGE_NAMES.get(primary_language(language) or "", language)
    if code in installed_languages():
        raise BookError("ocr_unreliable", f"is in {name} and was read by OCR without {name} language data", f"add {code} to engine.ocr_languages in config.yaml")
    raise BookError(
        "ocr_unreliable",
        f"is in {name} and needs OCR, and Tesseract's {name} data is not installed",
        f"install it (Debian: apt-get install {package_for(code)}) and run again",
    )


def replace_with_ocr(doc: pdfium.PdfDocument, pages: list[Page], source: Path, facts: BookFacts, settings: EngineSettings, work_dir: Path) -> list[str]:
    """Phase 2: put the OCR'd pages (from phase 1's hOCR in the work folder) in place of their text layer;
    return notes for the record. A page missing from the folder (cleared by hand) is read again."""
    codes = languages(settings)
    chosen, text_letters = pages_to_ocr(doc, settings.ocr)
    result = read_pages(doc, facts.ocr_pages, cache_dir(source, work_dir, codes), codes, threads=1)
    judge(result, text_letters, len(doc) - len(chosen), len(doc), codes)
    by_index = layout_pages(doc, result)
    for position, page in enumerate(pages):
        if page.index in by_index:
            pages[position] = by_index[page.index]
    figures = metrics(result)
    notes = [f"read {figures['ocr_pages']} pages by OCR (mean word confidence {figures['ocr_confidence']} %), "
             f"left out {figures['ocr_words_dropped']} words read in pictures, ornaments and captions"]
    if result.skipped:
        notes.append(f"left out {len(result.skipped)} pages whose OCR is unreliable: {', '.join(str(i + 1) for i in result.skipped)}")
    return notes
