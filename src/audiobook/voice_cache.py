"""A per-user cache of what every book would otherwise redo with the same voice file.

Two things cost each book's process the same time again and again: onnxruntime
rewriting the voice's graph (about 0.2 s of CPU of the 0.4 s a session takes to
build) and hashing the 60 MB model for the audio cache's key (about 0.07 s). On a
batch of short books that is a tenth of each book's work. Both results are kept
here, keyed by the model file's path, size and modification time and by the
onnxruntime version, so a changed or reinstalled voice, or a new onnxruntime,
never meets a stale entry.

The graph is kept at onnxruntime's "extended" level, whose rewrites hold on any
CPU (the "all" level adds layout changes for the CPU it ran on, and a cluster's
home folder is shared by unlike nodes); loading it again skips the rewriting and
synthesises as fast as a fresh session (measured). Every file is written under a
temporary name and renamed, so books starting together never read half a file. A
cache that cannot be written (a read-only home on a cluster node) is not an error:
the book loads the voice as it came.

``AUDIOBOOK_CACHE_DIR`` moves the cache; otherwise it is ``$XDG_CACHE_HOME/audiobook``
or ``~/.cache/audiobook``. Deleting it is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

from .fileio import atomic_writer, sha256_file
from .voices import Voice

VOICES_DIR = "voices"
# The model's hash depends on its bytes alone, not on onnxruntime: its entry is keyed by this instead.
HASH_KEY = "sha256"


def cache_dir() -> Path:
    """Where the cache lives: ``AUDIOBOOK_CACHE_DIR``, else the XDG cache folder."""
    explicit = os.environ.get("AUDIOBOOK_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "audiobook"


def _entry_stem(voice: Voice, runtime_version: str) -> str:
    """The name of a voice's entries: its name and a key that changes whenever its file or onnxruntime does."""
    stat = voice.model_path.stat()
    identity = f"{voice.model_path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{runtime_version}"
    return f"{voice.name}-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def _voices_dir() -> Path | None:
    folder = cache_dir() / VOICES_DIR
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def _remove_stale(folder: Path, voice: Voice) -> None:
    """Drop this voice's entries for an older file or onnxruntime: one model's copy is 60 MB."""
    import onnxruntime

    current = {f"{_entry_stem(voice, onnxruntime.__version__)}.onnx", f"{_entry_stem(voice, HASH_KEY)}.sha256"}
    # The key's shape, not a prefix: "en_US-joe" must not take "en_US-joe-medium"'s entries.
    own = re.compile(rf"{re.escape(voice.name)}-[0-9a-f]{{16}}\.(onnx|sha256)")
    for old in folder.iterdir():
        if own.fullmatch(old.name) and old.name not in current:
            with contextlib.suppress(OSError):
                old.unlink()


def voice_fingerprint(voice: Voice) -> str:
    """Content hash of the voice's files, the audio cache's key: a reinstalled or copied voice keeps its audio.

    The model's hash is kept in the cache; the small config is hashed every time.
    """
    config_hash = sha256_file(voice.config_path)
    folder = _voices_dir()
    if folder is None:
        model_hash = sha256_file(voice.model_path)
    else:
        kept = folder / f"{_entry_stem(voice, HASH_KEY)}.sha256"
        try:
            model_hash = kept.read_text().strip()
        except OSError:
            model_hash = ""
        if len(model_hash) != 64:
            model_hash = sha256_file(voice.model_path)
            with contextlib.suppress(OSError), atomic_writer(kept) as out:
                out.write(model_hash)
    return hashlib.sha256(f"{model_hash}:{config_hash}".encode()).hexdigest()


def open_session(voice: Voice, options_for):
    """An onnxruntime session of the voice, from the kept rewritten graph when there is one.

    ``options_for(level)`` makes the book's session options at a graph
    optimisation level. When nothing is kept yet, this book's session saves its
    rewritten graph for the next. Whatever goes wrong with the cache (it cannot be
    written, the disk is full, a kept file is damaged) costs only the saving: the
    model is then loaded as it came, so a model onnxruntime cannot load raises as it
    would without a cache, and a cache's trouble is never taken for a bad voice.
    """
    import onnxruntime

    levels = onnxruntime.GraphOptimizationLevel
    folder = _voices_dir()
    if folder is not None:
        kept = folder / f"{_entry_stem(voice, onnxruntime.__version__)}.onnx"
        if kept.is_file():
            try:
                return _session(kept, options_for(levels.ORT_DISABLE_ALL))
            except Exception:  # onnxruntime raises its own kinds; a damaged copy goes, the next book makes it again
                with contextlib.suppress(OSError):
                    kept.unlink()
                return _session(voice.model_path, options_for(levels.ORT_ENABLE_ALL))
        try:
            handle, temp = tempfile.mkstemp(dir=folder, prefix=f".{kept.name}.", suffix=".tmp")
            os.close(handle)
        except OSError:
            folder = None
    if folder is None:
        return _session(voice.model_path, options_for(levels.ORT_ENABLE_ALL))
    try:
        options = options_for(levels.ORT_ENABLE_EXTENDED)
        options.optimized_model_filepath = temp
        session = _session(voice.model_path, options)
        with contextlib.suppress(OSError):
            os.replace(temp, kept)
            _remove_stale(folder, voice)
        return session
    except Exception:  # the saving failed (a full disk), or the model is bad and raises again here
        return _session(voice.model_path, options_for(levels.ORT_ENABLE_ALL))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _session(model: Path, options):
    import onnxruntime

    return onnxruntime.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
