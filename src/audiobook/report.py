"""The reports people look at: plots, a self-contained HTML page, Prometheus metrics.

The aggregate step calls ``write_all()`` with the per-book table it made
(``aggregate.report_frame``) and the batch summary of ``pipeline.json``. It
runs after every batch, also when books failed, and books that never reached
phase 4 or 5 have no audio, speed or loudness: every plot copes with missing
values and says what is missing instead of drawing nothing.
"""

from __future__ import annotations

import base64
import html
import io
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .fileio import atomic_writer
from .record import shown_title

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Plot name -> file under results/plots/; rules/aggregate.smk lists these as outputs.
PLOT_FILES = {
    "book_times": "book_times.png",
    "real_time_factor": "real_time_factor.png",
    "status_counts": "status_counts.png",
    "loudness": "loudness.png",
}
PLOT_TITLES = {
    "book_times": "Time per book and audio length",
    "real_time_factor": "Real-time factor",
    "status_counts": "Books by status",
    "loudness": "Loudness against the target",
}
STATUS_COLOURS = {"success": "#2e7d32", "partial": "#ef6c00", "failed": "#c62828", "pending": "#757575"}
STATUSES = tuple(STATUS_COLOURS)
LOUDNESS_TOLERANCE_LU = 1.0
MAX_LABELLED_BOOKS = 60  # beyond this, per-book bars become distributions
DPI = 100


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    metrics: Path
    plots: dict[str, Path]


def _values(frame: Any, column: str) -> list[float | None]:
    """A column as floats, None where missing (NaN, None, text)."""
    out: list[float | None] = []
    for value in frame[column].tolist() if column in frame else [None] * len(frame):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        out.append(None if math.isnan(number) else number)
    return out


def _figure(width: float, height: float) -> Figure:
    # Imported here: the workflow imports this module at parse time for PLOT_FILES.
    # A Figure with an Agg canvas needs no pyplot, no display and no global state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _note(axes: Any, text: str) -> None:
    """An empty panel that says why it is empty."""
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#555555", wrap=True)
    axes.set_xticks([])
    axes.set_yticks([])


def _per_book_height(books: int) -> float:
    """A row per book while they are labelled; a fixed size for distributions."""
    return max(2.8, 0.3 * books + 1.4) if books <= MAX_LABELLED_BOOKS else 4.0


def _book_bars(axes: Any, ids: list[str], values: list[float | None], colours: list[str], label: str,
               missing: str) -> None:
    """Horizontal bars per book, or a histogram when there are too many books to label."""
    known = [(book, value, colour) for book, value, colour in zip(ids, values, colours) if value is not None]
    if not known:
        _note(axes, missing)
        axes.set_title(label)
        return
    if len(ids) > MAX_LABELLED_BOOKS:
        axes.hist([value for _, value, _ in known], bins=30, color="#1565c0")
        axes.set_xlabel(label)
        axes.set_ylabel("books")
        return
    positions = range(len(ids))
    axes.barh(list(positions), [value or 0.0 for value in values], color=colours)
    axes.set_yticks(list(positions), ids)
    if not axes.yaxis_inverted():  # shared axes: inverting twice would undo it
        axes.invert_yaxis()  # first book at the top, as in the tables
    axes.set_xlabel(label)
    for position, value in zip(positions, values):
        if value is None:
            axes.text(0, position, "  n/a", va="center", color="#555555", fontsize="small")


def plot_book_times(frame: Any) -> Figure:
    ids = frame["id"].astype(str).tolist()
    colours = [STATUS_COLOURS.get(s, "#757575") for s in frame["status"].tolist()]
    audio_min = [None if v is None else v / 60 for v in _values(frame, "audio_s")]
    figure = _figure(11, _per_book_height(len(ids)))
    # Sharing the book axis hides the right panel's labels; an empty panel must not share it,
    # or clearing its ticks clears the books' names too.
    shared = len(ids) <= MAX_LABELLED_BOOKS and any(v is not None for v in audio_min)
    left, right = figure.subplots(1, 2, sharey=shared)
    _book_bars(left, ids, _values(frame, "duration_s"), colours, "wall time (s)", "no book has finished yet")
    _book_bars(right, ids, audio_min, colours, "audio length (min)", "no audio yet: phases 4 and 5 not run")
    figure.suptitle(PLOT_TITLES["book_times"])
    return figure


