"""Build small, real PDF and EPUB books from text.

Used for the sample books in ``input/`` (scripts/make_sample_books.py), by the
tests, and by the benchmarks, which need books of a chosen size. The files are
ordinary books: a PDF with an outline, running headers and page numbers, an
EPUB 3 with a nav document (or an EPUB 2 with an NCX), so that every phase
meets what it meets in the wild.
"""

from __future__ import annotations

import html
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class DraftChapter:
    title: str
    paragraphs: list[str]
    body_xhtml: str | None = None  # EPUB only: the chapter's markup as is, instead of paragraphs


@dataclass
class DraftBook:
    title: str
    author: str
    chapters: list[DraftChapter]
    language: str = "en"
    year: str | None = None
    cover_png: bytes | None = None
    extra: dict[str, str] = field(default_factory=dict)


def make_pdf(book: DraftBook, path: Path, *, outline: bool = True, running_header: bool = True) -> Path:
    """Write ``book`` as a PDF: one chapter per new page, headers and page numbers."""
    from fpdf import FPDF  # only needed to build books, not to read them

    class _Pdf(FPDF):
        def header(self) -> None:
            if running_header and self.page_no() > 1:
                self.set_font("Helvetica", "I", 9)
                self.cell(0, 8, _latin1(book.title.lower()), align="C")
                self.ln(10)

        def footer(self) -> None:
            if running_header:
                self.set_y(-15)
                self.set_font("Helvetica", "", 9)
                self.cell(0, 8, str(self.page_no()), align="C")

    pdf = _Pdf(format=(148, 210))  # A5 in mm
    pdf.set_title(book.title)
    pdf.set_author(book.author)
    pdf.set_lang(book.language)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 10, _latin1(book.title), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(0, 8, _latin1(f"by {book.author}"), align="C", new_x="LMARGIN", new_y="NEXT")
    for chapter in book.chapters:
        pdf.add_page()
        if outline:
            pdf.start_section(_latin1(chapter.title))
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 9, _latin1(chapter.title), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        pdf.set_font("Helvetica", "", 11)
        for paragraph in chapter.paragraphs:
            pdf.multi_cell(0, 6, _latin1(paragraph), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def make_epub(book: DraftBook, path: Path, *, version: int = 3) -> Path:
    """Write ``book`` as an EPUB 3 (nav document) or EPUB 2 (NCX only)."""
    if version not in (2, 3):
        raise ValueError("EPUB version must be 2 or 3")
    book_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, book.title + book.author)}"
    esc = html.escape
    items, spine, nav_points, nav_links = [], [], [], []
    files: dict[str, bytes] = {}
    for number, chapter in enumerate(book.chapters, start=1):
        name = f"chapter-{number}.xhtml"
        body = chapter.body_xhtml or "".join(f"<p>{esc(p)}</p>\n" for p in chapter.paragraphs)
        files[f"OEBPS/{name}"] = _xhtml(chapter.title, f"<h2>{esc(chapter.title)}</h2>\n{body}", book.language)
        items.append(f'<item id="c{number}" href="{name}" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{number}"/>')
        nav_points.append(
            f'<navPoint id="n{number}" playOrder="{number}"><navLabel><text>{esc(chapter.title)}</text></navLabel>'
            f'<content src="{name}"/></navPoint>'
        )
        nav_links.append(f'<li><a href="{name}">{esc(chapter.title)}</a></li>')
    items.append('<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>')
    files["OEBPS/toc.ncx"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1">'
        f'<head><meta name="dtb:uid" content="{book_id}"/></head>'
        f"<docTitle><text>{esc(book.title)}</text></docTitle>"
        f"<navMap>{''.join(nav_points)}</navMap></ncx>"
    ).encode()
    if version == 3:
        files["OEBPS/nav.xhtml"] = _xhtml(
            "Contents",
            f'<nav xmlns:epub="http://www.idpf.org/2007/ops" epub:type="toc"><ol>{"".join(nav_links)}</ol></nav>',
            book.language,
        )
        items.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
    cover_meta = ""
    if book.cover_png:
        files["OEBPS/cover.png"] = book.cover_png
        props = ' properties="cover-image"' if version == 3 else ""
        items.append(f'<item id="cover" href="cover.png" media-type="image/png"{props}/>')
        cover_meta = '<meta name="cover" content="cover"/>'
    date = f"<dc:date>{esc(book.year)}</dc:date>" if book.year else ""
    modified = '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>' if version == 3 else ""
    files["OEBPS/content.opf"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="http://www.idpf.org/2007/opf" version="{version}.0" unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="uid">{book_id}</dc:identifier><dc:title>{esc(book.title)}</dc:title>'
        f"<dc:creator>{esc(book.author)}</dc:creator><dc:language>{esc(book.language)}</dc:language>"
        f"{date}{modified}{cover_meta}</metadata>"
        f"<manifest>{''.join(items)}</manifest>"
        f'<spine toc="ncx">{"".join(spine)}</spine></package>'
    ).encode()
    return _write_ocf(path, files)


