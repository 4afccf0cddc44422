"""Engine settings: how a book is read, spoken and mastered.

They come from the ``engine:`` section of ``config.yaml`` (checked by the
workflow's schema) or from ``--settings-json`` on the orchestrator's command
line. Each phase reads only the fields it needs; ``phase_fingerprint`` lists
them so that changing one setting invalidates only the phases it affects.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .sections import DEFAULT_SKIP, KINDS

DEFAULT_VOICE = "en_US-joe-medium"
OCR_MODES = ("auto", "never", "always")


@dataclass(frozen=True)
class EngineSettings:
    # Phase 1: the largest book file accepted, so a hostile file cannot eat the disk or memory.
    max_book_mb: int = 500
    # Passwords for encrypted PDFs, by file name (the name in input/, not a path).
    passwords: dict[str, str] = field(default_factory=dict)
    # Phase 1/2: OCR pages whose text layer fails ("auto": none, glyph codes, letters drawn as curves),
    # "never" (refuse such books, as before OCR), or "always" (every page: a PDF whose hidden OCR layer is poor).
    ocr: str = "auto"
    # Tesseract languages to OCR with ("eng", "deu" ...); empty: English and the languages of engine.voices.
    ocr_languages: tuple[str, ...] = ()
    # Phase 2: footnotes and endnotes are skipped unless asked for.
    read_notes: bool = False
    # Phase 2: code listings become a short spoken cue unless asked for.
    read_code: bool = False
    # Phase 2: kinds of non-narrative sections left out (sections.KINDS); [] reads everything.
    skip: tuple[str, ...] = DEFAULT_SKIP
    # Phase 3: longest chunk handed to the voice at once, in characters.
    chunk_max_chars: int = 500
    # Phase 3: pronunciation lexicons for every book (paths), in order; a book's own
    # "<book file name>.lexicon.tsv" beside it in input/ wins over them.
    lexicon: tuple[str, ...] = ()
    # Phase 4: a Piper voice by name (installed voice package) or a path to its .onnx file.
    voice: str = DEFAULT_VOICE
    # Phase 1/4: a voice per language (primary subtag, e.g. "de"), by name or .onnx path; `voice` serves the rest.
    voices: dict[str, str] = field(default_factory=dict)
    # Larger is slower; 1.0 is the voice's own pace (about 200 words a minute for joe).
    length_scale: float = 1.25
    sentence_pause_s: float = 0.35
    paragraph_pause_s: float = 0.8
    chapter_pause_s: float = 2.0
    # Read a book whose language has no installed voice with the configured voice anyway.
    read_any_language: bool = False
    # Phase 5
    output_format: str = "m4b"  # "m4b" or "mp3"
    mp3_per_chapter: bool = False
    bitrate_kbps: int = 64
    loudness_lufs: float = -19.0
    true_peak_db: float = -3.0
    room_tone_s: float = 1.0
    # Phase 5: WebVTT + SRT subtitles beside the audiobook, and a read-along EPUB 3 (Media Overlays).
    subtitles: bool = True
    readalong: bool = True

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None) -> EngineSettings:
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown engine setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if isinstance(data.get("lexicon"), (str, list)):
            data["lexicon"] = (data["lexicon"],) if isinstance(data["lexicon"], str) else tuple(data["lexicon"])
        if "skip" in data:
            data["skip"] = tuple(data["skip"] or ())
            bad = sorted(set(data["skip"]) - set(KINDS))
            if bad:
                raise ValueError(f"unknown engine.skip kind(s): {', '.join(bad)}; known: {', '.join(KINDS)}")
        if "ocr_languages" in data:
            data["ocr_languages"] = tuple(data["ocr_languages"] or ())
            bad = [code for code in data["ocr_languages"] if not re.fullmatch(r"[A-Za-z_]{3,12}", str(code))]
            if bad:  # they become a Tesseract argument: names, never paths or options
                raise ValueError(f"engine.ocr_languages: not a Tesseract language code: {', '.join(map(str, bad))}")
        if data.get("ocr", "auto") not in OCR_MODES:
            raise ValueError(f"engine.ocr must be one of {', '.join(OCR_MODES)}, not {data['ocr']!r}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def password_for(self, file_name: str) -> str | None:
        return self.passwords.get(file_name)


# Which settings each phase's output depends on; a checkpoint is reused only
# when these (and the phase's input) are unchanged.
PHASE_SETTINGS: dict[int, tuple[str, ...]] = {
    1: ("max_book_mb", "passwords", "voice", "voices", "read_any_language", "ocr", "ocr_languages"),
    2: ("read_notes", "read_code", "skip", "ocr", "ocr_languages"),
    # The voice too: lexicon respellings become that voice's phonemes.
    3: ("chunk_max_chars", "lexicon", "voice", "voices", "read_any_language"),
    4: ("voice", "voices", "length_scale", "sentence_pause_s", "paragraph_pause_s", "chapter_pause_s", "read_any_language"),
    5: (
        "output_format",
        "mp3_per_chapter",
        "bitrate_kbps",
        "loudness_lufs",
        "true_peak_db",
        "room_tone_s",
        "subtitles",
        "readalong",
    ),
}


def phase_fingerprint(settings: EngineSettings, phase: int) -> str:
    """A short hash of the settings that phase ``phase`` depends on."""
    chosen = {name: getattr(settings, name) for name in PHASE_SETTINGS[phase]}
    blob = json.dumps(chosen, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
