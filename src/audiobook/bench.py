"""Benchmarks: how close the batch gets to the machine's limit, each number beside its baseline.

    python -m audiobook.bench --quick                 # under 5 minutes on 2 cores
    python -m audiobook.bench --full --out bench.json # the sizes of issues 8 and 14 (about 20 minutes)
    python -m audiobook.bench --only scale --books 1000 # the batch at scale only, at a size you pick
    python -m audiobook.bench --only dashboard          # the dashboard at 10,000 books against 100
    python -m audiobook.bench --only ocr                # OCR against the tesseract command only

The work is CPU-bound speech, so a batch's limit is its CPU work over its cores.
Absolute times drift on a shared machine; a ratio against a baseline measured
in the same run, on the same input, minutes apart, holds. So every number here
comes with one: Piper's own command for phase 4, raw pypdfium2 for phases 1-3,
``xargs -P 2`` calling the orchestrator for the workflow, plain JSON reads for
the aggregate. Small measurements are repeated, interleaved with their
baseline (ABAB...), and reduced to medians. CPU, wall time and peak memory of
a command come from ``wait4`` (what ``/usr/bin/time -v`` reports), and the CPU
the rest of the machine used meanwhile is recorded beside them as the noise.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import psutil

from .fileio import read_json, write_json
from .ids import book_id

log = logging.getLogger("audiobook.bench")
# The phases run in this process (1b) log their progress; the table is what matters here.
phase_log = logging.getLogger("audiobook.bench.phases")
phase_log.setLevel(logging.WARNING)

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The issue's batch: snakemake --cores 2 against xargs -P 2.
CORES = 2
ONE_LINE = "The quick brown fox jumps over the lazy dog."


class BenchError(Exception):
    """A benchmark step could not run (a tool failed, a file is missing): one line for the user."""


@dataclass(frozen=True)
class Sizes:
    """How big each measurement is; quick and full differ only here."""

    mode: str
    reps: int  # repeats of each small measurement, reduced to a median
    speech_words: int  # text spoken in each phase-4 measurement
    speech_threads: tuple[int, ...]
    batch_words: tuple[int, ...]  # one book per entry, of about this many words
    batch_reps: int  # workflow/xargs pairs of the mixed batch, in ABBA order
    trivial_books: int  # one-line books run by the workflow and by xargs
    lever_books: int  # books per lever run (0: levers are tried on dry runs only)
    dry_small: int
    dry_large: int
    aggregate_records: int
    engine_words: int  # the book spoken whole on one and on two threads
    shipped_piper: bool  # also compare with Piper's command as shipped (its thread pool unheld)
    dashboard_books: int = 10_000  # finished records the dashboard watches beside 2 running books
    dashboard_window_s: float = 20.0  # how long the page polls each size, at its 2 s refresh
    ocr_words: int = 1500  # the book scanned and read by OCR (about 300 words a page)

    def describe(self) -> dict[str, Any]:
        return asdict(self)


QUICK = Sizes(
    mode="quick", reps=3, speech_words=80, speech_threads=(1,), batch_words=(90, 150, 210, 270), batch_reps=1,
    trivial_books=100, lever_books=0, dry_small=200, dry_large=2000, aggregate_records=2000, engine_words=60,
    shipped_piper=False,
)  # fmt: skip
FULL = Sizes(
    mode="full", reps=5, speech_words=400, speech_threads=(1, 2), batch_words=(150, 300, 600, 900, 1200, 1800),
    batch_reps=2, trivial_books=1000, lever_books=200, dry_small=1000, dry_large=10000, aggregate_records=10000,
    engine_words=600, shipped_piper=True, dashboard_window_s=60.0, ocr_words=6000,
)  # fmt: skip
# The issue's sizes, which quick mode scales down (said so in the table).
ISSUE_SIZES = {"trivial_books": 1000, "dry_small": 1000, "dry_large": 10000, "aggregate_records": 10000}


@dataclass
class Row:
    """One line of the table: our number, its baseline, their ratio, and the goal if the issue sets one."""

    item: str  # the issue's numbering: "1a", "2", ...
    measure: str
    ours: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    sizes: Sizes
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        log.info("%s %s: %s", row.item, row.measure, _cell(row.ours, row.unit))
        return row


# ---- measuring a command ----------------------------------------------------


@dataclass
class Measured:
    """What one command cost, from the kernel's accounting of it and its descendants."""

    wall_s: float
    cpu_s: float  # user + system of the process and every descendant it waited for
    peak_rss_mb: float  # the largest single process among them
    others_cpu_s: float  # CPU the rest of the machine used meanwhile: the noise
    exit_code: int


def machine_busy_s() -> float:
    """CPU seconds all cores of the machine have spent not idle since boot."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def run_measured(
    command: Sequence[str | Path], log_path: Path, *, cwd: Path | None = None, cpus: set[int] | None = None
) -> Measured:
    """Run ``command`` (output appended to ``log_path``) and measure it; ``cpus`` pins it to those cores."""
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as output:
        busy_before = machine_busy_s()
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(part) for part in command], cwd=cwd, stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT, preexec_fn=pin,
        )  # fmt: skip
        # wait4 rather than wait: it also returns the child's resource usage.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        busy = machine_busy_s() - busy_before
    process.returncode = exit_code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(wall, cpu, usage.ru_maxrss / 1024, max(0.0, busy - cpu), exit_code)


def run_checked(command: Sequence[str | Path], log_path: Path, **kwargs: Any) -> Measured:
    measured = run_measured(command, log_path, **kwargs)
    if measured.exit_code != 0:
        raise BenchError(f"{Path(str(command[0])).name} exited with {measured.exit_code}; see {log_path}")
    return measured


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio(ours: float | None, baseline: float | None) -> float | None:
    if ours is None or not baseline:
        return None
    return ours / baseline


def tool(name: str) -> Path:
    """A command installed beside this Python (the venv), else on PATH."""
    beside = BIN / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"{name} is not installed beside {sys.executable} nor on PATH; install the project first")
    return Path(found)


# ---- books ------------------------------------------------------------------

_SUBJECTS = (
    "the old miller", "a tired traveller", "the young clerk", "my neighbour", "the captain", "a quiet widow",
    "the schoolmaster", "her brother", "the stranger", "the innkeeper", "a shepherd", "the doctor",
)  # fmt: skip
_VERBS = (
    "walked slowly towards", "looked back at", "spoke kindly of", "waited beside", "remembered",
    "hurried past", "wrote a letter about", "sat down near", "argued about", "thought often of",
)  # fmt: skip
_OBJECTS = (
    "the bridge over the river", "the empty market", "a lantern in the window", "the garden wall",
    "the church on the hill", "an unfinished letter", "the harbour at dusk", "the long road home",
    "a wooden chest", "the mill pond", "the last train", "the winter fields",
)  # fmt: skip
_TAILS = (
    "before the rain began", "as the bells rang", "without a word", "while the others slept",
    "long after midnight", "in the grey light of morning", "for reasons nobody knew", "with some surprise",
    "and then turned away", "as if nothing had happened",
)  # fmt: skip


def prose(words: int, seed: int) -> list[str]:
    """Sentences of plain narrative, about ``words`` words, reproducible from ``seed``.

    Each sentence is different (it carries its own ordinal), so a book never
    hits its own audio cache: every chunk is really spoken.
    """
    rng = random.Random(seed)
    sentences: list[str] = []
    count = 0
    while count < words:
        number = len(sentences) + 1
        sentence = (
            f"On the {_ordinal_words(number)} day, {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} "
            f"{rng.choice(_OBJECTS)} {rng.choice(_TAILS)}."
        )
        sentences.append(sentence[0].upper() + sentence[1:])
        count += len(sentence.split())
    return sentences


_UNITS = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
          "seventeenth", "eighteenth", "nineteenth")  # fmt: skip
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def _ordinal_words(number: int) -> str:
    """1 -> "first", 42 -> "forty second", 301 -> "three hundred and first" (words, so no normaliser runs)."""
    hundreds, rest = divmod(number, 100)
    tens, units = divmod(rest, 10)
    if rest == 0:
        small = "th"  # "three hundredth"
    elif rest < 10:
        small = _UNITS[rest]
    elif rest < 20:
        small = _TEENS[rest - 10]
    elif units == 0:
        small = _TENS[tens][:-1] + "ieth"
    else:
        small = f"{_TENS[tens]} {_UNITS[units]}"
    if not hundreds:
        return small
    head = f"{_cardinal(hundreds)} hundred"
    return head + small if small == "th" else f"{head} and {small}"


def _cardinal(number: int) -> str:
    names = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return names[number] if number <= 10 else str(number)


def pack_lines(sentences: list[str], max_chars: int = 400) -> list[str]:
    """Sentences joined into lines of at most ``max_chars``: one chunk per line."""
    lines: list[str] = []
    for sentence in sentences:
        if lines and len(lines[-1]) + 1 + len(sentence) <= max_chars:
            lines[-1] += " " + sentence
        else:
            lines.append(sentence)
    return lines


def make_book(path: Path, words: int, seed: int) -> Path:
    """A real book of about ``words`` words: chapters of about 150 words; PDF or EPUB by the suffix."""
    from .bookmaker import DraftBook, DraftChapter, make_epub, make_pdf

    sentences = prose(words, seed)
    per_chapter = 8  # about 150 words
    chapters = [
        DraftChapter(
            f"Chapter {_cardinal(n + 1).title()}",
            [" ".join(part[i : i + 3]) for i in range(0, len(part), 3)],
        )
        for n, part in enumerate(sentences[i : i + per_chapter] for i in range(0, len(sentences), per_chapter))
    ]
    draft = DraftBook(f"Bench Book {seed}", "Bench Writer", chapters, year="2024")
    return make_pdf(draft, path) if path.suffix == ".pdf" else make_epub(draft, path)


def make_trivial_books(folder: Path, count: int, template: Path) -> list[Path]:
    """``count`` one-line books: hard links of one small book under different names (cheap to make)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        path = folder / f"book-{number:05d}{template.suffix}"
        if not path.exists():
            try:
                os.link(template, path)
            except OSError:  # another file system: copy instead
                shutil.copyfile(template, path)
        paths.append(path)
    return paths


