"""Phase 5: master the chunk audio into one finished audiobook.

The chunks are joined in order with their pauses, streamed to ffmpeg through a
pipe (never one huge file, never thousands of inputs), brought to the target
loudness with a measured gain and a peak limiter, laid on a constant bed of
room tone (very quiet noise: audiobook stores reject digital silence), and
encoded as AAC in an M4B with chapter marks, tags and cover, or as MP3.

The gain is searched on the limited speech before encoding; the finished file
is measured again and, when the encoder moved it off target, encoded again.
Output appears under its final name only once it is complete and read back.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import shutil
import unicodedata
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from mutagen import MutagenError
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4, MP4FreeForm

from audiobook.errors import BookError, disk_full_error
from audiobook.ffmpeg import run_ffmpeg
from audiobook.fileio import read_json, sha256_file, write_json
from audiobook.model import ChunkAudio, ExtractedBook, MasterResult, PhaseContext, SpeechManifest, from_dict, to_dict
from audiobook.settings import PHASE_SETTINGS, EngineSettings
from audiobook.subtitles import TimedSentence, build_cues, write_subtitles

# What the last encode made, so turning on subtitles or the read-along for a
# finished book makes only those files (phase 5 reruns, the audio is kept).
AUDIO_RECORD = "master-audio.json"
# Hard links to the last encode's files: Snakemake deletes a job's outputs before it reruns
# it (a changed setting), and the audio is brought back from here instead of encoded again.
KEPT_AUDIO_DIR = "master-audio"
# Phase-5 settings that do not touch the audio.
EXTRA_SETTINGS = ("subtitles", "readalong")

# Room tone is a constant noise bed this far below full scale (RMS): well under
# ACX's -60 dB noise floor, yet never digital silence.
ROOM_TONE_DBFS = -70.0
# The limiter works on samples; peaks between samples and the encoder's own
# overshoot come on top (AAC at 64 kb/s added 0.8-1.4 dB to Piper speech), so
# it limits this much below the true-peak ceiling.
LIMITER_MARGIN_DB = 2.0
# ffmpeg reports true peak to 0.1 dB, other meters differ a little: keep clear.
PEAK_SAFETY_DB = 0.2
MIN_LIMIT_DB = -24.0  # alimiter's lowest limit
# The gain search stops this close to the target; a finished book further off
# than LOUDNESS_TOLERANCE_LU is logged (the promise is ±1 LU).
PROBE_TOLERANCE_LU = 0.2
LOUDNESS_TOLERANCE_LU = 0.5
MAX_PROBES = 6
MAX_ENCODES = 3
# Never amplify or cut by more than this: beyond it the speech itself is broken.
MAX_GAIN_DB = 40.0
MAX_GAIN_STEP_DB = 12.0
# ACX audio submission requirements.
ACX_RMS_DB = (-23.0, -18.0)
ACX_PEAK_DB = -3.0
ACX_NOISE_FLOOR_DB = -60.0
# Window for the quietest-part (noise floor) measurement; head and tail room tone are longer.
NOISE_WINDOW_S = 0.5
GENRE = "Audiobook"
_FEED_FRAMES = 1 << 16
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)

# ISO 639-1 -> ISO 639-2/B, for the MP4 track language (BCP 47 primary subtags).
# fmt: off
_LANGUAGE_639_2 = {
    "ar": "ara", "ca": "cat", "cs": "cze", "da": "dan", "de": "ger", "el": "gre", "en": "eng",
    "es": "spa", "fa": "per", "fi": "fin", "fr": "fre", "he": "heb", "hi": "hin", "hu": "hun",
    "is": "ice", "it": "ita", "ja": "jpn", "ka": "geo", "kk": "kaz", "ko": "kor", "lb": "ltz",
    "lv": "lav", "ml": "mal", "ne": "nep", "nl": "dut", "no": "nor", "nb": "nob", "pl": "pol",
    "pt": "por", "ro": "rum", "ru": "rus", "sk": "slo", "sl": "slv", "sr": "srp", "sv": "swe",
    "sw": "swa", "te": "tel", "tr": "tur", "uk": "ukr", "vi": "vie", "zh": "chi", "cy": "wel",
}
# fmt: on


@dataclass(frozen=True)
class Piece:
    """One chunk's audio in the joined timeline, with the silence after it."""

    path: Path
    frames: int
    silence_after: int