def plot_real_time_factor(frame: Any) -> Figure:
    """Phase 4's synthesis time per second of audio, and the whole book's."""
    ids = frame["id"].astype(str).tolist()
    speech = _values(frame, "real_time_factor")
    wall = _values(frame, "duration_s")
    audio = _values(frame, "audio_s")
    whole = [w / a if w is not None and a else None for w, a in zip(wall, audio)]
    figure = _figure(8, _per_book_height(len(ids)))
    axes = figure.subplots()
    axes.set_title(PLOT_TITLES["real_time_factor"] + " (seconds of work per second of audio; below 1 is faster)")
    if all(v is None for v in speech + whole):
        _note(axes, "no audio yet: the real-time factor needs phase 4 (speak)")
        return figure
    if len(ids) > MAX_LABELLED_BOOKS:
        for values, label, colour in ((speech, "speech (phase 4)", "#1565c0"), (whole, "whole book", "#6a1b9a")):
            known = [v for v in values if v is not None]
            if known:
                axes.hist(known, bins=30, alpha=0.6, label=label, color=colour)
        axes.set_xlabel("real-time factor")
        axes.legend()
        return figure
    height = 0.4
    positions = list(range(len(ids)))
    axes.barh([p - height / 2 for p in positions], [v or 0 for v in speech], height, label="speech (phase 4)",
              color="#1565c0")
    axes.barh([p + height / 2 for p in positions], [v or 0 for v in whole], height, label="whole book",
              color="#6a1b9a")
    if max(v for v in speech + whole if v is not None) > 0.5:  # else the line squashes the bars
        axes.axvline(1.0, color="#555555", linestyle="--", linewidth=1, label="real time")
    for position, pair in zip(positions, zip(speech, whole)):
        if pair == (None, None):
            axes.text(0, position, "  n/a", va="center", color="#555555", fontsize="small")
    axes.set_yticks(positions, ids)
    axes.invert_yaxis()
    axes.set_xlabel("real-time factor")
    axes.legend(loc="best", fontsize="small")
    return figure


def plot_status_counts(summary: dict[str, Any]) -> Figure:
    counts = {
        "success": summary.get("successful_files", 0),
        "partial": summary.get("partial_files", 0),
        "failed": summary.get("failed_files", 0),
        "pending": summary.get("pending_files", 0),
    }
    from matplotlib.ticker import MaxNLocator

    figure = _figure(6, 3.5)
    axes = figure.subplots()
    bars = axes.bar(list(counts), list(counts.values()), color=[STATUS_COLOURS[s] for s in counts])
    axes.bar_label(bars)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylabel("books")
    axes.set_ylim(0, max(max(counts.values()), 1) * 1.15)
    axes.set_title(f"{PLOT_TITLES['status_counts']} ({summary.get('total_files', sum(counts.values()))} in all)")
    return figure


def plot_loudness(frame: Any, target_lufs: float) -> Figure:
    ids = frame["id"].astype(str).tolist()
    loudness = _values(frame, "loudness_lufs")
    figure = _figure(8, 3.8 if len(ids) > MAX_LABELLED_BOOKS else max(3.8, 0.25 * len(ids) + 2.5))
    axes = figure.subplots()
    axes.set_title(f"{PLOT_TITLES['loudness']} ({target_lufs:g} LUFS \u00b1{LOUDNESS_TOLERANCE_LU:g} LU)")
    known = [(position, value) for position, value in enumerate(loudness) if value is not None]
    if not known:
        _note(axes, "no mastered audio yet: loudness is measured in phase 5 (master)")
        return figure
    axes.axhspan(target_lufs - LOUDNESS_TOLERANCE_LU, target_lufs + LOUDNESS_TOLERANCE_LU, color="#a5d6a7",
                 alpha=0.5, label="target band")
    axes.axhline(target_lufs, color="#2e7d32", linewidth=1)
    inside = [abs(value - target_lufs) <= LOUDNESS_TOLERANCE_LU for _, value in known]
    axes.scatter([p for p, _ in known], [v for _, v in known], zorder=3, s=36 if len(ids) <= MAX_LABELLED_BOOKS else 8,
                 c=["#1565c0" if ok else "#c62828" for ok in inside])
    axes.set_ylabel("integrated loudness (LUFS)")
    low = min([v for _, v in known] + [target_lufs - 3])
    high = max([v for _, v in known] + [target_lufs + 3])
    axes.set_ylim(low - 1, high + 1)
    if len(ids) <= MAX_LABELLED_BOOKS:
        for position, value in enumerate(loudness):
            if value is None:
                axes.text(position, low - 0.5, "not mastered", ha="center", color="#555555", fontsize="small")
    axes.set_xlim(-0.5, len(ids) - 0.5)
    if len(ids) <= MAX_LABELLED_BOOKS:
        axes.set_xticks(range(len(ids)), ids, rotation=45, ha="right", fontsize="small")
    else:
        axes.set_xlabel("books, in name order")
    axes.legend(loc="upper right", fontsize="small")
    return figure


def make_plots(frame: Any, summary: dict[str, Any]) -> dict[str, Figure]:
    target = summary.get("loudness_target_lufs")
    return {
        "book_times": plot_book_times(frame),
        "real_time_factor": plot_real_time_factor(frame),
        "status_counts": plot_status_counts(summary),
        "loudness": plot_loudness(frame, -19.0 if target is None else float(target)),
    }


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