def make_one_line_book(path: Path) -> Path:
    from .bookmaker import DraftBook, DraftChapter, make_epub

    return make_epub(DraftBook("One Line", "Bench Writer", [DraftChapter("One", [ONE_LINE])]), path)


# ---- the workflow and its baseline ------------------------------------------


@dataclass(frozen=True)
class Workflow:
    snakefile: Path

    def command(self, directory: Path, phases: Sequence[int], *extra: str, config: Sequence[str] = ()) -> list[str]:
        return [
            str(tool("snakemake")), "--snakefile", str(self.snakefile), "--directory", str(directory),
            "--cores", str(CORES), *extra,
            "--config", "input_dir=in", f"phases_to_run=[{','.join(map(str, phases))}]", *config,
        ]  # fmt: skip


def run_workflow(
    workflow: Workflow, directory: Path, phases: Sequence[int], *extra: str, config: Sequence[str] = ()
) -> Measured:
    """A real run in ``directory`` (books in ``directory/in``); every book must succeed."""
    return run_checked(workflow.command(directory, phases, *extra, config=config), directory / "snakemake.out")


def run_xargs(books: Sequence[Path], out_dir: Path, phases: Sequence[int], log_path: Path) -> Measured:
    """The baseline a user could pick instead: ``xargs -P 2`` calling the orchestrator, one book each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for book in books:
        ident = book_id(book.name)
        items += [str(book), f"--pipeline-json={out_dir / ident / 'book.json'}", f"--output-dir={out_dir / ident}",
                  f"--book-id={ident}"]  # fmt: skip
    arguments = out_dir / "xargs.args"
    arguments.write_bytes(b"\0".join(item.encode() for item in items) + b"\0")
    command = [
        "xargs", "-0", "-P", str(CORES), "-n", "4", "-a", str(arguments),
        str(tool("audiobook-orchestrator")), "--phases", *map(str, phases), "--threads", "1",
    ]  # fmt: skip
    return run_checked(command, log_path)


def load_records(results_dir: Path, books: Sequence[Path]) -> list[dict[str, Any]]:
    records = []
    for book in books:
        path = results_dir / book_id(book.name) / "book.json"
        try:
            record = read_json(path)
        except (OSError, ValueError) as error:
            raise BenchError(f"no record for {book.name} at {path} ({error})") from None
        if record.get("status") != "success":
            raise BenchError(f"{book.name} did not succeed: {record.get('error')}")
        records.append(record)
    return records


def audio_seconds(record: dict[str, Any]) -> float:
    from .record import metric

    return float(metric(record, 5, "duration_s") or metric(record, 4, "audio_seconds") or 0.0)


# ---- workers: the parts measured in a process of their own -------------------


def speak_worker(text_file: str, work_dir: str, threads: int, result: str) -> None:
    """Phase 4 on one chunk per line of ``text_file``, as the orchestrator calls it."""
    from .model import Chunk, PhaseContext
    from .settings import EngineSettings
    from .speak import speak

    lines = [line.strip() for line in Path(text_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    chunks = [Chunk(index=i, chapter=0, chapter_title="Bench", text=line) for i, line in enumerate(lines)]
    ctx = PhaseContext(source=Path(text_file), work_dir=Path(work_dir), threads=threads, log=log)
    manifest = speak(ctx, chunks, ["Bench"], "en", EngineSettings())
    audio = sum(chunk.samples for chunk in manifest.chunks) / manifest.sample_rate
    write_json(Path(result), {"audio_seconds": audio, **ctx.metrics})


def piper_worker(threads: int, argv: list[str]) -> None:
    """Piper's own command (``python -m piper ARGV``) with its onnxruntime pool held to ``threads``.

    The command has no thread option, and pinning it with taskset does not
    hold it: onnxruntime (1.32) sizes its default pool by the machine's cores
    and pins its workers itself, so under ``taskset -c 0`` it still runs on two
    cores. Only the session's thread count is set here; everything else is
    Piper's code as shipped.
    """
    import runpy

    import onnxruntime

    class HeldSessionOptions(onnxruntime.SessionOptions):
        def __init__(self) -> None:
            super().__init__()
            self.intra_op_num_threads = threads

    onnxruntime.SessionOptions = HeldSessionOptions  # type: ignore[misc] # piper looks it up at load time
    sys.argv = ["piper", *argv]
    runpy.run_module("piper", run_name="__main__", alter_sys=True)


def read_records_worker(results_dir: str, books_file: str, result: str) -> None:
    """Reading the records, the floor of any aggregator (a first pass warms the page cache)."""
    results = Path(results_dir)
    books = read_json(Path(books_file))
    for ident, _, _ in books:
        read_json(results / ident / "book.json")
    started = time.perf_counter()
    for ident, _, _ in books:
        read_json(results / ident / "book.json")
    write_json(Path(result), {"read_s": time.perf_counter() - started})


def aggregate_worker(results_dir: str, books_file: str, result: str) -> None:
    """The aggregate step as the workflow runs it: a fresh interpreter, then aggregate()."""
    from .aggregate import aggregate

    results = Path(results_dir)
    books = read_json(Path(books_file))
    started = time.perf_counter()
    aggregate(books, [], str(results), [1, 2, 3, 4, 5], str(results.parent / "pipeline.json"),
              str(results.parent / "batch.log"))  # fmt: skip
    write_json(Path(result), {"aggregate_s": time.perf_counter() - started})


WORKERS: dict[str, Callable[..., None]] = {
    "speak": speak_worker, "piper": piper_worker, "read_records": read_records_worker, "aggregate": aggregate_worker,
}  # fmt: skip


def worker_command(kind: str, **arguments: Any) -> list[str]:
    return [sys.executable, "-m", "audiobook.bench", "--worker", kind, json.dumps(arguments, default=str)]


# ---- 1a: phase 4 against Piper's own command ---------------------------------


@dataclass
class SpeechRun:
    audio_s: float
    measured: Measured


def piper_arguments(text_file: Path, wav: Path) -> list[str]:
    """Piper's command line with the engine's voice, pace and pause (one chunk per line, no normalising)."""
    from .settings import EngineSettings
    from .voices import resolve_voice

    settings = EngineSettings()
    voice = resolve_voice(settings)
    return [
        "-m", str(voice.model_path), "-c", str(voice.config_path), "-i", str(text_file), "-f", str(wav),
        "--length-scale", str(settings.length_scale), "--sentence-silence", str(settings.sentence_pause_s),
        "--no-normalize",
    ]  # fmt: skip


def speak_ours(text_file: Path, work: Path, threads: int, cpus: set[int]) -> SpeechRun:
    """Phase 4 in a fresh process and a fresh cache folder (a warm cache would speak nothing)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result = work / "result.json"
    command = worker_command("speak", text_file=text_file, work_dir=work, threads=threads, result=result)
    measured = run_checked(command, work.parent / "ours.log", cpus=cpus)
    return SpeechRun(read_json(result)["audio_seconds"], measured)