def _xhtml(title: str, body: str, language: str, head: str = "") -> bytes:
    # EPUB 3 wants the DAISY structure vocabulary declared where a play uses it (z3998:persona).
    prefix = ' epub:prefix="z3998: http://www.daisy.org/z3998/2012/vocab/structure/#"' if "z3998:" in body else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"{prefix}'
        f' xml:lang="{html.escape(language)}">'
        f"<head><title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>"
    ).encode()


def _latin1(text: str) -> str:
    """fpdf2's core fonts cover Latin-1 only; map typographic quotes and dashes."""
    table = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "--", "\u2013": "-", "\u2026": "..."}
    text = "".join(table.get(ch, ch) for ch in text)
    return text.encode("latin-1", "replace").decode("latin-1")


# --- plays -------------------------------------------------------------------------------

# A speech is (speaker, words); "" as the speaker is a stage direction on its own line, and
# "[...]" inside the words is a stage direction within the speech.
Speech = tuple[str, str]

EARNEST_SCENE: list[Speech] = [
    ("", "Morning-room in Algernon's flat in Half-Moon Street."),
    ("Algernon", "Did you hear what I was playing, Lane?"),
    ("Lane", "I didn't think it polite to listen, sir."),
    ("Algernon", "I'm sorry for that, for your sake. [Hands them on a salver] I don't play accurately."),
    ("Lane", "Yes, sir."),
    ("Algernon", "And, speaking of the science of Life, have you got the cucumber sandwiches cut for Lady Bracknell?"),
    ("Lane", "Yes, sir. [Hands them on a salver.]"),
    ("Algernon", "[Inspects them, takes two, and sits down on the sofa.] Oh! by the way, Lane, I see from your book."),
    ("", "Lane goes out"),
    ("Algernon", "[aside] lane's views on marriage seem somewhat lax."),
]


def make_play_epub(path: Path, style: str = "se", speeches: list[Speech] | None = None) -> Path:
    """Write a one-scene play as an EPUB 3 in a real publisher's markup.

    ``style``: "se" (Standard Ebooks: a table row per speech, the speaker in a
    z3998:persona cell, directions in z3998:stage-direction), "feedbooks" (the
    speaker in bold capitals on a paragraph of its own, the speech in a
    blockquote, directions in italics), or "spans" (a span of class "speaker"
    and spans of class "stage-direction" inside one paragraph per speech).
    """
    speeches = EARNEST_SCENE if speeches is None else speeches
    body = {"se": _play_se, "feedbooks": _play_feedbooks, "spans": _play_spans}[style](speeches)
    book = DraftBook(
        "The Importance of Being Earnest",
        "Oscar Wilde",
        [DraftChapter("First Act", [], body_xhtml=body)],
    )
    return make_epub(book, path)


def _directions(words: str, wrap: str) -> str:
    """The speech's words escaped, with each "[...]" wrapped as a stage direction by ``wrap``."""
    pieces = []
    for number, piece in enumerate(words.replace("]", "[").split("[")):
        if piece.strip():
            pieces.append(wrap.format(html.escape(piece.strip())) if number % 2 else html.escape(piece.strip()))
    return " ".join(pieces)


def _play_se(speeches: list[Speech]) -> str:
    direction = '<i epub:type="z3998:stage-direction">{}</i>'
    rows = []
    opening = ""
    speakers = {speaker for speaker, _ in speeches if speaker}

    def named(words: str) -> str:
        """Speakers named in a direction are marked as personas too, as Standard Ebooks does."""
        escaped = html.escape(words)
        for speaker in speakers:
            escaped = escaped.replace(speaker, f'<b epub:type="z3998:persona">{speaker}</b>')
        return escaped

    for speaker, words in speeches:
        if not speaker and not rows:
            opening += f'<p epub:type="z3998:stage-direction">{named(words)}</p>'
        elif not speaker:
            rows.append(f"<tr><td/><td>{direction.format(named(words))}</td></tr>")
        else:
            rows.append(
                f'<tr><td epub:type="z3998:persona">{html.escape(speaker)}</td>'
                f"<td>{_directions(words, direction)}</td></tr>"
            )
    return f'{opening}<table><tbody>{"".join(rows)}</tbody></table>'


