"""Phase 4 with the real Piper voice: audio, cache, resume after a kill, voice and language checks."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audiobook.errors import EXIT_NO_VOICE, BookError
from audiobook.model import Chunk, PhaseContext
from audiobook.settings import DEFAULT_VOICE, EngineSettings
from audiobook.speak import (
    AUDIO_DIR,
    PEAK_CEILING,
    PROGRESS_FILE,
    limit_peak,
    load_voice,
    read_manifest,
    speak,
    wav_frames,
    write_manifest,
)
from audiobook.voices import check_language, resolve_voice
from gates import Gates

SRC = Path(__file__).resolve().parents[1] / "src"
MINUS_1_DBFS = 32767 * 10 ** (-1 / 20)

TEXTS = [
    "It was a bright cold day in April. The clocks were striking thirteen.",
    "Chapter two.",
    "Oh? Yes!",
    "She paid 3 pounds for the book.",
]


def book_chunks(texts: list[str]) -> list[Chunk]:
    """Chunks of one chapter; the first ends a paragraph, the last ends the chapter."""
    return [
        Chunk(
            index=i,
            chapter=0,
            chapter_title="One",
            text=text,
            paragraph_end=(i == 0),
            chapter_end=(i == len(texts) - 1),
        )
        for i, text in enumerate(texts)
    ]


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


def longest_silence(samples: np.ndarray, threshold: int = 1) -> int:
    """Length of the longest run of samples whose magnitude stays within ``threshold``."""
    quiet = np.abs(samples.astype(np.int32)) <= threshold
    longest = run = 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    return longest


@pytest.fixture
def ctx(tmp_path: Path) -> PhaseContext:
    work = tmp_path / "work"
    work.mkdir()
    return PhaseContext(source=tmp_path / "book.epub", work_dir=work, threads=1, log=logging.getLogger("test_speak"))


def test_default_voice_is_the_installed_joe_voice() -> None:
    voice = resolve_voice(EngineSettings())
    assert voice.name == DEFAULT_VOICE
    assert voice.model_path.is_file() and voice.config_path.is_file()
    assert voice.language == "en_US"
    assert voice.sample_rate == 22050


def test_chunks_become_wavs_with_pauses_and_headroom(ctx: PhaseContext) -> None:
    settings = EngineSettings()
    manifest = speak(ctx, book_chunks(TEXTS), ["One"], "en", settings)

    assert manifest.voice == DEFAULT_VOICE and manifest.sample_rate == 22050
    assert [c.index for c in manifest.chunks] == [0, 1, 2, 3]
    assert [c.pause_after_s for c in manifest.chunks] == [
        settings.paragraph_pause_s,
        settings.sentence_pause_s,
        settings.sentence_pause_s,
        settings.chapter_pause_s,
    ]
    durations = []
    for entry in manifest.chunks:
        assert not Path(entry.path).is_absolute() and entry.path.startswith(f"{AUDIO_DIR}/")
        samples, rate = read_wav(ctx.work_dir / entry.path)
        assert rate == manifest.sample_rate
        assert len(samples) == entry.samples > 0
        assert np.max(np.abs(samples.astype(np.int32))) < MINUS_1_DBFS  # headroom for mastering
        assert np.sqrt(np.mean(samples.astype(np.float64) ** 2)) > 300  # speech, not silence
        durations.append(len(samples) / rate)
    # Two sentences in one chunk are joined by the sentence pause; one short sentence has no such gap.
    first, _ = read_wav(ctx.work_dir / manifest.chunks[0].path)
    second, _ = read_wav(ctx.work_dir / manifest.chunks[1].path)
    pause_samples = round(settings.sentence_pause_s * 22050)
    assert longest_silence(first) >= pause_samples
    assert longest_silence(second) < pause_samples
    # Thirteen words at length scale 1.25 take a few seconds, not a fraction or a minute.
    assert 2.5 < durations[0] < 9

    metrics = ctx.metrics
    assert metrics["chunks"] == metrics["chunks_synthesized"] == 4 and metrics["chunks_cached"] == 0
    assert metrics["audio_seconds"] == pytest.approx(sum(durations), abs=0.02)
    assert 0 < metrics["real_time_factor"] < 1 and metrics["cpu_seconds"] > 0
    assert metrics["voice"] == DEFAULT_VOICE and metrics["threads"] == 1
    progress = json.loads((ctx.work_dir / PROGRESS_FILE).read_text())
    assert progress["done"] == progress["total"] == 4

    manifest_path = ctx.work_dir / "speech.json"
    write_manifest(manifest_path, manifest)
    assert read_manifest(manifest_path) == manifest
    assert sorted(p.name for p in ctx.work_dir.iterdir()) == sorted([AUDIO_DIR, PROGRESS_FILE, "speech.json"])


def test_loud_sentences_are_turned_down_to_the_ceiling() -> None:
    loud = np.array([0.0, 0.5, -0.98, 0.2], dtype=np.float32)
    limited = limit_peak(loud)
    assert np.max(np.abs(limited)) == pytest.approx(PEAK_CEILING)
    assert limited[1] / limited[3] == pytest.approx(2.5)  # one gain for the whole sentence
    quiet = np.array([0.0, 0.3, -0.6], dtype=np.float32)
    assert np.array_equal(limit_peak(quiet), quiet)
    assert PEAK_CEILING < 10 ** (-1 / 20)


def test_cache_follows_what_shapes_the_audio(ctx: PhaseContext) -> None:
    settings = EngineSettings()
    chunks = book_chunks(TEXTS[:3])
    first = speak(ctx, chunks, ["One"], None, settings)
    assert ctx.metrics["chunks_synthesized"] == 3

    again = speak(ctx, chunks, ["One"], None, settings)
    assert (ctx.metrics["chunks_synthesized"], ctx.metrics["chunks_cached"]) == (0, 3)
    assert again == first

    # A damaged file under a final name is not trusted: that chunk alone is spoken again.
    damaged = ctx.work_dir / first.chunks[1].path
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    repaired = speak(ctx, chunks, ["One"], None, settings)
    assert (ctx.metrics["chunks_synthesized"], ctx.metrics["chunks_cached"]) == (1, 2)
    assert wav_frames(damaged, 22050) == repaired.chunks[1].samples

    # The pause after a chunk lives in the manifest only: nothing is spoken again.
    longer_pauses = replace(settings, paragraph_pause_s=1.5)
    paused = speak(ctx, chunks, ["One"], None, longer_pauses)
    assert (ctx.metrics["chunks_synthesized"], ctx.metrics["chunks_cached"]) == (0, 3)
    assert paused.chunks[0].pause_after_s == 1.5
    assert [c.path for c in paused.chunks] == [c.path for c in first.chunks]

    # A slower pace changes every sample: all chunks are spoken again, and take longer.
    slower = speak(ctx, chunks, ["One"], None, replace(settings, length_scale=1.6))
    assert (ctx.metrics["chunks_synthesized"], ctx.metrics["chunks_cached"]) == (3, 0)
    assert all(s.samples > f.samples for s, f in zip(slower.chunks, first.chunks))
    assert not set(c.path for c in slower.chunks) & set(c.path for c in first.chunks)


RESUME_TEXTS = [f"This is sentence number {n} of the resume test, read aloud." for n in range(1, 16)]
RESUME_SCRIPT = """
import logging, sys
from pathlib import Path
from audiobook.model import Chunk, PhaseContext
from audiobook.settings import EngineSettings
from audiobook.speak import speak
from audiobook import testgate
testgate.set_book("resume")
texts = [f"This is sentence number {n} of the resume test, read aloud." for n in range(1, 16)]
chunks = [Chunk(index=i, chapter=0, chapter_title="One", text=t) for i, t in enumerate(texts)]
ctx = PhaseContext(source=Path("book.epub"), work_dir=Path(sys.argv[1]), threads=1, log=logging.getLogger("speak"))
speak(ctx, chunks, ["One"], "en", EngineSettings())
"""


def test_killed_run_resumes_where_it_stopped(ctx: PhaseContext) -> None:
    audio_dir = ctx.work_dir / AUDIO_DIR
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    # Held right after its third chunk, so the kill finds it speaking however fast it runs.
    gates = Gates(ctx.work_dir.parent / "gates")
    gates.hold("resume", "audio-3")
    process = subprocess.Popen(
        [sys.executable, "-c", RESUME_SCRIPT, str(ctx.work_dir)], env=gates.env(env), start_new_session=True
    )
    try:
        gates.wait("resume", "audio-3", process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    finished = sorted(audio_dir.glob("*.wav"))
    assert len(finished) == 3 < len(RESUME_TEXTS), "killed after its third chunk"
    for path in finished:  # a final name only ever holds a whole WAV
        assert wav_frames(path, 22050), f"{path.name} is not a complete WAV"

    stray = audio_dir / ".0123.wav.abcd.part"  # as a kill between write and rename leaves it
    stray.write_bytes(b"RIFF")
    manifest = speak(ctx, book_chunks(RESUME_TEXTS), ["One"], "en", EngineSettings())
    assert ctx.metrics["chunks_cached"] == len(finished)
    assert ctx.metrics["chunks_synthesized"] == len(RESUME_TEXTS) - len(finished)
    assert len(manifest.chunks) == len(RESUME_TEXTS)
    assert not list(audio_dir.glob(".*.part")), "temporary files of the killed run are left behind"


def test_voice_by_path(ctx: PhaseContext, tmp_path: Path) -> None:
    installed = resolve_voice(EngineSettings())
    voices = tmp_path / "my voices"
    voices.mkdir()
    model = Path(shutil.copy(installed.model_path, voices / "en_US-copy-medium.onnx"))
    shutil.copy(installed.config_path, voices / "en_US-copy-medium.onnx.json")

    settings = EngineSettings(voice=str(model))
    voice = resolve_voice(settings)
    assert (voice.name, voice.model_path, voice.language, voice.sample_rate) == (
        "en_US-copy-medium",
        model,
        "en_US",
        22050,
    )
    manifest = speak(ctx, book_chunks(["Read by a voice from a folder."]), ["One"], "en-US", settings)
    assert manifest.voice == "en_US-copy-medium" and ctx.metrics["chunks_synthesized"] == 1


def test_missing_voice_is_a_clear_no_voice_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "de_DE-nobody-medium.onnx"
    with pytest.raises(BookError) as caught:
        resolve_voice(EngineSettings(voice=str(missing)))
    assert caught.value.kind == "no_voice" and caught.value.exit_code == EXIT_NO_VOICE
    assert str(missing) in caught.value.problem and "engine.voice" in caught.value.action

    with pytest.raises(BookError) as caught:
        resolve_voice(EngineSettings(voice="en_GB-nobody-low"))
    assert caught.value.kind == "no_voice" and "en_GB-nobody-low" in caught.value.problem

    lonely = tmp_path / "lonely.onnx"  # a model without its .onnx.json
    lonely.write_bytes(b"not a model")
    with pytest.raises(BookError) as caught:
        resolve_voice(EngineSettings(voice=str(lonely)))
    assert caught.value.kind == "no_voice" and "lonely.onnx.json" in caught.value.problem

    (tmp_path / "lonely.onnx.json").write_text(resolve_voice(EngineSettings()).config_path.read_text())
    with pytest.raises(BookError) as caught:  # a config beside a broken model: refused on load
        load_voice(resolve_voice(EngineSettings(voice=str(lonely))), threads=1)
    assert caught.value.kind == "no_voice" and "lonely.onnx" in caught.value.problem


def test_book_language_must_match_the_voice(ctx: PhaseContext) -> None:
    voice = resolve_voice(EngineSettings())
    settings = EngineSettings()
    for readable in (None, "", "und", "en", "en-GB", "EN_us", "eng", "English"):
        check_language(voice, readable, settings)

    with pytest.raises(BookError) as caught:
        speak(ctx, book_chunks(["Es war einmal."]), ["Eins"], "de-DE", settings)
    error = caught.value
    assert error.kind == "no_voice" and not error.retryable
    line = error.line("märchen.epub")
    assert "\n" not in line
    assert line.startswith("märchen.epub: is in German (de) and no German voice is installed")
    assert "engine.voice" in line and "engine.read_any_language: true" in line
    assert not (ctx.work_dir / AUDIO_DIR).exists()  # refused before any work

    with pytest.raises(BookError, match=r"French \(fr\)"):
        check_language(voice, "fre", settings)
    check_language(voice, "de", replace(settings, read_any_language=True))


@pytest.mark.parametrize("threads", [1, 2])
def test_session_uses_the_given_threads(threads: int) -> None:
    import onnxruntime

    piper_voice = load_voice(resolve_voice(EngineSettings()), threads=threads)
    options = piper_voice.session.get_session_options()
    assert options.intra_op_num_threads == threads
    assert options.inter_op_num_threads == 1
    assert options.execution_mode == onnxruntime.ExecutionMode.ORT_SEQUENTIAL


def test_the_voice_cache_keeps_the_rewritten_graph_and_the_hash_and_follows_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    import onnxruntime

    from audiobook.speak import synthesize_sentences
    from audiobook.voice_cache import voice_fingerprint

    levels = onnxruntime.GraphOptimizationLevel
    installed = resolve_voice(EngineSettings())
    voices = tmp_path / "voices"
    voices.mkdir()
    model = Path(shutil.copy(installed.model_path, voices / "en_US-copy-medium.onnx"))
    shutil.copy(installed.config_path, voices / "en_US-copy-medium.onnx.json")
    voice = resolve_voice(EngineSettings(voice=str(model)))
    cache = tmp_path / "cache"
    monkeypatch.setenv("AUDIOBOOK_CACHE_DIR", str(cache))
    kept_dir = cache / "voices"
    # Another voice whose name starts with this one's: its entries are never this voice's to prune.
    kept_dir.mkdir(parents=True)
    (kept_dir / "en_US-copy-medium-extra-0123456789abcdef.onnx").write_bytes(b"another voice's")

    def content_hash() -> str:
        model_hash = hashlib.sha256(model.read_bytes()).hexdigest()
        config_hash = hashlib.sha256(voice.config_path.read_bytes()).hexdigest()
        return hashlib.sha256(f"{model_hash}:{config_hash}".encode()).hexdigest()

    def kept(suffix: str) -> list[str]:
        return sorted(path.name for path in kept_dir.glob(f"en_US-copy-medium-*{suffix}") if "extra" not in path.name)

    first = load_voice(voice, threads=1)  # nothing kept: rewrites the graph and keeps it
    assert first.session.get_session_options().graph_optimization_level == levels.ORT_ENABLE_EXTENDED
    assert len(kept(".onnx")) == 1 and not list(kept_dir.glob(".*"))  # no temporary file left
    second = load_voice(voice, threads=1)  # loads the kept graph, nothing to rewrite
    assert second.session.get_session_options().graph_optimization_level == levels.ORT_DISABLE_ALL
    samples, _, _ = synthesize_sentences(second, ["Read by a voice from a folder."], EngineSettings())
    assert 1.0 < len(samples) / voice.sample_rate < 4.0
    assert voice_fingerprint(voice) == voice_fingerprint(voice) == content_hash()
    assert len(kept(".sha256")) == 1

    # A reinstalled voice (a new modification time) gets new entries; the old ones go.
    before = kept(".onnx") + kept(".sha256")
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 10**9))
    load_voice(voice, threads=1)
    assert voice_fingerprint(voice) == content_hash()
    after = kept(".onnx") + kept(".sha256")
    assert len(after) == 2 and not set(before) & set(after)
    assert (kept_dir / "en_US-copy-medium-extra-0123456789abcdef.onnx").exists()

    # A damaged kept graph is no bad voice: it goes, the book loads the voice as it came, the next keeps it anew.
    (damaged,) = (kept_dir / name for name in kept(".onnx"))
    damaged.write_bytes(damaged.read_bytes()[:4096])
    assert load_voice(voice, threads=1).session.get_session_options().graph_optimization_level == levels.ORT_ENABLE_ALL
    assert not damaged.exists()
    load_voice(voice, threads=1)
    assert damaged.stat().st_size > 4096

    # A cache that cannot be written (a read-only home) is no error: the voice loads as it came.
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv("AUDIOBOOK_CACHE_DIR", str(blocked))
    plain_load = load_voice(voice, threads=1)
    assert plain_load.session.get_session_options().graph_optimization_level == levels.ORT_ENABLE_ALL
    assert voice_fingerprint(voice) == content_hash()


def test_spoken_length_tracks_how_long_the_voice_takes_to_say_a_text() -> None:
    from audiobook.speak import synthesize_sentences
    from audiobook.subtitles import spoken_positions

    piper_voice = load_voice(resolve_voice(EngineSettings()), threads=1)
    rate = piper_voice.config.sample_rate
    plain = "in the years that came after, a lawyer of the old school with a long, slow walk"
    # Letters said by name and numbers: about as long in print, far longer to say.
    spelled = "he was made M.D., D.C.L., LL.D., F.R.S., K.C.B. and A.R.A. in 1886 and 1887"
    heard = []
    for text in (plain, spelled):
        _, spans, pauses = synthesize_sentences(piper_voice, [text], EngineSettings())
        (start, end), quiet = spans[0], sum(b - a for a, b in pauses[0])
        heard.append((end - start - quiet) / rate)
    said = heard[1] / heard[0]
    by_print = len(spelled) / len(plain)
    by_speech = spoken_positions(spelled)[-1] / spoken_positions(plain)[-1]
    assert said > 1.5 * by_print, (said, by_print)  # what the weights are for
    assert abs(by_speech - said) < 0.3 * said, (by_speech, said)
