"""Reports people look at: plots, the self-contained HTML page, Snakemake's report, Prometheus metrics."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from audiobook.report import PLOT_FILES, prometheus_text, write_all
from audiobook.bookmaker import DraftBook, DraftChapter, make_epub
from books import PARAGRAPH, empty_book, epub_book, not_a_book, pdf_book

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
BOOK_IDS = ["blank-pdf", "letter-epub", "meadow-epub", "river-epub", "river-pdf"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# name{labels} value, as node_exporter's textfile collector reads it.
SAMPLE = re.compile(
    r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?P<labels>[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"'
    r'(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (?P<value>-?[0-9.eE+-]+|NaN|[+-]Inf)$'
)
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--cores", "2", "--configfile", "quiet.yaml",
         "--config", "input_dir=in", "phases_to_run=[1,2,3]", *args],
        cwd=workdir, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory) -> Path:
    """One real batch of five books, two of which fail, shared by the tests of this file."""
    workdir = tmp_path_factory.mktemp("report")
    books = workdir / "in"
    books.mkdir()
    pdf_book(books, "river.pdf")
    epub_book(books, "river.epub")
    # A book with a contents page and an index, which are left out of the reading and listed.
    contents = DraftChapter("Contents", ["Chapter 1 .......... 1", "Chapter 2 .......... 5"])
    index = DraftChapter("Index", ["boats, 1, 5", "mill, 1", "river, 1, 2, 5", "wheel, 2"])
    chapters = [DraftChapter(f"Chapter {n}", [PARAGRAPH] * 2) for n in (1, 2)]
    make_epub(DraftBook("Meadow", "Test Author", [contents, *chapters, index]), books / "meadow.epub", version=2)
    empty_book(books, "blank.pdf")
    not_a_book(books, "letter.epub")
    (workdir / "quiet.yaml").write_text("cpu_threshold: 100\nthrottle_max_wait: 0\n")
    proc = snakemake(workdir)
    assert proc.returncode != 0, "two books fail"
    assert (workdir / "pipeline.json").is_file(), proc.stderr[-3000:]
    return workdir


def colourful_pixels(image: np.ndarray) -> int:
    """Pixels clearly not grey: plots have coloured bars and bands, the page's text is grey."""
    rgb = image[..., :3].astype(float)
    if rgb.max() > 1.0:
        rgb /= 255.0
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 0.25).sum())


def distinct_colours(image: np.ndarray) -> int:
    rgb = (image[..., :3] * (255 if image.max() <= 1.0 else 1)).astype(np.uint8).reshape(-1, 3)
    return len(np.unique(rgb, axis=0))


def test_plots_are_pngs_with_the_status_colours(batch_run):
    plots = batch_run / "results" / "plots"
    assert sorted(p.name for p in plots.iterdir()) == sorted(PLOT_FILES.values())
    for name in PLOT_FILES.values():
        assert (plots / name).read_bytes().startswith(PNG_SIGNATURE), name
    # Bars per book and per status are coloured: 3 green books, 2 red ones.
    assert colourful_pixels(imread(plots / "book_times.png")) > 2000
    assert colourful_pixels(imread(plots / "status_counts.png")) > 2000


def test_report_page_is_self_contained_with_every_book_and_every_plot(batch_run):
    page = (batch_run / "results" / "report.html").read_text()
    for book_id in BOOK_IDS:
        assert f"<td>{book_id}</td>" in page, book_id
    images = re.findall(r'<img alt="[^"]+" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', page)
    assert len(images) == len(PLOT_FILES)
    on_disk = {(batch_run / "results" / "plots" / name).read_bytes() for name in PLOT_FILES.values()}
    assert {base64.b64decode(data) for data in images} == on_disk
    assert not re.search(r'(src|href)="(https?:)?//', page), "nothing is fetched from elsewhere"
    for label, value in (("Total Files", "5"), ("Successful", "3"), ("Failed", "2"), ("Status", "partial")):
        assert f"<th>{label}</th><td>{value}</td>" in page
    # Each book by its title and author first, the id beside it; the PDF's cover (its first page) as a thumbnail.
    assert re.search(r"<td>Meadow — Test Author</td>\s*<td>meadow-epub</td>", page)
    cover = re.search(r'<td><img class="cover" src="([^"]+)"[^>]*>River — Test Author</td>\s*<td>river-pdf</td>', page)
    assert cover and (batch_run / "results" / cover[1]).is_file(), "the cover beside the page, in results/"
    assert re.search(r"<td>blank\.pdf</td>\s*<td>blank-pdf</td>", page), "no title: the file name"