def _play_feedbooks(speeches: list[Speech]) -> str:
    out = []
    for speaker, words in speeches:
        if not speaker:
            out.append(f"<p><em>{html.escape(words)}</em></p>")
            continue
        lines = [
            f"<p><em>{html.escape(piece.strip())}</em></p>" if number % 2 else f"<p>{html.escape(piece.strip())}</p>"
            for number, piece in enumerate(words.replace("]", "[").split("["))
            if piece.strip()
        ]
        out.append(f"<p><strong>{html.escape(speaker.upper())}</strong></p><blockquote>{''.join(lines)}</blockquote>")
    return "\n".join(out)


def _play_spans(speeches: list[Speech]) -> str:
    direction = '<span class="stage-direction">{}</span>'
    out = []
    for speaker, words in speeches:
        if not speaker:
            out.append(f'<p class="stage-direction">{html.escape(words)}</p>')
        else:
            out.append(f'<p><span class="speaker">{html.escape(speaker)}</span> {_directions(words, direction)}</p>')
    return "\n".join(out)


# --- EPUBs from the edges of the format ---------------------------------------------------------


def make_japanese_epub(path: Path) -> Path:
    """Write a Japanese EPUB 3 the way Japanese publishers make them: file names, hrefs and
    manifest ids in Japanese (hrefs percent-encoded, member names in NFD as macOS writes
    them), vertical writing and right-to-left page order, plain XHTML chapters with ruby."""
    import unicodedata
    from urllib.parse import quote

    chapters = [
        (
            "第一章",
            "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。",
        ),
        (
            "第二章",
            "吾輩は新年来多少有名になったので、猫ながらちょっと鼻が高く感ぜらるるのはありがたい。元朝早々主人の許へ一枚の絵端書が来た。",
        ),
    ]
    head = '<link rel="stylesheet" type="text/css" href="%E3%82%B9%E3%82%BF%E3%82%A4%E3%83%AB.css"/>'
    files: dict[str, bytes] = {
        "OEBPS/スタイル.css": "html { writing-mode: vertical-rl; -epub-writing-mode: vertical-rl; }".encode()
    }
    items = ['<item id="スタイル" href="%E3%82%B9%E3%82%BF%E3%82%A4%E3%83%AB.css" media-type="text/css"/>']
    spine, links = [], []
    for number, (title, text) in enumerate(chapters, start=1):
        name = f"本文{number}ガイド.xhtml"  # ガ and ド have NFC and NFD forms
        ruby = text.replace("吾輩", "<ruby>吾輩<rt>わがはい</rt></ruby>", 1)
        files[f"OEBPS/{unicodedata.normalize('NFD', name)}"] = _xhtml(
            title, f"<h1>{title}</h1><p>{ruby}</p>", "ja", head
        )
        identifier = f"章{number}ガ"
        items.append(f'<item id="{identifier}" href="{quote(name)}" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="{identifier}"/>')
        links.append(f'<li><a href="{quote(name)}">{title}</a></li>')
    files["OEBPS/目次.xhtml"] = _xhtml("目次", f'<nav epub:type="toc"><ol>{"".join(links)}</ol></nav>', "ja")
    items.append(f'<item id="目次" href="{quote("目次.xhtml")}" media-type="application/xhtml+xml" properties="nav"/>')
    metadata = (
        '<dc:identifier id="uid">urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100</dc:identifier>'
        "<dc:title>吾輩は猫である</dc:title><dc:creator>夏目漱石</dc:creator><dc:language>ja</dc:language>"
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>'
    )
    spine_attributes = ' page-progression-direction="rtl"'
    return _write_epub3(path, files, metadata, items, spine, spine_attributes)