@dataclass
class Timeline:
    """A stretch of joined audio: room tone, the chunks with their pauses, room tone."""

    sample_rate: int
    head: int  # frames of room tone before the first chunk
    pieces: list[Piece]
    tail: int  # frames of room tone after the last chunk

    @property
    def frames(self) -> int:
        return self.head + sum(p.frames + p.silence_after for p in self.pieces) + self.tail

    def feed(self, out: BinaryIO) -> None:
        """Write the timeline as 16-bit mono PCM; silence is written as zeros and
        becomes room tone in ffmpeg, after the gain, so its level is exact."""
        _write_zeros(out, self.head)
        for piece in self.pieces:
            with _open_chunk(piece.path) as wav:
                left = piece.frames
                while left > 0:
                    data = wav.readframes(min(left, _FEED_FRAMES))
                    if not data:
                        raise BookError(
                            "failed",
                            f"chunk audio {piece.path.name} is shorter than its header says",
                            "delete it from the work folder and run phase 4 (speak) again",
                        )
                    out.write(data)
                    left -= len(data) // 2
            _write_zeros(out, piece.silence_after)
        _write_zeros(out, self.tail)


@dataclass(frozen=True)
class ChapterMark:
    title: str
    start: int  # frames from the start of its file
    end: int


@dataclass(frozen=True)
class AudioStats:
    """How a finished file measures."""

    duration_s: float
    integrated_lufs: float
    true_peak_dbtp: float
    rms_db: float
    noise_floor_db: float


@dataclass
class Output:
    """One file to make: its audio, chapter marks and tags."""

    final: Path
    temp: Path
    timeline: Timeline
    marks: list[ChapterMark]
    tags: dict[str, str]
    stats: AudioStats | None = None
    chunks: list[ChunkAudio] = field(default_factory=list)  # the chunks its timeline plays, in order


def master(
    ctx: PhaseContext,
    manifest: SpeechManifest,
    book: ExtractedBook,
    settings: EngineSettings,
    output_dir: Path,
    output_name: str,
) -> MasterResult:
    """Make the audiobook file(s) in ``output_dir`` and measure them."""
    if settings.output_format not in ("m4b", "mp3"):
        raise BookError(
            "failed", f"unknown output format {settings.output_format!r}", "set output_format to m4b or mp3"
        )
    if not manifest.chunks:
        raise BookError("failed", "there is no speech to master", "run phase 4 (speak) again")
    output_dir = Path(output_dir).resolve()  # ffmpeg's concat list needs absolute paths
    _check_writable(output_dir)
    rate = manifest.sample_rate
    room_tone = round(settings.room_tone_s * rate)
    pieces = _read_pieces(ctx.work_dir, manifest.chunks, rate)
    book_timeline = _timeline(pieces, rate, room_tone)
    book_marks = chapter_marks(manifest.chunks, book_timeline, manifest.chapter_titles)
    tags = _book_tags(book, manifest)
    cover = _usable_cover(ctx, book)
    if settings.output_format == "mp3" and settings.mp3_per_chapter:
        outputs = _chapter_outputs(manifest, pieces, book_marks, tags, rate, room_tone, output_dir, output_name)
        temp_dir: Path | None = outputs[0].temp.parent
    else:
        final = output_dir / f"{output_name}.{settings.output_format}"
        outputs = [Output(final, output_dir / f".{final.name}.part", book_timeline, book_marks, tags, None, manifest.chunks)]
        temp_dir = None

    audio_key = _audio_key(manifest, tags, cover, settings, outputs)
    kept = _kept_audio(ctx, audio_key)
    if kept is not None:
        result, metrics = kept
        ctx.log.info("phase 5: the audiobook is up to date; making only subtitles and read-along")
        return _finish_extras(ctx, result, metrics, outputs, book, settings, output_dir, output_name)

    try:
        if temp_dir is not None:
            _fresh_dir(temp_dir)
        levels = _encode_on_target(ctx, outputs, book_timeline, cover, settings, _language_639_2(book.language))
        for output in outputs:
            _tag_and_verify(output, settings)
        paths = _publish(outputs, temp_dir, output_dir, output_name)
    except OSError as error:
        if error.errno in _DISK_FULL_ERRNOS:
            raise disk_full_error(error, f"the audiobook in {output_dir}") from error
        raise BookError(
            "failed",
            f"could not write the audiobook in {output_dir} ({error.strerror or error})",
            "check that the output folder is writable and run again",
        ) from error
    finally:
        for output in outputs:
            with contextlib.suppress(FileNotFoundError):
                output.temp.unlink()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)

    result = _result(outputs, paths, levels.integrated_lufs, rate)
    metrics = {
            "audio_seconds": round(result.duration_s, 2),
            "duration_s": round(result.duration_s, 2),
            "integrated_lufs": result.integrated_lufs,
            "true_peak_dbtp": result.true_peak_dbtp,
            "rms_db": result.rms_db,
            "noise_floor_db": result.noise_floor_db,
            "acx_pass": result.acx_pass,
            "acx_problems": result.acx_problems,
            "chapters": len(result.chapters),
            "gain_db": round(levels.gain_db, 2),
            "limit_db": round(levels.limit_db, 2),
            "encodes": levels.encodes,
            "cover": cover is not None,
        }
    ctx.metrics.update(metrics)
    ctx.log.info(
        "mastered %s: %.0f s, %.1f LUFS, true peak %.1f dBTP, ACX %s",
        ", ".join(Path(p).name for p in paths[:3]),
        result.duration_s,
        result.integrated_lufs,
        result.true_peak_dbtp,
        "pass" if result.acx_pass else "fail: " + "; ".join(result.acx_problems),
    )
    kept_files = _keep_audio(ctx.work_dir, result.output_paths)
    write_json(
        ctx.work_dir / AUDIO_RECORD,
        {"key": audio_key, "result": to_dict(result), "metrics": metrics, "kept": kept_files},
    )
    return _finish_extras(ctx, result, metrics, outputs, book, settings, output_dir, output_name)


