"""Phase 2: turn a validated book into chapters of clean text."""

from __future__ import annotations

from .errors import BookError
from .model import BookFacts, ExtractedBook, PhaseContext
from .settings import EngineSettings
from .validate import reader_for


def extract(ctx: PhaseContext, facts: BookFacts, settings: EngineSettings) -> ExtractedBook:
    reader = reader_for(facts.format)
    book = reader.extract(ctx.source, facts, settings, ctx.work_dir)
    # Phase 1 decided the language from the text (the declaration may be missing or wrong); the voice follows it.
    book.language = facts.language or book.language
    book.chapters = [chapter for chapter in book.chapters if any(p.strip() for p in chapter.paragraphs)]
    if not book.chapters:
        left_out = {section["kind"]: 0 for section in book.skipped}
        for section in book.skipped:
            left_out[section["kind"]] += int(section.get("words", 0))
        if sum(left_out.values()):
            # The text was there: say what took it, and how to have it read, not that there was none.
            kinds = ", ".join(f"{kind} ({words} words)" for kind, words in left_out.items())
            raise BookError(
                "failed",
                f"all of its text was left out as sections a narrator skips: {kinds}",
                "remove those kinds from engine.skip in config.yaml to have them read",
            )
        raise BookError("no_text_layer", "has no readable text after extraction", "check the book opens with text in a reader")
    for position, chapter in enumerate(book.chapters):
        chapter.index = position
    ctx.metrics.update(
        {
            "title": book.title,
            "author": book.author,
            "chapters": len(book.chapters),
            "characters": sum(len(p) for c in book.chapters for p in c.paragraphs),
            "words": sum(len(p.split()) for c in book.chapters for p in c.paragraphs),
            "cover": bool(book.cover_path),
            # What was left out of the reading, so a user can see it and turn a kind back on (engine.skip).
            "skipped": book.skipped,
            "skipped_words": sum(int(section.get("words", 0)) for section in book.skipped),
        }
    )
    return book