def speak_piper(text_file: Path, wav: Path, cpus: set[int], threads: int | None) -> SpeechRun:
    """Piper's command on ``cpus``: its pool held to ``threads``, or as shipped when None."""
    wav.unlink(missing_ok=True)
    arguments = piper_arguments(text_file, wav)
    if threads is None:
        command = [sys.executable, "-m", "piper", *arguments]
    else:
        command = worker_command("piper", threads=threads, argv=arguments)
    measured = run_checked(command, wav.parent / "piper.log", cpus=cpus)
    with wave.open(str(wav), "rb") as audio:
        return SpeechRun(audio.getnframes() / audio.getframerate(), measured)


SPEECH_BASELINES = {"piper": "piper command", "shipped": "piper command, pool unheld"}


def speech_overhead(report: Report, work: Path) -> None:
    """Phase 4 against Piper's own command on the same lines, voice, pace, threads and cores.

    The voice load and interpreter start are taken out by difference: each
    side also speaks one short line, and throughput is (audio of the long text
    minus audio of the short) over (wall of the long minus wall of the short).
    Both sides run pinned to as many cores as they have threads.
    """
    sizes = report.sizes
    work.mkdir(parents=True, exist_ok=True)
    long_text = work / "speech-long.txt"
    short_text = work / "speech-short.txt"
    long_text.write_text("\n".join(pack_lines(prose(sizes.speech_words, seed=1))) + "\n", encoding="utf-8")
    short_text.write_text("Hello there.\n", encoding="utf-8")
    sides = ["ours", "piper", *(["shipped"] if sizes.shipped_piper else [])]
    details: dict[str, Any] = {}
    for threads in sizes.speech_threads:
        cpus = set(range(threads))
        runs: dict[str, list[SpeechRun]] = {f"{side}-{length}": [] for side in sides for length in ("long", "short")}
        for rep in range(sizes.reps):
            for length, text in (("long", long_text), ("short", short_text)):
                for side in sides[rep % len(sides) :] + sides[: rep % len(sides)]:  # rotate who goes first
                    if side == "ours":
                        run = speak_ours(text, work / f"ours-{threads}t", threads, cpus)
                    else:
                        held = threads if side == "piper" else None
                        run = speak_piper(text, work / f"{side}-{threads}t.wav", cpus, held)
                    runs[f"{side}-{length}"].append(run)
        log.info("1a: %d thread(s) done", threads)

        def steady(side: str, by: str) -> float:
            """Audio seconds per second (wall or CPU) without start-up, median over the repeats."""
            values = []
            for long, short in zip(runs[f"{side}-long"], runs[f"{side}-short"]):
                spent = getattr(long.measured, by) - getattr(short.measured, by)
                values.append((long.audio_s - short.audio_s) / spent if spent > 0 else math.nan)
            return median(values)

        label = f"{threads} thread{'s' if threads > 1 else ''}"
        ours_wall = steady("ours", "wall_s")
        for side in sides[1:]:
            base = steady(side, "wall_s")
            goal = side == "piper"
            report.add(Row(
                "1a", f"phase 4 speech throughput, {label}, voice load excluded" if goal else "  same, against "
                "Piper's command as shipped (its pool escapes the pinning)", ours_wall, "audio s/s", base,
                SPEECH_BASELINES[side], ratio(ours_wall, base), "≥ 0.95" if goal else "",
                (ours_wall / base >= 0.95) if goal else None,
            ))  # fmt: skip
        ours_cpu, piper_cpu = steady("ours", "cpu_s"), steady("piper", "cpu_s")
        report.add(Row(
            "1a", f"  same, per CPU second (steadier under load), {label}", ours_cpu, "audio s/CPU s",
            piper_cpu, "piper command", ratio(ours_cpu, piper_cpu),
        ))  # fmt: skip
        whole = {side: median([r.audio_s / r.measured.wall_s for r in runs[f"{side}-long"]]) for side in sides}
        report.add(Row(
            "1a", f"  same, whole process with start-up, {label}", whole["ours"], "audio s/s",
            whole["piper"], "piper command", ratio(whole["ours"], whole["piper"]),
        ))  # fmt: skip
        start = {side: median([r.measured.wall_s for r in runs[f"{side}-short"]]) for side in sides}
        report.add(Row(
            "1a", f"  start-up: interpreter, voice load, one short line, {label}", start["ours"], "s",
            start["piper"], "piper command", ratio(start["ours"], start["piper"]),
        ))  # fmt: skip
        audio = {side: median([r.audio_s for r in runs[f"{side}-long"]]) for side in sides}
        details[f"{threads}_threads"] = {
            "audio_seconds": audio,
            "runs": {key: [{"audio_s": r.audio_s, **asdict(r.measured)} for r in value] for key, value in runs.items()},
        }
        if abs(audio["ours"] - audio["piper"]) > 0.03 * audio["piper"]:
            log.warning("1a: the two sides made different amounts of audio: %s", audio)
    report.details["speech"] = details


# ---- 1b: phases 1-3 against raw pypdfium2 -------------------------------------


def default_pdf() -> Path | None:
    corpus = Path(os.environ.get("AUDIOBOOK_CORPUS", REPO.parent / "shared" / "corpus"))
    path = corpus / "pg_robin_hood_xelatex.pdf"
    return path if path.is_file() else None


