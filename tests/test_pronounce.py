"""How words are said: heteronyms by context, lexicons, words to check, and the audition."""

from __future__ import annotations

from pathlib import Path

import pytest

from audiobook.pronounce.measure import measure, read_sentences

HETERONYM_SET = Path(__file__).parent / "data" / "heteronyms.tsv"


def test_heteronym_set_covers_both_senses_of_every_word() -> None:
    rows = read_sentences(HETERONYM_SET)
    senses: dict[str, set[str]] = {}
    for word, phonemes, _ in rows:
        senses.setdefault(word, set()).add(phonemes)
    assert len(rows) >= 60
    assert len(senses) >= 25 and all(len(found) == 2 for found in senses.values()), senses


def test_heteronyms_are_said_in_their_sense_at_least_95_percent() -> None:
    today, ours = measure(HETERONYM_SET)
    assert ours.rate >= 0.95, ours.wrong
    assert today.right < ours.right  # espeak-ng alone gets fewer right: the set tests something


def test_a_book_without_heteronyms_never_loads_the_tagger() -> None:
    from audiobook.pronounce import heteronyms
    from audiobook.pronounce.speech import Pronouncer

    heteronyms._tagger.cache_clear()
    pronouncer = Pronouncer()
    plain_text = ["The river ran quietly past the mill.", "She counted the boats that went by."]
    assert [pronouncer.voice_text(sentence) for sentence in plain_text] == plain_text
    assert heteronyms._tagger.cache_info().currsize == 0
    assert pronouncer.voice_text("They read it yesterday.") != "They read it yesterday."
    assert heteronyms._tagger.cache_info().currsize == 1


def test_the_window_tagger_tags_as_gruut_does() -> None:
    """Its features, each word's built once and the false ones left out, give gruut's own tags."""
    from audiobook.pronounce import heteronyms

    tagging = heteronyms.gruut_pos().PartOfSpeechTagger
    gruut = tagging(heteronyms.model_path())
    tagger = heteronyms.WindowTagger(tagging.local_features, heteronyms.model_path())
    windows = []
    for _, _, sentence in read_sentences(HETERONYM_SET):
        words = heteronyms._TOKEN.findall(sentence)
        windows.append(words)
        windows += [words[max(0, at - 2) : at + 3] for at, word in enumerate(words) if word.lower() in heteronyms.table()]
    assert len(windows) > 200
    assert [tagger(words) for words in windows] == [list(gruut(words)) for words in windows]


def test_a_heteronym_in_a_long_line_is_decided_from_the_words_around_it() -> None:
    """Only the text around a heteronym is split into words: the same words as splitting the whole line."""
    from audiobook.pronounce import heteronyms

    # Long words, so that a split a few letters from the heteronym would cut one of its neighbours.
    filler = "pneumonoultramicroscopicsilicovolcanoconiosis—antidisestablishmentarianism’s grass,\t(at last) " * 3
    checked = 0
    for _, _, sentence in read_sentences(HETERONYM_SET):
        line = f"{filler}pneumonoultramicroscopicsilicovolcanoconiosis {sentence} {filler}"
        tokens = list(heteronyms._TOKEN.finditer(line))
        for at, token in enumerate(tokens):
            if token.group().lower() in heteronyms.table():
                first = max(0, at - heteronyms.WINDOW)
                words = [found.group() for found in tokens[first : at + heteronyms.WINDOW + 1]]
                assert heteronyms._words_around(line, *token.span()) == (words, at - first)
                checked += 1
    assert checked >= 107
    assert heteronyms.choices("The reader’s lamp, read’s echo.") == []
    # "İ" lower-cases to two letters: the places found in the lower-cased line are not the line's
    moved = "İstanbul: yesterday I read the letter."
    assert [(moved[start:end], said) for start, end, said in heteronyms.choices(moved)] == [("read", "ɹˈɛd")]


# ---- lexicons: through the orchestrator, on a tiny built book ---------------------------------------

NAMED = "Hermione walked to the mill at dawn with Quibbleworth. The miller waved and went back to his wheel."
PLAIN = "The river ran quietly past the mill, and the boats went by one after another all day long."


def named_book(folder: Path) -> Path:
    from audiobook.bookmaker import DraftBook, DraftChapter, make_epub

    chapters = [DraftChapter("One", [NAMED, PLAIN]), DraftChapter("Two", [PLAIN, PLAIN + " Then night came."])]
    return make_epub(DraftBook("Names", "Test Author", chapters), folder / "names.epub")


def run_book(book: Path, out: Path, phases: list[str], settings: str = "{}") -> dict:
    import json

    from audiobook import orchestrator

    code = orchestrator.main([str(book), "--pipeline-json", str(out / "book.json"), "--phases", *phases,
                              "--output-dir", str(out), "--settings-json", settings])  # fmt: skip
    record = json.loads((out / "book.json").read_text())
    assert code == 0 or record["error"], record
    return record