def make_fixed_layout_epub(path: Path, *, with_text: bool = True, boxes: bool = True) -> Path:
    """Write a fixed-layout (pre-paginated) EPUB 3 of three pages, each a picture with the
    text set over it: line by line in positioned boxes (page one, unless ``boxes`` is
    False), as SVG text (page two), as XHTML inside the SVG's foreignObject (page three).
    Without text, the pages are pictures only."""
    lines = [
        "Once upon a time there was a little",
        "lighthouse that stood on a rock at the",
        "edge of the sea.",
        "Every night it shone its light across the",
        "water so that the ships would come safely home.",
    ]
    picture = '<img src="page.png" alt="" style="position:absolute;top:0;left:0"/>'
    placed = "".join(
        f'<div style="position:absolute;top:{40 + 30 * n}px;left:40px"><span>{html.escape(line)}</span></div>'
        for n, line in enumerate(lines)
    )
    svg_text = "".join(  # written bottom line first: the reader must order them by place
        f'<text x="40" y="{40 + 30 * n}">{html.escape(line)}</text>' for n, line in reversed(list(enumerate(lines)))
    )
    foreign = (
        '<foreignObject x="40" y="40" width="520" height="700">'
        f'<div xmlns="http://www.w3.org/1999/xhtml">{"".join(f"<p>{html.escape(line)}</p>" for line in lines)}</div>'
        "</foreignObject>"
    )

    def svg(title: str, inside: str) -> str:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 800" width="600" height="800">'
            f'<title>{title}</title><image width="600" height="800" xlink:href="page.png"'
            f' xmlns:xlink="http://www.w3.org/1999/xlink"/>{inside if with_text else ""}</svg>'
        )

    viewport = '<meta name="viewport" content="width=600, height=800"/>'
    files = {
        "OEBPS/page-1.xhtml": _xhtml("Page one", picture + (placed if with_text and boxes else ""), "en", viewport),
        "OEBPS/page-2.xhtml": _xhtml("Page two", svg("Page two", svg_text), "en", viewport),
        "OEBPS/page-3.xhtml": _xhtml("Page three", svg("Page three", foreign), "en", viewport),
        "OEBPS/page.png": _TINY_PNG,
        "OEBPS/nav.xhtml": _xhtml(
            "Contents", '<nav epub:type="toc"><ol><li><a href="page-1.xhtml">The Lighthouse</a></li></ol></nav>', "en"
        ),
    }
    items = [
        '<item id="p1" href="page-1.xhtml" media-type="application/xhtml+xml"/>',
        '<item id="p2" href="page-2.xhtml" media-type="application/xhtml+xml" properties="svg"/>',
        '<item id="p3" href="page-3.xhtml" media-type="application/xhtml+xml" properties="svg"/>',
        '<item id="img" href="page.png" media-type="image/png"/>',
        '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
    ]
    spine = [
        '<itemref idref="p1" properties="page-spread-right"/>',
        '<itemref idref="p2" properties="page-spread-left"/>',
        '<itemref idref="p3" properties="page-spread-right"/>',
    ]
    metadata = (
        '<dc:identifier id="uid">urn:uuid:00000000-0000-4000-8000-00000000f1ed</dc:identifier>'
        "<dc:title>The Lighthouse</dc:title><dc:creator>Pat Picture</dc:creator><dc:language>en</dc:language>"
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>'
        '<meta property="rendition:layout">pre-paginated</meta>'
        '<meta property="rendition:spread">auto</meta>'
    )
    return _write_epub3(path, files, metadata, items, spine)


def _write_epub3(
    path: Path, files: dict[str, bytes], metadata: str, items: list[str], spine: list[str], spine_attributes: str = ""
) -> Path:
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid"'
        ' prefix="rendition: http://www.idpf.org/vocab/rendition/#">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}</metadata>'
        f"<manifest>{''.join(items)}</manifest><spine{spine_attributes}>{''.join(spine)}</spine></package>"
    ).encode()
    return _write_ocf(path, {"OEBPS/content.opf": opf, **files})


# A 1x1 white PNG: the picture behind a fixed-layout page.
_TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8ffff3f0005fe02fe"
    "a7d6a4600000000049454e44ae426082"
)


def _write_ocf(path: Path, files: dict[str, bytes | str]) -> Path:
    """Zip an EPUB's files (OPF at OEBPS/content.opf) as the OCF container the readers expect."""
    container = (
        '<?xml version="1.0"?>\n<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        # The mimetype entry comes first and uncompressed, as the OCF spec requires.
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in files.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path
