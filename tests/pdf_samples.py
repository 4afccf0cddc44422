"""Small PDFs with one special feature each, built with fpdf2 for tests/test_pdf.py.

bookmaker.make_pdf covers the ordinary book; these cover what it does not:
running headers with page numbers in the style of typeset books, words
hyphenated at line ends, ligature characters, Project Gutenberg frames and
encryption.
"""

from __future__ import annotations

import random
from pathlib import Path

from fpdf import FPDF

from audiobook.bookmaker import DraftBook, DraftChapter

_WORDS = (
    "the forest was green and deep and the outlaws rode along its paths with bows and arrows while the sheriff "
    "waited in his castle for news that never came because the people of the town loved the merry band"
).split()


def prose(seed: int, sentences: int) -> str:
    """Plain sentences of ordinary words, the same for the same seed."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 16))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def draft_book(
    title: str = "The Green Forest", chapters: int = 3, paragraphs: int = 8, titles: list[str] | None = None
) -> DraftBook:
    """A book whose chapters run over more than one page, with paragraphs of mixed length."""
    names = titles or [f"The {word} Chapter" for word in ("First", "Second", "Third", "Fourth", "Fifth")][:chapters]
    return DraftBook(
        title=title,
        author="Ann Example",
        year="2001",
        chapters=[
            DraftChapter(name, [prose(100 * number + i, 2 + (i * 3) % 7) for i in range(paragraphs)])
            for number, name in enumerate(names)
        ],
    )


def make_typeset_pdf(book: DraftBook, path: Path, *, outline: bool = True, first_page_number: int = 1) -> Path:
    """Like a typeset novel: "12 the title" on even pages, "chapter title 13" on odd pages,
    a bare centred page number at the foot of each chapter's first page, an indent
    on each paragraph's first line, and a "Chapter II" label over each title."""
    roman = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]

    class Typeset(FPDF):
        chapter_title = ""
        opening_pages: set[int] = set()  # pages where a chapter starts: no header, a number at the foot

        def header(self) -> None:
            number = self.page_no() - 1 + first_page_number
            if self.page_no() == 1 or self.page_no() in self.opening_pages:
                return
            self.set_font("Helvetica", "I", 9)
            if number % 2 == 0:
                self.cell(0, 8, f"{number}    {book.title.lower()}", align="L")
            else:
                self.cell(0, 8, f"{self.chapter_title.lower()}    {number}", align="R")
            self.ln(12)

        def footer(self) -> None:
            if self.page_no() in self.opening_pages:
                self.set_y(-15)
                self.set_font("Helvetica", "", 9)
                self.cell(0, 8, str(self.page_no() - 1 + first_page_number), align="C")

    pdf = Typeset(format=(148, 210))
    pdf.opening_pages = set()
    pdf.set_title(book.title)
    pdf.set_author(book.author)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, book.title, align="C", new_x="LMARGIN", new_y="NEXT")
    for number, chapter in enumerate(book.chapters):
        pdf.opening_pages.add(pdf.page_no() + 1)
        pdf.chapter_title = chapter.title
        pdf.add_page()
        if outline:
            pdf.start_section(chapter.title)
        pdf.set_font("Helvetica", "", 12)
        pdf.multi_cell(0, 8, f"Chapter {roman[number]}", align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 9, chapter.title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Times", "", 11)
        for paragraph in chapter.paragraphs:
            # An indented first line and no space between paragraphs, as in print.
            pdf.multi_cell(0, 5.5, "      " + paragraph, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def make_lines_pdf(path: Path, lines: list[str], *, font: Path | None = None) -> Path:
    """One page with exactly these lines (no reflow by fpdf2), in a core font or a TrueType font."""
    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    if font is not None:
        pdf.add_font("body", "", str(font))
        pdf.set_font("body", "", 11)
    else:
        pdf.set_font("Helvetica", "", 11)
    for line in lines:
        if line:
            pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.ln(6)
    pdf.output(str(path))
    return path


def make_gutenberg_pdf(path: Path, story: list[str]) -> Path:
    """A Project Gutenberg style text: licence header, START marker, the story, END marker, licence."""
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "", 10)
    head = [
        "The Project Gutenberg eBook of The Green Forest",
        "This ebook is for the use of anyone anywhere in the United States and most other parts of the world "
        "at no cost and with almost no restrictions whatsoever.",
        "Title: The Green Forest",
        "*** START OF THE PROJECT GUTENBERG EBOOK THE GREEN FOREST ***",
    ]
    tail = [
        "*** END OF THE PROJECT GUTENBERG EBOOK THE GREEN FOREST ***",
        "Updated editions will replace the previous one--the old editions will be renamed.",
        "START: FULL LICENSE. THE FULL PROJECT GUTENBERG LICENSE. PLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK.",
    ]
    for paragraph in head + story + tail:
        pdf.multi_cell(0, 5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, user_password: str, text: str = "A locked story about the forest.") -> Path:
    """An RC4-encrypted PDF; an empty user password opens without asking, as owner-only locks do."""
    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    for _ in range(4):
        pdf.multi_cell(0, 6, prose(7, 6) + " " + text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_encryption(owner_password="owner-secret", user_password=user_password)
    pdf.output(str(path))
    return path


def unicode_font() -> Path | None:
    """A TrueType font with ligature glyphs (DejaVu Sans ships with matplotlib and most Linux systems)."""
    candidates = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")]
    try:
        import matplotlib

        candidates.insert(0, Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")
    except ImportError:
        pass
    return next((path for path in candidates if path.is_file()), None)


# ---------------------------------------------------------------- page furniture and displays (issue 11)

NOTE_TEXT = "A note about the forest that a narrator reads after the paragraph"
CODE_LINES = ["int total = 0;", "for (int i = 0; i < 10; i++) {", "    total += i;", "}", "System.out.println(total);", "return total;"]
SNIPPET_LINES = ["x = x + 1;", "y = y * 2;"]
EQUATION = "x y z a b k"


def matplotlib_font(name: str) -> Path | None:
    """A TrueType font that ships with matplotlib (cmmi10.ttf is a TeX maths font, DejaVuSansMono a code face)."""
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    return path if path.is_file() else None


def japanese_font() -> Path | None:
    """A Japanese TrueType font (Debian's fonts-ipafont-gothic, which scripts/setup.sh --test installs)."""
    for path in (Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"), Path("/usr/share/fonts/truetype/fonts-japanese-gothic.ttf")):
        if path.is_file():
            return path
    return None


def _prose_lines(seed: int, count: int, width: int = 62) -> list[str]:
    words = prose(seed, count * 2).split()
    lines, current = [], ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    lines.append(current)
    return lines[:count]


def make_furniture_pdf(
    path: Path,
    *,
    pages: int = 3,
    footnote: bool = False,
    code: bool = False,
    snippet: bool = False,
    equation: bool = False,
    margin_numbers: bool = False,
    footers: bool = False,
    flat_note: bool = False,
) -> Path:
    """A typeset-looking book of placed lines: 11 pt body at a fixed left edge, and on request a footnote
    (a raised mark in the text, a 7 pt note at the foot), a six-line code listing and a two-line snippet in a
    typewriter face, a display equation in a TeX maths font, line numbers down the left margin, and a
    "Page N" header with a copyright footer on every page."""
    mono, maths = matplotlib_font("DejaVuSansMono.ttf"), matplotlib_font("cmmi10.ttf")
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(False)
    if mono:
        pdf.add_font("mono", "", str(mono))
    if maths:
        pdf.add_font("maths", "", str(maths))
    for number in range(pages):
        pdf.add_page()
        if footers:
            pdf.set_font("Helvetica", "", 8)
            pdf.text(110, 12, f"Page {number + 1}")
            pdf.text(50, 202, "Copyright (c) 2015 Example Company")
        y = 22.0
        for position, line in enumerate(_prose_lines(10 * number + 1, 24)):
            if position in (8, 16):
                y += 3  # a paragraph break: a gap
            if number == 0 and position == 12:
                if code and mono:
                    pdf.set_font("mono", "", 9)
                    for code_line in CODE_LINES:
                        pdf.text(26, y, code_line)
                        y += 5
                    y += 3
                if snippet and mono:
                    pdf.set_font("mono", "", 9)
                    for code_line in SNIPPET_LINES:
                        pdf.text(26, y, code_line)
                        y += 5
                    y += 3
                if equation and maths:
                    pdf.set_font("maths", "", 12)
                    pdf.text(60, y + 1, EQUATION)
                    y += 9
            pdf.set_font("Times", "", 11)
            text = line[0].upper() + line[1:] if position in (0, 8, 16) else line
            if position in (7, 15, 23):
                text = text.rstrip(".") + "."
            pdf.text(20 + (4 if position in (0, 8, 16) else 0), y, text)
            if footnote and number == 1 and position == 3:
                pdf.set_font("Times", "", 7)
                pdf.text(20 + pdf.get_string_width(text) * 11 / 7 + 1, y - 2, "1")
            if flat_note and number == 1 and position == 3:  # the mark on the line, in the text's own size
                pdf.text(20 + pdf.get_string_width(text), y, "1")
            if margin_numbers and (position + 1) % 5 == 0:
                pdf.set_font("Helvetica", "", 7)
                pdf.text(8, y, str(position + 1))
            y += 5.2
        if footnote and number == 1:
            pdf.set_font("Times", "", 7)
            pdf.text(20, 192, f"1 {NOTE_TEXT}.")
        if flat_note and number == 1:  # a little smaller than the text, below it past a gap
            pdf.set_font("Times", "", 10.5)
            pdf.text(20, 158, f"1 {NOTE_TEXT}, set nearly as large as the text and flat.")
    pdf.output(str(path))
    return path


def make_two_column_pdf(path: Path) -> Path:
    """A page in two columns, written row by row (so PDFium joins the rows) with a title across the top."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.text(60, 20, "Two Columns")
    pdf.set_font("Helvetica", "", 10)
    left = [f"left{i:02d} " + line for i, line in enumerate(_prose_lines(5, 30, width=40))]
    right = [f"right{i:02d} " + line for i, line in enumerate(_prose_lines(6, 30, width=40))]
    for row, (a, b) in enumerate(zip(left, right)):
        pdf.text(20, 35 + row * 5, a)
        pdf.text(110, 35 + row * 5, b)
    pdf.output(str(path))
    return path


def make_sectioned_pdf(path: Path, sections: list[tuple[int, str, list[str]]], *, outline: bool = True) -> Path:
    """A book with a bookmark per section, (outline level, title, paragraphs), each section on a new page
    under its title in 15 pt bold (without bookmarks when ``outline`` is false)."""
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(True, margin=20)
    for level, title, paragraphs in sections:
        pdf.add_page()
        if outline:
            pdf.start_section(title, level=level)
        pdf.set_font("Helvetica", "B", 15)
        pdf.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        _write_paragraphs(pdf, paragraphs, 11, 5.5, 3)
    pdf.output(str(path))
    return path


def _write_paragraphs(pdf: FPDF, paragraphs: list[str], size: float, leading: float, gap: float) -> None:
    """Paragraphs in Times at ``size`` pt, ``leading`` mm apart, with ``gap`` mm between them."""
    pdf.set_font("Times", "", size)
    for paragraph in paragraphs:
        pdf.multi_cell(0, leading, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)


def make_japanese_pdf(path: Path, font: Path, pages: int = 3) -> Path:
    """A short Japanese book (Natsume Soseki's opening lines, public domain), a different passage per page."""
    passages = [
        "私はその人を常に先生と呼んでいた。だからここでもただ先生と書くだけで本名は打ち明けない。"
        "これは世間を憚かる遠慮というよりも、その方が私にとって自然だからである。",
        "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
        "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
        "親譲りの無鉄砲で小供の時から損ばかりしている。小学校に居る時分学校の二階から飛び降りて一週間ほど腰を抜かした事がある。",
    ]
    pdf = FPDF(format=(148, 210))
    pdf.add_font("ja", "", str(font))
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("ja", "", 11)
        for repeat in range(4):
            pdf.multi_cell(0, 7, passages[(number + repeat) % len(passages)], new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    pdf.output(str(path))
    return path


def make_text_over_picture_pdf(path: Path, paragraphs: list[str]) -> Path:
    """Text laid over a picture that fills the page, as OCR tools lay their text over a scan."""
    from PIL import Image

    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.image(Image.new("RGB", (296, 420), (250, 245, 235)), x=0, y=0, w=148, h=210)
    pdf.set_font("Times", "", 11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))
    return path


def _set_lines(pdf: FPDF, lines: list[str], y: float) -> float:
    """Lines of prose at the text's left edge from baseline ``y`` down; the baseline after the last."""
    for line in lines:
        pdf.text(20, y, line)
        y += 5.2
    return y


FIGURE_CAPTION = "The old oak where the band would meet"
LOGO_HEADING = "SUMMARY"


def make_logo_and_figure_pdf(path: Path) -> Path:
    """A report's page: a small logo at the top corner with a section heading just under it and a little to
    the right (Word's running logo), then prose, a picture and its caption centred under it, prose again."""
    from PIL import Image

    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.image(Image.new("RGB", (60, 60), (30, 60, 120)), x=19, y=8, w=12, h=12)
    pdf.set_font("Helvetica", "B", 11)
    pdf.text(20, 26, LOGO_HEADING)  # its middle 5 mm right of the logo's: within a caption's slack on a page
    pdf.set_font("Times", "", 11)
    lines = _prose_lines(6, 20)
    y = _set_lines(pdf, lines[:8], 34.0)
    pdf.image(Image.new("RGB", (240, 160), (90, 140, 60)), x=44, y=y, w=60, h=40)
    y += 46
    pdf.text(74 - pdf.get_string_width(FIGURE_CAPTION) / 2, y, FIGURE_CAPTION)
    _set_lines(pdf, lines[8:], y + 10)
    pdf.output(str(path))
    return path


TABLE_CELLS = [("Robin", "longbow"), ("John", "quarterstaff"), ("Tuck", "cudgel")]


def make_table_pdf(path: Path) -> Path:
    """Prose, then a small table set in from the text's edge under a "Table 1:" caption, then prose again."""
    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.set_font("Times", "", 11)
    lines = _prose_lines(3, 24)
    y = _set_lines(pdf, lines[:10], 22.0) + 4
    for name, weapon in TABLE_CELLS:
        pdf.text(40, y, name)
        pdf.text(80, y, weapon)
        y += 6
    pdf.text(45, y + 2, "Table 1: Outlaws and what they carry")
    _set_lines(pdf, lines[10:], y + 12)
    pdf.output(str(path))
    return path


# Lines of prose with a typewriter-face piece in the middle: (before, code, after).
INLINE_CODE_LINES = {
    6: ("Then we call", "System.out.println(total);", "to show the sum of the outlaws."),
    10: ("The map is at", "http://www.example.org/wiki/Sherwood_Forest", "for all."),
    14: ("Print it with", "<c:out value=\"${name}\">", "in the page."),
    # an address cut at the line's end and carried on at the next line's start
    16: ("The band's rules were kept at", "http://www.example.", ""),
    17: ("", "org/guides/Outlaw_Style.html", "for all."),
}


def make_inline_code_pdf(path: Path, mono: Path) -> Path:
    """Prose with inline code in a typewriter face in the middle of lines (INLINE_CODE_LINES)."""
    pdf = FPDF(format=(148, 210))
    pdf.add_page()
    pdf.add_font("mono", "", str(mono))
    y = 22.0
    for n, line in enumerate(_prose_lines(4, 20)):
        pdf.set_font("Times", "", 11)
        if n in INLINE_CODE_LINES:
            before, code, after = INLINE_CODE_LINES[n]
            pdf.text(20, y, before)
            x = 20 + (pdf.get_string_width(before + " ") if before else 0)
            pdf.set_font("mono", "", 10)
            pdf.text(x, y, code)
            x += pdf.get_string_width(code + " ")
            pdf.set_font("Times", "", 11)
            pdf.text(x, y, after)
        else:
            pdf.text(20, y, line)
        y += 5.2
    pdf.output(str(path))
    return path


# ---------------------------------------------------------------- plays (issue 11 item 5)


def _write_speech(pdf: FPDF, words: str, bracketed: bool) -> None:
    """A speech flowed with write(): the words in roman, each "[...]" stage direction in italics (with
    its brackets or without, as editions differ), and "*...*" in italics for emphasis."""
    for number, piece in enumerate(words.replace("]", "[").split("[")):
        if not piece.strip():
            continue
        if number % 2 == 1:
            pdf.set_font("Times", "I", 11)
            pdf.write(5.5, (f"[{piece.strip()}]" if bracketed else piece.strip()) + " ")
            continue
        for part, text in enumerate(piece.strip().split("*")):
            pdf.set_font("Times", "I" if part % 2 else "", 11)
            pdf.write(5.5, text)
        pdf.write(5.5, " ")


def make_play_pdf(path: Path, style: str, speeches: list[tuple[str, str]]) -> Path:
    """A one-scene play as editions set it. ``style``: "capitals" ("LANE. Yes, sir." on one line, the label
    in capitals in the speech's face, directions in italics without brackets), "bold" ("Lane." in bold, run
    in, directions in italics within brackets), "smallcaps" ("LANE Yes, sir.": the name in capitals a size
    smaller in a face of its own, no stop, directions in italics without brackets) or "alone" (the name in bold, centred on a line of its own
    above the speech, directions in italics within brackets). A speaker of ""
    is a stage direction on a line of its own, in italics."""
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Times", "B", 16)
    pdf.multi_cell(0, 9, "First Act", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for speaker, words in speeches:
        if not speaker:
            pdf.set_font("Times", "I", 11)
            pdf.multi_cell(0, 5.5, words, align="C", new_x="LMARGIN", new_y="NEXT")
        elif style == "smallcaps":
            pdf.set_font("Helvetica", "", 8.5)
            pdf.write(5.5, f"{speaker.upper()} ")
            _write_speech(pdf, words, bracketed=False)
            pdf.ln(5.5)
        elif style in ("capitals", "bold"):
            pdf.set_font("Times", "B" if style == "bold" else "", 11)
            pdf.write(5.5, f"{speaker}. " if style == "bold" else f"{speaker.upper()}. ")
            _write_speech(pdf, words, bracketed=style == "bold")
            pdf.ln(5.5)
        else:
            pdf.set_font("Times", "B", 10)
            pdf.multi_cell(0, 5.5, speaker, align="C", new_x="LMARGIN", new_y="NEXT")
            _write_speech(pdf, words, bracketed=True)
            pdf.ln(5.5)
        pdf.ln(3)
    pdf.output(str(path))
    return path


def make_run_in_prose_pdf(path: Path, chapters: list[list[tuple[str, str, str]]]) -> Path:
    """A prose book whose paragraphs open with a run set apart: (opening, style, rest) where style is
    "caps" (the chapter's first words in small capitals: capitals a size smaller, in another face) or
    "bold" (a bold run-in word, "Note."), or "" for a plain paragraph. Italics mark a few words of
    emphasis ("*so* many" becomes italics)."""
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(True, margin=20)
    for number, paragraphs in enumerate(chapters):
        pdf.add_page()
        pdf.start_section(f"Chapter {number + 1}")
        pdf.set_font("Times", "B", 15)
        pdf.multi_cell(0, 9, f"Chapter {number + 1}", new_x="LMARGIN", new_y="NEXT")
        for opening, style, rest in paragraphs:
            if style == "caps":
                pdf.set_font("Helvetica", "", 9)
            elif style == "bold":
                pdf.set_font("Times", "B", 11)
            if opening:
                pdf.write(5.5, opening + " ")
            for index, piece in enumerate(rest.split("*")):
                pdf.set_font("Times", "I" if index % 2 else "", 11)
                pdf.write(5.5, piece)
            pdf.ln(5.5)
            pdf.ln(3)
    pdf.output(str(path))
    return path


def make_title_page_contents_pdf(path: Path, chapters: list[tuple[str, list[str]]], *, outline: bool = True) -> Path:
    """A novel as Pandoc's default LaTeX template sets it: page one holds the title, the author and date,
    a copyright line and the contents (its heading set larger than the chapters' own headings), and the
    first chapter starts under the contents; chapters run on without page breaks, bookmarked unless
    ``outline`` is false (as a print driver leaves it)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=25)
    pdf.set_margins(35, 30, 35)
    pdf.add_page()
    pdf.set_font("Times", "", 17)
    pdf.cell(0, 10, "The Green Forest", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Times", "", 12)
    pdf.cell(0, 7, "Ann Example", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "2020", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Times", "", 10)
    pdf.cell(0, 6, "Copyright (c) 2020 Ann Example. All rights reserved.", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("Times", "B", 14.4)
    pdf.cell(0, 9, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Times", "B", 10)
    for number, (title, _) in enumerate(chapters, start=1):
        pdf.cell(120, 5.5, f"{number}   {title}")
        pdf.cell(0, 5.5, str(number), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for number, (title, paragraphs) in enumerate(chapters, start=1):
        if outline:
            pdf.start_section(title)
        pdf.set_font("Times", "B", 12)
        pdf.cell(0, 8, f"{number}   {title}", new_x="LMARGIN", new_y="NEXT")
        _write_paragraphs(pdf, paragraphs, 10, 5, 2)
    pdf.output(str(path))
    return path


PROOF_SLUG = "green-forest.qxd 10/5/04 2:14 PM Page {page}"
PROOF_PASS = "4TH PASS PAGES"


def make_proof_pdf(path: Path, *, pages: int = 6, trim_box: bool = True) -> Path:
    """A printer's proof: the page a reader holds sits inside a larger sheet, with crop marks at its
    corners, a slug line above and below it on every page, and a ruler of line numbers (1-24, as large as
    the text) down the margin; a paragraph runs on over every page break. With ``trim_box`` each page
    says where the trimmed page is (TrimBox); without it only the repetition gives the marks away."""
    import pypdfium2

    sheet, trim = (170.0, 232.0), 11.0  # mm: a 148 x 210 page with 11 mm around it
    pdf = FPDF(format=sheet)
    pdf.set_auto_page_break(False)
    for number in range(pages):
        pdf.add_page()
        pdf.set_font("Times", "", 11)
        lines = _prose_lines(7 * number + 3, 24)
        for position, line in enumerate(lines):
            text = line[0].upper() + line[1:] if position in (0, 12) and number == 0 else line
            if position == 11:
                text = text.rstrip(".") + "."
            pdf.text(trim + 20 + (4 if position == 12 else 0), trim + 22 + 7.2 * position, text)
        for position in range(len(lines)):  # the ruler, set after the text as its own column
            pdf.text(trim - 8, trim + 22 + 7.2 * position, str(position + 1))
        pdf.set_line_width(0.2)
        for x in (trim, sheet[0] - trim):  # crop marks: short rules outside each corner
            for y in (trim, sheet[1] - trim):
                pdf.line(x, y - 9 if y == trim else y + 3, x, y - 3 if y == trim else y + 9)
                pdf.line(x - 9 if x == trim else x + 3, y, x - 3 if x == trim else x + 9, y)
        pdf.set_font("Helvetica", "", 7)  # the slugs line up with the text, above and below the trimmed page
        pdf.text(trim + 20, 6, PROOF_PASS)
        pdf.text(trim + 20, sheet[1] - 5, PROOF_SLUG.format(page=number + 47))
    pdf.output(str(path))
    if trim_box:
        doc = pypdfium2.PdfDocument(str(path))
        points = 72 / 25.4
        for index in range(len(doc)):
            page = doc[index]
            page.set_trimbox(trim * points, trim * points, (sheet[0] - trim) * points, (sheet[1] - trim) * points)
            page.close()
        doc.save(str(path))
        doc.close()
    return path


# Each chapter's exercises name its own thing (a textbook's exercises differ from chapter to chapter).
EXERCISES = ["Change the name from {} to plus.", "Write a loop that counts the {} in the quiver.", "Explain why the {} waited."]
EXERCISE_THINGS = ["arrows", "sheriff", "castle"]


def make_textbook_pdf(path: Path, chapters: int = 3) -> Path:
    """A textbook without an outline: a cover whose title is set large in a typewriter face, then
    chapters opening with "Chapter N" over their title, prose, a rule typed in hyphens between two
    paragraphs, and a page of numbered exercises ("1. Change the name ...") in body type."""
    mono = matplotlib_font("DejaVuSansMono.ttf")
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(True, margin=20)
    if mono:
        pdf.add_font("mono", "", str(mono))
    pdf.add_page()
    pdf.set_font("mono" if mono else "Courier", "", 30)
    pdf.multi_cell(0, 16, "Think Forest", align="C", new_x="LMARGIN", new_y="NEXT")
    for number in range(1, chapters + 1):
        pdf.add_page()
        pdf.set_font("Times", "B", 16)
        pdf.cell(0, 9, f"Chapter {number}", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 9, f"The {['First', 'Second', 'Third', 'Fourth'][number - 1]} Lesson", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Times", "", 11)
        for part in range(2):
            pdf.multi_cell(0, 5.5, prose(50 * number + part, 10), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
            if part == 0:
                pdf.cell(0, 5.5, "- - - - - - - - - -", align="C", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(3)
        pdf.add_page()
        for item, exercise in enumerate(EXERCISES, start=1):
            pdf.multi_cell(0, 5.5, f"{item}. {exercise.format(EXERCISE_THINGS[number - 1])}", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(path))
    return path


DIAGRAM_LABELS = ["rank", "suit", "Queen", "Hearts"]


def make_diagram_pdf(path: Path) -> Path:
    """Prose around a state diagram drawn in vector paths (boxes and an arrow, each label beside or in its
    box), and a framed box of prose whose paragraph ends in a short line."""
    pdf = FPDF(format=(148, 210))
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Times", "", 11)
    lines = _prose_lines(31, 20)
    y = 22.0
    for position, line in enumerate(lines):
        pdf.text(20, y, line)
        y += 5.2
        if position == 5:  # the diagram: two labelled boxes and an arrow between them
            y += 4
            for row, (label, value) in enumerate(zip(DIAGRAM_LABELS[:2], DIAGRAM_LABELS[2:])):
                pdf.text(48, y + 5 + 12 * row, label)
                pdf.rect(62, y + 12 * row, 24, 7)
                pdf.text(64, y + 5 + 12 * row, value)
            pdf.line(86, y + 3.5, 96, y + 15.5)
            y += 30
        if position == 12:  # a framed aside: prose, its last line short
            pdf.rect(18, y - 4, 112, 18)
            pdf.text(20, y, "An aside in a frame, which is prose and read as prose")
            pdf.text(20, y + 5.2, "by anyone who reads the page, so it stays in the")
            pdf.text(20, y + 10.4, "reading.")
            y += 24
    pdf.output(str(path))
    return path