def raw_page_text(pdf: Path) -> int:
    """The baseline: pypdfium2's page text, page by page, nothing else; returns the page count."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        return len(document)
    finally:
        document.close()


def phases_1_to_3(pdf: Path, work: Path) -> dict[str, float]:
    """Validate, extract and chunk one PDF in this process; seconds per phase."""
    from .chunk import chunk_book
    from .extract import extract
    from .model import PhaseContext
    from .settings import EngineSettings
    from .validate import validate

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    settings = EngineSettings()
    ctx = PhaseContext(source=pdf, work_dir=work, threads=1, log=phase_log)
    times = {"start": time.perf_counter()}
    facts = validate(ctx, settings)
    times["validate"] = time.perf_counter()
    book = extract(ctx, facts, settings)
    times["extract"] = time.perf_counter()
    chunk_book(ctx, book, settings)
    times["chunk"] = time.perf_counter()
    return {
        "pages": float(facts.pages or 0),
        "validate": times["validate"] - times["start"],
        "extract": times["extract"] - times["validate"],
        "chunk": times["chunk"] - times["extract"],
        "total": times["chunk"] - times["start"],
    }


def extraction_overhead(report: Report, work: Path, pdf: Path) -> None:
    warm = make_book(work / "warm.pdf", 50, seed=9)
    phases_1_to_3(warm, work / "warm")  # imports, untimed
    raw_page_text(pdf)  # the file into the page cache
    ours: list[dict[str, float]] = []
    raw: list[float] = []
    for rep in range(report.sizes.reps):
        for side in ("ours", "raw") if rep % 2 == 0 else ("raw", "ours"):
            if side == "ours":
                ours.append(phases_1_to_3(pdf, work / "ours"))
            else:
                started = time.perf_counter()
                raw_page_text(pdf)
                raw.append(time.perf_counter() - started)
    pages = ours[0]["pages"]
    ours_rate = pages / median([run["total"] for run in ours])
    raw_rate = pages / median(raw)
    split = {name: round(median([run[name] for run in ours]), 4) for name in ("validate", "extract", "chunk")}
    report.add(Row(
        "1b", f"phases 1-3, {pdf.name} ({pages:.0f} pages)", ours_rate, "pages/s", raw_rate,
        "raw pypdfium2 page text", ratio(ours_rate, raw_rate),
        note="s per phase: " + ", ".join(f"{name} {value:.2f}" for name, value in split.items()),
    ))  # fmt: skip
    report.details["extraction"] = {"pdf": str(pdf), "pages": pages, "ours_s": ours, "raw_s": raw, "phase_s": split}


def make_scan(pdf: Path, folder: Path) -> tuple[Path, list[Path]]:
    """A picture-only copy of ``pdf`` (each page rendered at OCR's resolution, greyscale), and the same
    page images as PNG files for the baseline."""
    import pypdfium2 as pdfium

    from .pdf.ocr import DPI

    folder.mkdir(parents=True, exist_ok=True)
    document = pdfium.PdfDocument(pdf)
    try:
        images = [document[i].render(scale=DPI / 72, grayscale=True).to_pil().convert("L") for i in range(len(document))]
    finally:
        document.close()
    scan = folder / "scan.pdf"
    images[0].save(scan, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    files = []
    for number, image in enumerate(images):
        files.append(folder / f"page-{number:04d}.png")
        image.save(files[-1])
    return scan, files


def ocr_throughput(report: Report, work: Path) -> None:
    """OCR pages per second: the engine (render, Tesseract with hOCR, pictures, drop caps) on a scan, against
    the `tesseract` command on the same page images, as many at once as cores, in ABBA order."""
    import pypdfium2 as pdfium

    from .pdf.ocr import DPI, read_pages

    if shutil.which("tesseract") is None:
        report.add(Row("6", "OCR throughput", None, "pages/s", note="Tesseract is not installed"))
        return
    book = make_book(work / "book.pdf", report.sizes.ocr_words, seed=11)
    scan, images = make_scan(book, work / "scan")
    listing = work / "images.txt"
    listing.write_text("".join(f"{image}\n" for image in images))
    ours: list[float] = []
    theirs: list[float] = []
    for rep in range(report.sizes.reps):
        for side in ("ours", "tesseract") if rep % 2 == 0 else ("tesseract", "ours"):
            if side == "ours":
                shutil.rmtree(work / "cache", ignore_errors=True)
                document = pdfium.PdfDocument(scan)
                started = time.perf_counter()
                read_pages(document, list(range(len(document))), work / "cache", ["eng"], threads=CORES)
                ours.append(time.perf_counter() - started)
                document.close()
            else:
                command = ["xargs", "-a", str(listing), "-P", str(CORES), "-I", "IMG", "tesseract", "IMG", "IMG", "--dpi", str(DPI), "-l", "eng", "hocr"]
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
                theirs.append(time.perf_counter() - started)
    ours_rate, their_rate = len(images) / median(ours), len(images) / median(theirs)
    report.add(Row(
        "6", f"OCR, {len(images)} scanned pages, {CORES} at once", ours_rate, "pages/s", their_rate,
        "`tesseract` on the same page images", ratio(ours_rate, their_rate), "≥ 0.9", ratio(ours_rate, their_rate) >= 0.9,
    ))  # fmt: skip
    report.details["ocr"] = {"pages": len(images), "ours_s": ours, "tesseract_s": theirs}


# ---- 2: the mixed batch -------------------------------------------------------


def batch_efficiency(report: Report, work: Path, workflow: Workflow) -> list[dict[str, Any]]:
    """A mixed batch (phases 1-5) by the workflow and by ``xargs -P 2``; returns the workflow's records."""
    sizes = report.sizes
    library = work / "books"
    books = [
        make_book(library / f"batch-{n:02d}.{'pdf' if n % 2 else 'epub'}", words, seed=100 + n)
        for n, words in enumerate(sizes.batch_words)
    ]
    phases = [1, 2, 3, 4, 5]
    # ABBA...: a drift in the machine's load falls on both sides alike.
    order = [side for rep in range(sizes.batch_reps) for side in (("workflow", "xargs"), ("xargs", "workflow"))[rep % 2]]
    results: dict[str, list[dict[str, Any]]] = {"workflow": [], "xargs": []}
    workflow_records: list[dict[str, Any]] = []
    for number, side in enumerate(order):
        folder = work / f"{side}-{number}"
        make_links(books, folder / "in")
        launched = time.time()
        if side == "workflow":
            measured = run_workflow(workflow, folder, phases)
        else:
            measured = run_xargs(sorted((folder / "in").iterdir()), folder / "results", phases, folder / "xargs.out")
        records = load_records(folder / "results", books)
        waits = _count_lines(folder / "batch.log", "waiting for the CPU")  # xargs has no throttle and no batch.log: 0
        book_cpu = sum(record["cpu_seconds"] for record in records)
        by_start = sorted(records, key=lambda record: record["started_at"])
        results[side].append({
            **asdict(measured), "book_cpu_s": book_cpu, "throttle_waits": waits,
            # Where the wall time goes besides the books: before the first starts, after the last ends.
            "to_first_book_s": by_start[0]["started_at"] - launched,
            "after_last_book_s": launched + measured.wall_s - max(record["finished_at"] for record in records),
            "start_order": [record["file_id"] for record in by_start],
            "efficiency": book_cpu / (CORES * measured.wall_s),
            "efficiency_of_free_cpu": book_cpu / free_capacity(measured),
            "book_cpu": {record["file_id"]: record["cpu_seconds"] for record in records},
            "book_audio_s": {record["file_id"]: audio_seconds(record) for record in records},
            "book_peak_rss_mb": {record["file_id"]: record.get("peak_rss_mb") for record in records},
        })  # fmt: skip
        log.info("2: %s run %d: %.1f s wall, %.1f book CPU s", side, number, measured.wall_s, book_cpu)
        workflow_records = records if side == "workflow" else workflow_records
    efficiency = median([run["efficiency"] for run in results["workflow"]])
    baseline_efficiency = median([run["efficiency"] for run in results["xargs"]])
    book_cpu = median([run["book_cpu_s"] for run in results["workflow"]])
    longest = max(results["workflow"][0]["book_cpu"].values())
    ceiling = book_cpu / (CORES * max(book_cpu / CORES, longest))
    total_audio = sum(audio_seconds(record) for record in workflow_records)
    report.add(Row(
        "2", f"batch efficiency, {len(books)} books ({total_audio / 60:.1f} min of audio), phases 1-5, --cores 2",
        efficiency, "CPU/(2×wall)", baseline_efficiency, "xargs -P 2", ratio(efficiency, baseline_efficiency),
        "≥ 0.90 (ours)", efficiency >= 0.90,
        note=f"ceiling {ceiling:.2f} from the longest book; of the CPU others left free: "
        f"{median([run['efficiency_of_free_cpu'] for run in results['workflow']]):.2f} (xargs "
        f"{median([run['efficiency_of_free_cpu'] for run in results['xargs']]):.2f}); "
        f"{median([run['throttle_waits'] for run in results['workflow']]):.0f} throttle waits; before the first "
        f"book {median([run['to_first_book_s'] for run in results['workflow']]):.1f} s, after the last "
        f"{median([run['after_last_book_s'] for run in results['workflow']]):.1f} s (xargs "
        f"{median([run['to_first_book_s'] for run in results['xargs']]):.1f} s, "
        f"{median([run['after_last_book_s'] for run in results['xargs']]):.1f} s)",
    ))  # fmt: skip
    wall = median([run["wall_s"] for run in results["workflow"]])
    baseline_wall = median([run["wall_s"] for run in results["xargs"]])
    report.add(Row(
        "2", "  batch wall time", wall, "s", baseline_wall, "xargs -P 2", ratio(wall, baseline_wall), "≤ 1.05",
        wall / baseline_wall <= 1.05,
    ))  # fmt: skip
    report.details["batch"] = {"books": {b.name: w for b, w in zip(books, sizes.batch_words)}, "order": order,
                               "runs": results, "ceiling": ceiling}  # fmt: skip
    return workflow_records


def free_capacity(measured: Measured) -> float:
    """Core-seconds the batch could have used: its cores over its wall, less what others took of them."""
    spare_cores = max(0, (os.cpu_count() or CORES) - CORES)
    taken = max(0.0, measured.others_cpu_s - spare_cores * measured.wall_s)
    return max(1e-9, CORES * measured.wall_s - taken)


def make_links(books: Sequence[Path], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for book in books:
        target = folder / book.name
        if not target.exists():
            os.link(book, target)


def _count_lines(path: Path, word: str) -> int:
    try:
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if word in line)
    except OSError:
        return 0


# ---- 3: the workflow at scale ---------------------------------------------------


def throttle_cost(report: Report, work: Path, threshold: float) -> float:
    """Wall seconds the launch throttle adds to a job at ``threshold`` (its start and CPU sample), beyond a bare Python."""
    throttle = REPO / "scripts" / "throttle.py"
    if not throttle.is_file():
        return math.nan
    command = [sys.executable, str(throttle), "--book-id", "bench", "--cpu-threshold", str(threshold), "--", "true"]
    walls = [run_checked(command, work / "throttle.out").wall_s for _ in range(report.sizes.reps)]
    bare = [run_checked([sys.executable, "-c", "pass"], work / "throttle.out").wall_s for _ in range(report.sizes.reps)]
    return median(walls) - median(bare)


def shipped_threshold() -> float:
    """The launch throttle's cpu_threshold in the workflow's own config.yaml."""
    import yaml

    try:
        return float(yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))["cpu_threshold"])
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError):
        return 85.0