def chunk_sentences(out: Path) -> list[dict]:
    import json

    lines = (out / "work" / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    return [sentence for line in lines for sentence in json.loads(line)["sentences"]]


def test_lexicon_changes_what_the_voice_is_given_never_the_printed_text(tmp_path) -> None:
    book = named_book(tmp_path)
    batch = tmp_path / "batch.lexicon.tsv"
    batch.write_text("# the batch's names\nHermione\tHer-MY-oh-nee\nmiller\t[[mˈɪlɚ]]\n", encoding="utf-8")
    (tmp_path / "names.epub.lexicon.tsv").write_text("hermione\t[[hɜːmˈaɪəni]]\n", encoding="utf-8")
    out = tmp_path / "out"
    record = run_book(book, out, ["1", "2", "3"], f'{{"lexicon": ["{batch}"]}}')
    assert record["status"] == "success"
    sentences = chunk_sentences(out)
    named = next(sentence for sentence in sentences if "Hermione" in sentence["spoken"])
    assert named["printed"].startswith("Hermione walked")  # subtitles and the read-along keep the book's words
    assert "hɜːmˈaɪəni" in named["voice"]  # the book's own entry wins over the batch's respelling
    assert any("mˈɪlɚ" in sentence.get("voice", "") for sentence in sentences)
    assert not any("voice" in sentence for sentence in sentences if "Hermione" not in sentence["spoken"]
                   and "miller" not in sentence["spoken"])  # fmt: skip
    assert record["phases"]["3"]["metrics"]["pronunciation"]["lexicon_words"] == 2


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Hermione Her-MY-oh-nee", "no tab between the word"),
        ("/Her(/\t[[hɜː]]", "is not a regular expression"),
        ("Hermione\t[[hɜː§]]", "is not a phoneme the voice knows"),
        ("Hermione\tHer2", "neither a respelling"),
    ],
)
def test_a_bad_lexicon_line_fails_the_book_in_one_line_naming_it(tmp_path, line, problem) -> None:
    book = named_book(tmp_path)
    lexicon = tmp_path / "names.epub.lexicon.tsv"
    lexicon.write_text(f"# names\nmiller\t[[mˈɪlɚ]]\n{line}\n", encoding="utf-8")
    record = run_book(book, tmp_path / "out", ["1", "2", "3"])
    assert record["status"] == "partial" and record["phases"]["3"]["status"] == "failed"
    assert f"{lexicon}:3: " in record["error"] and problem in record["error"] and "\n" not in record["error"]
    assert not (tmp_path / "out" / "work" / "chunks.jsonl").exists()  # nothing half-applied


@pytest.mark.slow
def test_editing_one_entry_respeaks_only_the_chunks_holding_the_word(tmp_path) -> None:
    import json

    book = named_book(tmp_path)
    lexicon = tmp_path / "names.epub.lexicon.tsv"
    lexicon.write_text("Hermione\tHer-MY-oh-nee\nmill\t[[mˈɪl]]\n", encoding="utf-8")
    out = tmp_path / "out"
    first = run_book(book, out, ["1", "2", "3", "4"])
    spoken = first["phases"]["4"]["metrics"]
    assert spoken["chunks_synthesized"] > 3 and spoken["chunks_spoken_because"] == {"not spoken before": spoken["chunks_synthesized"]}
    holding = sum("Hermione" in sentence["spoken"] for sentence in chunk_sentences(out))
    assert holding == 1

    same = run_book(book, out, ["1", "2", "3", "4"])
    assert same["phases"]["4"]["reused"]  # nothing changed: the speech checkpoint stands, nothing is spoken

    lexicon.write_text("Hermione\t[[hɜːmˈaɪəni]]\nmill\t[[mˈɪl]]\n", encoding="utf-8")
    edited = run_book(book, out, ["1", "2", "3", "4"])
    metrics = edited["phases"]["4"]["metrics"]
    assert metrics["chunks_synthesized"] == holding
    assert metrics["chunks_spoken_because"] == {"pronunciation changed": holding}
    manifest = json.loads((out / "work" / "phase4-speak.json").read_text(encoding="utf-8"))["result"]
    printed = [text for chunk in manifest["chunks"] for text in chunk["printed"]]
    assert any(text.startswith("Hermione walked") for text in printed)  # what subtitles and read-along show

    # An entry for a word this book does not hold: phase 3 runs again, and the speech stands as it is.
    lexicon.write_text("Hermione\t[[hɜːmˈaɪəni]]\nmill\t[[mˈɪl]]\nzebra\tZEE-bruh\n", encoding="utf-8")
    untouched = run_book(book, out, ["1", "2", "3", "4"])
    assert not untouched["phases"]["3"]["reused"] and untouched["phases"]["4"]["reused"]


