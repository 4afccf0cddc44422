"""Errors a phase raises, each with the exit code and the one line a user sees.

A ``BookError`` is about the book or the set-up, never a bug: the orchestrator
prints ``line()`` and exits with ``exit_code`` without a traceback. Anything
else that escapes a phase is a fault, retried when ``is_retryable`` says so.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

# Exit codes of audiobook-orchestrator (documented in README.md, "Exit codes").
EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
# Refusals of phase 1: the book itself cannot be made as it is.
EXIT_EMPTY = 10
EXIT_NOT_A_BOOK = 11
EXIT_CORRUPT = 12
EXIT_ENCRYPTED = 13
EXIT_DRM = 14
EXIT_NO_TEXT = 15
EXIT_GARBLED_TEXT = 16
EXIT_TOO_LARGE = 17
EXIT_OCR_UNRELIABLE = 18
# Set-up problems the user fixes outside the book.
EXIT_NO_VOICE = 20
EXIT_TOOL_FAILED = 21
EXIT_DISK_FULL = 22

EXIT_CODES: dict[str, int] = {
    "empty": EXIT_EMPTY,
    "not_a_book": EXIT_NOT_A_BOOK,
    "corrupt": EXIT_CORRUPT,
    "encrypted": EXIT_ENCRYPTED,
    "drm": EXIT_DRM,
    "no_text_layer": EXIT_NO_TEXT,
    "garbled_text": EXIT_GARBLED_TEXT,
    "too_large": EXIT_TOO_LARGE,
    "ocr_unreliable": EXIT_OCR_UNRELIABLE,
    "no_voice": EXIT_NO_VOICE,
    "tool_failed": EXIT_TOOL_FAILED,
    "disk_full": EXIT_DISK_FULL,
    "failed": EXIT_FAILED,
    "bad_lexicon": EXIT_FAILED,  # a pronunciation lexicon's line: the user fixes that file
}


@dataclass
class BookError(Exception):
    """A problem with one book that a person can act on.

    ``kind`` is one of the keys of ``EXIT_CODES``; ``problem`` says what is
    wrong and ``action`` what to do about it. ``retryable`` marks faults that
    may pass on a second try (a crashed tool, a busy disk), never user errors.
    """

    kind: str
    problem: str
    action: str = ""
    retryable: bool = False

    def __post_init__(self) -> None:
        if self.kind not in EXIT_CODES:
            raise ValueError(f"unknown BookError kind {self.kind!r}")
        super().__init__(self.problem)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]

    def line(self, file_name: str) -> str:
        """The single line shown to the user: file, problem, what to do."""
        text = f"{file_name}: {self.problem}"
        if self.action:
            text += f"; {self.action}"
        return " ".join(text.split())  # never more than one line


def is_retryable(error: BaseException) -> bool:
    """Whether a second attempt at the same phase may succeed."""
    if isinstance(error, BookError):
        return error.retryable
    if isinstance(error, OSError):
        # A full disk or a missing file does not heal by itself.
        return error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.ENOENT, errno.EACCES, errno.EFBIG)
    return isinstance(error, (MemoryError, TimeoutError))


def disk_full_error(error: OSError, where: str) -> BookError:
    """Turn ENOSPC/EFBIG into the one line a user can act on."""
    return BookError(
        "disk_full",
        f"ran out of disk space while writing {where} ({error.strerror})",
        "free space on the results disk and run again; finished work is kept",
    )