# ---- HTML ---------------------------------------------------------------------

SUMMARY_ROWS = (
    ("Total Files", "total_files"), ("Successful", "successful_files"), ("Partial", "partial_files"),
    ("Failed", "failed_files"), ("Already done", "skipped_files"), ("Duration (s)", "duration"),
    ("Avg CPU (%)", "avg_cpu"), ("Audio (s)", "audio_seconds"), ("Status", "status"),
)


def render_left_out(left_out: Any) -> str:
    """The sections left out of each book's reading, with their word counts (engine.skip turns a kind back on)."""
    if left_out is None or not len(left_out):
        return "<p>Nothing was left out of any book.</p>\n"
    words = int(left_out["words"].fillna(0).sum())
    table = left_out.to_html(index=False, na_rep="", escape=True, classes="left-out", border=0)
    return (
        f"<p>{len(left_out)} sections ({words:,} words) were not read: contents, indexes, licences and the like. "
        "Remove a kind from <code>engine.skip</code> in config.yaml to have it read.</p>\n"
        f"{table}\n"
    )


def render_words_to_check(words: dict[str, list[dict[str, Any]]] | None, frame: Any = None) -> str:
    """Per book, collapsed: the words the voice may say wrong, most heard first, to fix in a lexicon."""
    if not words:
        return "<p>No book has words to check.</p>\n"
    parts = [
        "<p>Words the voice may say wrong (names, rare words, acronyms), most heard first. Fill in "
        "<code>&lt;id&gt;.words-to-check.tsv</code> beside each audiobook and save it as "
        "<code>input/&lt;book file name&gt;.lexicon.tsv</code>; try a respelling with "
        "<code>batch-audiobook say</code>.</p>\n"
    ]
    titles = _titles_by_id(frame)
    for book, entries in sorted(words.items()):
        rows = "".join(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(entry.get(key, '')))}</td>"
                for key in ("word", "count", "kind", "respelling", "phonemes", "first_sentence")
            )
            + "</tr>"
            for entry in entries
        )
        parts.append(
            f"<details><summary>{html.escape(titles.get(book, book))} ({html.escape(book)}): {len(entries)} word{'' if len(entries) == 1 else 's'}</summary>"
            '<table class="words"><tr><th>word</th><th>heard</th><th>kind</th><th>the voice says</th>'
            f"<th>phonemes</th><th>first sentence</th></tr>{rows}</table></details>\n"
        )
    return "".join(parts)


def _titles_by_id(frame: Any) -> dict[str, str]:
    """Each book's "Title — Author" by its id, for the sections that list books outside the table."""
    if frame is None or "id" not in frame:
        return {}
    titles = frame["title"] if "title" in frame else [None] * len(frame)
    authors = frame["author"] if "author" in frame else [None] * len(frame)
    return {
        str(book): shown_title(title if isinstance(title, str) else None, author if isinstance(author, str) else None, str(book))
        for book, title, author in zip(frame["id"], titles, authors)
    }


# Shown together in the table's first column ("Title — Author", the cover beside), not as columns of their own.
BOOK_COLUMNS = ("title", "author", "cover")


def _book_cell(fallback: str, title: Any, author: Any, cover: Any) -> str:
    """The book as a person finds it: a small cover (a file beside the page, in the results folder) and its title."""
    text = html.escape(shown_title(title if isinstance(title, str) else None,
                                   author if isinstance(author, str) else None, fallback))
    if not isinstance(cover, str) or not cover:
        return text
    source = html.escape(quote(cover), quote=True)
    return f'<img class="cover" src="{source}" alt="" loading="lazy" height="48">{text}'


def books_table(frame: Any) -> str:
    """Every book's row: the book by its title first, then the id and the figures (every value escaped)."""
    shown = frame.drop(columns=[column for column in BOOK_COLUMNS if column in frame])
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].map(lambda value: html.escape(value) if isinstance(value, str) else value)
    names = [frame[column] if column in frame else [None] * len(frame) for column in BOOK_COLUMNS]
    # Without a title (a book refused before its metadata was read): its file name, else its id.
    fallbacks = frame["file"] if "file" in frame else frame["id"]
    shown.insert(0, "book", [_book_cell(str(fallback), *named) for fallback, *named in zip(fallbacks, *names)])
    return shown.to_html(index=False, na_rep="", escape=False, classes="books", border=0)


