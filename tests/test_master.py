"""Phase 5 with real ffmpeg: speech-like chunk audio in, finished audiobooks out.

The chunk WAVs are synthesised here (harmonic "voices" with syllables, gaps,
varied levels and full-scale peaks) so these tests do not need Piper. Every
result is read back independently: mutagen for tags and chapters, ffmpeg's
own meters and decoder for loudness, peaks, lengths and room tone.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import wave
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, Atoms

from audiobook.errors import BookError
from audiobook.ffmpeg import ffmpeg_exe, last_meaningful_line, run_ffmpeg
from audiobook.master import Piece, Timeline, chapter_marks, master, safe_file_name
from audiobook.model import ChunkAudio, ExtractedBook, SpeechManifest, to_dict
from audiobook.settings import EngineSettings

RATE = 22050
VOICE = "en_US-joe-medium"
TITLES = ["Opening", "Chapter 2: Ça = ça; #1 \\ done", "Part 3: What/Why?"]


@dataclass(frozen=True)
class PlannedChunk:
    chapter: int
    seconds: float
    peak_dbfs: float
    pause_s: float
    click: bool = False  # a full-scale spike on top, to prove the limiter


# Levels vary from -20 dBFS to full scale, as sentences from a TTS voice do.
PLAN = [
    PlannedChunk(0, 2.0, -6.0, 0.35),
    PlannedChunk(0, 1.5, 0.0, 2.0),
    PlannedChunk(1, 2.5, -14.0, 0.8),
    PlannedChunk(1, 1.2, -3.0, 2.0, click=True),
    PlannedChunk(2, 2.0, -1.0, 0.35),
    PlannedChunk(2, 1.8, -20.0, 2.0),
]


def speech_like(seconds: float, peak_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """A voice-like test signal: a gliding harmonic tone in syllables of random
    loudness, with words dropped out, peak-normalised to ``peak_dbfs``."""
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    pitch = 110 + 25 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k for k in range(1, 30))
    syllable = RATE // 8
    loudness = np.repeat(rng.uniform(0.15, 1.0, n // syllable + 1), syllable)[:n]
    shape = np.sin(np.pi * (t * 8 % 1)) ** 2
    words = np.repeat(rng.random(n // (2 * syllable) + 1) > 0.2, 2 * syllable)[:n]
    signal = voiced * loudness * shape * words
    return np.round(signal / np.abs(signal).max() * 10 ** (peak_dbfs / 20) * 32767).astype(np.int16)


def write_chunks(work_dir: Path, plan: list[PlannedChunk] = PLAN, titles: list[str] = TITLES) -> SpeechManifest:
    rng = np.random.default_rng(5)
    (work_dir / "audio").mkdir(parents=True, exist_ok=True)
    chunks = []
    for index, planned in enumerate(plan):
        samples = speech_like(planned.seconds, planned.peak_dbfs, rng)
        if planned.click:
            samples[len(samples) // 2 : len(samples) // 2 + 20] = 32767
        relative = f"audio/{index:04d}.wav"
        with wave.open(str(work_dir / relative), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(RATE)
            wav.writeframes(samples.tobytes())
        chunks.append(ChunkAudio(index, planned.chapter, relative, len(samples), planned.pause_s))
    return SpeechManifest(RATE, VOICE, chunks, list(titles))


def expected_starts(plan: list[PlannedChunk], room_tone_s: float = 1.0) -> tuple[list[int], int]:
    """Chapter starts and total length in samples, worked out from the plan."""
    starts, position = [0], round(room_tone_s * RATE)
    for i, planned in enumerate(plan):
        if i and planned.chapter != plan[i - 1].chapter:
            starts.append(position)
        position += round(planned.seconds * RATE)
        if i < len(plan) - 1:
            position += round(planned.pause_s * RATE)
    return starts, position + round(room_tone_s * RATE)


def tiny_png(path: Path, width: int = 16, height: int = 12) -> bytes:
    """A real PNG (RGB gradient), written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # Each row: filter type 0, then RGB pixels.
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 15 % 256, y * 20 % 256, 128)) for x in range(width)) for y in range(height)
    )
    data = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(data)
    return data


