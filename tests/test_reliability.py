"""Reliability and security: interruptions, faults and hostile input lose nothing and run nothing.

Every test runs the real workflow (Snakemake, the orchestrator, Piper, ffmpeg)
in a temporary folder, as a user would, and then does to it what happens in
the wild: SIGKILL, Ctrl+C, a second copy of the run, a full disk, a crashing
tool, hostile file names and hostile books. docs/faults.md lists each of them
and what the user sees.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import yaml
from mutagen.mp4 import MP4

from audiobook.ffmpeg import ffmpeg_exe
from audiobook.ids import book_id
from books import epub_book, pdf_book
from gates import Gates, wait_for
from hostile import (
    billion_laughs_epub,
    distinct_book,
    lying_size_epub,
    oversized_pdf,
    rename_to_bytes,
    traversal_epub,
    untitled_pdf,
    xxe_epub,
    zip_bomb_epub,
)

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SNAKEMAKE = str(VENV_BIN / "snakemake")
ORCHESTRATOR = str(VENV_BIN / "audiobook-orchestrator")

# Small chunks give many chunks (and cache entries) from little text.
FAST_ENGINE = {"chunk_max_chars": 100, "room_tone_s": 0.3}
STALE_LOCK_REMOVED = "removed the lock left by the run that was stopped"
SNAKEMAKE_STOPPING = "Terminating processes on user request"


# --- running the workflow -------------------------------------------------------------


def write_config(workdir: Path, **overrides) -> None:
    """workdir/config.yaml: the project's config with ``overrides`` (engine: merged)."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    engine = {**config["engine"], **FAST_ENGINE, **overrides.pop("engine", {})}
    # Other work on the machine must not hold books back: the throttle never waits here.
    config.update({"input_dir": "in", "cpu_threshold": 100, "throttle_max_wait": 0, **overrides, "engine": engine})
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def command(workdir: Path, *args: str) -> list[str]:
    return [SNAKEMAKE, "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), "--cores", "2", *args]


def snakemake(workdir: Path, *args: str, timeout: float = 600, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(command(workdir, *args), capture_output=True, text=True, timeout=timeout, **popen)


def start(workdir: Path, *args: str, **popen) -> subprocess.Popen:
    """A run in its own process group, so a signal the test sends reaches the run and nothing else.

    Its output goes to a file beside the work folder, named in ``process.output_file``.
    """
    output_file = workdir.parent / f"snakemake-{time.monotonic_ns()}.out"
    with open(output_file, "w") as out:
        process = subprocess.Popen(
            command(workdir, *args), stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
    process.output_file = output_file  # type: ignore[attr-defined]
    return process


def output_of(process: subprocess.Popen) -> str:
    return process.output_file.read_text(errors="replace")  # type: ignore[attr-defined]


def stop_group(process: subprocess.Popen, signum: int, timeout: float = 120) -> int:
    """Send ``signum`` to the run's whole process group; return its status once every process is gone."""
    os.killpg(process.pid, signum)
    return wait_group(process, timeout)


def wait_group(process: subprocess.Popen, timeout: float = 120) -> int:
    """The run's status once every process of its group is gone."""
    status = process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            return status
        time.sleep(0.1)
    pytest.fail(f"processes of the run outlived it: {leftovers(process.pid)}")


def leftovers(group: int) -> list[str]:
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if os.getpgid(proc.pid) == group:
                found.append(" ".join(proc.info["cmdline"] or []))
        except (ProcessLookupError, psutil.Error):
            pass
    return found


def pipeline(workdir: Path) -> dict:
    return json.loads((workdir / "pipeline.json").read_text(encoding="utf-8"))


def started(workdir: Path, since: int = 0) -> list[str]:
    """Book ids with a [START] line in the batch log, after byte ``since``."""
    log = workdir / "batch.log"
    text = log.read_bytes()[since:].decode() if log.exists() else ""
    return [line.split("[START] ", 1)[1].strip() for line in text.splitlines() if "[START] " in line]


def log_size(workdir: Path) -> int:
    log = workdir / "batch.log"
    return log.stat().st_size if log.exists() else 0


def wavs(workdir: Path, book: str) -> set[str]:
    return {p.name for p in (workdir / "results" / book / "work" / "audio").glob("*.wav")}


def in_phase(workdir: Path, book: str) -> int | None:
    """The phase a book's orchestrator is in, from the progress file it keeps."""
    try:
        progress = json.loads((workdir / "results" / book / "work" / "progress.json").read_text())
    except (OSError, ValueError):
        return None
    return progress["phase"] if progress.get("state") == "running" else None


def record(workdir: Path, book: str) -> dict:
    return json.loads((workdir / "results" / book / "book.json").read_text())


def failed_record(workdir: Path, book: str) -> dict:
    return json.loads((workdir / "results" / "logs" / f"{book}.record.json").read_text())


def assert_whole_audiobook(path: Path, book_record: dict) -> None:
    """The .m4b reads back with the duration and chapter marks its record promises."""
    audio = MP4(path)
    master = book_record["phases"]["5"]["metrics"]
    assert abs(audio.info.length - master["duration_s"]) < 1.0, path
    assert len(audio.chapters) == book_record["phases"]["2"]["metrics"]["chapters"] == master["chapters"], path


def part_files(workdir: Path) -> list[Path]:
    return [p for p in (workdir / "results").rglob("*.part")]


def make_books(folder: Path, sizes: dict[str, tuple[int, int]]) -> None:
    """Books of (chapters, paragraphs per chapter), every paragraph different."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, (chapters, paragraphs) in sizes.items():
        distinct_book(folder, name, chapters=chapters, paragraphs=paragraphs)


# --- 1. kill and resume ---------------------------------------------------------------


@pytest.mark.slow
def test_a_killed_run_resumes_with_nothing_to_do_by_hand_and_redoes_no_finished_work(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write_config(work)
    make_books(work / "in", {"a-quick.epub": (1, 1), "b-middle.pdf": (1, 4), "c-long.epub": (2, 4)})
    ids = ["a-quick-epub", "b-middle-pdf", "c-long-epub"]
    # The long book is held right after its third chunk of speech: the other two
    # finish, and the kill finds it speaking however fast the machine is.
    gates = Gates(tmp_path / "gates")
    gates.hold("c-long-epub", "audio-3")
    run = start(work, env=gates.env(dict(os.environ)))
    gates.wait("c-long-epub", "audio-3", run, lambda: output_of(run))
    # Snakemake logs a finished job after it has recorded it as complete.
    wait_for(
        lambda: len(re.findall(r"Finished jobid: \d+ \(Rule: audiobook\)", output_of(run))) == 2,
        "the two other books to be recorded as finished",
        run,
        lambda: output_of(run),
    )
    assert in_phase(work, "c-long-epub") == 4
    stop_group(run, signal.SIGKILL)

    finished, unfinished = ["a-quick-epub", "b-middle-pdf"], ["c-long-epub"]
    kept = {b: (work / "results" / b / "book.json").stat().st_mtime_ns for b in finished}
    cached = {b: wavs(work, b) for b in unfinished}
    assert len(cached["c-long-epub"]) == 3, "the chunk audio made before the kill is there"
    for book in finished:
        assert (work / "results" / book / f"{book}.m4b").exists()
    for book in unfinished:
        assert not (work / "results" / book / f"{book}.m4b").exists(), "nothing unfinished under a final name"
    assert list((work / ".snakemake" / "locks").glob("*.lock")), "SIGKILL leaves Snakemake's lock behind"

    log_before = log_size(work)
    proc = snakemake(work)  # the same command again, nothing else
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert STALE_LOCK_REMOVED in proc.stderr
    assert "Traceback" not in proc.stderr

    summary = pipeline(work)["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"]) == (3, 3)
    restarted = set(started(work, log_before))
    assert set(unfinished) <= restarted and not set(finished) & restarted, "finished books are not made again"
    for book in finished:
        assert (work / "results" / book / "book.json").stat().st_mtime_ns == kept[book]
    for book, before in cached.items():
        resumed = record(work, book)
        assert not resumed["phases"]["4"]["reused"], "a book killed while speaking is spoken on, not skipped"
        assert all(resumed["phases"][p]["reused"] for p in "123"), "checkpoints of phases 1-3 are reused"
        speech = resumed["phases"]["4"]["metrics"]
        assert speech["chunks_cached"] == len(before), "every chunk spoken before the kill comes from the cache"
        assert speech["chunks_synthesized"] == speech["chunks"] - len(before) > 0
    for book in ids:
        assert_whole_audiobook(work / "results" / book / f"{book}.m4b", record(work, book))
    assert part_files(work) == [], "no temporary file outlives the run that finished the book"


@pytest.mark.slow
def test_a_run_killed_while_mastering_leaves_no_audiobook_under_its_final_name(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write_config(work)
    make_books(work / "in", {"river.epub": (2, 3)})
    # ffmpeg, held once it has written the whole audiobook to its temporary name:
    # the kill lands between that and the rename, however fast the machine is.
    gates = Gates(tmp_path / "gates")
    ffmpeg = executable(tmp_path / "ffmpeg", HELD_FFMPEG.format(real=ffmpeg_exe(), gate=gates.folder / "encoded"))
    run = start(work, env={**os.environ, "IMAGEIO_FFMPEG_EXE": ffmpeg})
    final = work / "results" / "river-epub" / "river-epub.m4b"
    part = final.with_name(".river-epub.m4b.part")
    wait_for(lambda: (gates.folder / "encoded.reached").exists(), "ffmpeg to write the audiobook", run,
             lambda: output_of(run))
    assert in_phase(work, "river-epub") == 5 and part.exists()
    stop_group(run, signal.SIGKILL)
    assert not final.exists(), "half an audiobook is never published under its final name"

    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    resumed = record(work, "river-epub")
    assert resumed["phases"]["4"]["reused"], "the speech is not made again"
    assert_whole_audiobook(work / "results" / "river-epub" / "river-epub.m4b", resumed)
    assert part_files(work) == []


# --- 2. Ctrl+C ------------------------------------------------------------------------


@pytest.mark.slow
def test_ctrl_c_stops_launching_records_interrupted_books_and_the_next_run_resumes(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write_config(work)
    make_books(work / "in", {"a-long.epub": (1, 5), "b-long.pdf": (1, 5), "c-later.epub": (1, 1)})
    # Both long books are held at their second chunk of speech: both cores are
    # theirs and the third book waits. A held book keeps Ctrl+C pending until its
    # gate opens: Snakemake takes it first and stops launching, then the books do.
    speaking = ["a-long-epub", "b-long-pdf"]
    gates = Gates(tmp_path / "gates")
    for book in speaking:
        gates.hold(book, "audio-2")
    run = start(work, env=gates.env(dict(os.environ)))
    for book in speaking:
        gates.wait(book, "audio-2", run, lambda: output_of(run))
    launched = started(work)
    os.killpg(run.pid, signal.SIGINT)  # Ctrl+C reaches every process of the run at once
    wait_for(lambda: SNAKEMAKE_STOPPING in output_of(run), "Snakemake to take the Ctrl+C", run, lambda: output_of(run))
    for book in speaking:
        gates.open(book, "audio-2")
    status = wait_group(run)
    assert status != 0
    assert "c-later-epub" not in launched and started(work) == launched, "no book starts after Ctrl+C"
    for book in launched:
        stopped = failed_record(work, book)
        assert stopped["error_kind"] == "interrupted", stopped["error"]
        assert stopped["exit_code"] == 130 and "interrupted by SIGINT" in stopped["error"]
        assert not (work / "results" / book / f"{book}.m4b").exists()
    # The summary is written on the way out, and says what happened to each book.
    files = pipeline(work)["batch"]["files"]
    assert files["c-later-epub"]["status"] == "pending"
    for book in launched:
        assert files[book]["status"] == "partial" and "interrupted by SIGINT during phase" in files[book]["error"]
    assert not list((work / ".snakemake" / "locks").glob("*.lock")), "Ctrl+C releases Snakemake's lock"
    cached = {b: wavs(work, b) for b in launched}
    assert cached[speaking[0]]

    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pipeline(work)["batch"]["summary"]["successful_files"] == 3
    for book, before in cached.items():
        speech = record(work, book)["phases"]["4"]["metrics"]
        assert speech["chunks_cached"] == len(before), "every chunk spoken before Ctrl+C is kept"


# --- 3. a second run by mistake -------------------------------------------------------


@pytest.mark.slow
def test_a_second_run_is_refused_at_once_naming_the_first_which_goes_on_unharmed(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write_config(work)
    make_books(work / "in", {"a-long.epub": (1, 4), "b-long.pdf": (1, 4)})
    # The first run is held while it speaks, until the second has been refused.
    gates = Gates(tmp_path / "gates")
    gates.hold("a-long-epub", "audio-1")
    first = start(work, env=gates.env(dict(os.environ)))
    marker = work / "results" / ".batch-run.json"
    gates.wait("a-long-epub", "audio-1", first, lambda: output_of(first))
    running = json.loads(marker.read_text())
    assert running["pid"] == first.pid
    second = snakemake(work, timeout=120)
    assert second.returncode == 1
    # At once: refused while the first is still held at its gate, not after it.
    assert first.poll() is None and not gates.left("a-long-epub", "audio-1")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(running["started_at"]))
    line = (
        f"another run is making this batch (snakemake pid {first.pid} on {socket.gethostname()}, started {when}); "
        "let it finish or stop it with Ctrl+C, then run again"
    )
    assert line in second.stderr.splitlines()
    assert "Traceback" not in second.stderr and "LockException" not in second.stderr

    # A dry run may look while the batch runs.
    preview = snakemake(work, "-n", timeout=120)
    assert preview.returncode == 0, preview.stderr[-2000:]
    gates.open("a-long-epub", "audio-1")

    assert first.wait(timeout=600) == 0, output_of(first)[-3000:]
    assert json.loads(marker.read_text())["pid"] == first.pid
    log = (work / "batch.log").read_text()
    assert log.count("Found 2 files to process") == 1, "the second run wrote nothing"
    assert pipeline(work)["batch"]["summary"]["successful_files"] == 2
    for book in ("a-long-epub", "b-long-pdf"):
        assert_whole_audiobook(work / "results" / book / f"{book}.m4b", record(work, book))


# --- 4. faults ------------------------------------------------------------------------

FAULTY_ORCHESTRATOR = """#!{python}
# Stands in for the orchestrator: crashes or limits file size for some books, else becomes it.
import os, resource, signal, sys
name = os.path.basename(sys.argv[1])
if "segv" in name:
    os.kill(os.getpid(), signal.SIGSEGV)
if "raise" in name:
    raise RuntimeError("simulated crash of the orchestrator")
if "filesize" in name:
    resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
os.execv({real!r}, [{real!r}, *sys.argv[1:]])
"""

HELD_FFMPEG = """#!/bin/sh
# Stands in for ffmpeg: once it has encoded the audiobook (to its temporary
# name), waits at a gate the test opens; else it is the real one.
last=""; for arg in "$@"; do last="$arg"; done
case "$last" in
  *.m4b.part) {real} "$@"; status=$?; touch {gate}.reached
    while [ ! -e {gate}.open ]; do sleep 0.05; done; exit $status ;;
esac
exec {real} "$@"
"""

FAILING_FFMPEG = """#!/bin/sh
# Stands in for ffmpeg: fails for one book, else becomes the real one.
case "$*" in
  *ffmpeg-fails*) echo "[aac @ 0x1] simulated encoder failure" >&2; exit 1 ;;
esac
exec {real} "$@"
"""


def executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def assert_failed_cleanly(work: Path, book: str, *words: str) -> dict:
    """The book is not a success, says why in one line, and nothing of it looks finished."""
    entry = pipeline(work)["batch"]["files"][book]
    assert entry["status"] in ("failed", "partial"), entry
    assert entry["error"] and "\n" not in entry["error"], entry
    for word in words:
        assert word in entry["error"], entry["error"]
    assert not (work / "results" / book / "book.json").exists()
    assert not list((work / "results" / book).glob("*.m4b")), "no audiobook under a final name"
    assert not list((work / "results" / book).glob(".*.part")), "no temporary audiobook left"
    assert f"[FAIL] {book}: " in (work / "batch.log").read_text()
    return entry


@pytest.mark.slow
def test_crashes_a_failing_ffmpeg_and_a_file_size_limit_fail_one_book_each_and_the_others_finish(tmp_path):
    import imageio_ffmpeg

    work = tmp_path / "work"
    work.mkdir()
    tools = tmp_path / "tools"
    tools.mkdir()
    wrapper = executable(
        tools / "orchestrator",
        FAULTY_ORCHESTRATOR.format(python=sys.executable, real=ORCHESTRATOR, limit=600_000),
    )
    ffmpeg = executable(tools / "ffmpeg", FAILING_FFMPEG.format(real=imageio_ffmpeg.get_ffmpeg_exe()))
    write_config(work, orchestrator=wrapper)
    make_books(
        work / "in",
        {"good.epub": (1, 2), "segv.epub": (1, 1), "raise.pdf": (1, 1), "ffmpeg-fails.epub": (1, 2)},
    )
    # Chunk audio stays under the limit; the audiobook (over a minute of speech) does not.
    distinct_book(work / "in", "filesize.pdf", chapters=3, paragraphs=5)
    env = {**os.environ, "IMAGEIO_FFMPEG_EXE": ffmpeg}
    proc = snakemake(work, env=env)
    assert proc.returncode != 0, "a failed book fails the run"

    summary = pipeline(work)["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"]) == (5, 1)
    assert_whole_audiobook(work / "results" / "good-epub" / "good-epub.m4b", record(work, "good-epub"))

    crashed = "the orchestrator was killed by signal 11 without writing a record"
    assert_failed_cleanly(work, "segv-epub", f"segv.epub: {crashed}")
    assert_failed_cleanly(work, "raise-pdf", "raise.pdf: the orchestrator exited with status 1 without writing a record")
    entry = assert_failed_cleanly(work, "ffmpeg-fails-epub", "ffmpeg could not", "simulated encoder failure")
    assert entry["error_kind"] == "tool_failed"
    assert failed_record(work, "ffmpeg-fails-epub")["phases"]["5"]["attempts"] == 3, "a failing tool is retried twice"
    entry = assert_failed_cleanly(work, "filesize-pdf", "ran out of disk space while writing")
    assert entry["error_kind"] == "disk_full" and entry["phases_completed"] == [1, 2, 3, 4]


@pytest.mark.slow
def test_a_full_disk_during_mastering_fails_the_book_keeps_its_speech_and_the_others_finish(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the file size limit test covers the same path")
    work = tmp_path / "work"
    work.mkdir()
    write_config(work, phases_to_run=[1, 2, 3, 4])
    make_books(work / "in", {"good.epub": (1, 2)})
    distinct_book(work / "in", "full.pdf", chapters=2, paragraphs=4)
    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]

    # The book's folder moves onto a file system with room for what it holds and 64 KB more.
    book_dir = work / "results" / "full-pdf"
    aside = tmp_path / "aside"
    shutil.move(book_dir, aside)
    book_dir.mkdir()
    used_kb = int(subprocess.run(["du", "-sk", str(aside)], capture_output=True, text=True).stdout.split()[0])
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={used_kb + 64}k", "tmpfs", str(book_dir)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        shutil.copytree(aside, book_dir, dirs_exist_ok=True)
        write_config(work, phases_to_run=[1, 2, 3, 4, 5])
        proc = snakemake(work)
        assert proc.returncode != 0
        assert_whole_audiobook(work / "results" / "good-epub" / "good-epub.m4b", record(work, "good-epub"))
        entry = assert_failed_cleanly(
            work, "full-pdf", "full.pdf: ran out of disk space while writing", "free space on the results disk"
        )
        assert entry["error_kind"] == "disk_full" and entry["phases_completed"] == [1, 2, 3, 4]

        # Room again: the next run masters the book from the speech it kept.
        subprocess.run(["mount", "-o", "remount,size=64m", str(book_dir)], check=True)
        proc = snakemake(work)
        assert proc.returncode == 0, proc.stderr[-3000:]
        made = record(work, "full-pdf")
        assert made["phases"]["4"]["reused"]
        assert_whole_audiobook(book_dir / "full-pdf.m4b", made)
    finally:
        subprocess.run(["umount", "-l", str(book_dir)], capture_output=True)


@pytest.mark.slow
def test_a_missing_orchestrator_or_voice_fails_every_book_with_one_clear_line(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    make_books(work / "in", {"a.epub": (1, 1), "b.pdf": (1, 1)})
    write_config(work, orchestrator="/nonexistent/audiobook-orchestrator", phases_to_run=[1])
    proc = snakemake(work)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    for book, name in (("a-epub", "a.epub"), ("b-pdf", "b.pdf")):
        assert_failed_cleanly(
            work, book, f"{name}: cannot start the orchestrator '/nonexistent/audiobook-orchestrator' (No such file"
        )

    shutil.rmtree(work / "results")
    write_config(work, engine={"voice": "/no/such.onnx"}, phases_to_run=[1, 2, 3, 4, 5])
    proc = snakemake(work)
    assert proc.returncode != 0
    for book, name in (("a-epub", "a.epub"), ("b-pdf", "b.pdf")):
        entry = assert_failed_cleanly(work, book, f"{name}: voice model /no/such.onnx does not exist; set engine.voice")
        # The voice is chosen in phase 1, so a missing one stops the book before any work.
        assert entry["error_kind"] == "no_voice" and entry["phases_completed"] == []
        assert not wavs(work, book)


# --- 5. hostile names and files -------------------------------------------------------

HOSTILE_NAMES = [
    b"$(touch PWNED).pdf",
    b"`touch PWNED`;echo x.epub",
    b"quote's \"double\" \\back.pdf",
    b"new\nline.epub",
    b"tab\tand\rreturn.pdf",
    b"{book}{1}.epub",
    b"--help.pdf",
    b"-n.epub",
    b"*?[glob].pdf",
    b"not utf-8 \xff\xfe.epub",
    b"latin-1 caf\xe9.pdf",
]


def test_hostile_file_names_become_books_run_nothing_and_every_record_is_valid_json(tmp_path):
    work = tmp_path / "work"
    books = work / "in"
    books.mkdir(parents=True)
    write_config(work, phases_to_run=[1, 2, 3])
    for number, raw in enumerate(HOSTILE_NAMES):
        maker = epub_book if raw.endswith(b".epub") else pdf_book
        rename_to_bytes(maker(books, f"book{number}{Path(os.fsdecode(raw)).suffix}"), raw)
    # A PDF without a title: its title (and the chapter) come from a name that is not UTF-8.
    rename_to_bytes(untitled_pdf(books, "untitled.pdf"), b"untitled \xff.pdf")
    names = [*HOSTILE_NAMES, b"untitled \xff.pdf"]

    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    raw_json = (work / "pipeline.json").read_bytes()
    data = json.loads(raw_json.decode("utf-8"))  # strict UTF-8: no escaped bytes inside
    files = data["batch"]["files"]
    assert set(files) == {book_id(os.fsdecode(raw)) for raw in names}
    assert all(entry["status"] == "success" for entry in files.values()), files
    assert files[book_id(os.fsdecode(b"new\nline.epub"))]["file_name"] == "new\nline.epub"
    assert files[book_id(os.fsdecode(b"not utf-8 \xff\xfe.epub"))]["file_name"] == "not utf-8 \ufffd\ufffd.epub"
    for book in files:
        record(work, book)  # every per-book record is valid JSON too
    with open(work / "results" / "report.csv", newline="", encoding="utf-8") as handle:
        report = list(csv.DictReader(handle))
    assert len(report) == len(names), "one row per book: no name breaks a line"
    assert "tab\\tand\\rreturn.pdf" in {row["file"] for row in report}
    (work / "results" / "report.html").read_text(encoding="utf-8")
    untitled = record(work, book_id(os.fsdecode(b"untitled \xff.pdf")))
    assert untitled["phases"]["1"]["status"] == "success" and "\ufffd" in untitled["file_name"]
    for root in (work, tmp_path, REPO, Path.cwd(), Path.home()):
        assert not (root / "PWNED").exists()
    assert not list(tmp_path.rglob("PWNED"))


def test_links_out_of_the_input_folder_are_refused_and_reported_and_pipes_ignored(tmp_path):
    work = tmp_path / "work"
    books = work / "in"
    books.mkdir(parents=True)
    outside = tmp_path / "private"
    outside.mkdir()
    secret_book = pdf_book(outside, "diary.pdf")
    pdf_book(books, "real.pdf")
    (books / "diary.pdf").symlink_to(secret_book)
    (books / "passwd.epub").symlink_to("/etc/passwd")
    (books / "inside.pdf").symlink_to(books / "real.pdf")  # a link inside the folder is followed
    os.mkfifo(books / "pipe.pdf")  # reading it would wait for ever: not a regular file, not a book
    write_config(work, phases_to_run=[1])
    proc = snakemake(work, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = pipeline(work)["batch"]["summary"]
    refused = {entry["name"]: entry["reason"] for entry in summary["refused_inputs"]}
    reason = "is a link to a file outside the input folder; copy the book in instead"
    assert refused == {"diary.pdf": reason, "passwd.epub": reason}
    assert set(pipeline(work)["batch"]["files"]) == {"real-pdf", "inside-pdf"}
    log = (work / "batch.log").read_text()
    assert f"[WARNING] diary.pdf: {reason}" in log and f"[WARNING] passwd.epub: {reason}" in log
    assert not (work / "results" / "diary-pdf").exists() and "diary" not in " ".join(started(work))


def limited_memory() -> None:
    """For the run's processes: 2 GB of address space each, and no core files."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    files = (p for p in folder.rglob("*") if p.is_file())
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in files}