# --- subtitles and read-along -------------------------------------------------


def _audio_key(
    manifest: SpeechManifest, tags: dict[str, str], cover: Path | None, settings: EngineSettings, outputs: list[Output]
) -> str:
    """Everything the audio files depend on: the speech, the audio settings, tags, cover and names."""
    audio_settings = {name: getattr(settings, name) for name in PHASE_SETTINGS[5] if name not in EXTRA_SETTINGS}
    shape = {
        "chunks": [[c.path, c.samples, c.pause_after_s] for c in manifest.chunks],
        "titles": manifest.chapter_titles,
        "voice": manifest.voice,
        "settings": audio_settings,
        "tags": tags,
        "cover": sha256_file(cover) if cover else None,
        "files": [str(o.final) for o in outputs],
    }
    blob = json.dumps(shape, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def _keep_audio(work_dir: Path, paths: list[str]) -> list[list]:
    """Hard-link each finished file into the work folder; [final, kept, size] for those linked."""
    folder = work_dir / KEPT_AUDIO_DIR
    shutil.rmtree(folder, ignore_errors=True)
    kept = []
    try:
        folder.mkdir(parents=True)
        for number, path in enumerate(paths):
            link = folder / f"kept-{number:04d}"  # no audio suffix: nothing takes it for an audiobook
            os.link(path, link)
            kept.append([path, str(link), link.stat().st_size])
    except OSError:  # another file system, or no hard links: nothing kept, a rerun encodes again
        shutil.rmtree(folder, ignore_errors=True)
        return []
    return kept


def _kept_audio(ctx: PhaseContext, key: str) -> tuple[MasterResult, dict] | None:
    """The result of the last encode when it made these very files and they are all still there
    (or can be brought back from their hard links in the work folder)."""
    try:
        saved = read_json(ctx.work_dir / AUDIO_RECORD)
        result = from_dict(MasterResult, saved["result"])
        kept = {final: (Path(link), size) for final, link, size in saved.get("kept") or []}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if saved.get("key") != key:
        return None
    for path in map(Path, result.output_paths):
        link, size = kept.get(str(path), (None, None))
        if size is None:
            return None  # nothing kept to check it against: encode again
        if path.is_file():
            if path.stat().st_size != size:  # changed since (a damaged copy): encode again
                return None
            continue
        if link is None or not link.is_file() or link.stat().st_size != size:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(link, path)
            os.utime(path)  # made by this run, as far as the workflow can tell
        except OSError:
            return None
    return result, dict(saved.get("metrics") or {})


def timed_sentences(output: Output) -> list[TimedSentence]:
    """Every spoken sentence of one output file, in seconds from that file's start, as the timeline lays it."""
    timeline = output.timeline
    rate = timeline.sample_rate
    position = timeline.head
    found = []
    for chunk, piece in zip(output.chunks, timeline.pieces, strict=True):
        pauses = chunk.pauses or [[] for _ in chunk.spans]
        for (start, end), text, heading, inner in zip(chunk.spans, chunk.printed, chunk.headings, pauses, strict=False):
            end = min(end, piece.frames)
            if end > start:
                seconds = tuple(((position + a) / rate, (position + b) / rate) for a, b in inner)
                found.append(
                    TimedSentence(
                        text, (position + start) / rate, (position + end) / rate, heading, chunk.chapter, seconds
                    )
                )
        position += piece.frames + piece.silence_after
    return found


def _finish_extras(
    ctx: PhaseContext,
    result: MasterResult,
    metrics: dict,
    outputs: list[Output],
    book: ExtractedBook,
    settings: EngineSettings,
    output_dir: Path,
    output_name: str,
) -> MasterResult:
    """Write (or remove) the subtitles and the read-along EPUB beside the audio, and note them in the result."""
    import time

    started = time.monotonic()
    ctx.metrics.update(metrics)
    timed = [(Path(final), timed_sentences(output)) for final, output in zip(result.output_paths, outputs, strict=True)]
    subtitle_paths: list[str] = []
    for audio, sentences in timed:
        stem = audio.with_suffix("")
        if settings.subtitles:
            subtitle_paths += [str(p) for p in write_subtitles(sentences, stem)]
        else:
            for suffix in (".vtt", ".srt"):
                stem.with_name(stem.name + suffix).unlink(missing_ok=True)
    readalong_file = output_dir / f"{output_name}.readalong.epub"
    readalong_path = None
    if settings.readalong:
        from audiobook.readalong import make_readalong

        summary = make_readalong(ctx, book, timed, readalong_file)
        readalong_path = str(readalong_file)
        ctx.metrics["readalong_sentences"] = summary.sentences
        ctx.metrics["readalong_unmatched"] = summary.unmatched
    else:
        readalong_file.unlink(missing_ok=True)
    result.subtitle_paths = subtitle_paths
    result.readalong_path = readalong_path
    ctx.metrics["subtitle_files"] = len(subtitle_paths)
    ctx.metrics["timed_sentences"] = sum(len(sentences) for _, sentences in timed)
    if settings.subtitles:
        ctx.metrics["cues"] = sum(len(build_cues(sentences)) for _, sentences in timed)
    ctx.metrics["readalong_seconds"] = round(time.monotonic() - started, 3)
    return result


@dataclass(frozen=True)
class Levels:
    """The gain and limit the book was encoded with, and the loudness it came out at."""

    gain_db: float
    limit_db: float
    integrated_lufs: float
    encodes: int


def _encode_on_target(
    ctx: PhaseContext,
    outputs: list[Output],
    book_timeline: Timeline,
    cover: Path | None,
    settings: EngineSettings,
    language: str | None,
) -> Levels:
    """Encode every output so the book meets its loudness and true-peak targets.

    The gain is found on the limited speech before encoding (cheap passes);
    the encoded files are then measured, and when the encoder moved loudness or
    peaks off target (AAC overshoots peaks, drops some treble), the targets are
    corrected by what it did and the book encoded again.
    """
    rate = book_timeline.sample_rate
    ctx.log.info("measuring speech loudness (%.0f s of audio)", book_timeline.frames / rate)
    speech_lufs = measure_stream_loudness(book_timeline, ctx.threads)
    gain_db = _clamp(settings.loudness_lufs - speech_lufs, -MAX_GAIN_DB, MAX_GAIN_DB)
    limit_db = settings.true_peak_db - LIMITER_MARGIN_DB
    peak_ceiling = settings.true_peak_db - PEAK_SAFETY_DB
    search_target = settings.loudness_lufs
    for encodes in range(1, MAX_ENCODES + 1):
        gain_db = find_gain(book_timeline, search_target, gain_db, limit_db, ctx.threads)
        for output in outputs:
            ctx.log.info("encoding %s (gain %+.1f dB, limit %.1f dBFS)", output.final.name, gain_db, limit_db)
            _encode(
                output,
                cover,
                settings,
                language=language,
                gain_db=gain_db,
                limit_db=limit_db,
                work_dir=ctx.work_dir,
                threads=ctx.threads,
            )
            output.stats = measure_file(output.temp, ctx.threads)
        integrated = _book_loudness(outputs, ctx.work_dir, ctx.threads)
        peak = max(o.stats.true_peak_dbtp for o in outputs if o.stats)
        loudness_off = settings.loudness_lufs - integrated
        if peak <= peak_ceiling and abs(loudness_off) <= LOUDNESS_TOLERANCE_LU:
            break
        if encodes == MAX_ENCODES:
            ctx.log.warning(
                "the book measures %.1f LUFS, true peak %.1f dBTP; targets were %.1f LUFS, %.1f dBTP",
                integrated,
                peak,
                settings.loudness_lufs,
                settings.true_peak_db,
            )
            break
        if peak > peak_ceiling:
            limit_db = max(limit_db - (peak - peak_ceiling) - 0.3, MIN_LIMIT_DB)
        if abs(loudness_off) > LOUDNESS_TOLERANCE_LU:
            search_target += loudness_off
    return Levels(gain_db, limit_db, integrated, encodes)


# --- the timeline -------------------------------------------------------------


def _open_chunk(path: Path) -> wave.Wave_read:
    try:
        return wave.open(str(path), "rb")
    except (OSError, EOFError, wave.Error) as error:
        raise BookError(
            "failed",
            f"chunk audio {path.name} is missing or damaged ({error})",
            "run phase 4 (speak) again to remake it",
        ) from error


def _read_pieces(work_dir: Path, chunks: Sequence[ChunkAudio], rate: int) -> list[Piece]:
    """Each chunk with its length from its WAV header (chapter marks come from
    real lengths, not from what the manifest says) and its pause."""
    pieces = []
    for chunk in chunks:
        path = work_dir / chunk.path
        with _open_chunk(path) as wav:
            shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
            if shape != (1, 2, rate):
                raise BookError(
                    "failed",
                    f"chunk audio {path.name} is {shape[0]} channel(s), {8 * shape[1]}-bit, {shape[2]} Hz, "
                    f"not mono 16-bit at {rate} Hz like the rest",
                    "delete the work folder's audio and run phase 4 (speak) again",
                )
            pieces.append(Piece(path, wav.getnframes(), round(chunk.pause_after_s * rate)))
    return pieces


def _timeline(pieces: Sequence[Piece], rate: int, room_tone: int) -> Timeline:
    joined = list(pieces)
    # The last chunk's pause gives way to the tail room tone.
    joined[-1] = Piece(joined[-1].path, joined[-1].frames, 0)
    return Timeline(rate, room_tone, joined, room_tone)


def chapter_marks(chunks: Sequence[ChunkAudio], timeline: Timeline, titles: Sequence[str]) -> list[ChapterMark]:
    """One mark per chapter, starting where its first chunk starts; the first
    chapter also owns the head room tone, the last the tail."""
    starts: list[tuple[int, int]] = []  # (chapter index, frame)
    position = timeline.head
    for chunk, piece in zip(chunks, timeline.pieces, strict=True):
        if not starts or chunk.chapter != starts[-1][0]:
            starts.append((chunk.chapter, 0 if not starts else position))
        position += piece.frames + piece.silence_after
    ends = [frame for _, frame in starts[1:]] + [timeline.frames]
    return [
        ChapterMark(_chapter_title(titles, index), start, end) for (index, start), end in zip(starts, ends, strict=True)
    ]


def _chapter_title(titles: Sequence[str], index: int) -> str:
    title = titles[index].strip() if 0 <= index < len(titles) and titles[index] else ""
    return " ".join(title.split()) or f"Chapter {index + 1}"


def _chapter_outputs(
    manifest: SpeechManifest,
    pieces: list[Piece],
    book_marks: list[ChapterMark],
    tags: dict[str, str],
    rate: int,
    room_tone: int,
    output_dir: Path,
    output_name: str,
) -> list[Output]:
    """One MP3 per chapter, each with its own head and tail room tone."""
    groups: list[list[int]] = []
    for i, chunk in enumerate(manifest.chunks):
        if not groups or chunk.chapter != manifest.chunks[groups[-1][0]].chapter:
            groups.append([])
        groups[-1].append(i)
    temp_dir = output_dir / f".{output_name}.part"
    width = max(2, len(str(len(groups))))
    outputs = []
    for number, (members, mark) in enumerate(zip(groups, book_marks, strict=True), start=1):
        timeline = _timeline([pieces[i] for i in members], rate, room_tone)
        name = f"{number:0{width}d} - {safe_file_name(mark.title)}.mp3"
        file_tags = dict(tags, title=mark.title, track=f"{number}/{len(groups)}")
        chunks = [manifest.chunks[i] for i in members]
        outputs.append(Output(output_dir / output_name / name, temp_dir / name, timeline, [], file_tags, None, chunks))
    return outputs


def safe_file_name(text: str, limit: int = 80) -> str:
    """A chapter title made safe as a file name on any common file system."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]+', " ", text)
    text = " ".join(text.split()).strip(" .")
    if len(text) > limit:
        text = text[:limit].rstrip(" .")
    return text or "Chapter"


def _write_zeros(out: BinaryIO, frames: int) -> None:
    block = bytes(2 * _FEED_FRAMES)
    while frames > 0:
        step = min(frames, _FEED_FRAMES)
        out.write(block[: 2 * step])
        frames -= step


# --- tags and cover -----------------------------------------------------------


def _book_tags(book: ExtractedBook, manifest: SpeechManifest) -> dict[str, str]:
    tags = {"title": book.title.strip() or "Untitled", "genre": GENRE, "narrator": manifest.voice}
    tags["album"] = tags["title"]
    if book.author and book.author.strip():
        tags["artist"] = tags["album_artist"] = book.author.strip()
    tags["composer"] = manifest.voice  # players without a narrator field show the composer
    if book.year and book.year.strip():
        tags["date"] = book.year.strip()
    return {key: " ".join(value.split()) for key, value in tags.items()}


def _language_639_2(language: str | None) -> str | None:
    if not language:
        return None
    return _LANGUAGE_639_2.get(language.replace("_", "-").split("-")[0].lower())


def _usable_cover(ctx: PhaseContext, book: ExtractedBook) -> Path | None:
    """The book's cover if ffmpeg can decode it; a bad cover is left out, not fatal."""
    if not book.cover_path:
        return None
    cover = Path(book.cover_path)
    if not cover.is_absolute():
        cover = ctx.work_dir / cover
    if not cover.is_file():
        ctx.log.warning("cover %s is missing; the audiobook gets no cover", cover.name)
        ctx.metrics["cover_skipped"] = f"{cover.name} is missing"
        return None
    try:
        run_ffmpeg(["-xerror", "-i", str(cover), "-frames:v", "1", "-f", "null", "-"], what="read the cover")
    except BookError as error:
        ctx.log.warning("cover %s cannot be read (%s); the audiobook gets no cover", cover.name, error.problem)
        ctx.metrics["cover_skipped"] = f"{cover.name}: {error.problem}"
        return None
    return cover


def _cover_codec(cover: Path) -> str:
    """Keep JPEG and PNG as they are; anything else becomes PNG, which every player shows."""
    with open(cover, "rb") as handle:
        magic = handle.read(8)
    return "copy" if magic.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) else "png"


