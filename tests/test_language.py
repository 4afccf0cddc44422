"""The language a book is read in comes from its text; the voice follows it, or phase 1 refuses the book."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audiobook.bookmaker import DraftBook, DraftChapter, make_epub, make_pdf
from audiobook.errors import EXIT_NO_VOICE, EXIT_SUCCESS
from audiobook.language import decide_language, detect_language
from audiobook.settings import EngineSettings
from audiobook.voices import resolve_voice, voice_for

ENGLISH = (
    "The river ran quietly past the mill, and the miller's daughter watched the water turn the great wheel. "
    "She counted the boats that went by, and wondered where each of them was going before the winter came."
)
GERMAN = (
    "Am Rand des kleinen Dorfes stand eine alte Mühle, deren Rad sich langsam im Wasser drehte. "
    "Die Tochter des Müllers zählte jeden Abend die Boote, die vorüberfuhren, und fragte sich, wohin sie wohl führen."
)
SPANISH = (
    "Junto al río había un molino viejo, y la hija del molinero miraba cómo el agua hacía girar la rueda. "
    "Contaba las barcas que pasaban y se preguntaba adónde iría cada una antes de que llegara el invierno."
)
JAPANESE = "川のそばに古い水車小屋があり、粉屋の娘は毎晩、通り過ぎる舟を数えていました。舟はどこへ行くのだろうと、彼女はいつも考えていました。"


def book(title: str, text: str, language: str, chapters: int = 2) -> DraftBook:
    return DraftBook(
        title=title,
        author="Test Author",
        language=language,
        chapters=[DraftChapter(f"Chapter {n}", [text] * 3) for n in range(1, chapters + 1)],
    )


def phase1(path: Path, tmp_path: Path, settings: dict | None = None) -> tuple[int, dict, str]:
    record_path = tmp_path / f"{path.name}.json"
    command = [sys.executable, "-m", "audiobook.orchestrator", str(path), f"--pipeline-json={record_path}", "--phases", "1"]
    if settings:
        command.append(f"--settings-json={json.dumps(settings)}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    return done.returncode, json.loads(record_path.read_text(encoding="utf-8")), done.stderr


@pytest.mark.parametrize(
    ("text", "code"), [(ENGLISH, "en"), (GERMAN, "de"), (SPANISH, "es"), (JAPANESE, "ja")]
)
def test_the_language_of_prose_is_detected(text: str, code: str) -> None:
    found = detect_language(text)
    assert found is not None and found[0] == code, found


def test_too_little_text_says_nothing_and_keeps_the_declaration() -> None:
    assert detect_language("Chapter 1") is None
    verdict = decide_language("en-GB", "Chapter 1")
    assert (verdict.language, verdict.declared, verdict.detected) == ("en-GB", "en-GB", None)


def test_the_text_wins_over_a_contradicting_declaration_and_a_region_is_kept_when_they_agree() -> None:
    assert decide_language("en", GERMAN * 2).language == "de"
    assert decide_language(None, ENGLISH * 2).language == "en"
    agreeing = decide_language("en-GB", ENGLISH * 2)
    assert (agreeing.language, agreeing.detected) == ("en-GB", "en")


def test_an_english_pdf_that_declares_no_language_is_read(tmp_path: Path) -> None:
    path = make_pdf(book("Undeclared", ENGLISH, language=""), tmp_path / "undeclared.pdf")
    code, record, _ = phase1(path, tmp_path)
    metrics = record["phases"]["1"]["metrics"]
    assert code == EXIT_SUCCESS, record["error"]
    assert (metrics["language_declared"], metrics["language_detected"], metrics["language"]) == (None, "en", "en")
    assert metrics["voice"] == "en_US-joe-medium"


def test_a_german_epub_declared_english_fails_in_phase_1_in_one_line(tmp_path: Path) -> None:
    path = make_epub(book("Die Mühle", GERMAN, language="en"), tmp_path / "muehle.epub")
    code, record, stderr = phase1(path, tmp_path)
    assert code == EXIT_NO_VOICE
    assert record["error"].startswith("muehle.epub: is in German (de) and no German voice is installed")
    assert "engine.voices" in record["error"] and "\n" not in record["error"]
    assert "Traceback" not in stderr
    metrics = record["phases"]["1"]["metrics"]
    assert (metrics["language_declared"], metrics["language_detected"]) == ("en", "de")
    # read_any_language still reads it, with the configured voice.
    code, record, _ = phase1(path, tmp_path, {"read_any_language": True})
    assert code == EXIT_SUCCESS and record["phases"]["1"]["metrics"]["voice"] == "en_US-joe-medium"


def german_voice(folder: Path) -> Path:
    """A real Piper voice file labelled German: the installed voice's model and config, copied.

    No German voice can be installed offline here, and the check only needs a voice on disk
    whose config says German; what it sounds like does not matter to the choice being tested.
    """
    joe = resolve_voice(EngineSettings())
    model = folder / "de_DE-copy-medium.onnx"
    model.write_bytes(joe.model_path.read_bytes())
    config = json.loads(joe.config_path.read_text(encoding="utf-8"))
    config["language"] = {"code": "de_DE"}
    config["espeak"] = {"voice": "de"}
    (folder / "de_DE-copy-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return model


def test_engine_voices_reads_each_language_with_its_own_voice(tmp_path: Path) -> None:
    model = german_voice(tmp_path)
    settings = EngineSettings(voices={"de": str(model)})
    assert voice_for("de-AT", settings).name == "de_DE-copy-medium"
    assert voice_for("en", settings).name == "en_US-joe-medium"
    assert voice_for(None, settings).name == "en_US-joe-medium"

    path = make_epub(book("Die Mühle", GERMAN, language="de"), tmp_path / "muehle.epub")
    code, record, _ = phase1(path, tmp_path, {"voices": {"de": str(model)}})
    assert code == EXIT_SUCCESS, record["error"]
    assert record["phases"]["1"]["metrics"]["voice"] == "de_DE-copy-medium"


def test_a_missing_voice_for_a_language_is_one_line(tmp_path: Path) -> None:
    path = make_epub(book("Die Mühle", GERMAN, language="de"), tmp_path / "muehle.epub")
    code, record, stderr = phase1(path, tmp_path, {"voices": {"de": str(tmp_path / "nowhere.onnx")}})
    assert code == EXIT_NO_VOICE
    assert "nowhere.onnx does not exist" in record["error"] and "Traceback" not in stderr


@pytest.mark.corpus
def test_an_undeclared_german_pdf_fails_in_phase_1_naming_german(corpus: Path, tmp_path: Path) -> None:
    code, record, stderr = phase1(corpus / "thoma_geotopo_de.pdf", tmp_path)
    assert code == EXIT_NO_VOICE
    assert record["phases_completed"] == [] and record["phases"]["1"]["status"] == "failed"
    assert "is in German (de)" in record["error"] and "Traceback" not in stderr