def book(cover: str | None = None) -> ExtractedBook:
    return ExtractedBook("The Test Book", "Ann Author", "en-GB", "1999", [], cover_path=cover)


def loudness_of(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak, measured by ffmpeg's EBU R128 meter."""
    done = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true:framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    integrated = float(re.findall(r"I:\s+(\S+) LUFS", done.stderr)[-1])
    true_peak = float(re.findall(r"Peak:\s+(\S+) dBFS", done.stderr)[-1])
    return integrated, true_peak


def decoded(path: Path) -> np.ndarray:
    """The file's audio as ffmpeg decodes it, float samples at the source rate."""
    done = subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-f",
            "f32le",
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(done.stdout, dtype="<f4")


def rms_db(samples: np.ndarray) -> float:
    return 10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-30)


def lag_of(chunk_wav: Path, output: np.ndarray, expected: int) -> int:
    """How far (in samples) the chunk's audio sits from ``expected`` in the output."""
    with wave.open(str(chunk_wav), "rb") as wav:
        source = np.frombuffer(wav.readframes(RATE), dtype="<i2").astype(np.float64)
    search = RATE // 10
    window = output[expected - search : expected + search + len(source)].astype(np.float64)
    scores = np.correlate(window, source, mode="valid")
    return int(np.argmax(scores)) - search


def stream_info(path: Path) -> str:
    done = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    return done.stderr


def handler_types_and_chapter_refs(path: Path) -> tuple[list[bytes], int]:
    """The handler of every track, and how many tracks point to a chapter track."""
    with open(path, "rb") as handle:
        moov = Atoms(handle).path(b"moov")[-1]
        handlers, refs = [], 0
        for track in moov.findall(b"trak"):
            hdlr = next(track.findall(b"hdlr", True))
            handle.seek(hdlr.offset + 16)
            handlers.append(handle.read(4))
            for tref in track.findall(b"tref"):  # mutagen does not parse inside tref: read it
                handle.seek(tref.offset + 8)
                refs += handle.read(tref.length - 8)[4:8] == b"chap"
    return handlers, refs


def assert_level(path: Path, settings: EngineSettings) -> None:
    integrated, true_peak = loudness_of(path)
    assert abs(integrated - settings.loudness_lufs) <= 1.0, integrated
    assert true_peak <= settings.true_peak_db, true_peak
    samples = decoded(path)
    assert np.abs(samples).max() < 10 ** (settings.true_peak_db / 20)  # no clipping, sample peak under -3 dB


# --- M4B ----------------------------------------------------------------------