def test_batch_lexicon_refuses_the_batch_at_start_and_an_edit_reruns_only_its_book(tmp_path) -> None:
    import json

    import yaml
    from books import epub_book
    from test_workflow import snakemake, started

    books = tmp_path / "in"
    books.mkdir()
    named_book(books)
    epub_book(books, "meadow.epub")
    lexicon = tmp_path / "batch.tsv"
    lexicon.write_text("Hermione\tHer-MY-oh-nee\nmiller MILL-er\n", encoding="utf-8")
    never_throttled = {"cpu_threshold": 100, "throttle_delay": 0.1, "throttle_max_wait": 0}
    (tmp_path / "test.yaml").write_text(yaml.safe_dump({"engine": {"lexicon": [str(lexicon)]}, **never_throttled}))
    args = ["--cores", "2", "--configfile", str(tmp_path / "test.yaml"), "--config", "input_dir=in", "phases_to_run=[1,2,3]"]
    refused = snakemake(tmp_path, *args)
    assert refused.returncode != 0 and f"{lexicon}:2: " in refused.stderr, refused.stderr
    assert not (tmp_path / "results").exists()

    lexicon.write_text("Hermione\tHer-MY-oh-nee\n", encoding="utf-8")
    assert snakemake(tmp_path, *args).returncode == 0
    (tmp_path / "batch.log").unlink()
    (books / "names.epub.lexicon.tsv").write_text("miller\t[[mˈɪlɚ]]\n", encoding="utf-8")
    proc = snakemake(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr
    assert started(tmp_path) == ["names-epub"]  # the other book's lexicons did not change
    record = json.loads((tmp_path / "results" / "names-epub" / "book.json").read_text())
    assert record["phases"]["2"]["reused"] and not record["phases"]["3"]["reused"]
    # report.html lists each book's words to check, collapsed; what a lexicon settles is not among them.
    report = (tmp_path / "results" / "report.html").read_text(encoding="utf-8")
    words = report.split("<h2>Words to check</h2>", 1)[1]
    assert "(names-epub): 1 word</summary>" in words and "<td>Quibbleworth</td>" in words
    assert "<td>Hermione</td>" not in words


# ---- words to check ---------------------------------------------------------------------------------


@pytest.mark.corpus
def test_the_frequency_list_read_from_its_file_is_wordfreqs_own() -> None:
    from wordfreq import get_frequency_dict

    from audiobook.wordlists import frequencies

    frequencies.cache_clear()
    assert frequencies("en") == get_frequency_dict("en", wordlist="small")


def test_words_to_check_lists_a_real_books_invented_names_and_no_common_word(corpus, tmp_path) -> None:
    from wordfreq import zipf_frequency

    from audiobook.pronounce.lexicon import read_lexicon

    out = tmp_path / "out"
    book = tmp_path / "se_time_machine.epub"
    book.write_bytes((corpus / "se_time_machine.epub").read_bytes())
    (tmp_path / "se_time_machine.epub.lexicon.tsv").write_text("Filby\tFIL-bee\n", encoding="utf-8")
    record = run_book(book, out, ["1", "2", "3"])
    listed = record["phases"]["3"]["metrics"]["words_to_check"]
    top = [entry["word"] for entry in listed["top"][:20]]
    assert {"Weena", "Morlocks", "Eloi"} <= set(top), top
    assert "Filby" not in top  # the lexicon settles it already
    assert not [word for word in top if zipf_frequency(word, "en") >= 4.0], top  # nothing a listener says daily
    weena = listed["top"][0]
    assert (weena["word"], weena["kind"], weena["count"]) == ("Weena", "name", 54)
    assert weena["phonemes"] == "wˈiːnə" and weena["respelling"] == "WEE-nuh" and "Weena" in weena["first_sentence"]

    written = Path(listed["file"])
    assert written == out / "se_time_machine-epub.words-to-check.tsv"
    assert written.read_text(encoding="utf-8").splitlines()[3].startswith("Weena\t\t54\tname\tWEE-nuh\t")
    # In the lexicon's own format: read as one, it settles nothing until a user fills the second column in.
    assert read_lexicon(written, "en-us", None) == []


# ---- the audition -----------------------------------------------------------------------------------


def test_say_gives_the_phonemes_and_the_speech_a_book_would_get(tmp_path) -> None:
    import subprocess
    import sys
    import wave

    import yaml

    books = tmp_path / "in"
    books.mkdir()
    named_book(books)
    (tmp_path / "batch.tsv").write_text("Hermione\t[[hˈɜːmi]]\nGranger\tGRAIN-jer\n", encoding="utf-8")
    (books / "names.epub.lexicon.tsv").write_text("Hermione\t[[hɜːmˈaɪəni]]\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"input_dir": "in", "engine": {"lexicon": ["batch.tsv"]}}))
    say = [str(Path(sys.executable).parent / "batch-audiobook"), "say"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*say, *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)

    batch = run("Hermione Granger read the letter yesterday.", "--phonemes")
    assert batch.returncode == 0, batch.stderr
    assert batch.stdout.split()[:3] == ["hˈɜːmi", "ɡɹˈeɪndʒɜː", "ɹˈɛd"], batch.stdout  # the respelling's stress too
    book = run("Hermione read it.", "--phonemes", "--book", "names-epub")
    assert book.stdout.split()[0] == "hɜːmˈaɪəni", book.stdout  # the book's own entry wins
    unknown = run("Hermione", "--book", "nope")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "no book 'nope'" in unknown.stderr

    spoken = run("Hermione read the letter.", "--out", "try.wav")
    assert spoken.returncode == 0 and spoken.stdout.strip() == "wrote try.wav", spoken.stderr
    with wave.open(str(tmp_path / "try.wav")) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.8