def _ffmetadata(tags: dict[str, str], marks: Sequence[ChapterMark], rate: int) -> str:
    lines = [";FFMETADATA1"]
    lines += [f"{key}={_escape(value)}" for key, value in tags.items()]
    for mark in marks:
        lines += [
            "[CHAPTER]",
            f"TIMEBASE=1/{rate}",
            f"START={mark.start}",
            f"END={mark.end}",
            f"title={_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    """FFMETADATA values: '=', ';', '#', '\\' and newlines are escaped with a backslash."""
    return re.sub(r"([=;#\\\n])", r"\\\1", value)


# --- ffmpeg passes ------------------------------------------------------------


def _pcm_input(rate: int) -> list[str]:
    return ["-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0"]


def _gain_and_limiter(gain_db: float, limit_db: float) -> str:
    # level=0: no make-up gain after limiting; latency=1: no shift of chapter times.
    return (
        f"volume={gain_db:.3f}dB," f"alimiter=limit={10 ** (limit_db / 20):.5f}:level=0:latency=1:attack=5:release=50"
    )


def measure_stream_loudness(
    timeline: Timeline, threads: int, gain_db: float | None = None, limit_db: float | None = None
) -> float:
    """Integrated loudness (LUFS) of the joined speech, as it is or after gain and limiter."""
    chain = "ebur128=framelog=quiet"
    if gain_db is not None and limit_db is not None:
        chain = f"{_gain_and_limiter(gain_db, limit_db)},{chain}"
    stderr = run_ffmpeg(
        ["-filter_threads", str(threads), *_pcm_input(timeline.sample_rate), "-af", chain, "-f", "null", "-"],
        what="measure the speech loudness",
        feed=timeline.feed,
        loglevel="info",
    )
    return _summary_value(stderr, r"I:\s+(\S+) LUFS", "integrated loudness")


def find_gain(timeline: Timeline, target: float, gain_db: float, limit_db: float, threads: int) -> float:
    """The gain that brings the limited speech to ``target`` LUFS.

    The limiter takes back part of any gain, so the loudness is measured after
    it (a cheap pass without encoding) and the gain corrected until it fits.
    """
    tried: list[tuple[float, float]] = []  # (gain dB, loudness it gave)
    for _ in range(MAX_PROBES):
        tried.append((gain_db, measure_stream_loudness(timeline, threads, gain_db, limit_db)))
        if abs(tried[-1][1] - target) <= PROBE_TOLERANCE_LU:
            break
        gain_db = _next_gain(tried, target)
    return min(tried, key=lambda pair: abs(pair[1] - target))[0]


def _encode(
    output: Output,
    cover: Path | None,
    settings: EngineSettings,
    *,
    language: str | None,
    gain_db: float,
    limit_db: float,
    work_dir: Path,
    threads: int,
) -> None:
    rate = output.timeline.sample_rate
    meta_file = work_dir / "master.ffmetadata"
    tags = {k: v for k, v in output.tags.items() if k != "narrator"}  # narrator is written by mutagen
    if settings.output_format == "m4b":
        tags["media_type"] = "2"  # iTunes "stik" 2: audiobook
    else:
        tags["narrator"] = output.tags["narrator"]  # becomes TXXX:narrator
        if language:
            tags["language"] = language  # becomes TLAN
    meta_file.write_text(_ffmetadata(tags, output.marks, rate), encoding="utf-8")
    tone_amplitude = math.sqrt(3) * 10 ** (ROOM_TONE_DBFS / 20)  # uniform white noise: RMS = amplitude / sqrt(3)
    graph = (
        f"[0:a]{_gain_and_limiter(gain_db, limit_db)}[speech];"
        f"anoisesrc=color=white:sample_rate={rate}:amplitude={tone_amplitude:.8f}:seed=20240601[tone];"
        "[speech][tone]amix=inputs=2:duration=first:dropout_transition=0:normalize=0[out]"
    )
    args = ["-filter_complex_threads", str(threads), *_pcm_input(rate), "-i", str(meta_file)]
    if cover is not None:
        args += ["-i", str(cover)]
    args += ["-filter_complex", graph, "-map", "[out]", "-map_metadata", "1", "-map_chapters", "1"]
    if cover is not None:
        args += [
            "-map",
            "2:v",
            "-c:v",
            _cover_codec(cover),
            "-disposition:v:0",
            "attached_pic",
            "-metadata:s:v:0",
            "comment=Cover (front)",
        ]
    args += ["-threads", str(threads), "-ac", "1", "-b:a", f"{settings.bitrate_kbps}k"]
    if language:
        args += ["-metadata:s:a:0", f"language={language}"]
    if settings.output_format == "m4b":
        # mp4 (not ipod) writes both a QuickTime chapter track (Apple) and a Nero chpl atom (others).
        args += ["-c:a", "aac", "-movflags", "+faststart", "-brand", "M4B ", "-f", "mp4"]
    else:
        if settings.bitrate_kbps > 160 and rate < 32000:
            args += ["-ar", "44100"]  # MPEG-2 layer III stops at 160 kb/s
        args += ["-c:a", "libmp3lame", "-id3v2_version", "3", "-f", "mp3"]
    args += ["-y", str(output.temp)]
    run_ffmpeg(args, what=f"encode {output.final.name}", feed=output.timeline.feed, writes=output.final.name)


def measure_file(path: Path, threads: int) -> AudioStats:
    """Loudness, true peak, RMS and noise floor of a finished file, as decoded."""
    stderr = run_ffmpeg(
        [
            "-threads",
            str(threads),
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true:framelog=quiet,"
            f"astats=length={NOISE_WINDOW_S}:measure_perchannel=none:"
            "measure_overall=RMS_level+RMS_trough+Number_of_samples",
            "-f",
            "null",
            "-",
        ],
        what=f"measure {path.name}",
        loglevel="info",
    )
    true_peak_section = stderr[stderr.rfind("True peak:") :]
    rate = _summary_value(stderr, r"Stream #0:\d+.*?Audio: .*?, (\d+) Hz", "sample rate")
    return AudioStats(
        duration_s=_summary_value(stderr, r"Number of samples: (\S+)", "sample count") / rate,
        integrated_lufs=_summary_value(stderr, r"I:\s+(\S+) LUFS", "integrated loudness"),
        true_peak_dbtp=_summary_value(true_peak_section, r"Peak:\s+(\S+) dBFS", "true peak"),
        rms_db=_summary_value(stderr, r"RMS level dB: (\S+)", "RMS level"),
        # ffmpeg spells it "through"; accept the right spelling too.
        noise_floor_db=_summary_value(stderr, r"RMS t(?:h)?rough dB: (\S+)", "RMS trough"),
    )


def _book_loudness(outputs: list[Output], work_dir: Path, threads: int) -> float:
    """Integrated loudness of the whole book, across its files when there are several."""
    if len(outputs) == 1 and outputs[0].stats:
        return outputs[0].stats.integrated_lufs
    listing = work_dir / "master.ffconcat"
    quoted = ["file '" + str(o.temp).replace("'", "'\\''") + "'" for o in outputs]
    listing.write_text("ffconcat version 1.0\n" + "\n".join(quoted) + "\n", encoding="utf-8")
    stderr = run_ffmpeg(
        [
            "-threads",
            str(threads),
            "-f",
            "concat",
            "-safe",
            "0",
            "-i",
            str(listing),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=framelog=quiet",
            "-f",
            "null",
            "-",
        ],
        what="measure the book's loudness",
        loglevel="info",
    )
    return _summary_value(stderr, r"I:\s+(\S+) LUFS", "integrated loudness")


def _summary_value(stderr: str, pattern: str, name: str) -> float:
    found = re.findall(pattern, stderr)
    if not found:
        raise BookError("tool_failed", f"ffmpeg printed no {name} measurement", "run the book again", retryable=True)
    value = float(found[-1])
    return value if math.isfinite(value) else -120.0  # "-inf": silence; keep records plain JSON numbers


# --- finishing ----------------------------------------------------------------


def _tag_and_verify(output: Output, settings: EngineSettings) -> None:
    """Add what ffmpeg cannot write, then read the file back before it is published."""
    try:
        if settings.output_format == "m4b":
            audio = MP4(output.temp)
            # No iTunes atom for a narrator: the freeform one that audiobook tools read.
            audio.tags["----:com.apple.iTunes:NARRATOR"] = [MP4FreeForm(output.tags["narrator"].encode("utf-8"))]
            audio.save()
            audio = MP4(output.temp)
            found_chapters = len(audio.chapters or [])
        else:
            audio = MP3(output.temp)
            found_chapters = len(audio.tags.getall("CHAP")) if audio.tags else 0
    except MutagenError as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, OSError) and cause.errno in _DISK_FULL_ERRNOS:
            raise cause from error
        raise BookError(
            "tool_failed", f"{output.final.name} cannot be read back ({error})", "run the book again", retryable=True
        ) from error
    if not audio.info.length > 0 or found_chapters != len(output.marks):
        raise BookError(
            "tool_failed",
            f"{output.final.name} came out wrong: {audio.info.length:.1f} s, "
            f"{found_chapters} chapter marks instead of {len(output.marks)}",
            "run the book again",
            retryable=True,
        )


def _publish(outputs: list[Output], temp_dir: Path | None, output_dir: Path, output_name: str) -> list[str]:
    """Move the verified files under their final names, all at once per rename."""
    if temp_dir is None:
        (output,) = outputs
        os.replace(output.temp, output.final)
        return [str(output.final)]
    final_dir = output_dir / output_name
    old = output_dir / f".{output_name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final_dir.exists():
        os.replace(final_dir, old)
    os.replace(temp_dir, final_dir)
    shutil.rmtree(old, ignore_errors=True)
    return [str(o.final) for o in outputs]


def _result(outputs: list[Output], paths: list[str], integrated: float, rate: int) -> MasterResult:
    stats = [o.stats for o in outputs if o.stats]
    duration = sum(s.duration_s for s in stats)
    # Mean square of the whole book, weighted by each file's length.
    power = sum(10 ** (s.rms_db / 10) * s.duration_s for s in stats) / duration
    rms_db = 10 * math.log10(power) if power > 0 else -120.0
    problems = []
    for output in outputs:
        for problem in acx_problems(output.stats):  # type: ignore[arg-type]
            problems.append(problem if len(outputs) == 1 else f"{output.final.name}: {problem}")
    chapters: list[dict] = []
    if len(outputs) == 1:
        chapters = [
            {"title": m.title, "start_s": round(m.start / rate, 3), "end_s": round(m.end / rate, 3)}
            for m in outputs[0].marks
        ]
    else:
        start = 0.0
        for output in outputs:
            assert output.stats is not None
            chapters.append(
                {
                    "title": output.tags["title"],
                    "start_s": round(start, 3),
                    "end_s": round(start + output.stats.duration_s, 3),
                    "file": output.final.name,
                }
            )
            start += output.stats.duration_s
    return MasterResult(
        output_paths=paths,
        duration_s=duration,
        integrated_lufs=round(integrated, 2),
        true_peak_dbtp=round(max(s.true_peak_dbtp for s in stats), 2),
        rms_db=round(rms_db, 2),
        noise_floor_db=round(max(s.noise_floor_db for s in stats), 2),
        acx_pass=not problems,
        acx_problems=problems,
        chapters=chapters,
    )


def acx_problems(stats: AudioStats) -> list[str]:
    """What keeps a file from ACX's audio requirements, in words."""
    problems = []
    low, high = ACX_RMS_DB
    if not low <= stats.rms_db <= high:
        problems.append(f"RMS {stats.rms_db:.1f} dB is outside {low:.0f} to {high:.0f} dB")
    if stats.true_peak_dbtp > ACX_PEAK_DB:
        problems.append(f"peak {stats.true_peak_dbtp:.1f} dB is above {ACX_PEAK_DB:.0f} dB")
    if stats.noise_floor_db > ACX_NOISE_FLOOR_DB:
        problems.append(f"noise floor {stats.noise_floor_db:.1f} dB is above {ACX_NOISE_FLOOR_DB:.0f} dB")
    return problems


def _check_writable(output_dir: Path) -> None:
    """Fail in a second, not after an hour of encoding, when the output folder cannot take files."""
    probe = output_dir / f".{os.getpid()}.write-test"
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        if error.errno in _DISK_FULL_ERRNOS:
            raise disk_full_error(error, f"the output folder {output_dir}") from error
        raise BookError(
            "failed",
            f"cannot write to the output folder {output_dir} ({error.strerror})",
            "make the folder writable or choose another output folder",
        ) from error


def _fresh_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def _next_gain(tried: list[tuple[float, float]], target: float) -> float:
    """The gain to try next. The limiter takes back part of any extra gain, so
    after two tries the measured slope (loudness per dB of gain) is used."""
    gain, loudness = tried[-1]
    slope = 1.0
    if len(tried) >= 2:
        (gain_a, loud_a), (gain_b, loud_b) = tried[-2], tried[-1]
        if abs(gain_b - gain_a) > 1e-3:
            slope = _clamp((loud_b - loud_a) / (gain_b - gain_a), 0.1, 1.0)
    step = _clamp((target - loudness) / slope, -MAX_GAIN_STEP_DB, MAX_GAIN_STEP_DB)
    return _clamp(gain + step, -MAX_GAIN_DB, MAX_GAIN_DB)


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)