def workflow_scale(report: Report, work: Path, workflow: Workflow, record: dict[str, Any] | None = None) -> None:
    """The workflow against xargs on one-line books, the dry runs and the aggregate at scale.

    ``record`` is cloned for the aggregate; by default, one of this run's own.
    """
    sizes = report.sizes
    template = make_one_line_book(work / "one-line.epub")
    phases = [1, 2, 3]
    scaled = "" if sizes.trivial_books == ISSUE_SIZES["trivial_books"] else f" (issue: {ISSUE_SIZES['trivial_books']:,})"

    # The run: workflow against xargs on the same one-line books. The launch
    # throttle's waits answer the machine's load, other users' included, which
    # xargs cannot see; they are held off here and measured as a lever.
    books = make_trivial_books(work / "trivial" / "in", sizes.trivial_books, template)
    run = run_workflow(workflow, work / "trivial", phases, config=NO_THROTTLE_WAITS)
    own_record = load_records(work / "trivial" / "results", books[:1])[0]
    record = record if record is not None else own_record
    base = run_xargs(books, work / "trivial-xargs" / "results", phases, work / "trivial-xargs" / "xargs.out")
    load_records(work / "trivial-xargs" / "results", books[:1])
    throttle_s = {threshold: throttle_cost(report, work, threshold) for threshold in (100, shipped_threshold())}
    per_job = CORES * run.wall_s / len(books)  # the wall time each job held a core, on average
    per_book = [r["duration"] for r in (read_json(p) for p in (work / "trivial-xargs" / "results").glob("*/book.json"))]
    report.add(Row(
        "3", f"workflow run, {sizes.trivial_books:,} one-line books{scaled}, phases 1-3, cpu_threshold=100",
        run.wall_s, "s",
        base.wall_s, "xargs -P 2", ratio(run.wall_s, base.wall_s),
        note=f"per job {per_job:.2f} s of a core (orchestrator alone {median(per_book):.2f} s; "
        "the throttle's check " + " and ".join(f"{s:.2f} s at cpu_threshold {t:g}" for t, s in throttle_s.items())
        + f"); others took {others_share([run]):.0%} of the CPU "
        f"(xargs: {others_share([base]):.0%})",
    ))  # fmt: skip
    report.details["trivial"] = {"workflow": asdict(run), "xargs": asdict(base), "job_s": per_job,
                                 "orchestrator_s_median": median(per_book), "throttle_s": throttle_s}  # fmt: skip

    if sizes.lever_books:
        levers(report, work, workflow, template)

    dry_runs(report, work, workflow, template)
    aggregate_scale(report, work, record)


NO_THROTTLE_WAITS = ("cpu_threshold=100",)
XARGS = "xargs -P 2"
LEVER_ROUNDS = 2
LEVER_BASE = "profile as is (greedy), cpu_threshold=100"
LEVERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (extra command-line flags, --config entries)
    LEVER_BASE: ((), NO_THROTTLE_WAITS),
    "config as shipped: cpu_threshold=85": ((), ()),
    "--scheduler ilp": (("--scheduler", "ilp"), NO_THROTTLE_WAITS),
    "--groups audiobook=books --group-components books=25": (
        ("--groups", "audiobook=books", "--group-components", "books=25"), NO_THROTTLE_WAITS),
}  # fmt: skip


def levers(report: Report, work: Path, workflow: Workflow, template: Path) -> None:
    """Real runs of ``lever_books`` one-line books per lever, in rounds of alternating order, and xargs beside them.

    The lever runs are short and the machine's load shifts from minute to
    minute, so each lever runs once per round and the rounds run in opposite
    orders; the table gives medians and the share of the CPU others took.
    """
    count = report.sizes.lever_books
    books = make_trivial_books(work / "lever-books", count, template)
    names = [XARGS, *LEVERS]
    runs: dict[str, list[Measured]] = {name: [] for name in names}
    waits: dict[str, list[int]] = {name: [] for name in names}
    for round_number in range(LEVER_ROUNDS):
        for name in names if round_number % 2 == 0 else names[::-1]:
            folder = work / f"lever-{round_number}-{names.index(name)}"
            if name == XARGS:
                runs[name].append(run_xargs(books, folder / "results", [1, 2, 3], folder / "xargs.out"))
                continue
            make_links(books, folder / "in")
            flags, config = LEVERS[name]
            runs[name].append(run_workflow(workflow, folder, [1, 2, 3], *flags, config=config))
            waits[name].append(_count_lines(folder / "batch.log", "waiting for the CPU"))
            log.info("3: lever %s: %.1f s", name, runs[name][-1].wall_s)
    wall = {name: median([m.wall_s for m in measured]) for name, measured in runs.items()}
    for name in LEVERS:
        report.add(Row(
            "3", f"  lever, {count} one-line books: {name}", wall[name], "s", wall[LEVER_BASE],
            LEVER_BASE.split(",")[0], ratio(wall[name], wall[LEVER_BASE]),
            note=f"{wall[name] / wall[XARGS]:.2f}× xargs -P 2 ({wall[XARGS]:.1f} s); "
            f"{median(waits[name]):.0f} throttle waits; others took {others_share(runs[name]):.0%} of the CPU",
        ))  # fmt: skip
    report.details["levers"] = {
        "books": count, "rounds": LEVER_ROUNDS, "throttle_waits": waits,
        "runs": {name: [asdict(m) for m in measured] for name, measured in runs.items()},
    }  # fmt: skip


def others_share(runs: Sequence[Measured]) -> float:
    """The median share of the machine's CPU that other users took during ``runs``."""
    cores = os.cpu_count() or 1
    return median([m.others_cpu_s / (cores * m.wall_s) for m in runs])