def test_the_record_and_the_report_list_what_was_left_out_with_word_counts(batch_run):
    record = json.loads((batch_run / "results" / "meadow-epub" / "book.json").read_text())
    skipped = record["phases"]["2"]["metrics"]["skipped"]
    assert [(s["title"], s["kind"]) for s in skipped] == [("Contents", "contents"), ("Index", "index")]
    assert all(s["words"] > 0 and s["reason"] for s in skipped)
    assert record["phases"]["2"]["metrics"]["chapters"] == 2
    page = (batch_run / "results" / "report.html").read_text()
    listing = page.split("<h2>Left out of the reading</h2>", 1)[1]
    for section in skipped:
        assert re.search(
            rf"<td>meadow-epub</td>\s*<td>{section['title']}</td>\s*<td>{section['kind']}</td>\s*<td>{section['words']}</td>",
            listing,
        ), section
    report = pd.read_csv(batch_run / "results" / "report.csv").set_index("id")
    assert report.loc["meadow-epub", "words_left_out"] == sum(s["words"] for s in skipped)
    assert report.loc["river-pdf", "language"] == "en" and report.loc["river-pdf", "voice"] == "en_US-joe-medium"


def test_metrics_file_parses_as_prometheus_text(batch_run):
    text = (batch_run / "results" / "metrics.prom").read_text()
    assert text.endswith("\n")
    samples: dict[str, float] = {}
    declared: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("gauge", "counter")
            declared.add(name)
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert match["name"] in declared, f"{match['name']} has no TYPE line before it"
        samples[line.rsplit(" ", 1)[0]] = float(match["value"])
    assert samples['audiobook_books{status="success"}'] == 3
    assert samples['audiobook_books{status="failed"}'] == 2
    assert samples["audiobook_audio_seconds_total"] == 0, "phases 1-3 make no audio"
    for book_id in BOOK_IDS:
        assert samples[f'audiobook_book_duration_seconds{{book="{book_id}"}}'] >= 0
    assert samples["audiobook_batch_duration_seconds"] > 0
    summary = json.loads((batch_run / "pipeline.json").read_text())["batch"]["summary"]
    assert samples["audiobook_last_run_timestamp_seconds"] == pytest.approx(summary["finished_at"])
    assert not any("loudness" in key for key in samples), "no mastered book: no loudness sample, not a zero"
    assert not list((batch_run / "results").glob(".*.part")), "written atomically, nothing left behind"


def test_snakemake_report_holds_the_pandas_report_and_the_plots(batch_run):
    proc = snakemake(batch_run, "--report", "report.html")
    assert proc.returncode == 0, proc.stderr[-3000:]
    page = (batch_run / "report.html").read_text()
    for name in [*PLOT_FILES.values(), "report.html"]:
        assert f'"{name}"' in page, name
    assert page.count("data:image/png") >= len(PLOT_FILES), "plots embedded in the page"
    assert "data:text/html" in page, "the pandas report embedded too"
    captions = (REPO / "report" / "loudness.rst").read_text().split()[:4]
    assert " ".join(captions) in page
    assert not re.search(r'<script[^>]+src="https?://', page)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install chromium)")
def test_report_page_shows_the_plots_in_headless_chromium(batch_run, tmp_path):
    page = batch_run / "results" / "report.html"
    shot = tmp_path / "page.png"
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3200",
         f"--screenshot={shot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    image = imread(shot)
    assert image.shape[:2] == (3200, 1200)
    assert distinct_colours(image) > 200, "not a blank page"
    assert colourful_pixels(image) > 20000, "the plots' coloured bars are on the screen"

    # The same page without its images has next to no colour: the colour is the plots.
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'<img [^>]+>', "", page.read_text()))
    bare_shot = tmp_path / "bare.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,3200",
         f"--screenshot={bare_shot}", bare.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert colourful_pixels(imread(bare_shot)) < 500


