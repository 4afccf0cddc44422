"""``batch-audiobook say``: hear (or read the phonemes of) a text as a book of this batch would be read.

It uses what a book gets: the configured voice, the batch's lexicons, the
book's own lexicon (with ``--book``) and the heteronym choice, so a user can
try a respelling in seconds before running the book again.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

SAY_EPILOG = """\
examples:
  batch-audiobook say "Hermione Granger read the letter"
  batch-audiobook say "Hermione read the letter" --phonemes      # what the voice is given
  batch-audiobook say "Weena" --book se_time_machine-epub        # with that book's own lexicon
  batch-audiobook say "Her-MY-oh-nee" --out try.wav

Copy a line of --phonemes output into a lexicon as [[ phonemes ]] to pin a word down.
"""
# Players tried in order, each with the options that make it play a file and exit.
PLAYERS = (("paplay", []), ("aplay", ["-q"]), ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]))


def say_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-audiobook say",
        description="Speak a text with the voice, lexicons and heteronym choice a book of this batch gets "
        "(plays it, or writes a WAV where no player is found), or print its phonemes.",
        epilog=SAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("text", help="the text to say, as a book would print it")
    parser.add_argument("--book", metavar="ID", help="a book id (as in pipeline.json): its own lexicon and language too")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the speech to this WAV file instead of playing it")
    parser.add_argument("--phonemes", action="store_true", help="print the phonemes the voice is given, one sentence a line")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="the batch's config.yaml (default: ./config.yaml if present, else the workflow's own)")
    return parser


def batch_config(extra: Path | None) -> dict[str, Any]:
    """The config as the batch reads it: the workflow's (or this folder's) config.yaml, then ``--config``."""
    from .batch import find_workflow

    base = Path("config.yaml") if Path("config.yaml").exists() else find_workflow().snakefile.parent / "config.yaml"
    config: dict[str, Any] = {}
    for path in (base, extra):
        if path is not None and Path(path).is_file():
            with open(path, encoding="utf-8") as handle:
                config.update(yaml.safe_load(handle) or {})
    return config


def book_file_and_language(config: dict[str, Any], book_id: str) -> tuple[Path, str | None]:
    """The book's file in the input folder and the language phase 1 found for it (None before a run)."""
    from .discover import discover
    from .fileio import read_json

    books, _ = discover(config.get("input_dir", "input"), config.get("file_pattern", "*"))
    found = next((book for book in books if book.id == book_id), None)
    if found is None:
        known = ", ".join(book.id for book in books[:10]) or "none"
        raise ValueError(f"no book {book_id!r} in {config.get('input_dir', 'input')} (ids: {known})")
    try:
        work = Path(config.get("results_dir", "results")) / book_id / "work" / "phase1-validate.json"
        language = read_json(work)["result"].get("language")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        language = None
    return Path(found.path), language


def player() -> list[str] | None:
    for name, options in PLAYERS:
        found = shutil.which(name)
        if found:
            return [found, *options]
    return None


def run(args: argparse.Namespace) -> int:
    from .errors import BookError
    from .pronounce.audition import sentence_phonemes, synthesize_text, voice_sentences
    from .pronounce.book import pronouncer_for
    from .settings import EngineSettings
    from .speak import load_voice, write_wav
    from .voices import voice_for

    config = batch_config(args.config)
    try:
        settings = EngineSettings.from_mapping(config.get("engine") or {})
        book, language = book_file_and_language(config, args.book) if args.book else (None, None)
        pronouncer = pronouncer_for(settings, language, book)
    except BookError as error:
        print(f"batch-audiobook say: {error.line('say')}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"batch-audiobook say: {error}", file=sys.stderr)
        return 2
    sentences = voice_sentences(args.text, pronouncer)
    if not sentences:
        print("batch-audiobook say: nothing to say in that text", file=sys.stderr)
        return 2
    if args.phonemes:
        for sentence in sentences:
            print(sentence_phonemes(pronouncer.phonemizer, sentence))
        return 0
    voice = voice_for(language, settings)
    samples = synthesize_text(load_voice(voice, 1), sentences, settings)
    command = None if args.out else player()
    if command is None:
        out = args.out or Path("say.wav")
        write_wav(out, samples, voice.sample_rate)
        why = "" if args.out else " (no audio player found: paplay, aplay or ffplay)"
        print(f"wrote {out}{why}")
        return 0
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "say.wav"
        write_wav(path, samples, voice.sample_rate)
        return subprocess.run([*command, str(path)], check=False).returncode


def main(argv: list[str]) -> int:
    return run(say_parser().parse_args(argv))