def dry_runs(report: Report, work: Path, workflow: Workflow, template: Path) -> None:
    """Dry runs at one book (the fixed start-up), the small size and the large size; then the levers that apply."""
    sizes = report.sizes
    counts = (1, sizes.dry_small, sizes.dry_large)
    measured: dict[int, list[Measured]] = {count: [] for count in counts}
    for count in counts:
        make_trivial_books(work / f"dry-{count}" / "in", count, template)
    for _ in range(max(2, sizes.reps - 2)):
        for count in counts:
            command = workflow.command(work / f"dry-{count}", [1, 2, 3], "-n")
            measured[count].append(run_checked(command, work / f"dry-{count}" / "snakemake.out"))
    wall = {count: median([m.wall_s for m in runs]) for count, runs in measured.items()}
    rss = {count: max(m.peak_rss_mb for m in runs) for count, runs in measured.items()}
    small, large = sizes.dry_small, sizes.dry_large
    exponent = math.log(wall[large] / wall[small]) / math.log(large / small)
    net = {count: max(1e-3, wall[count] - wall[1]) for count in (small, large)}
    net_exponent = math.log(net[large] / net[small]) / math.log(large / small)
    per_book_ms = 1000 * (wall[large] - wall[small]) / (large - small)
    target = ISSUE_SIZES["dry_large"]
    at_target = wall[large] if large == target else wall[1] + per_book_ms / 1000 * (target - 1)
    for count in (small, large):
        label = f"dry run (-n), {count:,} books" + ("" if count in (1000, 10000) else f" (issue: {1000 if count == small else 10000:,})")
        report.add(Row(
            "3", label, wall[count], "s", wall[1], "dry run of 1 book", ratio(wall[count], wall[1]),
            "≤ 15 s" if count == target else "", (wall[count] <= 15) if count == target else None,
        ))  # fmt: skip
    if large != target:
        report.add(Row("3", f"  dry run at {target:,} books, extrapolated", at_target, "s", goal="≤ 15 s",
                       met=at_target <= 15, note=f"{per_book_ms:.2f} ms per book"))  # fmt: skip
    report.add(Row(
        "3", f"  growth exponent {small:,} -> {large:,} books (1.0 = linear)", exponent, "", note=(
            f"{net_exponent:.2f} without the fixed start-up of {wall[1]:.1f} s; {per_book_ms:.2f} ms per book"),
        goal="≤ 1.1 (linear)", met=exponent <= 1.1,
    ))  # fmt: skip

    # Levers on the dry run: the io cache of a previous dry run, quiet output; and what discovery costs.
    folder = work / f"dry-{large}"
    trust = [*workflow.command(folder, [1, 2, 3], "-n", "--trust-io-cache")]
    run_checked(trust, folder / "snakemake.out")  # fills the cache
    trusted = median([run_checked(trust, folder / "snakemake.out").wall_s for _ in range(max(1, sizes.reps - 2))])
    quiet = median([
        run_checked(workflow.command(folder, [1, 2, 3], "-n", "--quiet"), folder / "snakemake.out").wall_s
        for _ in range(max(1, sizes.reps - 2))
    ])  # fmt: skip
    for name, value in (("--trust-io-cache (second dry run)", trusted), ("--quiet (no job listing)", quiet)):
        report.add(Row("3", f"  lever, dry run {large:,} books: {name}", value, "s", wall[large], "plain -n",
                       ratio(value, wall[large])))  # fmt: skip
    discovery = median([_time_discovery(folder / "in") for _ in range(3)])
    report.add(Row("3", f"  book discovery, {large:,} books (in the dry run)", discovery, "s", wall[large],
                   "whole dry run", ratio(discovery, wall[large])))  # fmt: skip

    report.add(Row(
        "4", f"Snakemake peak RSS, dry run of {large:,} books", rss[large], "MB", rss[small], f"{small:,} books",
        ratio(rss[large], rss[small]),
        note=f"{1024 * (rss[large] - rss[small]) / (large - small):.1f} KB per book; 1 book: {rss[1]:.0f} MB",
    ))  # fmt: skip
    report.details["dry_run"] = {
        "wall_s": wall, "peak_rss_mb": rss, "exponent": exponent, "exponent_without_startup": net_exponent,
        "per_book_ms": per_book_ms, "trust_io_cache_s": trusted, "quiet_s": quiet, "discovery_s": discovery,
        "runs": {count: [asdict(m) for m in runs] for count, runs in measured.items()},
    }  # fmt: skip


def _time_discovery(folder: Path) -> float:
    from .discover import discover

    started = time.perf_counter()
    discover(folder)
    return time.perf_counter() - started


def clone_records(record: dict[str, Any], results_dir: Path, count: int) -> list[list[str]]:
    """``count`` valid records: copies of one real record under new ids (test data for the aggregator)."""
    from .aggregate import start_batch

    ids = [f"clone-{number:05d}-epub" for number in range(count)]
    start_batch(str(results_dir), str(results_dir.parent / "batch.log"), ids, [])
    finished = time.time()
    books = []
    for ident in ids:
        name = ident.removesuffix("-epub") + ".epub"
        source = str(results_dir.parent / "in" / name)
        copy = {**record, "file_id": ident, "file_name": name, "source": source, "finished_at": finished}
        path = results_dir / ident / "book.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(copy), encoding="utf-8")
        books.append([ident, name, source])
    return books


def aggregate_scale(report: Report, work: Path, record: dict[str, Any]) -> None:
    count = report.sizes.aggregate_records
    folder = work / "aggregate"
    books = clone_records(record, folder / "results", count)
    books_file = folder / "books.json"
    write_json(books_file, books)
    result = folder / "result.json"
    run_checked(worker_command("read_records", results_dir=folder / "results", books_file=books_file, result=result),
                folder / "read.out")  # fmt: skip
    read_s = read_json(result)["read_s"]
    runs = []
    for _ in range(max(1, report.sizes.reps - 2)):
        command = worker_command("aggregate", results_dir=folder / "results", books_file=books_file, result=result)
        measured = run_checked(command, folder / "aggregate.out")
        runs.append({**read_json(result), "process_s": measured.wall_s, "peak_rss_mb": measured.peak_rss_mb})
    pipeline = read_json(folder / "pipeline.json")
    if pipeline["batch"]["summary"]["successful_files"] != count:
        raise BenchError(f"the aggregate counted {pipeline['batch']['summary']['successful_files']} of {count} books")
    process_s = median([run["process_s"] for run in runs])
    scaled = "" if count == ISSUE_SIZES["aggregate_records"] else f" (issue: {ISSUE_SIZES['aggregate_records']:,})"
    report.add(Row(
        "3", f"aggregate step, {count:,} records{scaled}", process_s, "s", read_s, "reading the records",
        ratio(process_s, read_s), "≤ 5 s" if not scaled else "", (process_s <= 5) if not scaled else None,
        note=f"aggregate() itself {median([run['aggregate_s'] for run in runs]):.2f} s, the rest is start-up",
    ))  # fmt: skip
    report.details["aggregate"] = {"records": count, "read_s": read_s, "runs": runs}


# ---- 24: the dashboard at 10,000 books ----------------------------------------

DASHBOARD_REFRESH_S = 2.0  # the page's default refresh
DASHBOARD_BASELINE_BOOKS = 100


def dashboard_folder(folder: Path, finished: int, running: int) -> tuple[Path, list[Path]]:
    """A batch folder as the dashboard sees it mid-run: records kept from an earlier run, books speaking.

    The run is this process (alive for as long as the measurement lasts); its
    start is in the history with the kept books, and batch.log has the
    [START] lines of the running ones, as a real run leaves them.
    """
    import socket

    from . import history
    from .aggregate import RUN_MARKER, append_log, stamp

    results = folder / "results"
    metrics = {"title": "A Book Kept From Before", "author": "Some Author", "chapters": 12, "cover": False}
    kept = [f"done-{number:05d}-epub" for number in range(finished)]
    for ident in kept:
        record = {"file_id": ident, "file_name": f"{ident}.epub", "status": "success", "finished_at": 1.0,
                  "duration": 60.0, "phases": {"2": {"status": "success", "metrics": metrics}}, "outputs": []}
        write_json(results / ident / "book.json", record)
    speaking = [f"speaking-{number}-pdf" for number in range(running)]
    progress_files = []
    now = time.time()
    for ident in speaking:
        work = results / ident / "work"
        write_json(work / "progress.json", {"phase": 4, "name": "speak", "state": "running", "time": now})
        write_json(work / "speak_progress.json", {"done": 0, "total": 1000})
        (results / "logs").mkdir(parents=True, exist_ok=True)
        (results / "logs" / f"{ident}.log").write_text(f"[{stamp(now)}] [START] {ident}\n", encoding="utf-8")
        progress_files.append(work / "speak_progress.json")
    marker = {"started_at": now - 1, "books": finished + running, "pid": os.getpid(), "host": socket.gethostname()}
    write_json(results / RUN_MARKER, marker)
    history.start_run(results, history.RunKey.from_marker(marker), kept + speaking, "bench", "bench", kept)
    append_log(folder / "batch.log", [f"[{stamp(now)}] [START] {ident}" for ident in speaking])
    return results, progress_files