@pytest.mark.slow
def test_hostile_books_are_refused_with_one_line_within_memory_and_time_and_touch_nothing_outside(tmp_path):
    work = tmp_path / "work"
    books = work / "in"
    books.mkdir(parents=True)
    secret_text = f"SECRET-{uuid.uuid4().hex}"
    secret = tmp_path / "secret.txt"
    secret.write_text(secret_text)
    escape = f"escaped-{uuid.uuid4().hex}.txt"
    zip_bomb_epub(books / "bomb.epub")
    lying_size_epub(books / "liar.epub")
    traversal_epub(books / "climb.epub", escape)
    xxe_epub(books / "xxe.epub", secret)
    billion_laughs_epub(books / "laughs.epub")
    oversized_pdf(books / "huge.pdf", megabytes=3)
    distinct_book(books, "fine.epub", chapters=1, paragraphs=1)
    write_config(work, phases_to_run=[1, 2, 3], engine={"max_book_mb": 2})
    inputs_before = snapshot(books)
    outside_before = {p for p in tmp_path.iterdir()}

    began = time.monotonic()
    proc = snakemake(work, timeout=300, preexec_fn=limited_memory)
    assert time.monotonic() - began < 300
    assert proc.returncode != 0
    files = pipeline(work)["batch"]["files"]
    assert files["fine-epub"]["status"] == "success"
    expected = {
        "bomb-epub": "bomb.epub: would unpack to 256 MB, above the 8 MB allowed",
        "liar-epub": "liar.epub: has a damaged text document",
        "climb-epub": "climb.epub: has a manifest entry that points outside the book",
        "xxe-epub": "xxe.epub: has a text document that declares XML entities",
        "laughs-epub": "laughs.epub: has a package file (OPF) that declares XML entities",
        "huge-pdf": "huge.pdf: is 3 MB, above the 2 MB limit for one book; raise engine.max_book_mb",
    }
    for book, words in expected.items():
        entry = assert_failed_cleanly(work, book, words)
        assert entry["phases_completed"] == [] and "internal error" not in entry["error"]
    assert files["huge-pdf"]["exit_code"] == 17

    # Nothing read from outside, nothing written outside results/ and Snakemake's own files.
    assert snapshot(books) == inputs_before
    assert {p for p in tmp_path.iterdir()} == outside_before
    written = {str(p.relative_to(work)).split("/")[0] for p in work.rglob("*")} - {"in", "config.yaml"}
    assert written <= {"results", ".snakemake", "pipeline.json", "batch.log"}, written
    for found in work.rglob("*"):
        if found.is_file():
            assert secret_text.encode() not in found.read_bytes(), f"the secret leaked into {found}"
    assert not list(Path("/tmp").glob(escape)) and not list(tmp_path.rglob(escape))