def test_m4b_has_chapters_loudness_room_tone_tags_and_cover(tmp_path, make_ctx):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    cover_bytes = tiny_png(ctx.work_dir / "cover.png")
    settings = EngineSettings()
    out = tmp_path / "results"

    result = master(ctx, manifest, book("cover.png"), settings, out, "the-book")

    final = out / "the-book.m4b"
    assert result.output_paths == [str(final.resolve())]
    # No temp left behind; the subtitles and read-along sit beside the book (test_readalong.py checks them).
    assert sorted(p.name for p in out.iterdir()) == [
        "the-book.m4b", "the-book.readalong.epub", "the-book.srt", "the-book.vtt"
    ]  # fmt: skip
    starts, total = expected_starts(PLAN)

    # Length: chunks + pauses + room tone, as decoded (priming removed) and as tagged.
    samples = decoded(final)
    assert abs(len(samples) - total) <= 0.01 * total
    audio = MP4(final)
    assert abs(audio.info.length - total / RATE) <= 0.01 * total / RATE
    assert audio.info.channels == 1
    assert 56_000 <= audio.info.bitrate <= 72_000

    # Chapters (Nero chpl, read by mutagen) at the computed sample positions.
    assert [c.title for c in audio.chapters] == TITLES
    for chapter, start in zip(audio.chapters, starts, strict=True):
        assert abs(chapter.start - start / RATE) <= 0.05
    # ... and the QuickTime chapter text track that Apple players read.
    handlers, chapter_refs = handler_types_and_chapter_refs(final)
    assert b"soun" in handlers and b"text" in handlers and chapter_refs == 1
    # The audio itself sits where the marks say: each chapter's first chunk is found there.
    for chapter, start in enumerate(starts):
        first = next(i for i, p in enumerate(PLAN) if p.chapter == chapter)
        offset = start if chapter else round(1.0 * RATE)  # chapter 1 starts with the head room tone
        assert abs(lag_of(ctx.work_dir / manifest.chunks[first].path, samples, offset)) <= 0.002 * RATE
    assert [c["start_s"] for c in result.chapters] == pytest.approx([s / RATE for s in starts], abs=0.001)
    assert result.chapters[-1]["end_s"] == pytest.approx(total / RATE, abs=0.001)

    # Loudness and peaks, measured on the final file.
    assert_level(final, settings)
    assert abs(result.integrated_lufs - settings.loudness_lufs) <= 1.0
    assert result.true_peak_dbtp <= settings.true_peak_db

    # Room tone: quiet noise at head and tail, never digital silence.
    head, tail = samples[RATE // 10 : RATE * 9 // 10], samples[-RATE * 9 // 10 : -RATE // 10]
    for tone in (head, tail):
        assert -80.0 < rms_db(tone) <= -60.0
        assert np.count_nonzero(tone) > 0.9 * len(tone)
    assert result.noise_floor_db <= -60.0
    assert result.acx_pass, result.acx_problems

    tags = audio.tags
    assert tags["©nam"] == ["The Test Book"] and tags["©alb"] == ["The Test Book"]
    assert tags["©ART"] == ["Ann Author"] and tags["aART"] == ["Ann Author"]
    assert tags["©gen"] == ["Audiobook"]
    assert tags["©day"] == ["1999"]
    assert tags["©wrt"] == [VOICE]
    assert bytes(tags["----:com.apple.iTunes:NARRATOR"][0]) == VOICE.encode()
    assert tags["stik"] == [2]
    assert bytes(tags["covr"][0]) == cover_bytes
    assert "(eng): Audio: aac" in stream_info(final)

    assert ctx.metrics["audio_seconds"] == pytest.approx(total / RATE, rel=0.01)
    assert ctx.metrics["chapters"] == 3 and ctx.metrics["cover"] is True
    for key in ("integrated_lufs", "true_peak_dbtp", "rms_db", "noise_floor_db", "acx_pass", "acx_problems"):
        assert key in ctx.metrics


def test_second_run_replaces_the_book_and_a_bad_cover_is_left_out(tmp_path, make_ctx):
    """A cover ffmpeg cannot decode must not sink hours of audio: the book is made without it."""
    ctx = make_ctx(tmp_path / "book.epub")
    plan = PLAN[:2]
    manifest = write_chunks(ctx.work_dir, plan, ["Only"])
    (ctx.work_dir / "cover.jpg").write_bytes(os.urandom(3000))
    out = tmp_path / "results"
    (out).mkdir()
    (out / "b.m4b").write_bytes(b"an older, different book")

    result = master(ctx, manifest, book("cover.jpg"), EngineSettings(), out, "b")

    audio = MP4(out / "b.m4b")
    assert "covr" not in audio.tags
    assert ctx.metrics["cover_skipped"].startswith("cover.jpg: ffmpeg could not read the cover")
    assert ctx.metrics["cover"] is False
    assert [c.title for c in audio.chapters] == ["Only"]
    assert result.duration_s == pytest.approx(expected_starts(plan)[1] / RATE, rel=0.01)
    assert sorted(p.name for p in out.iterdir()) == ["b.m4b", "b.readalong.epub", "b.srt", "b.vtt"]


# --- MP3 ----------------------------------------------------------------------


def test_mp3_has_chap_frames_tags_and_front_cover(tmp_path, make_ctx):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    cover = ctx.work_dir / "cover.jpg"
    subprocess.run(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=teal:s=32x32",
            "-frames:v",
            "1",
            str(cover),
        ],
        check=True,
    )
    settings = EngineSettings(output_format="mp3")

    result = master(ctx, manifest, book(str(cover)), settings, tmp_path / "out", "b")

    final = tmp_path / "out" / "b.mp3"
    assert result.output_paths == [str(final.resolve())]
    starts, total = expected_starts(PLAN)
    assert abs(len(decoded(final)) - total) <= 0.01 * total
    audio = MP3(final)
    assert audio.info.bitrate == 64_000
    chapters = sorted(audio.tags.getall("CHAP"), key=lambda frame: frame.start_time)
    assert [frame.sub_frames["TIT2"].text[0] for frame in chapters] == TITLES
    for frame, start in zip(chapters, starts, strict=True):
        assert abs(frame.start_time / 1000 - start / RATE) <= 0.05
    tags = ID3(final)
    assert tags["TIT2"].text == ["The Test Book"] and tags["TALB"].text == ["The Test Book"]
    assert tags["TPE1"].text == ["Ann Author"] and tags["TPE2"].text == ["Ann Author"]
    assert tags["TCON"].text == ["Audiobook"]
    assert tags["TXXX:narrator"].text == [VOICE]
    (picture,) = tags.getall("APIC")
    assert picture.type == 3 and picture.data == cover.read_bytes()  # front cover, as given
    assert_level(final, settings)


