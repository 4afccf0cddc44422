"""Phase 4: speak every chunk with Piper, caching the audio of each chunk.

Each chunk becomes one WAV (mono, 16-bit, the voice's sample rate) under
``work_dir/audio/<key>.wav``. The key hashes everything that shapes the audio
(text, voice files, pace, sentence pause, level), but not the pause after the
chunk: that is only written in the manifest, so changing a pause re-speaks
nothing. Every WAV is written under a temporary name and renamed, so a killed
run leaves only whole files and the next run resumes where it stopped.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import BookError, disk_full_error
from .fileio import atomic_writer, read_json, write_json
from .model import Chunk, ChunkAudio, PhaseContext, SpeechManifest, from_dict, to_dict
from .pronounce.speech import plain
from .settings import EngineSettings
from .voice_cache import open_session, voice_fingerprint
from .voices import Voice, primary_language, read_voice_config, voice_for

if TYPE_CHECKING:  # piper and onnxruntime are imported only when a chunk must be spoken
    from piper import PiperVoice

AUDIO_DIR = "audio"
PROGRESS_FILE = "speak_progress.json"
# Bump when the way chunk audio is made changes, so old caches are not reused.
# 2: each sentence is synthesised on its own and its sample span kept beside the WAV.
FORMAT_VERSION = 2
# Piper's own per-sentence peak normalisation makes short sentences ("Oh?")
# louder than long ones; the model's raw level is steadier (peaks about
# -4.5 dBFS, measured). Keep it, and only turn a sentence down when its peak
# would pass the ceiling, so phase 5 gets headroom and nothing clips.
PEAK_CEILING = 10 ** (-3.0 / 20)  # -3 dBFS
# A quiet stretch inside a sentence at least this long is a pause the voice made (at a comma, a
# semicolon): subtitles cut long sentences there. Below the level, the voice is silent (raw
# Piper speech peaks near -4.5 dBFS; its pauses sit below -60 dBFS).
INNER_PAUSE_S = 0.12
INNER_PAUSE_LEVEL = 10 ** (-45.0 / 20)
PAUSE_WINDOW_S = 0.01
PROGRESS_EVERY_S = 5.0
PROGRESS_EVERY_CHUNKS = 100
VOICE_SEED = 1


def load_voice(voice: Voice, threads: int) -> PiperVoice:
    """Load the voice into an onnxruntime session that uses ``threads`` CPU threads.

    ``PiperVoice.load`` gives onnxruntime its default (every core), which
    oversubscribes a batch of books sharing the machine; so the session is built here.
    """
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    def options_at(level: onnxruntime.GraphOptimizationLevel) -> onnxruntime.SessionOptions:
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = level
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        # Idle worker threads spin by default; on a shared machine that burns the
        # CPU other books need while Piper phonemises the next sentence in Python.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return options

    try:
        config = PiperConfig.from_dict(read_voice_config(voice.config_path))
        # The voice draws random noise for its timing and timbre: a fixed seed makes the same book the
        # same audio on every run (durations exactly; samples to within rounding), so reruns, caches and
        # the subtitles' timing checks never depend on the draw.
        onnxruntime.set_seed(VOICE_SEED)
        session = open_session(voice, options_at)
    except BookError:
        raise
    except Exception as error:  # onnxruntime and the config parser raise many kinds; all mean a bad voice
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BookError(
            "no_voice",
            f"voice {voice.name} cannot be loaded from {voice.model_path} ({first_line})",
            "point engine.voice at a valid Piper .onnx voice with its .onnx.json",
        ) from None
    return PiperVoice(config=config, session=session)


def chunk_key(text: str, voice_id: str, settings: EngineSettings, sentences: list[str] | None = None) -> str:
    """The cache key of one chunk's audio: everything that changes its samples or spans, nothing else."""
    shape = {
        "text": text,
        "sentences": sentences or [text],
        "voice": voice_id,
        "length_scale": settings.length_scale,
        "sentence_pause_s": settings.sentence_pause_s,
        "peak_ceiling": PEAK_CEILING,
        "format": FORMAT_VERSION,
    }
    blob = json.dumps(shape, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:24]