# --- 6. atomic records ----------------------------------------------------------------

AGGREGATE_LOOP = """
import os, sys, time
from audiobook.aggregate import aggregate
from audiobook.orchestrator import main as orchestrate
books, results, rounds, book_file = {books!r}, {results!r}, {rounds}, {book_file!r}
# At least `rounds` rounds, and on until the reader has read every file often
# enough: however fast the writing, the reader sees it many times.
done = 0
while done < rounds or not os.path.exists({enough!r}):
    aggregate(books, [], results, [1, 2, 3], {pipeline!r}, {batch_log!r})
    orchestrate([book_file, "--pipeline-json=" + results + "/extra/book.json", "--phases", "1", "--log-level", "ERROR"])
    done += 1
print("done")
"""


@pytest.mark.slow
def test_records_and_reports_are_never_seen_half_written(tmp_path):
    work = tmp_path / "work"
    make_books(work / "in", {"river.epub": (2, 2)})
    write_config(work, phases_to_run=[1, 2, 3])
    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Many books make big files: copies of a real record under 400 ids.
    one = (work / "results" / "river-epub" / "book.json").read_text()
    books = []
    for number in range(400):
        book = f"copy{number:03d}-epub"
        (work / "results" / book).mkdir()
        (work / "results" / book / "book.json").write_text(one)
        books.append([book, f"copy {number}.epub", str(work / "in" / "river.epub")])
    script = AGGREGATE_LOOP.format(
        books=books, results=str(work / "results"), rounds=12, book_file=str(work / "in" / "river.epub"),
        pipeline=str(work / "pipeline.json"), batch_log=str(work / "batch.log"), enough=str(tmp_path / "enough"),
    )  # fmt: skip
    for earlier in ("pipeline.json", "results/report.csv", "results/report.html", "results/metrics.prom"):
        (work / earlier).unlink()  # the one-book batch's: every version seen from now on has 400 books
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    checks = {
        "pipeline.json": lambda text: json.loads(text)["batch"]["summary"]["total_files"] == 400,
        "results/report.csv": lambda text: len(list(csv.DictReader(io.StringIO(text)))) == 400,
        "results/report.html": lambda text: text.rstrip().endswith("</html>"),
        "results/metrics.prom": lambda text: text.endswith("\n"),
        "results/extra/book.json": lambda text: json.loads(text)["status"] == "success",
    }
    reads = dict.fromkeys(checks, 0)
    torn: list[str] = []
    while writer.poll() is None:
        for name, check in checks.items():
            try:
                text = (work / name).read_text(encoding="utf-8")
            except FileNotFoundError:
                continue  # the orchestrator removes an old record before it starts
            reads[name] += 1
            try:
                if not check(text):
                    torn.append(f"{name}: incomplete ({len(text)} characters)")
            except ValueError as error:
                torn.append(f"{name}: {error}")
        if min(reads.values()) > 20:
            (tmp_path / "enough").touch()
    out, err = writer.communicate()
    assert writer.returncode == 0 and out.strip() == "done", err[-3000:]
    assert torn == []
    assert min(reads.values()) > 20, reads