@dataclass
class DashboardRun:
    first_s: float  # the first request: every book read once
    request_s: float  # median of the page's requests after it
    cpu_per_min_s: float  # the server's CPU seconds (all its threads) per minute of the page refreshing
    books_sent: int  # book views sent after the first request, in all


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds each live thread of a process has run, to the nanosecond (Linux: /proc/PID/task/*/schedstat).

    psutil's user and system times count whole clock ticks (10 ms), too coarse
    for requests of a few milliseconds. Per thread, so a worker thread that
    ends in between takes only its own time out of the sum, not the others'.
    """
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            seconds[task.name] = int((task / "schedstat").read_text(encoding="ascii").split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            continue  # the thread ended while being read
    return seconds


def cpu_since(pid: int, before: dict[str, float]) -> float:
    """CPU seconds the threads of ``pid`` ran since ``before`` (a thread_cpu_s of it)."""
    return sum(now - before.get(tid, 0.0) for tid, now in thread_cpu_s(pid).items())


def watch_dashboard(folder: Path, results: Path, progress_files: list[Path], window_s: float) -> DashboardRun:
    """``batch-audiobook serve`` on the folder, asked as the page asks, while the running books move on."""
    import urllib.request

    (folder / "serve.yaml").write_text(f"log_file: {json.dumps(str(folder / 'batch.log'))}\n", encoding="utf-8")
    server = subprocess.Popen(
        [str(BIN / "batch-audiobook"), "serve", "--config", "serve.yaml", "--results-dir", str(results),
         "--pipeline-json", str(folder / "pipeline.json"), "--port", "0"],
        cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline() if server.stdout else ""
        if "http://" not in line:
            raise BenchError(f"batch-audiobook serve did not start: {line.strip()!r}")
        url = "http://" + line.split("http://", 1)[1].split()[0].rstrip("/")

        def ask(query: str) -> tuple[float, dict[str, Any]]:
            began = time.perf_counter()
            with urllib.request.urlopen(f"{url}/api/state{query}", timeout=120) as response:
                data = json.load(response)
            return time.perf_counter() - began, data

        first_s, data = ask("?page=1")
        cpu_before = thread_cpu_s(server.pid)
        began = time.monotonic()
        times, sent, done = [], 0, 0
        while time.monotonic() - began < window_s:
            done += 1
            for path in progress_files:  # the books speak on: one more chunk between two looks
                write_json(path, {"done": done, "total": 1000})
            took, data = ask(f"?page=1&since={data['version']}")
            times.append(took)
            sent += len(data["books"] or []) + len(data["running"])
            time.sleep(max(0.0, DASHBOARD_REFRESH_S - took))
        cpu = cpu_since(server.pid, cpu_before)
        elapsed = time.monotonic() - began
        if len(data["running"]) != len(progress_files):
            raise BenchError(f"the dashboard showed {len(data['running'])} running books, not {len(progress_files)}")
        return DashboardRun(first_s, median(times), 60.0 * cpu / elapsed, sent)
    finally:
        server.terminate()
        server.wait(timeout=30)


def dashboard_scale(report: Report, work: Path) -> None:
    """The dashboard's state request and its server's CPU with 10,000 finished books, beside 100 (goal: ≤ 3×)."""
    sizes = report.sizes
    runs = {}
    for books in (DASHBOARD_BASELINE_BOOKS, sizes.dashboard_books):
        folder = work / f"dashboard-{books}"
        results, progress = dashboard_folder(folder, books, running=2)
        runs[books] = watch_dashboard(folder, results, progress, sizes.dashboard_window_s)
    big, small = runs[sizes.dashboard_books], runs[DASHBOARD_BASELINE_BOOKS]
    label = f"{sizes.dashboard_books:,} finished + 2 running"
    baseline = f"{DASHBOARD_BASELINE_BOOKS} books"
    request_ratio = ratio(big.request_s, small.request_s)
    report.add(Row(
        "24", f"dashboard state request, {label}", 1000 * big.request_s, "ms", 1000 * small.request_s, baseline,
        request_ratio, "≤ 3×", request_ratio is not None and request_ratio <= 3,
        note=f"first request (every book read once) {big.first_s:.2f} s, at {DASHBOARD_BASELINE_BOOKS}: "
        f"{small.first_s:.3f} s",
    ))  # fmt: skip
    cpu_ratio = ratio(big.cpu_per_min_s, small.cpu_per_min_s)
    report.add(Row(
        "24", f"  dashboard server CPU per minute, page refreshing every {DASHBOARD_REFRESH_S:g} s", big.cpu_per_min_s,
        "s", small.cpu_per_min_s, baseline, cpu_ratio, "≤ 3×", cpu_ratio is not None and cpu_ratio <= 3,
        note=f"book rows sent after the first request: {big.books_sent} (at {DASHBOARD_BASELINE_BOOKS}: "
        f"{small.books_sent})",
    ))  # fmt: skip
    report.details["dashboard"] = {str(books): asdict(run) for books, run in runs.items()}


# ---- 4 and 5: one book, whole ------------------------------------------------


def engine_per_book(report: Report, work: Path, piper_audio_per_cpu: float | None, piper_rss: float | None) -> None:
    """One book through phases 1-5 on one thread and on two: speed per CPU second, and memory."""
    book = make_book(work / "engine" / "engine-book.epub", report.sizes.engine_words, seed=7)
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    for rep in range(max(1, report.sizes.reps - 3)):
        for threads in (1, 2) if rep % 2 == 0 else (2, 1):
            out = work / "engine" / f"{threads}t-{rep}"
            command = [
                tool("audiobook-orchestrator"), book, f"--pipeline-json={out / 'book.json'}", f"--output-dir={out}",
                "--threads", str(threads), "--phases", "1", "2", "3", "4", "5",
            ]  # fmt: skip
            measured = run_checked(command, out.parent / f"{threads}t.log")
            record = read_json(out / "book.json")
            runs[threads].append({
                **asdict(measured), "audio_s": audio_seconds(record), "record_cpu_s": record["cpu_seconds"],
                "record_peak_rss_mb": record["peak_rss_mb"],
            })  # fmt: skip
    speed = {t: median([r["audio_s"] / r["record_cpu_s"] for r in runs[t]]) for t in runs}
    wall = {t: median([r["wall_s"] for r in runs[t]]) for t in runs}
    audio = runs[1][0]["audio_s"]
    for threads in (1, 2):
        report.add(Row(
            "5", f"whole engine, one book ({audio:.0f} s of audio), {threads} thread{'s' if threads > 1 else ''}",
            speed[threads],
            "audio s/CPU s", piper_audio_per_cpu, "piper command, 1 thread", ratio(speed[threads], piper_audio_per_cpu),
            note=f"real-time factor {1 / speed[threads]:.3f} CPU s per audio s; wall {wall[threads]:.1f} s",
        ))  # fmt: skip
    report.add(Row("5", "  2 threads over 1: wall-time speed-up", wall[1] / wall[2], "×", note="2.00 is perfect"))
    peak = max(r["peak_rss_mb"] for rs in runs.values() for r in rs)
    record_peak = max(r["record_peak_rss_mb"] for rs in runs.values() for r in rs)
    report.add(Row(
        "4", "peak RSS of one book job (phases 1-5)", peak, "MB", piper_rss, "piper command, same voice",
        ratio(peak, piper_rss), "≤ 600 MB", peak <= 600, note=f"the record says {record_peak:.0f} MB",
    ))  # fmt: skip
    report.details["engine"] = {"book_words": report.sizes.engine_words, "runs": runs}


# ---- the whole run ----------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("snakemake", "piper-tts", "onnxruntime", "pypdfium2"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": os.cpu_count(), "cpu_model": model, "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }  # fmt: skip


def _own_cpu_s() -> float:
    """CPU seconds of this process and of every child it has waited for."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                   resource.getrusage(resource.RUSAGE_CHILDREN)))  # fmt: skip


def readalong_share(report: Report, records: list[dict[str, Any]]) -> None:
    """Issue 12: what subtitles and the read-along EPUB add to phase 5, from the batch's own records."""
    extras = sum(float(r["phases"]["5"]["metrics"].get("readalong_seconds") or 0.0) for r in records)
    phase5 = sum(float(r["phases"]["5"].get("duration") or 0.0) for r in records)
    share = 100 * extras / (phase5 - extras) if phase5 > extras else None
    report.add(Row(
        "12", f"subtitles + read-along EPUB, added to phase 5 ({len(records)} books)", share, "%",
        goal="≤ 5 %", met=share is not None and share <= 5,
        note=f"{extras:.2f} s of {phase5:.1f} s",
    ))  # fmt: skip


def run_benchmarks(
    sizes: Sizes, work: Path, workflow: Workflow, pdf: Path | None = None, only: str = "all"
) -> Report:
    """Every measurement of issue 8 at ``sizes``, in ``work``; the report holds rows and raw details.

    ``only="scale"`` runs the batch-at-scale part alone (workflow against
    xargs, dry runs, aggregate): the fixed costs per book, in minutes.
    """
    report = Report(sizes)
    started = time.perf_counter()
    busy_before, ours_before = machine_busy_s(), _own_cpu_s()
    if only == "scale":
        workflow_scale(report, work / "scale", workflow)
        return _finish(report, started, busy_before, ours_before)
    if only == "dashboard":
        dashboard_scale(report, work / "dashboard")
        return _finish(report, started, busy_before, ours_before)
    if only == "ocr":
        ocr_throughput(report, work / "ocr")
        return _finish(report, started, busy_before, ours_before)
    speech_overhead(report, work / "speech")
    if pdf is None:
        pdf = default_pdf() or make_book(work / "extract" / "built.pdf", 12000, seed=3)
    extraction_overhead(report, work / "extract", pdf)
    ocr_throughput(report, work / "ocr")
    records = batch_efficiency(report, work / "batch", workflow)
    workflow_scale(report, work / "scale", workflow, records[0])
    readalong_share(report, records)
    piper_runs = report.details["speech"]["1_threads"]["runs"]["piper-long"]
    piper_audio_per_cpu = median([run["audio_s"] / run["cpu_s"] for run in piper_runs])
    piper_rss = max(run["peak_rss_mb"] for run in piper_runs)
    engine_per_book(report, work, piper_audio_per_cpu, piper_rss)
    batch = report.details["batch"]["runs"]["workflow"][0]
    speeds = [batch["book_audio_s"][b] / batch["book_cpu"][b] for b in batch["book_cpu"]]
    report.add(Row("5", "  books of the mixed batch, 1 thread: slowest .. fastest", min(speeds), "audio s/CPU s",
                   note=f"fastest {max(speeds):.2f} (fixed start-up weighs on short books)"))  # fmt: skip
    report.add(Row("4", "  peak RSS of the mixed batch's book jobs (records)", max(batch["book_peak_rss_mb"].values()),
                   "MB", goal="≤ 600 MB", met=max(batch["book_peak_rss_mb"].values()) <= 600))  # fmt: skip
    dashboard_scale(report, work / "dashboard")
    return _finish(report, started, busy_before, ours_before)


def _finish(report: Report, started: float, busy_before: float, ours_before: float) -> Report:
    report.details["duration_s"] = duration = time.perf_counter() - started
    others = machine_busy_s() - busy_before - (_own_cpu_s() - ours_before)
    # The share of the machine other users took while this ran: the noise behind every number.
    report.details["others_cpu_share"] = max(0.0, others) / ((os.cpu_count() or 1) * duration)
    report.details["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return report


# ---- output -------------------------------------------------------------------------


def _cell(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return f"{text} {unit}".strip()


def format_table(report: Report) -> str:
    header = ("#", "measure", "ours", "baseline", "ratio", "goal", "met")
    rows = sorted(report.rows, key=lambda row: row.item)  # stable: an item's rows keep their order
    lines = []
    for row in rows:
        baseline = f"{_cell(row.baseline)} ({row.baseline_name})" if row.baseline is not None else ""
        met = "" if row.met is None else "yes" if row.met else "NO"
        lines.append((row.item, row.measure, _cell(row.ours, row.unit), baseline, _cell(row.ratio), row.goal, met))
    widths = [max(len(str(line[i])) for line in [header, *lines]) for i in range(len(header))]
    rule = "  ".join("-" * width for width in widths)
    out = ["  ".join(str(cell).ljust(width) for cell, width in zip(header, widths)).rstrip(), rule]
    for row, line in zip(rows, lines):
        out.append("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
        if row.note:
            out.append(" " * (widths[0] + 2) + f"  ({row.note})")
    return "\n".join(out) + "\n"


def report_json(report: Report, command: str, machine_facts: dict[str, Any]) -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "command": command, "mode": report.sizes.mode,
        "machine": machine_facts, "sizes": report.sizes.describe(), "rows": [asdict(row) for row in report.rows],
        "details": report.details,
    }  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m audiobook.bench",
        description="Measure the batch against its limits and print a table of ratios, each against a "
        "baseline measured in the same run: phase 4 vs Piper's own command, phases 1-3 vs raw pypdfium2, "
        "the workflow vs xargs -P 2 (efficiency, overhead at scale, dry run, aggregate), memory, and "
        "real-time factor on one and two threads.",
        epilog="Quick mode scales the sizes down (the table says where) and takes under 5 minutes on 2 idle "
        "cores; full mode uses the sizes of issues 8 and 14 and takes about 20 minutes.",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small sizes, under 5 minutes (the default)")
    mode.add_argument("--full", action="store_true", help="the issue's sizes: 1,000 and 10,000 books")
    parser.add_argument("--only", choices=["all", "scale", "dashboard", "ocr"], default="all",
                        help="'scale': only the batch at scale (workflow vs xargs, dry runs, aggregate); "
                        "'dashboard': only the dashboard at 10,000 books against 100; 'ocr': only OCR")
    parser.add_argument("--books", type=int, metavar="N", help="one-line books in the workflow-vs-xargs run")
    parser.add_argument("--dry-books", type=int, metavar="N", help="books in the largest dry run")
    parser.add_argument("--aggregate-records", type=int, metavar="N", help="records the aggregate step merges")
    parser.add_argument("--out", type=Path, metavar="FILE.json", help="also write every number and raw run as JSON")
    parser.add_argument("--snakefile", type=Path, default=REPO / "Snakefile", help="the workflow (default: this repo's)")
    parser.add_argument("--pdf", type=Path, help="PDF for phases 1-3 (default: the corpus's Robin Hood, else a built one)")
    parser.add_argument("--work-dir", type=Path, help="keep the books and runs here (default: a temporary folder, removed)")
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "JSON"), help=argparse.SUPPRESS)  # internal
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.worker:
        kind, arguments = args.worker
        WORKERS[kind](**json.loads(arguments))
        return 0
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(message)s", datefmt="%H:%M:%S", stream=sys.stderr)
    sizes = FULL if args.full else QUICK
    overrides = {"trivial_books": args.books, "dry_large": args.dry_books, "aggregate_records": args.aggregate_records}
    chosen = {name: value for name, value in overrides.items() if value is not None}
    if any(value < 1 for value in chosen.values()):
        sys.stderr.write("bench: --books, --dry-books and --aggregate-records take a count of at least 1\n")
        return 2
    if chosen.get("dry_large", sizes.dry_small + 1) <= sizes.dry_small:
        sys.stderr.write(f"bench: --dry-books must be more than {sizes.dry_small} (the smaller dry run it is compared with)\n")
        return 2
    if chosen:
        sizes = replace(sizes, mode=f"{sizes.mode} ({', '.join(f'{k}={v}' for k, v in chosen.items())})", **chosen)
    if not args.snakefile.is_file():
        sys.stderr.write(f"bench: no workflow at {args.snakefile}; pass --snakefile\n")
        return 2
    try:
        import fpdf  # noqa: F401 - bookmaker builds the PDF books with it
    except ImportError:
        sys.stderr.write("bench: the benchmark builds PDF books with fpdf2, a test tool: run scripts/setup.sh --test\n")
        return 2
    command = "python -m audiobook.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    facts = machine()
    work = args.work_dir or Path(tempfile_dir())
    work.mkdir(parents=True, exist_ok=True)
    log.info("%s mode in %s", sizes.mode, work)
    try:
        report = run_benchmarks(sizes, work, Workflow(args.snakefile.resolve()), args.pdf, args.only)
    except BenchError as error:
        sys.stderr.write(f"bench: {error}\n")
        return 1
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    header = (
        f"{sizes.mode} benchmark, {time.strftime('%Y-%m-%d %H:%M')}, {facts['nproc']} x {facts['cpu_model']}, "
        f"{facts['memory_gb']} GB, took {report.details['duration_s'] / 60:.1f} min; other users took "
        f"{100 * report.details['others_cpu_share']:.0f}% of the CPU meanwhile (load average "
        f"{facts['load_average_at_start']} -> {report.details['load_average_at_end']})\n\n"
    )
    sys.stdout.write(header + format_table(report))
    if args.out:
        write_json(args.out, report_json(report, command, facts))
    return 0


def tempfile_dir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="audiobook-bench-")


if __name__ == "__main__":
    sys.exit(main())