def wav_frames(path: Path, sample_rate: int) -> int | None:
    """Frames in a complete mono 16-bit WAV at ``sample_rate``; None if it is missing, short or other."""
    try:
        with open(path, "rb") as handle, wave.open(handle, "rb") as wav:
            frames = wav.getnframes()
            data_start = handle.tell()  # wave.open stops at the start of the sample data
            if (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) != (1, 2, sample_rate):
                return None
        if frames <= 0 or path.stat().st_size < data_start + frames * 2:
            return None
        return frames
    except (OSError, EOFError, wave.Error):
        return None


def limit_peak(audio: np.ndarray) -> np.ndarray:
    """Turn a sentence down, as a whole, if its peak passes ``PEAK_CEILING``; else keep it as it is."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (PEAK_CEILING / peak) if peak > PEAK_CEILING else audio


def inner_pauses(audio: np.ndarray, sample_rate: int, offset: int) -> list[list[int]]:
    """[first, end) samples (plus ``offset``) of the quiet stretches inside one stretch of speech."""
    window = max(1, round(PAUSE_WINDOW_S * sample_rate))
    frames = len(audio) // window
    if frames < 3:
        return []
    levels = np.sqrt(np.mean(np.square(audio[: frames * window].reshape(frames, window)), axis=1))
    quiet = levels < INNER_PAUSE_LEVEL
    pauses, run_start = [], None
    shortest = max(1, round(INNER_PAUSE_S / PAUSE_WINDOW_S))
    for number, is_quiet in enumerate(quiet):
        if is_quiet and run_start is None:
            run_start = number
        elif not is_quiet and run_start is not None:
            if run_start > 0 and number - run_start >= shortest:  # inner only: not the lead-in
                pauses.append([offset + run_start * window, offset + number * window])
            run_start = None
    return pauses


def synthesize_sentences(
    piper_voice: PiperVoice, sentences: list[str], settings: EngineSettings
) -> tuple[np.ndarray, list[list[int]], list[list[list[int]]]]:
    """One chunk as int16 samples, and the [first, end) sample span of each of ``sentences`` in it.

    Each sentence is synthesised on its own, so its span is exact (the subtitle
    and read-along timings rest on it); Piper may cut one into several, which
    get the same sentence pause between them as between sentences. A sentence
    is a voice form: book text (never read as phonemes) with ``[[ phonemes ]]``
    only where the pronouncer put them.
    """
    from piper import SynthesisConfig

    syn_config = SynthesisConfig(length_scale=settings.length_scale, normalize_audio=False, volume=1.0)
    sample_rate = piper_voice.config.sample_rate
    pause = np.zeros(round(settings.sentence_pause_s * sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    spans: list[list[int]] = []
    pauses: list[list[list[int]]] = []
    position = 0
    for sentence in sentences:
        start = None
        found: list[list[int]] = []
        for piece in piper_voice.synthesize(sentence, syn_config):
            if parts:
                if start is not None:  # Piper cut the sentence: the pause between its parts is an inner one
                    found.append([position, position + pause.size])
                parts.append(pause)
                position += pause.size
            start = position if start is None else start
            parts.append(limit_peak(piece.audio_float_array))
            found += inner_pauses(parts[-1], sample_rate, position)
            position += parts[-1].size
        spans.append([position, position] if start is None else [start, position])
        pauses.append(found)
    if not parts:  # nothing speakable (punctuation only): a short silence keeps the chunk's place
        parts.append(pause if pause.size else np.zeros(1, dtype=np.float32))
    return np.round(np.concatenate(parts) * 32767.0).astype(np.int16), spans, pauses


def _spans_path(wav: Path) -> Path:
    return wav.with_suffix(".spans.json")


def read_spans(wav: Path, count: int) -> tuple[list[list[int]], list[list[list[int]]]] | None:
    """The sentence spans and inner pauses kept beside a cached WAV; None when missing or not for ``count``."""
    try:
        saved = read_json(_spans_path(wav))
        spans, pauses = saved["spans"], saved["pauses"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (isinstance(spans, list) and isinstance(pauses, list) and len(spans) == len(pauses) == count):
        return None
    return spans, pauses


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Mono 16-bit samples as a WAV file, written under a temporary name and renamed."""
    with atomic_writer(path, "wb") as handle, wave.open(handle, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())


