"""The pronouncer one book gets: its voice's phonemes, the batch's lexicons, then its own."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import BookError
from ..settings import EngineSettings
from ..voices import Voice, primary_language, read_voice_config, voice_for
from . import heteronyms
from .lexicon import LexiconError, book_lexicon_path, load_lexicons
from .espeak import phonemizing_voice
from .speech import Pronouncer


def lexicon_paths(settings: EngineSettings, book: Path | None) -> list[Path]:
    """The batch's lexicons in the order given, then the book's own if it has one (it wins)."""
    paths = [Path(path).expanduser() for path in settings.lexicon]
    if book is not None and book_lexicon_path(book).is_file():
        paths.append(book_lexicon_path(book))
    return paths


def pronunciation_fingerprint(settings: EngineSettings, book: Path | None) -> str:
    """A hash of everything that decides how words are said, for phase 3's checkpoint key."""
    digest = hashlib.sha256(heteronyms.table_fingerprint().encode())
    for path in lexicon_paths(settings, book):
        digest.update(str(path).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"unreadable")  # reading it in phase 3 reports the problem
    return digest.hexdigest()[:16]


def espeak_voice(voice: Voice) -> tuple[str, frozenset[str]]:
    """The voice's espeak-ng voice (e.g. "en-us") and the phoneme symbols it knows."""
    config = read_voice_config(voice.config_path)
    symbols = frozenset(config.get("phoneme_id_map") or ()) or None
    return str(config["espeak"]["voice"]), symbols or frozenset()


def pronouncer_for(settings: EngineSettings, language: str | None, book: Path | None) -> Pronouncer:
    """The book's pronouncer; a bad lexicon line refuses the book with ``file:line: what is wrong``."""
    voice = voice_for(language, settings)
    espeak, symbols = espeak_voice(voice)
    try:
        lexicon = load_lexicons(lexicon_paths(settings, book), espeak, symbols or None)
    except LexiconError as error:
        raise BookError("bad_lexicon", f"lexicon {error.line}", "fix that line and run again") from None
    english = primary_language(language) in (None, "en") and espeak.startswith("en")
    config = read_voice_config(voice.config_path)
    return Pronouncer(lexicon=lexicon, english=english, phonemizer=phonemizing_voice(config))


def refuse_bad_lexicons(engine: dict) -> str | None:  # type: ignore[type-arg]
    """The batch's lexicons read as a book would read them: None when all are good, else the first bad line."""
    try:
        settings = EngineSettings.from_mapping({key: engine[key] for key in ("lexicon", "voice") if key in engine})
        if not settings.lexicon:
            return None
        espeak, symbols = espeak_voice(voice_for(None, settings))
        load_lexicons(lexicon_paths(settings, None), espeak, symbols or None)
    except LexiconError as error:
        return error.line
    except BookError as error:
        return error.line("voice")
    return None
