"""Phase 3: normalisation for speech, sentence splitting and chunking."""

from __future__ import annotations

import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from audiobook.chunk import (
    MIN_CHUNK_CHARS,
    chunk_book,
    pack_sentences,
    read_chunks,
    split_long_sentence,
    split_sentences,
    write_chunks,
)
from audiobook.errors import BookError
from audiobook.model import Chapter, Chunk, ExtractedBook
from audiobook.normalize import (
    cardinal,
    normalize_heading,
    normalize_text,
    numbering_words,
    ordinal,
    roman_to_int,
    year_words,
)
from audiobook.settings import EngineSettings

# ------------------------------------------------------------ normalisation

NORMALISATION_CASES = [
    # cardinals, thousands separators, decimals, leading zeros, signs
    ("He had 42 apples.", "He had forty-two apples."),
    (
        "There were 1,234,567 people.",
        "There were one million two hundred thirty-four thousand five hundred sixty-seven people.",
    ),
    ("He led 1,000 men.", "He led one thousand men."),
    ("It was 3.5 miles.", "It was three point five miles."),
    ("It's 007 and 0.25.", "It's zero zero seven and zero point two five."),
    ("It was -5 outside.", "It was minus five outside."),
    # years, decided by context
    ("It happened in 1984.", "It happened in nineteen eighty-four."),
    ("In 1900 the city grew.", "In nineteen hundred the city grew."),
    ("By 2005 it was over.", "By two thousand five it was over."),
    ("in 1820 there were 1820 sheep", "in eighteen twenty there were one thousand eight hundred twenty sheep"),
    ("In 1066, the Normans came.", "In ten sixty-six, the Normans came."),
    ("2000 people and the year 2000.", "two thousand people and the year two thousand."),
    ("On page 1820 it ends.", "On page one thousand eight hundred twenty it ends."),
    ("born on July 4, 1776", "born on July fourth, seventeen seventy-six"),
    ("died 4 July 1826", "died the fourth of July eighteen twenty-six"),
    ("on Jan. 5 they met", "on January fifth they met"),
    ("In the 1920s and the '60s.", "In the nineteen twenties and the sixties."),
    ("In 55 B.C. and in AD 1066.", "In fifty-five B.C and in A.D ten sixty-six."),
    # ranges
    ("The war of 1914–1918 was long.", "The war of nineteen fourteen to nineteen eighteen was long."),
    ("From 1914-18 he served.", "From nineteen fourteen to eighteen he served."),
    ("See pp. 10–20.", "See pages ten to twenty."),
    ("The score was 3-2.", "The score was three-two."),
    # ordinals
    ("the 1st, 22nd and 3rd of them", "the first, twenty-second and third of them"),
    ("the 101st and 12th", "the one hundred first and twelfth"),
    # money and percentages
    ("It cost $5.", "It cost five dollars."),
    ("It cost $3.50 today.", "It cost three dollars and fifty cents today."),
    ("It cost £10 and €20.", "It cost ten pounds and twenty euros."),
    ("He paid $1 and $0.99.", "He paid one dollar and ninety-nine cents."),
    ("a $2.5 million loss", "a two point five million dollars loss"),
    ("About 50% of them and 3.5 % more.", "About fifty percent of them and three point five percent more."),
    # times and units
    (
        "He came at 3:30 and left at 10:05 p.m. yesterday.",
        "He came at three thirty and left at ten oh five PM yesterday.",
    ),
    ("Be here at 5:00.", "Be here at five o'clock."),
    ("It is 5 pm. Then we go.", "It is five PM. Then we go."),
    ("He walked 5 km and 1 mile.", "He walked five kilometers and one mile."),
    ("It was 3 ft. Then it grew.", "It was three feet. Then it grew."),
    # roman numerals: parts, regnal names, and never the pronoun
    ("Chapter IV begins here.", "Chapter Four begins here."),
    ("Part I, Chapter II", "Part One, Chapter Two"),
    ("Act III, Scene ii.", "Act Three, Scene Two."),
    ("Henry VIII had six wives.", "Henry the Eighth had six wives."),
    ("Louis XIV's court and Pope John XXIII.", "Louis the Fourteenth's court and Pope John the Twenty-Third."),
    ("It ended after World War II.", "It ended after World War Two."),
    ("World War I ended.", "World War One ended."),
    ("Elizabeth I's reign", "Elizabeth the First's reign"),
    ("shaped like the letter X", "shaped like the letter X"),
    ("Then I saw him. I said so.", "Then I saw him. I said so."),
    ("the book I read", "the book I read"),
    ("He told Henry I said no.", "He told Henry I said no."),
    ("I. Introduction", "One. Introduction"),
    ("See Appendix C.", "See Appendix C."),
    # abbreviations
    ("Mr. Smith went to Washington. He was tired.", "Mister Smith went to Washington. He was tired."),
    ("Mr. and Mrs. Jones", "Mister and Missus Jones"),
    ("We prayed to St. Paul on Sunday.", "We prayed to Saint Paul on Sunday."),
    ("He lived on Baker St. The house was old.", "He lived on Baker Street. The house was old."),
    ("He lived on Baker St. in London.", "He lived on Baker Street in London."),
    ("said Dr. Lanyon. Then Dr. Jekyll left.", "said Doctor Lanyon. Then Doctor Jekyll left."),
    ("He lived on Mulholland Dr. for years.", "He lived on Mulholland Drive for years."),
    ("fruit, e.g. apples, i.e. red ones, etc.", "fruit, for example apples, that is red ones, et cetera."),
    ("Apples, pears, etc. Then more.", "Apples, pears, et cetera. Then more."),
    ("Smith vs. Jones, Jr. went home.", "Smith versus Jones, Junior went home."),
    ("No. 5 and p. 12", "Number five and page twelve"),
    ("He said, \"I'm Capt. Hook, Gen. Lee's friend.\"", "He said, \"I'm Captain Hook, General Lee's friend.\""),
    ("Prof. Moriarty met Col. Moran and Lt. Gray.", "Professor Moriarty met Colonel Moran and Lieutenant Gray."),
    (
        "John Smith Sr. went home to Smith & Co. Then he left.",
        "John Smith Senior went home to Smith and Company. Then he left.",
    ),
    # initials: no sentence stop inside a name
    ("J. R. R. Tolkien and George B. McClellan.", "J.R.R Tolkien and George B McClellan."),
    # symbols and fractions
    ("Fish & chips + salt = 2½ pounds @ noon", "Fish and chips plus salt equals two and a half pounds at noon"),
    ("±3° or 30°C, 5 × 3", "plus or minus three degrees or thirty degrees Celsius, five times three"),
    ("Add ¾ cup, 1/2 spoon and 2 1/3 mugs.", "Add three quarters cup, one half spoon and two and a third mugs."),
    ("He/she and/or they, #3", "He or she and or they, number three"),
    # links: the scheme unsaid, the host in full, the path's words with a file's ending, a query's names and values
    ("See http://www.gutenberg.org/ebooks/35 today.", "See www dot gutenberg dot org, ebooks, thirty-five today."),
    ("Mail help@gutenberg.org now.", "Mail help at gutenberg dot org now."),
    (
        "at standardebooks.org/ebooks/h-g-wells/the-time-machine.",
        "at standardebooks dot org, ebooks, h g wells, the time machine.",
    ),
    (
        "See http://www.owasp.org/index.php/Data_Validation http://www.owasp.org/index.php/Category:Denial_of_Service.",
        "See www dot owasp dot org, index dot php, Data Validation, www dot owasp dot org, index dot php, Category Denial of Service.",
    ),
    (
        "(e.g. http://www.example.com/admin/doSomething.ctl?username=admin&passwd=admin) or",
        "(for example www dot example dot com, admin, do Something dot ctl, username admin, passwd admin) or",
    ),
    (
        "at https://en.wikipedia.org/wiki/Data%20Validation#History and https://x.io/index.html",
        "at en dot wikipedia dot org, wiki, Data Validation, History and x dot io, index dot html",
    ),
    # opaque tokens (a hash, a session id, a long number) are not spelled out; a short number is said
    ("at github.com/a/b/commit/3f2a9c1d7e?sid=aXkQeRtYuP&day=20070514.", "at github dot com, a, b, commit, sid, day."),
    ("see https://developer.mozilla.org/docs/XMLHttpRequest", "see developer dot mozilla dot org, docs, XML Http Request"),
    ("https://ru.wikipedia.org/wiki/%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0", "ru dot wikipedia dot org, wiki, Москва"),
    ("at example.com#Top, or https://example.com:8080?q=sherwood+forest", "at example dot com, Top, or example dot com, q sherwood forest"),
    (
        "see https://doi.org/10.1000/182 and html5.example.org/mp3/",
        "see doi dot org, ten dot one thousand, one hundred eighty-two and html5 dot example dot org, mp3",
    ),
    # inline code in a sentence is read as its words; formatting tags that slipped through are not
    ("Use <bean:write … >, or escapeXML in <c:out … >.", "Use bean write, or escapeXML in c out."),
    ("An unchecked “<b>” tag, a<br/>line.", 'An unchecked "b" tag, a line.'),
    ('<option value="78463a384a5aa4fad5fa73e2f506ecfc">English</option>', "option value English option"),
    ("Henry Jekyll, M.D., F.R.S., etc., died.", "Henry Jekyll, M.D., F.R.S., et cetera, died."),
    # typography: quotes, dashes, ellipses, invisible characters, footnote marks
    ("“Stop!” he said—and then… nothing.", '"Stop!" he said, and then... nothing.'),
    ("“All real things\u2060—” he began.", '"All real things," he began.'),
    ("“Stop!—” he cried, “three?—and more.”", '"Stop!" he cried, "three? and more."'),
    ("He waited . . . then left.", "He waited... then left."),
    ("’Tis true -- quite true - he said.", "'Tis true, quite true, he said."),
    ("bull\u00ad’s-eye\ufffe", "bull's-eye"),
    ("He left.[12] Then <em>she</em> did.", "He left. Then she did."),
    ("THE END", "The End"),
    # nothing to say
    ("* * *", ""),
    ("—", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("written", "spoken"), NORMALISATION_CASES)
def test_normalize_text(written: str, spoken: str) -> None:
    assert normalize_text(written) == spoken


HEADING_CASES = [
    ("CHAPTER IV", "Chapter Four."),
    ("Chapter IV. The Return", "Chapter Four. The Return."),
    ("CHAPTER IV. THE RETURN", "Chapter Four. The Return."),
    ("IV. The Return", "Chapter Four. The Return."),
    ("X", "Chapter Ten."),
    ("I. Introduction", "Chapter One. Introduction."),
    ("I Saw Her Standing There", "I Saw Her Standing There."),
    ("Chapter 1: Loomings", "Chapter One. Loomings."),
    ("12", "Chapter Twelve."),
    ("Part II", "Part Two."),
    ("Book I: The Beginning", "Book One. The Beginning."),
    ("Chapter One", "Chapter One."),
    ("Chapter the First—In Which We Begin", "Chapter the First. In Which We Begin."),
    ("Preface", "Preface."),
    ("Who Goes There?", "Who Goes There?"),
    ("1984", "Nineteen eighty-four."),
    ("Appendix C", "Appendix C."),
    ("V for Vendetta", "V for Vendetta."),
    ("THE TIME TRAVELLER", "The Time Traveller."),
    ("* * *", ""),
    # A numeral of two or more letters after any heading word is a number; a king's is an ordinal.
    ("Letter II", "Letter Two."),
    ("Volume II", "Volume Two."),
    ("Canto IV", "Canto Four."),
    ("STAVE III: THE SECOND OF THE THREE SPIRITS", "Stave Three. The Second Of The Three Spirits."),
    ("Lecture XII", "Lecture Twelve."),
    ("Richard III", "Richard the Third."),
    ("Did I Say That", "Did I Say That."),
]


@pytest.mark.parametrize(("title", "announced"), HEADING_CASES)
def test_normalize_heading(title: str, announced: str) -> None:
    assert normalize_heading(title) == announced


def test_single_letter_numerals_follow_the_words_that_number_the_books_headings() -> None:
    numbering = numbering_words(["Preface", "Letter I", "Letter II", "Letter V", "Generation X"])
    assert numbering == {"letter"}
    assert normalize_heading("Letter V", numbering) == "Letter Five."
    assert normalize_heading("Letter I", numbering) == "Letter One."
    assert normalize_heading("Generation X", numbering) == "Generation X."
    assert normalize_heading("Letter V") == "Letter V."  # alone, a "V" may be a letter


def test_number_words() -> None:
    assert cardinal(0) == "zero"
    assert cardinal(15) == "fifteen"
    assert cardinal(100) == "one hundred"
    assert cardinal(2_000_017) == "two million seventeen"
    assert cardinal(1_000_000_000_001) == "one trillion one"
    assert ordinal(1) == "first"
    assert ordinal(40) == "fortieth"
    assert ordinal(1_000_003) == "one million third"
    assert year_words(1100) == "eleven hundred"
    assert year_words(1905) == "nineteen oh five"
    assert year_words(2024) == "twenty twenty-four"
    assert year_words(2000) == "two thousand"
    assert year_words(476) == "four hundred seventy-six"
    assert roman_to_int("MCMLXXXIV") == 1984
    assert roman_to_int("IIII") is None
    assert roman_to_int("DID") is None


# ------------------------------------------------------- sentence splitting

SENTENCE_CASES = [
    ("Mr. Smith went to Washington. He was tired.", ["Mister Smith went to Washington.", "He was tired."]),
    ("J. R. R. Tolkien wrote it. A. A. Milne too.", ["J.R.R Tolkien wrote it.", "A.A Milne too."]),
    ("It was 3.5 miles. Then more.", ["It was three point five miles.", "Then more."]),
    ("He waited... then left. Done.", ["He waited... then left.", "Done."]),
    ("“Stop!” he said. “Why?” She left.", ['"Stop!" he said.', '"Why?"', "She left."]),
    ("So did I. Then we left.", ["So did I.", "Then we left."]),
    ("The U.S. Army came. He left the U.S. The end.", ["The U.S Army came.", "He left the U.S.", "The end."]),
    ("He met A. Milne. Then he went home.", ["He met A. Milne.", "Then he went home."]),
    ("He said no. Mary left.", ["He said no.", "Mary left."]),
    ("The work of Smith et al. Was it good?", ["The work of Smith et al.", "Was it good?"]),
    ("The work of Smith et al. Jones agreed.", ["The work of Smith et al. Jones agreed."]),
    (
        "Dr. Jekyll met Mr. Hyde at St. Paul's. They spoke (briefly.) Then",
        ["Doctor Jekyll met Mister Hyde at Saint Paul's.", "They spoke (briefly.)", "Then"],
    ),
]


@pytest.mark.parametrize(("written", "sentences"), SENTENCE_CASES)
def test_split_sentences(written: str, sentences: list[str]) -> None:
    assert split_sentences(normalize_text(written)) == sentences


def test_long_sentence_is_cut_at_the_last_clause_mark() -> None:
    sentence = ("word " * 15).strip() + ", " + ("more " * 15).strip() + "; " + ("tail " * 40).strip() + "."
    pieces = split_long_sentence(sentence, 200)
    assert all(len(piece) <= 200 for piece in pieces)
    assert pieces[0].endswith("more;")  # the semicolon is the last mark before 200
    assert " ".join(pieces) == sentence


def test_long_sentence_without_marks_is_cut_at_a_space_or_hard() -> None:
    spaced = " ".join(["alpha"] * 100)
    pieces = split_long_sentence(spaced, 90)
    assert all(len(p) <= 90 for p in pieces) and " ".join(pieces) == spaced
    assert all(p.split() and set(p.split()) == {"alpha"} for p in pieces)  # never inside a word
    unbroken = "x" * 250
    assert split_long_sentence(unbroken, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_pack_sentences_keeps_whole_sentences_together() -> None:
    sentences = ["One two three.", "Four five six.", "Seven eight nine ten."]
    assert pack_sentences(sentences, 30) == ["One two three. Four five six.", "Seven eight nine ten."]
    assert pack_sentences(sentences, 500) == [" ".join(sentences)]


# -------------------------------------------------------------- chunk_book


def _book() -> ExtractedBook:
    long_sentence = "He walked on, " + ", ".join(f"past the {ordinal(n)} milestone" for n in range(1, 40)) + "."
    return ExtractedBook(
        title="A Test Book",
        author="A. Writer",
        language="en",
        year="2024",
        chapters=[
            Chapter(0, "Preface", ["This book was written in 1999 by Dr. Watson.", "* * *"]),
            Chapter(
                1,
                "CHAPTER IV. THE RETURN",
                [
                    "CHAPTER IV",  # the heading repeated as text, as some extractions do
                    "THE RETURN",
                    "Mr. Smith went to Washington. He paid $3.50 for 1,000 sheets. " * 8,
                    long_sentence,
                    "“Stop!” he said.",
                ],
            ),
            Chapter(2, "", ["No title here, only words."]),
            Chapter(3, "—", ["***", "—"]),  # nothing to say at all
        ],
    )


def test_chunk_book_announces_titles_and_sets_flags(make_ctx) -> None:
    ctx = make_ctx(Path("book.epub"))
    chunks = chunk_book(ctx, _book(), EngineSettings(chunk_max_chars=200))

    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert [c.chapter for c in chunks if c.chapter_end] == [0, 1, 2]  # chapter 3 had nothing to say
    assert chunks[0].text == "Preface." and chunks[0].paragraph_end and not chunks[0].chapter_end
    assert chunks[1].text == "This book was written in nineteen ninety-nine by Doctor Watson."
    assert chunks[1].paragraph_end and chunks[1].chapter_end  # "* * *" was dropped

    chapter_one = [c for c in chunks if c.chapter == 1]
    assert chapter_one[0].text == "Chapter Four. The Return." and chapter_one[0].paragraph_end
    assert "CHAPTER" not in " ".join(c.text for c in chapter_one)  # repeated heading paragraphs dropped
    assert all(c.chapter_title == "CHAPTER IV. THE RETURN" for c in chapter_one)
    assert chapter_one[-1].text == '"Stop!" he said.' and chapter_one[-1].chapter_end
    assert sum(c.chapter_end for c in chapter_one) == 1
    # the long paragraph spans several chunks; only its last one ends the paragraph
    money = [c for c in chapter_one if "three dollars and fifty cents" in c.text]
    assert len(money) >= 3 and [c.paragraph_end for c in money] == [False] * (len(money) - 1) + [True]

    untitled = [c for c in chunks if c.chapter == 2]
    assert [c.text for c in untitled] == ["No title here, only words."] and untitled[0].chapter_end

    assert all(len(c.text) <= 200 for c in chunks)
    assert ctx.metrics["chunks"] == len(chunks)
    assert ctx.metrics["characters"] == sum(len(c.text) for c in chunks)
    assert ctx.metrics["sentences"] >= 2 + 16 + 1 + 1 + 1
    assert ctx.metrics["dropped_paragraphs"] == 1 + 2
    assert ctx.metrics["repeated_headings"] == 2


@pytest.mark.parametrize("max_chars", [MIN_CHUNK_CHARS, 150, 500])
def test_chunks_hold_the_limit_and_never_span_a_paragraph(make_ctx, max_chars: int) -> None:
    book = _book()
    chunks = chunk_book(make_ctx(Path("b.pdf")), book, EngineSettings(chunk_max_chars=max_chars))
    assert all(0 < len(c.text) <= max_chars for c in chunks)
    # Joining the chunks of each paragraph gives back exactly that paragraph's
    # normalised text: nothing lost, nothing moved across a paragraph break.
    spoken = [normalize_text(p) for c in book.chapters[:3] for p in c.paragraphs[(2 if c.index == 1 else 0) :]]
    spoken = [s for s in spoken if s]
    body = [c for c in chunks if not (c.index == 0 or c.text.startswith("Chapter Four"))]
    paragraphs, current = [], []
    for chunk in body:
        current.append(chunk.text)
        if chunk.paragraph_end:
            paragraphs.append(" ".join(current))
            current = []
    assert paragraphs == spoken


def test_chunking_is_deterministic(make_ctx, tmp_path: Path) -> None:
    settings = EngineSettings(chunk_max_chars=120)
    first = chunk_book(make_ctx(Path("b.epub")), _book(), settings)
    second = chunk_book(make_ctx(Path("b.epub")), _book(), settings)
    assert first == second
    write_chunks(first, tmp_path / "a.jsonl")
    write_chunks(second, tmp_path / "b.jsonl")
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()


def test_book_without_speakable_text_is_refused(make_ctx) -> None:
    book = ExtractedBook("Dots", None, "en", None, [Chapter(0, "* * *", ["...", "—", "§"])])
    with pytest.raises(BookError) as caught:
        chunk_book(make_ctx(Path("dots.epub")), book, EngineSettings())
    assert caught.value.kind == "no_text_layer"
    assert "\n" not in caught.value.line("dots.epub")


def test_too_small_chunk_limit_is_a_clear_error(make_ctx) -> None:
    with pytest.raises(BookError) as caught:
        chunk_book(make_ctx(Path("b.epub")), _book(), EngineSettings(chunk_max_chars=20))
    assert "chunk_max_chars" in caught.value.line("b.epub")


# ------------------------------------------------------------------- JSONL


def test_jsonl_round_trip_is_atomic(tmp_path: Path, make_ctx) -> None:
    chunks = chunk_book(make_ctx(Path("b.epub")), _book(), EngineSettings())
    path = tmp_path / "out" / "chunks.jsonl"
    path.parent.mkdir()
    path.write_text("old content\n")
    write_chunks(chunks, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(chunks)
    first = json.loads(lines[0])
    assert {"index", "chapter", "chapter_title", "text", "paragraph_end", "chapter_end"} <= set(first)
    assert read_chunks(path) == chunks
    assert sorted(p.name for p in path.parent.iterdir()) == ["chunks.jsonl"]  # no temp file left behind


def test_read_chunks_names_a_damaged_line(tmp_path: Path) -> None:
    path = tmp_path / "chunks.jsonl"
    write_chunks([Chunk(0, 0, "T", "Hello.", True, True)], path)
    with path.open("a", encoding="utf-8") as stream:
        stream.write('{"index": 1, "chapter": 0\n')
    with pytest.raises(ValueError, match="line 2"):
        read_chunks(path)


# ------------------------------------------------------------- real books

_XHTML = "{http://www.w3.org/1999/xhtml}"


def _time_machine_chapters(epub: Path, count: int) -> list[Chapter]:
    """The first chapters of the Standard Ebooks EPUB, read here so this test
    does not depend on the EPUB reader; the heading stays in as a paragraph."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    chapters = []
    with zipfile.ZipFile(epub) as archive:
        for number in range(1, count + 1):
            root = etree.fromstring(archive.read(f"epub/text/chapter-{number}.xhtml"), parser)
            heading = "".join(next(root.iter(f"{_XHTML}h2")).itertext())
            paragraphs = [" ".join("".join(p.itertext()).split()) for p in root.iter(f"{_XHTML}p")]
            chapters.append(Chapter(number - 1, heading, [heading, *paragraphs]))
    return chapters


@pytest.mark.corpus
def test_time_machine_first_chapters(corpus: Path, make_ctx) -> None:
    chapters = _time_machine_chapters(corpus / "se_time_machine.epub", 3)
    book = ExtractedBook("The Time Machine", "H. G. Wells", "en-GB", None, chapters)
    ctx = make_ctx(corpus / "se_time_machine.epub")
    chunks = chunk_book(ctx, book, EngineSettings())

    announcements = [c.text for c in chunks if c.index == 0 or chunks[c.index - 1].chapter_end]
    assert announcements == ["Chapter One.", "Chapter Two.", "Chapter Three."]
    assert chunks[1].text.startswith("The Time Traveller (for so it will be convenient")
    assert all(len(c.text) <= 500 for c in chunks)
    text = " ".join(c.text for c in chunks)
    assert not re.search("[\u2060\u201c\u201d\u2018\u2019\u2014\u2026]", text)  # joiners, curly quotes, dashes
    assert not re.search(r"\d", text)
    assert 'All real things,"' in text  # an interrupted quote ("things—”") keeps its pause
    assert sum(c.chapter_end for c in chunks) == 3
    assert ctx.metrics["sentences"] > 200 and ctx.metrics["chunks"] == len(chunks)
    assert chunk_book(make_ctx(corpus / "se_time_machine.epub"), book, EngineSettings()) == chunks


@pytest.mark.corpus
def test_robin_hood_chunks_fast(corpus: Path, make_ctx) -> None:
    """A whole novel (about 67,000 words of PDF text) chunks in well under two seconds."""
    import pypdfium2

    document = pypdfium2.PdfDocument(corpus / "pg_robin_hood_xelatex.pdf")
    try:
        raw = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    # Paragraphs, roughly: a line ending a sentence followed by a capital.
    paragraphs = [p.replace("\n", " ") for p in re.split(r"(?<=[.!?”\"])\r?\n(?=[“\"A-Z])", raw.replace("\r", ""))]
    book = ExtractedBook("Robin Hood", None, "en", None, [Chapter(0, "Robin Hood", paragraphs)])
    assert sum(len(p.split()) for p in paragraphs) > 60_000

    ctx = make_ctx(corpus / "pg_robin_hood_xelatex.pdf")
    started = time.process_time()  # CPU time: other work on a shared machine does not count
    chunks = chunk_book(ctx, book, EngineSettings())
    elapsed = time.process_time() - started

    assert elapsed < 2.0, f"chunking took {elapsed:.2f} s"
    assert ctx.metrics["words"] > 60_000
    assert all(len(c.text) <= 500 for c in chunks)
