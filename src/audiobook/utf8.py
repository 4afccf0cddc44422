"""Text that any UTF-8 file can hold, whatever the file system gave us.

The engine (records, checkpoints) and the batch side (reports, logs) both
write names that come from the file system, so this sits in the core.
"""

from __future__ import annotations

from typing import Any


def printable(value: Any) -> Any:
    """``value`` (a string, or lists and dicts of them) as text any UTF-8 file can hold.

    A file name that is not valid UTF-8 comes from the file system as
    surrogate escapes, which cannot be written to a UTF-8 record, log or
    report; there the bad bytes are shown as U+FFFD instead. Paths used to
    open files keep their escapes.
    """
    if isinstance(value, str):
        try:
            return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
            return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {printable(key): printable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable(item) for item in value]
    return value
