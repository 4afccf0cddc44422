"""Find and run the ffmpeg binary that ships inside ``imageio-ffmpeg``.

One helper runs every ffmpeg command the workflow needs, optionally feeding
raw audio to its stdin, and turns a failure into a ``BookError`` carrying the
line of ffmpeg's output that says what went wrong.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from functools import cache
from typing import BinaryIO

from audiobook.errors import BookError, disk_full_error

# Lines ffmpeg prints after the real cause, as the failure spreads through its threads.
_CASCADE = re.compile(
    r"Task finished with error code|Terminating thread with return code|Nothing was written into output file"
    r"|Conversion failed!|Could not open encoder before EOF|Error sending frames to consumers"
    r"|Error while filtering|Error processing packet in decoder|Error closing file|^Exiting with exit code"
)
# "[mp4 @ 0x55d...] " or "[vist#0:0/png @ 0x...] [dec:png @ 0x...] " before the message.
_PREFIX = re.compile(r"^(\[[^\]]*\]\s*)+")
_DISK_FULL = re.compile(r"No space left on device|File too large|Disk quota exceeded", re.IGNORECASE)


@cache
def ffmpeg_exe() -> str:
    """The path of the bundled ffmpeg; a clear error when the package is broken."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as error:  # the package raises RuntimeError, an import may fail too
        raise BookError(
            "tool_failed",
            f"ffmpeg is not available ({error})",
            "reinstall the imageio-ffmpeg package in this environment",
        ) from error


def last_meaningful_line(stderr: str) -> str:
    """The line of ffmpeg's error output that best names the cause."""
    lines = [_PREFIX.sub("", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    causes = [line for line in lines if not _CASCADE.search(line)]
    chosen = (causes or lines or ["no error message"])[-1]
    return chosen[:300]


def run_ffmpeg(
    args: Sequence[str],
    *,
    what: str,
    feed: Callable[[BinaryIO], None] | None = None,
    loglevel: str = "error",
    writes: str = "ffmpeg's output",
) -> str:
    """Run ffmpeg with ``args`` and return what it wrote to stderr.

    ``what`` names the step for the error message ("encode the audiobook").
    ``feed``, when given, writes the input to ffmpeg's stdin (``-i pipe:0``).
    ``loglevel`` is "error" unless the caller parses a filter's summary,
    which ffmpeg prints at "info". ``writes`` names the file being written,
    for the message when the disk fills up.
    """
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", loglevel, *args]
    # stderr goes to a file, so a chatty ffmpeg never blocks while we feed it.
    with tempfile.TemporaryFile() as stderr_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE if feed else subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr_file,
        )
        try:
            if feed is not None:
                assert process.stdin is not None
                try:
                    feed(process.stdin)
                    process.stdin.close()
                except BrokenPipeError:
                    pass  # ffmpeg stopped reading: it failed, and its stderr says why
            returncode = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if process.stdin is not None and not process.stdin.closed:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
        stderr_file.seek(0)
        stderr = stderr_file.read().decode("utf-8", errors="replace")

    if returncode == 0:
        return stderr
    if _DISK_FULL.search(stderr) or returncode == -signal.SIGXFSZ:
        # SIGXFSZ: the process hit a file size limit, which is a full disk to the user.
        code = errno.EFBIG if returncode == -signal.SIGXFSZ else errno.ENOSPC
        raise disk_full_error(OSError(code, os.strerror(code)), writes)
    if returncode < 0:
        try:
            cause = f"ffmpeg was stopped by {signal.Signals(-returncode).name}"
        except ValueError:
            cause = f"ffmpeg was stopped by signal {-returncode}"
    else:
        cause = last_meaningful_line(stderr)
    raise BookError(
        "tool_failed",
        f"ffmpeg could not {what}: {cause}",
        "run the book again; if it fails the same way, check the file named above",
        retryable=True,
    )