@pytest.mark.slow
def test_a_corrupt_record_is_reported_set_aside_and_the_book_made_again(tmp_path):
    work = tmp_path / "work"
    make_books(work / "in", {"a.epub": (1, 1), "b.pdf": (1, 1)})
    write_config(work, phases_to_run=[1, 2, 3])
    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    damaged = work / "results" / "a-epub" / "book.json"
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])

    proc = snakemake(work)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    entry = pipeline(work)["batch"]["files"]["a-epub"]
    assert entry["status"] == "failed"
    assert "was unreadable" in entry["error"] and "moved to book.json.corrupt" in entry["error"]
    assert "the next run makes the book again" in entry["error"]
    assert (work / "results" / "a-epub" / "book.json.corrupt").exists() and not damaged.exists()

    log_before = log_size(work)
    proc = snakemake(work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert started(work, log_before) == ["a-epub"]
    assert record(work, "a-epub")["status"] == "success"
    assert pipeline(work)["batch"]["summary"]["successful_files"] == 2


# --- 7. load --------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.load
def test_three_hundred_small_books_finish_with_nothing_lost_and_bounded_memory(tmp_path, record_property):
    work = tmp_path / "work"
    books = work / "in"
    books.mkdir(parents=True)
    for number in range(300):
        paragraph = f"Book {number + 1} is short. It has one line to say, and says it well."
        maker = epub_book if number % 2 else pdf_book
        maker(books, f"tiny-{number:03d}.{'epub' if number % 2 else 'pdf'}", chapters=1, paragraphs=1, text=paragraph)
    write_config(work)
    run = start(work)
    peak_tree_mb = 0.0
    main = psutil.Process(run.pid)
    while run.poll() is None:
        try:
            tree = [main, *main.children(recursive=True)]
            peak_tree_mb = max(peak_tree_mb, sum(p.memory_info().rss for p in tree if p.is_running()) / 2**20)
        except psutil.Error:
            pass
        time.sleep(0.5)
    assert run.returncode == 0, output_of(run)[-3000:]

    summary = pipeline(work)["batch"]["summary"]
    assert (summary["total_files"], summary["successful_files"], summary["failed_files"]) == (300, 300, 0)
    files = pipeline(work)["batch"]["files"]
    peaks = [entry["peak_rss_mb"] for entry in files.values()]
    assert all(peaks) and max(peaks) < 1024, f"peak RSS per book up to {max(peaks)} MB"
    assert peak_tree_mb < 3 * 1024, f"the whole run peaked at {peak_tree_mb:.0f} MB"
    for book in files:
        audio = MP4(work / "results" / book / f"{book}.m4b")
        assert audio.info.length > 1
    log = (work / "batch.log").read_text()
    assert log.count("[SUCCESS]") == 300 and "[FAIL]" not in log
    # In the JUnit XML (--junitxml) for the record of how long 300 books take.
    record_property("batch_seconds", summary["duration"])
    record_property("peak_rss_mb_per_book", max(peaks))
    record_property("peak_rss_mb_whole_run", round(peak_tree_mb))