def _write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    try:
        write_wav(path, samples, sample_rate)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise disk_full_error(error, f"chunk audio {path.name}") from None
        raise


def _remove_partial_files(audio_dir: Path) -> None:
    # Temporary WAVs of a killed run (atomic_writer names them ".<name>.<random>.part").
    for leftover in audio_dir.glob(".*.part"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


@dataclass
class _Tally:
    """Counts for progress lines, the progress file and the metrics."""

    total: int
    done: int = 0
    cached: int = 0
    synthesized: int = 0
    audio_s: float = 0.0
    synthesized_audio_s: float = 0.0
    synth_wall_s: float = 0.0
    synth_cpu_s: float = 0.0
    last_report: float = 0.0

    @property
    def real_time_factor(self) -> float | None:
        return round(self.synth_wall_s / self.synthesized_audio_s, 4) if self.synthesized_audio_s else None

    def report(self, ctx: PhaseContext, final: bool = False) -> None:
        now = time.monotonic()
        due = now - self.last_report >= PROGRESS_EVERY_S or self.done % PROGRESS_EVERY_CHUNKS == 0
        if not (final or due):
            return
        self.last_report = now
        rtf = f"{self.real_time_factor:.3f}" if self.real_time_factor is not None else "-"
        ctx.log.info(
            "phase 4: %d/%d chunks, %.1f s of audio, RTF %s (%d cached)",
            self.done,
            self.total,
            self.audio_s,
            rtf,
            self.cached,
        )
        write_json(
            ctx.work_dir / PROGRESS_FILE,
            {"done": self.done, "total": self.total, "audio_seconds": round(self.audio_s, 2), "cached": self.cached},
        )


def said_hash(sentences: list[str]) -> str:
    return hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:12]


def respeak_reason(entry: ChunkAudio, previous: SpeechManifest | None) -> str:
    """Why a chunk is spoken although the book was spoken before: for the record."""
    earlier = previous.chunks[entry.index] if previous and entry.index < len(previous.chunks) else None
    if earlier is None or not earlier.said:
        return "not spoken before"
    if earlier.said != entry.said:
        return "pronunciation changed" if earlier.printed == entry.printed else "text changed"
    return "voice or settings changed"