def test_mp3_per_chapter_gives_one_safe_named_file_per_chapter(tmp_path, make_ctx):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    settings = EngineSettings(output_format="mp3", mp3_per_chapter=True)
    out = tmp_path / "out"

    result = master(ctx, manifest, book(), settings, out, "b")

    names = ["01 - Opening.mp3", "02 - Chapter 2 Ça = ça; #1 done.mp3", "03 - Part 3 What Why.mp3"]
    assert sorted(p.name for p in out.iterdir()) == ["b", "b.readalong.epub"]
    subtitles = [name.removesuffix(".mp3") + suffix for name in names for suffix in (".srt", ".vtt")]
    assert sorted(p.name for p in (out / "b").iterdir()) == sorted(names + subtitles)
    assert result.output_paths == [str((out / "b" / name).resolve()) for name in names]
    total_seconds = 0.0
    for number, (name, title) in enumerate(zip(names, TITLES, strict=True), start=1):
        chapter_plan = [p for p in PLAN if p.chapter == number - 1]
        _, frames = expected_starts(chapter_plan)  # each file has its own head and tail room tone
        samples = decoded(out / "b" / name)
        assert abs(len(samples) - frames) <= 0.01 * frames
        total_seconds += len(samples) / RATE
        tags = ID3(out / "b" / name)
        assert tags["TIT2"].text == [title] and tags["TALB"].text == ["The Test Book"]
        assert tags["TRCK"].text == [f"{number}/3"]
        assert np.abs(samples).max() < 10 ** (settings.true_peak_db / 20)
    assert result.duration_s == pytest.approx(total_seconds, rel=0.01)
    assert abs(result.integrated_lufs - settings.loudness_lufs) <= 1.0
    assert [c["title"] for c in result.chapters] == TITLES


# --- failures -----------------------------------------------------------------


def test_missing_chunk_audio_is_a_clear_error_and_leaves_nothing(tmp_path, make_ctx):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    (ctx.work_dir / manifest.chunks[3].path).unlink()
    out = tmp_path / "out"
    with pytest.raises(BookError) as caught:
        master(ctx, manifest, book(), EngineSettings(), out, "b")
    assert caught.value.kind == "failed" and not caught.value.retryable
    assert "0003.wav" in caught.value.line("book.pdf") and "\n" not in caught.value.line("book.pdf")
    assert not out.exists() or list(out.iterdir()) == []


def test_unwritable_output_folder_fails_before_any_encoding(tmp_path, make_ctx):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir, PLAN[:1], ["One"])
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the output folder should be")
    with pytest.raises(BookError) as caught:
        master(ctx, manifest, book(), EngineSettings(), blocker / "out", "b")
    assert caught.value.kind == "failed" and "output folder" in caught.value.problem
    assert blocker.read_text() == "a file where the output folder should be"


def test_a_failing_ffmpeg_is_a_retryable_error_naming_the_cause(tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + os.urandom(2000))
    with pytest.raises(BookError) as caught:
        run_ffmpeg(["-i", str(broken), "-f", "null", "-"], what="read the test file")
    assert caught.value.kind == "tool_failed" and caught.value.retryable
    assert "could not read the test file" in caught.value.problem
    assert "Invalid data" in caught.value.problem or "broken.wav" in caught.value.problem


