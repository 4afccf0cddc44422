"""The data handed from one phase to the next.

Each phase writes its result as JSON under the book's work folder; these
dataclasses are the shapes of those files, so they stay plain: strings,
numbers, lists and nested dataclasses only.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class BookFacts:
    """Phase 1: what a book file is, before any text is read."""

    format: str  # "pdf" or "epub", decided by magic bytes
    size_bytes: int
    pages: int | None = None  # PDF pages
    spine_items: int | None = None  # EPUB spine length
    title: str | None = None
    author: str | None = None
    language: str | None = None  # BCP 47 tag the book is read in: the declared one unless the text contradicts it
    language_declared: str | None = None  # as the book's metadata declares it, e.g. "en-GB"
    language_detected: str | None = None  # ISO 639-1 code detected from a sample of the text
    year: str | None = None
    encrypted: bool = False  # opened only thanks to a (possibly empty) password
    has_text_layer: bool = True
    ocr_pages: list[int] = field(default_factory=list)  # pages (0-based) read by OCR, their text layer failing
    damage: list[str] = field(default_factory=list)  # recovered problems, noted in the record


@dataclass
class Chapter:
    """Phase 2: one chapter of clean text, paragraphs in reading order."""

    index: int  # 0-based position in the book
    title: str
    paragraphs: list[str]


@dataclass
class ExtractedBook:
    """Phase 2: the whole book as chapters, with what is known about it."""

    title: str
    author: str | None
    language: str | None
    year: str | None
    chapters: list[Chapter]
    cover_path: str | None = None  # image saved by phase 2 in the work folder, if any
    notes: list[str] = field(default_factory=list)  # e.g. "outline missing: chapters by page"
    # Sections left out of the reading (sections.SkippedSection as dicts: title, kind, words, reason).
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Chunk:
    """Phase 3: a piece of normalised text sized for one synthesis call."""

    index: int  # 0-based position in the book
    chapter: int  # Chapter.index it belongs to; chunks never cross chapters
    chapter_title: str
    text: str
    paragraph_end: bool = False  # a paragraph pause follows
    chapter_end: bool = False  # a chapter pause follows
    # The sentences (or parts of a long one) spoken in ``text``, in order: {"spoken", "printed"}, plus
    # "heading": true for a chapter title, and "voice" when the voice is given other words than "spoken"
    # (phonemes from a lexicon or for a heteronym). ``text`` is their spoken forms joined by spaces.
    sentences: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ChunkAudio:
    """Phase 4: the audio of one chunk, cached under its key."""

    index: int
    chapter: int
    path: str  # WAV file (mono, 16-bit) relative to the work folder
    samples: int
    pause_after_s: float  # silence to put after it when mastering
    # [first, end) sample of each of the chunk's sentences inside its WAV (Chunk.sentences order).
    spans: list[list[int]] = field(default_factory=list)
    # Per sentence: [first, end) samples of the pauses the voice made inside it (where subtitles cut).
    pauses: list[list[list[int]]] = field(default_factory=list)
    printed: list[str] = field(default_factory=list)  # each sentence as the book prints it
    headings: list[bool] = field(default_factory=list)  # each sentence: a chapter title?
    said: str = ""  # a hash of what the voice was given, so a later run can say why it spoke a chunk again


@dataclass
class SpeechManifest:
    """Phase 4: all chunk audio of a book, in order, ready for mastering."""

    sample_rate: int
    voice: str  # voice name, e.g. "en_US-joe-medium"
    chunks: list[ChunkAudio]
    chapter_titles: list[str]  # by Chapter.index


@dataclass
class MasterResult:
    """Phase 5: the finished audiobook and how it measures."""

    output_paths: list[str]
    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    rms_db: float
    noise_floor_db: float
    acx_pass: bool
    acx_problems: list[str]
    chapters: list[dict[str, Any]]  # {"title", "start_s", "end_s"}
    subtitle_paths: list[str] = field(default_factory=list)  # .vtt and .srt beside each audio file
    readalong_path: str | None = None  # the read-along EPUB 3, when made


def to_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass (and its known nested dataclasses) from JSON data."""
    nested = {"chapters": Chapter, "chunks": ChunkAudio}
    kwargs: dict[str, Any] = {}
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    for key, value in data.items():
        if key not in names:
            continue
        sub = nested.get(key)
        if sub is not None and isinstance(value, list) and value and isinstance(value[0], dict):
            if cls is ExtractedBook or cls is SpeechManifest:
                value = [from_dict(sub, item) for item in value]
        kwargs[key] = value
    return cls(**kwargs)


@dataclass
class PhaseContext:
    """What every phase function is given besides its input."""

    source: Path  # the book file as the user gave it
    work_dir: Path  # the book's private scratch folder (checkpoints, caches)
    threads: int  # CPU threads this book may use (Snakemake's {threads})
    log: logging.Logger
    metrics: dict[str, Any] = field(default_factory=dict)  # the phase fills this for the record
