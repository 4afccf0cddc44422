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