def test_last_meaningful_line_skips_the_cascade_after_the_cause():
    stderr = (
        "[png @ 0x1] Invalid PNG signature 0x1C2E.\n"
        "[vist#0:0/png @ 0x2] [dec:png @ 0x3] Decoding error: Invalid data found when processing input\n"
        "[vost#0:0/wrapped_avframe @ 0x4] Task finished with error code: -22 (Invalid argument)\n"
        "[out#0/null @ 0x5] Nothing was written into output file, because at least one of its streams received no packets.\n"
        "Conversion failed!\n"
    )
    assert last_meaningful_line(stderr) == "Decoding error: Invalid data found when processing input"


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (needs root and mount rights; skips otherwise)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_disk_is_a_disk_full_error_and_leaves_no_file(tmp_path, make_ctx, tiny_disk):
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    with pytest.raises(BookError) as caught:
        master(ctx, manifest, book(), EngineSettings(), tiny_disk, "b")
    assert caught.value.kind == "disk_full" and not caught.value.retryable
    assert caught.value.exit_code == 22
    assert list(tiny_disk.iterdir()) == []  # neither the final name nor the temp file


_CHILD = """
import json, logging, resource, sys
from pathlib import Path
from audiobook.errors import BookError
from audiobook.master import master
from audiobook.model import ExtractedBook, PhaseContext, SpeechManifest, from_dict
from audiobook.settings import EngineSettings
work, out, manifest_file = map(Path, sys.argv[1:4])
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
manifest = from_dict(SpeechManifest, json.loads(manifest_file.read_text()))
ctx = PhaseContext(Path("book.pdf"), work, 1, logging.getLogger("child"))
try:
    master(ctx, manifest, ExtractedBook("T", "A", "en", None, []), EngineSettings(), out, "b")
    print(json.dumps({"kind": None}))
except BookError as error:
    print(json.dumps({"kind": error.kind, "retryable": error.retryable, "line": error.line("book.pdf")}))
"""


def test_file_size_limit_is_a_disk_full_error_and_leaves_no_file(tmp_path, make_ctx):
    """Under RLIMIT_FSIZE ffmpeg is killed by SIGXFSZ mid-write: to the user that is a full disk."""
    ctx = make_ctx(tmp_path / "book.pdf")
    manifest = write_chunks(ctx.work_dir)
    manifest_file = tmp_path / "manifest.json"
    manifest_file.write_text(json.dumps(to_dict(manifest)))
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ctx.work_dir), str(out), str(manifest_file)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["kind"] == "disk_full" and report["retryable"] is False, report
    assert "disk space" in report["line"]
    assert list(out.iterdir()) == []


# --- pure parts ---------------------------------------------------------------


def test_chapter_marks_follow_sample_counts_and_skip_empty_chapters():
    chunks = [
        ChunkAudio(0, 0, "a", 1000, 0.1),
        ChunkAudio(1, 0, "b", 500, 1.0),
        ChunkAudio(2, 2, "c", 700, 0.1),  # chapter 1 has no speech: no mark for it
        ChunkAudio(3, 5, "d", 300, 2.0),  # no title known for chapter 5
    ]
    rate = 100
    pieces = [Piece(Path(c.path), c.samples, round(c.pause_after_s * rate)) for c in chunks]
    pieces[-1] = Piece(Path("d"), 300, 0)
    timeline = Timeline(rate, 50, pieces, 50)
    marks = chapter_marks(chunks, timeline, ["One", "", "  Three\n"])
    assert [(m.title, m.start, m.end) for m in marks] == [
        ("One", 0, 50 + 1010 + 600),
        ("Three", 1660, 1660 + 710),
        ("Chapter 6", 2370, 2370 + 300 + 50),
    ]
    assert timeline.frames == 2720


def test_safe_file_name():
    assert safe_file_name("Part 3: What/Why?") == "Part 3 What Why"
    assert safe_file_name("..\\..\\etc/passwd") == "etc passwd"
    assert safe_file_name("a\x00b\nc") == "a b c"
    assert safe_file_name("   ") == "Chapter"
    assert len(safe_file_name("x" * 500)) == 80