def render_html(
    frame: Any, summary: dict[str, Any], images: dict[str, bytes], left_out: Any = None, words: Any = None
) -> str:
    """One page with everything inside it (plots as data: URIs), so it can be mailed or archived."""
    facts = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(str(summary.get(key, '')))}</td></tr>"
        for label, key in SUMMARY_ROWS
    )
    figures = "".join(
        f'<figure><img alt="{html.escape(PLOT_TITLES[name])}" '
        f'src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'
        f"<figcaption>{html.escape(PLOT_TITLES[name])}</figcaption></figure>\n"
        for name, data in images.items()
    )
    table = books_table(frame)
    written = time.strftime("%Y-%m-%d %H:%M:%S")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Audiobook batch report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
th, td {{ padding: .3em .7em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }}
table.books td:last-child {{ max-width: 40em; }}
img.cover {{ height: 48px; width: auto; margin-right: .5em; vertical-align: middle; }}
figure {{ margin: 0 0 2em 0; }}
figure img {{ max-width: 100%; height: auto; }}
figcaption {{ color: #555; }}
</style></head><body>
<h1>Audiobook batch report</h1>
<p>Written {html.escape(written)}.</p>
<table class="summary">{facts}</table>
<h2>Plots</h2>
{figures}<h2>Books</h2>
{table}
<h2>Left out of the reading</h2>
{render_left_out(left_out)}<h2>Words to check</h2>
{render_words_to_check(words, frame)}</body></html>
"""


# ---- Prometheus ---------------------------------------------------------------


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def prometheus_text(frame: Any, summary: dict[str, Any]) -> str:
    """Metrics in Prometheus' text format, for node_exporter's textfile collector."""
    lines: list[str] = []

    def family(name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float | None]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            if value is None:
                continue  # a missing value is no sample, never a fake zero
            rendered = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            lines.append(f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}")

    counts = {
        "success": summary.get("successful_files", 0), "partial": summary.get("partial_files", 0),
        "failed": summary.get("failed_files", 0), "pending": summary.get("pending_files", 0),
    }
    family("audiobook_books", "gauge", "Books of the last batch, by status.",
           [({"status": status}, count) for status, count in counts.items()])
    family("audiobook_books_already_done", "gauge", "Books kept from an earlier run in the last batch.",
           [({}, summary.get("skipped_files", 0))])
    family("audiobook_audio_seconds_total", "counter", "Seconds of audio of every book of the last batch.",
           [({}, summary.get("audio_seconds", 0.0))])
    family("audiobook_batch_duration_seconds", "gauge", "Wall time of the last batch run.",
           [({}, summary.get("duration"))])
    family("audiobook_batch_cpu_seconds", "gauge", "CPU time the books of the last run used.",
           [({}, summary.get("cpu_seconds"))])
    family("audiobook_batch_success", "gauge", "1 when every book of the last batch succeeded, else 0.",
           [({}, 1 if summary.get("status") == "success" else 0)])
    family("audiobook_last_run_timestamp_seconds", "gauge", "When the last batch run finished (Unix time).",
           [({}, summary.get("finished_at") or time.time())])
    ids = frame["id"].astype(str).tolist()
    statuses = frame["status"].astype(str).tolist()
    # Status is a value, not a label: a label that changes would start a new series.
    family("audiobook_book_succeeded", "gauge", "1 when the book's last run succeeded, else 0.",
           [({"book": b}, 1 if s == "success" else 0) for b, s in zip(ids, statuses)])
    family("audiobook_book_duration_seconds", "gauge", "Wall time of each book's last run.",
           [({"book": b}, v) for b, v in zip(ids, _values(frame, "duration_s"))])
    family("audiobook_book_audio_seconds", "gauge", "Audio length of each book that has audio.",
           [({"book": b}, v) for b, v in zip(ids, _values(frame, "audio_s"))])
    family("audiobook_book_loudness_lufs", "gauge", "Integrated loudness of each mastered book.",
           [({"book": b}, v) for b, v in zip(ids, _values(frame, "loudness_lufs"))])
    return "\n".join(lines) + "\n"


# ---- all of it ----------------------------------------------------------------


def write_all(
    frame: Any, summary: dict[str, Any], results_dir: Path, left_out: Any = None, words: Any = None
) -> ReportFiles:
    """Write results/plots/*.png, results/report.html and results/metrics.prom, each atomically."""
    results_dir = Path(results_dir)
    images = {name: png_bytes(figure) for name, figure in make_plots(frame, summary).items()}
    plots = {}
    for name, data in images.items():
        plots[name] = results_dir / "plots" / PLOT_FILES[name]
        with atomic_writer(plots[name], "wb") as handle:
            handle.write(data)
    page = results_dir / "report.html"
    with atomic_writer(page) as handle:
        handle.write(render_html(frame, summary, images, left_out, words))
    metrics = results_dir / "metrics.prom"
    with atomic_writer(metrics) as handle:
        handle.write(prometheus_text(frame, summary))
    return ReportFiles(html=page, metrics=metrics, plots=plots)
