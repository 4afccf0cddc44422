"""Writing files so that no reader ever sees them half-written."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, IO

from . import testgate

_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    # mkstemp makes the file owner-only; give it the mode a plain open() would.
    os.fchmod(fd, 0o666 & ~_UMASK)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    testgate.wrote(path)


def write_json(path: Path, data: Any, depth: int | None = None) -> None:
    """``data`` as indented JSON; with ``depth``, objects deeper than that on one line each.

    Python's JSON encoder is written in C only for unindented output; a
    pipeline.json of 10,000 books took seconds indented all the way down.
    """
    with atomic_writer(path) as handle:
        if depth is None:
            json.dump(data, handle, indent=2, ensure_ascii=False, default=str)
        else:
            handle.write(_json_to_depth(data, depth))
        handle.write("\n")


def _json_to_depth(value: Any, depth: int, level: int = 0) -> str:
    if depth <= 0 or not isinstance(value, dict) or not value:
        return json.dumps(value, ensure_ascii=False, default=str)
    pad = "  " * (level + 1)
    items = ",\n".join(
        f"{pad}{json.dumps(str(key), ensure_ascii=False)}: {_json_to_depth(item, depth - 1, level + 1)}"
        for key, item in value.items()
    )
    return "{\n" + items + "\n" + "  " * level + "}"


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def sha256_file(path: Path, block: int = 1 << 20) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(block):
            digest.update(chunk)
    return digest.hexdigest()
