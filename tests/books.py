"""Small real books for tests, built on demand with audiobook.bookmaker."""

from __future__ import annotations

import json
from pathlib import Path

from audiobook import orchestrator
from audiobook.bookmaker import DraftBook, DraftChapter, make_epub, make_pdf
from audiobook.chunk import split_sentences

PARAGRAPH = (
    "The river ran quietly past the mill, and the miller's daughter watched the water turn the great wheel. "
    "She counted the boats that went by, and wondered where each of them was going."
)


def draft(title: str, chapters: int = 2, paragraphs: int = 2, text: str = PARAGRAPH) -> DraftBook:
    return DraftBook(
        title=title,
        author="Test Author",
        chapters=[DraftChapter(f"Chapter {n}", [text] * paragraphs) for n in range(1, chapters + 1)],
    )


def pdf_book(folder: Path, name: str, **kwargs) -> Path:
    return make_pdf(draft(Path(name).stem.title(), **kwargs), folder / name)


def epub_book(folder: Path, name: str, version: int = 3, **kwargs) -> Path:
    return make_epub(draft(Path(name).stem.title(), **kwargs), folder / name, version=version)


def not_a_book(folder: Path, name: str) -> Path:
    """A text file behind a book's name: phase 1 refuses it."""
    path = folder / name
    path.write_text("This is not a book, just a note saved with the wrong name.\n")
    return path


def empty_book(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(b"")
    return path


def phase_three_sentences(book_file: Path, tmp_path: Path) -> list[str]:
    """Phases 1 to 3 through the orchestrator; the sentences of the chunks it wrote."""
    out = tmp_path / "out"
    code = orchestrator.main([str(book_file), "--pipeline-json", str(out / "book.json"), "--phases", "1", "2", "3",
                              "--output-dir", str(out), "--settings-json", '{"read_any_language": true}'])  # fmt: skip
    assert code == 0, (out / "book.json").read_text()
    chunks = [json.loads(line) for line in (out / "work" / "chunks.jsonl").read_text().splitlines()]
    return [sentence for chunk in chunks for sentence in split_sentences(chunk["text"])]
