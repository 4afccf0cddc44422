"""Phase 6: run the requested phases for one book, with checkpoints, retries and a record.

    audiobook-orchestrator BOOK --pipeline-json=PATH --phases 1 2 3 4 5

Each phase's result is checkpointed under the work folder with a key made of
its input's key and the settings it depends on, so a rerun reuses exactly
what is still valid. A phase is retried (at most twice) only for faults that
may pass; a bad book fails at once with one line. The per-book record is
written last, atomically, whatever happened.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import resource
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, testgate
from .errors import EXIT_FAILED, EXIT_PARTIAL, EXIT_SUCCESS, EXIT_USAGE, BookError, is_retryable
from .fileio import read_json, sha256_file, write_json
from .ids import book_id
from .model import BookFacts, ExtractedBook, PhaseContext, SpeechManifest, from_dict, to_dict
from .record import BookRecord, PhaseRecord
from .settings import EngineSettings, phase_fingerprint
from .utf8 import printable

PHASE_NAMES = {1: "validate", 2: "extract", 3: "chunk", 4: "speak", 5: "master"}
MAX_RETRIES = 2
RETRY_BACKOFF_S = (1.0, 3.0)
# Bump when a phase's output format changes, so old checkpoints are not reused.
# 2: chunks carry their sentences (printed and spoken), speech their sample spans.
CHECKPOINT_VERSION = "2"

log = logging.getLogger("audiobook")


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived: stop, record, exit (a BaseException, so no phase swallows it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class BookRun:
    """Everything one run of the orchestrator knows about its book."""

    source: Path
    file_id: str
    output_dir: Path
    work_dir: Path
    settings: EngineSettings
    threads: int
    resume: bool
    sha256: str = ""
    results: dict[int, Any] = field(default_factory=dict)  # phase -> loaded result
    keys: dict[int, str] = field(default_factory=dict)  # phase -> checkpoint key

    def checkpoint_path(self, phase: int) -> Path:
        return self.work_dir / f"phase{phase}-{PHASE_NAMES[phase]}.json"

    def context(self) -> PhaseContext:
        return PhaseContext(source=self.source, work_dir=self.work_dir, threads=self.threads, log=log)


# ---- the phases, composed -------------------------------------------------
# Each runner takes the run and a fresh context, returns the JSON-able result
# to checkpoint, and leaves its metrics in ctx.metrics.


def _run_validate(run: BookRun, ctx: PhaseContext) -> dict[str, Any]:
    from .validate import validate

    return to_dict(validate(ctx, run.settings))


def _run_extract(run: BookRun, ctx: PhaseContext) -> dict[str, Any]:
    from .extract import extract

    facts = from_dict(BookFacts, run.results[1])
    return to_dict(extract(ctx, facts, run.settings))


def _run_chunk(run: BookRun, ctx: PhaseContext) -> dict[str, Any]:
    from .chunk import chunk_book, write_chunks
    from .pronounce.book import pronouncer_for

    book = from_dict(ExtractedBook, run.results[2])
    pronouncer = pronouncer_for(run.settings, book.language, run.source)
    chunks = chunk_book(ctx, book, run.settings, pronouncer)
    chunks_file = run.work_dir / "chunks.jsonl"
    write_chunks(chunks, chunks_file)
    if pronouncer.english:
        _list_words_to_check(run, ctx, chunks, pronouncer)
    chapter_titles = [chapter.title for chapter in book.chapters]
    return {"chunks_file": chunks_file.name, "chapter_titles": chapter_titles, "language": book.language}


def _list_words_to_check(run: BookRun, ctx: PhaseContext, chunks: list[Any], pronouncer: Any) -> None:
    """The words a listener should check: the top ones in the record, all of them beside the audiobook."""
    from .pronounce.words_to_check import find_words, record_entries, write_words

    started = time.monotonic()
    words = find_words(chunks, pronouncer)
    path = run.output_dir / f"{run.file_id}.words-to-check.tsv"
    run.output_dir.mkdir(parents=True, exist_ok=True)
    write_words(words, path)
    ctx.metrics["words_to_check"] = {
        "count": len(words),
        "file": str(path),
        "top": record_entries(words),
        "seconds": round(time.monotonic() - started, 3),
    }


def _run_speak(run: BookRun, ctx: PhaseContext) -> dict[str, Any]:
    from .chunk import read_chunks
    from .speak import speak

    chunking = run.results[3]
    chunks = read_chunks(run.work_dir / chunking["chunks_file"])
    try:  # the last run's speech, whatever it was made from: to say why chunks are spoken again
        previous = from_dict(SpeechManifest, read_json(run.checkpoint_path(4))["result"])
    except (OSError, ValueError, KeyError, TypeError):
        previous = None
    manifest = speak(ctx, chunks, chunking["chapter_titles"], chunking.get("language"), run.settings, previous)
    return to_dict(manifest)


def _run_master(run: BookRun, ctx: PhaseContext) -> dict[str, Any]:
    from .master import master

    manifest = from_dict(SpeechManifest, run.results[4])
    book = from_dict(ExtractedBook, run.results[2])
    result = master(ctx, manifest, book, run.settings, run.output_dir, run.file_id)
    return to_dict(result)


RUNNERS: dict[int, Callable[[BookRun, PhaseContext], dict[str, Any]]] = {
    1: _run_validate,
    2: _run_extract,
    3: _run_chunk,
    4: _run_speak,
    5: _run_master,
}


def phase_outputs(phase: int, result: dict[str, Any], run: BookRun) -> list[Path]:
    """Files a checkpointed phase result relies on; all must exist to reuse it."""
    if phase == 3:
        return [run.work_dir / result["chunks_file"]]
    if phase == 4:
        return [run.work_dir / chunk["path"] for chunk in result["chunks"]]
    if phase == 5:
        return [Path(p) for p in result_files(result)]
    return []


def result_files(result: dict[str, Any]) -> list[str]:
    """Every file phase 5 made: the audio first, then subtitles and the read-along EPUB."""
    extras = list(result.get("subtitle_paths") or []) + ([result["readalong_path"]] if result.get("readalong_path") else [])
    return list(result["output_paths"]) + extras


def checkpoint_key(run: BookRun, phase: int) -> str:
    previous = run.keys.get(phase - 1, run.sha256)
    blob = f"{CHECKPOINT_VERSION}|{phase}|{previous}|{phase_fingerprint(run.settings, phase)}"
    if phase == 3:  # the lexicons' and the heteronym table's contents, not just their paths
        from .pronounce.book import pronunciation_fingerprint

        blob += f"|{pronunciation_fingerprint(run.settings, run.source)}"
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def chain_key(run: BookRun, phase: int, key: str, result: dict[str, Any]) -> str:
    """The key the next phase builds on (``key``: the phase's own checkpoint key): phase 3's is what
    it made, so a lexicon edit that changes no chunk of a book leaves its speech and its audiobook as they are."""
    if phase != 3:
        return key
    blob = f"{CHECKPOINT_VERSION}|{run.keys.get(2, run.sha256)}|{json.dumps(result, sort_keys=True)}|"
    blob += sha256_file(run.work_dir / result["chunks_file"])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def load_checkpoint(run: BookRun, phase: int, key: str) -> dict[str, Any] | None:
    """The checkpoint of ``phase`` if it is still valid for this input and these settings (its ``key``)."""
    path = run.checkpoint_path(phase)
    try:
        saved = read_json(path)
    except (OSError, ValueError):
        return None
    if saved.get("key") != key:
        return None
    if not all(p.exists() for p in phase_outputs(phase, saved["result"], run)):
        return None
    return saved


def run_phase(run: BookRun, phase: int, record: PhaseRecord) -> None:
    """Run (or reuse) one phase; raise its final error after the allowed retries."""
    key = checkpoint_key(run, phase)
    if run.resume:
        saved = load_checkpoint(run, phase, key)
        if saved is not None:
            run.results[phase], run.keys[phase] = saved["result"], chain_key(run, phase, key, saved["result"])
            record.status, record.reused, record.metrics = "success", True, saved.get("metrics", {})
            record.output = str(run.checkpoint_path(phase))
            log.info("phase %d (%s): reusing checkpoint", phase, PHASE_NAMES[phase])
            return
    testgate.hold(f"phase{phase}")
    started = time.monotonic()
    for attempt in range(1, MAX_RETRIES + 2):
        record.attempts = attempt
        ctx = run.context()
        _write_progress(run, phase, "running")
        try:
            log.info("phase %d (%s): start%s", phase, PHASE_NAMES[phase], f" (attempt {attempt})" if attempt > 1 else "")
            result = RUNNERS[phase](run, ctx)
            break
        except Interrupted:
            raise
        except Exception as error:  # noqa: BLE001 - every fault is classified here
            record.metrics = ctx.metrics
            if attempt <= MAX_RETRIES and is_retryable(error):
                delay = RETRY_BACKOFF_S[attempt - 1]
                log.warning("phase %d (%s): %s; retrying in %.0fs", phase, PHASE_NAMES[phase], _describe(error), delay)
                time.sleep(delay)
                continue
            record.duration = time.monotonic() - started
            raise
    record.duration = time.monotonic() - started
    # A title taken from a file name that is not UTF-8 must not stop a checkpoint or the record.
    result, metrics = printable(result), printable(ctx.metrics)
    record.status, record.metrics = "success", metrics
    run.results[phase], run.keys[phase] = result, chain_key(run, phase, key, result)
    write_json(run.checkpoint_path(phase), {"key": key, "result": result, "metrics": metrics})
    record.output = str(run.checkpoint_path(phase))
    log.info("phase %d (%s): done in %.1fs", phase, PHASE_NAMES[phase], record.duration)


def load_prerequisite(run: BookRun, phase: int) -> None:
    """Load an earlier phase that was not requested; it must have a valid checkpoint."""
    key = checkpoint_key(run, phase)
    saved = load_checkpoint(run, phase, key)
    if saved is None:
        raise BookError(
            "failed",
            f"phase {phase} ({PHASE_NAMES[phase]}) has no up-to-date checkpoint for this book and these settings",
            f"include phase {phase} in --phases (e.g. --phases {' '.join(str(p) for p in range(phase, 6))})",
        )
    run.results[phase], run.keys[phase] = saved["result"], chain_key(run, phase, key, saved["result"])


def process_book(run: BookRun, phases: list[int], record_path: Path) -> BookRecord:
    record = BookRecord(
        file_id=run.file_id,
        source=str(run.source),
        file_name=run.source.name,
        sha256=None,
        phases_requested=phases,
        phases={str(p): PhaseRecord(status="pending" if p in phases else "skipped") for p in PHASE_NAMES},
    )
    wall = time.monotonic()
    current = 0
    try:
        if not run.source.is_file():
            raise BookError("not_a_book", "does not exist or is not a regular file", "check the path")
        run.sha256 = record.sha256 = sha256_file(run.source)
        for phase in range(1, max(phases) + 1):
            current = phase
            if phase in phases:
                run_phase(run, phase, record.phases[str(phase)])
                record.phases_completed.append(phase)
            else:
                load_prerequisite(run, phase)
        record.status, record.exit_code = "success", EXIT_SUCCESS
    except Interrupted as stop:
        _fail(record, current, f"{run.source.name}: interrupted by {stop} during phase {current}", "interrupted")
        record.exit_code = 128 + stop.signum
    except BookError as error:
        _fail(record, current, error.line(run.source.name), error.kind)
        record.exit_code = EXIT_PARTIAL if record.phases_completed else error.exit_code
    except OSError as error:
        from .errors import disk_full_error

        if error.errno in (28, 27):  # ENOSPC, EFBIG
            bad = disk_full_error(error, f"phase {current} output")
            _fail(record, current, bad.line(run.source.name), bad.kind)
        else:
            _fail(record, current, f"{run.source.name}: {_describe(error)} in phase {current}", "failed")
        record.exit_code = EXIT_PARTIAL if record.phases_completed else EXIT_FAILED
    except Exception as error:  # noqa: BLE001 - a bug: keep the traceback in the log, one line for the user
        import traceback  # only a bug needs it: not imported by every book

        log.debug("traceback:\n%s", traceback.format_exc())
        _fail(
            record,
            current,
            f"{run.source.name}: internal error in phase {current} ({_describe(error)}); "
            "please report it with the book's log",
            "failed",
        )
        record.exit_code = EXIT_PARTIAL if record.phases_completed else EXIT_FAILED
    if record.status != "success" and record.phases_completed:
        record.status = "partial"
    record.outputs = result_files(run.results[5]) if 5 in record.phases_completed else []
    record.finished_at = time.time()
    record.duration = round(time.monotonic() - wall, 3)
    usage_self, usage_children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    record.cpu_seconds = round(sum(u.ru_utime + u.ru_stime for u in (usage_self, usage_children)), 3)
    record.peak_rss_mb = round(max(usage_self.ru_maxrss, usage_children.ru_maxrss) / 1024, 1)
    # Every name in it as UTF-8 text, so the record is written whatever the book is called.
    write_json(record_path, printable(record.to_dict()))
    _write_progress(run, current, record.status)
    return record


def _fail(record: BookRecord, phase: int, line: str, kind: str) -> None:
    record.status, record.error, record.error_kind = "failed", line, kind
    if phase and str(phase) in record.phases:
        record.phases[str(phase)].status = "failed"
        record.phases[str(phase)].error = line
    log.error("%s", line)


def _describe(error: BaseException) -> str:
    if isinstance(error, BookError):
        return error.problem
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _write_progress(run: BookRun, phase: int, state: str) -> None:
    """A small file the batch front end polls for live progress."""
    try:
        write_json(run.work_dir / "progress.json", {"phase": phase, "name": PHASE_NAMES.get(phase), "state": state, "time": time.time()})
    except OSError:
        pass  # progress is a courtesy; never fail a book over it


# ---- command line ---------------------------------------------------------


def load_settings(config_file: Path | None, settings_json: str | None) -> EngineSettings:
    data: dict[str, Any] = {}
    if config_file is not None:
        import yaml  # only --config needs it; the batch passes --settings-json

        with open(config_file, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle) or {}
        data.update(loaded.get("engine", {}) or {})
    if settings_json:
        data.update(json.loads(settings_json))
    return EngineSettings.from_mapping(data)


def _yaml_error() -> type[BaseException]:
    """yaml's error class if yaml was loaded (only --config loads it), else one already caught."""
    yaml = sys.modules.get("yaml")
    return yaml.YAMLError if yaml is not None else OSError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audiobook-orchestrator",
        description="Turn one book (PDF or EPUB) into an audiobook by running the requested phases: "
        "1 validate, 2 extract, 3 chunk, 4 speak, 5 master. Writes a per-book record (JSON) "
        "to --pipeline-json, whatever happens.",
        epilog="Exit codes: 0 success; 1 failed; 2 usage error; 3 partial (some phases done); "
        "10 empty file; 11 not a PDF/EPUB; 12 corrupt; 13 password-protected; 14 DRM; "
        "15 no text layer (scan); 16 unreadable text (glyph codes); 17 too large; 18 OCR cannot read it (blank, noise or too unclear a scan); "
        "20 no voice for the book's language; 21 a tool (ffmpeg) failed; 22 disk full; "
        "130/143 interrupted.",
    )
    parser.add_argument("book", type=Path, help="the book file (.pdf or .epub; format is read from its bytes)")
    parser.add_argument("--pipeline-json", type=Path, required=True, metavar="PATH", help="where to write this book's record (JSON)")
    parser.add_argument("--phases", type=int, nargs="+", default=[1, 2, 3, 4, 5], choices=sorted(PHASE_NAMES), metavar="N", help="phases to run, in 1..5 (default: all)")
    parser.add_argument("--output-dir", type=Path, help="folder for the audiobook (default: the record's folder)")
    parser.add_argument("--work-dir", type=Path, help="folder for checkpoints and audio cache (default: OUTPUT_DIR/work)")
    parser.add_argument("--book-id", help="id used in file names and the record (default: derived from the file name)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for speech and encoding (default: 1)")
    parser.add_argument("--config", type=Path, help="a config.yaml whose 'engine:' section holds the engine settings")
    parser.add_argument("--settings-json", metavar="JSON", help="engine settings as a JSON object (override --config)")
    parser.add_argument("--no-resume", action="store_true", help="ignore checkpoints and the audio cache: redo every requested phase")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="log detail (default: INFO)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[%(asctime)s] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S"))
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        settings = load_settings(args.config, args.settings_json)
    except (OSError, ValueError, TypeError, _yaml_error()) as error:
        print(f"audiobook-orchestrator: bad settings: {_describe(error)}", file=sys.stderr)
        return EXIT_USAGE
    if args.threads < 1:
        print("audiobook-orchestrator: --threads must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    phases = sorted(set(args.phases))
    record_path: Path = args.pipeline_json
    output_dir = args.output_dir or record_path.parent
    run = BookRun(
        source=args.book,
        file_id=args.book_id or book_id(args.book.name),
        output_dir=output_dir,
        work_dir=args.work_dir or output_dir / "work",
        settings=settings,
        threads=args.threads,
        resume=not args.no_resume,
    )
    run.work_dir.mkdir(parents=True, exist_ok=True)
    if not run.resume:  # phase 5 then encodes again, even when the audiobook it made is still there
        from .master import AUDIO_RECORD

        (run.work_dir / AUDIO_RECORD).unlink(missing_ok=True)
    testgate.set_book(run.file_id)
    # A record from an earlier run must not outlive a run that is killed now.
    record_path.unlink(missing_ok=True)

    def on_signal(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("[START] %s (%s) phases %s", run.file_id, args.book.name, " ".join(map(str, phases)))
    record = process_book(run, phases, record_path)
    if record.status == "success":
        log.info("[SUCCESS] %s in %.1fs", run.file_id, record.duration)
    else:
        log.info("[%s] %s in %.1fs: %s", "PARTIAL" if record.status == "partial" else "FAIL", run.file_id, record.duration, record.error)
    return record.exit_code


if __name__ == "__main__":
    sys.exit(main())