# ---- the plots and metrics with audio, without a workflow run ------------------------


def frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["id", "status", "duration_s", "audio_s", "real_time_factor", "loudness_lufs"]
    return pd.DataFrame([{key: row.get(key) for key in columns} for row in rows], columns=columns)


SUMMARY = {"total_files": 3, "successful_files": 2, "partial_files": 0, "failed_files": 1, "pending_files": 0,
           "duration": 300.0, "audio_seconds": 4000.0, "status": "partial", "finished_at": 1.7e9,
           "loudness_target_lufs": -19.0}


def test_plots_and_metrics_use_audio_and_loudness_where_books_have_them(tmp_path):
    mastered = frame([
        {"id": "a-pdf", "status": "success", "duration_s": 200.0, "audio_s": 2500.0, "real_time_factor": 0.1,
         "loudness_lufs": -19.1},
        {"id": "b-epub", "status": "success", "duration_s": 100.0, "audio_s": 1500.0, "real_time_factor": 0.09,
         "loudness_lufs": -22.0},
        {"id": "c-pdf", "status": "failed", "duration_s": 0.2},
    ])
    files = write_all(mastered, SUMMARY, tmp_path / "with")
    unmastered = mastered.assign(loudness_lufs=None, audio_s=None, real_time_factor=None)
    bare = write_all(unmastered, SUMMARY, tmp_path / "without")
    for name in ("book_times", "real_time_factor", "loudness"):
        with_audio = imread(files.plots[name])
        without = imread(bare.plots[name])
        assert colourful_pixels(with_audio) > colourful_pixels(without) + 500, name
    # The loudness plot shows the target band (green) and a point outside it (red).
    loud = imread(files.plots["loudness"])[..., :3]
    reddish = (loud[..., 0] > 0.6) & (loud[..., 1] < 0.3) & (loud[..., 2] < 0.3)
    assert reddish.sum() > 20

    metrics = files.metrics.read_text()
    assert 'audiobook_book_loudness_lufs{book="a-pdf"} -19.1' in metrics
    assert 'audiobook_book_loudness_lufs{book="c-pdf"}' not in metrics, "missing is no sample"
    assert 'audiobook_book_audio_seconds{book="b-epub"} 1500' in metrics
    assert "audiobook_audio_seconds_total 4000" in metrics


def test_many_books_become_distributions_of_bounded_size(tmp_path):
    many = frame([{"id": f"book{n:04d}-pdf", "status": "success" if n % 7 else "failed", "duration_s": 10.0 + n,
                   "audio_s": 600.0 + n, "real_time_factor": 0.1, "loudness_lufs": -19 + (n % 5) / 4}
                  for n in range(400)])
    files = write_all(many, {**SUMMARY, "total_files": 400}, tmp_path)
    for path in files.plots.values():
        assert imread(path).shape[0] <= 600, path.name
    assert prometheus_text(many, SUMMARY).count("audiobook_book_duration_seconds{") == 400


def test_label_values_are_escaped():
    text = prometheus_text(frame([{"id": 'odd"\\id', "status": "success", "duration_s": 1.0}]), SUMMARY)
    assert 'audiobook_book_duration_seconds{book="odd\\"\\\\id"} 1' in text
    line = next(l for l in text.splitlines() if l.startswith("audiobook_book_duration_seconds{"))
    assert SAMPLE.match(line)


def test_png_bytes_are_complete_images():
    from audiobook.report import make_plots, png_bytes

    figures = make_plots(frame([{"id": "a-pdf", "status": "success", "duration_s": 1.0}]), SUMMARY)
    for figure in figures.values():
        data = png_bytes(figure)
        assert data.startswith(PNG_SIGNATURE)
        assert imread(io.BytesIO(data)).shape[0] > 100