def speak(
    ctx: PhaseContext,
    chunks: list[Chunk],
    chapter_titles: list[str],
    language: str | None,
    settings: EngineSettings,
    previous: SpeechManifest | None = None,
) -> SpeechManifest:
    """Speak every chunk (reusing cached audio) and list the audio in order, with the pauses between.

    ``previous`` is the book's last manifest, if any: the chunks spoken again are counted by why.
    """
    voice = voice_for(language, settings)
    if primary_language(language) not in (None, primary_language(voice.language)):
        ctx.log.warning("phase 4: reading a %s book with the %s voice (engine.read_any_language)", language, voice.name)
    audio_dir = ctx.work_dir / AUDIO_DIR
    audio_dir.mkdir(parents=True, exist_ok=True)
    _remove_partial_files(audio_dir)

    voice_id = voice_fingerprint(voice)
    tally = _Tally(total=len(chunks), last_report=time.monotonic())
    piper_voice: PiperVoice | None = None  # loaded only when a chunk is not cached: a cached rerun needs no model
    load_s = 0.0
    entries: list[ChunkAudio] = []
    reasons: dict[str, int] = {}
    for chunk in chunks:
        spoken = voice_forms(chunk)
        path = audio_dir / f"{chunk_key(chunk.text, voice_id, settings, spoken)}.wav"
        frames = wav_frames(path, voice.sample_rate)
        timing = read_spans(path, len(spoken)) if frames is not None else None
        entry = ChunkAudio(
            index=chunk.index,
            chapter=chunk.chapter,
            path=path.relative_to(ctx.work_dir).as_posix(),
            samples=0,
            pause_after_s=_pause_after(chunk, settings),
            printed=[sentence.get("printed") or sentence["spoken"] for sentence in chunk.sentences] or [chunk.text],
            headings=[bool(sentence.get("heading")) for sentence in chunk.sentences] or [False],
            said=said_hash(spoken),
        )
        if frames is not None and timing is not None:
            spans, pauses = timing
            tally.cached += 1
        else:
            reason = respeak_reason(entry, previous)
            reasons[reason] = reasons.get(reason, 0) + 1
            if piper_voice is None:
                started = time.monotonic()
                piper_voice = load_voice(voice, ctx.threads)
                load_s = time.monotonic() - started
                ctx.log.info(
                    "phase 4: loaded voice %s in %.2f s (%d thread(s))", voice.name, load_s, max(1, ctx.threads)
                )
            wall, cpu = time.monotonic(), time.process_time()
            try:
                samples, spans, pauses = synthesize_sentences(piper_voice, spoken, settings)
            except RuntimeError as error:  # onnxruntime's failures are RuntimeErrors
                raise BookError(
                    "tool_failed",
                    f"Piper failed on chunk {chunk.index} ({str(error).strip()[:200]})",
                    "run again; finished chunks are kept",
                    retryable=True,
                ) from error
            tally.synth_wall_s += time.monotonic() - wall
            tally.synth_cpu_s += time.process_time() - cpu
            # Spans first: a WAV on disk always has its spans beside it.
            write_json(_spans_path(path), {"spans": spans, "pauses": pauses})
            _write_wav(path, samples, voice.sample_rate)
            frames = len(samples)
            tally.synthesized += 1
            tally.synthesized_audio_s += frames / voice.sample_rate
        tally.done += 1
        tally.audio_s += frames / voice.sample_rate
        entry.samples, entry.spans, entry.pauses = frames, spans, pauses
        entries.append(entry)
        tally.report(ctx)
    tally.report(ctx, final=True)

    ctx.metrics.update(
        {
            "chunks": len(chunks),
            "chunks_synthesized": tally.synthesized,
            "chunks_cached": tally.cached,
            # Chunks spoken this run, by why (a lexicon edit shows as "pronunciation changed").
            "chunks_spoken_because": dict(sorted(reasons.items())),
            "audio_seconds": round(tally.audio_s, 2),
            "synth_seconds": round(tally.synth_wall_s, 2),
            "cpu_seconds": round(tally.synth_cpu_s, 2),
            "real_time_factor": tally.real_time_factor,
            "voice_load_seconds": round(load_s, 2),
            "voice": voice.name,
            "threads": max(1, ctx.threads),
        }
    )
    return SpeechManifest(
        sample_rate=voice.sample_rate, voice=voice.name, chunks=entries, chapter_titles=list(chapter_titles)
    )


def voice_forms(chunk: Chunk) -> list[str]:
    """What the voice is given for each sentence of ``chunk``: its voice form, else its spoken text made plain."""
    return [sentence.get("voice") or plain(sentence["spoken"]) for sentence in chunk.sentences] or [plain(chunk.text)]


def _pause_after(chunk: Chunk, settings: EngineSettings) -> float:
    if chunk.chapter_end:
        return settings.chapter_pause_s
    if chunk.paragraph_end:
        return settings.paragraph_pause_s
    return settings.sentence_pause_s


def write_manifest(path: Path, manifest: SpeechManifest) -> None:
    """Save the manifest as JSON, atomically (temporary file, then rename)."""
    write_json(Path(path), to_dict(manifest))


def read_manifest(path: Path) -> SpeechManifest:
    return from_dict(SpeechManifest, read_json(Path(path)))
