"""The EPUB's ZIP, read in memory and only through size caps.

Zip bombs are refused by what the archive declares (too many members, a huge
total, an implausible ratio) and every member is capped while it is actually
decompressed, because declared sizes can lie. Member names are only ever
dictionary keys, never paths on disk; hrefs resolve inside the archive.
"""

from __future__ import annotations

import os
import posixpath
import struct
import unicodedata
import zipfile
import zlib
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import BookError
from ..settings import EngineSettings

# --- limits: generous for real books, fatal for bombs --------------------------------

MIB = 1024 * 1024
MAX_MEMBERS = 10_000  # real EPUBs hold tens to a few thousand files
MAX_DIRECTORY_BYTES = 8 * MIB  # the ZIP's own file list, checked before zipfile loads it
MAX_XML_BYTES = 32 * MIB  # one container, OPF, NCX, nav or XHTML document
MAX_COVER_BYTES = 16 * MIB
# Deflate tops out near 1000:1 and bombs sit there; real XHTML stays well under 20:1.
MAX_RATIO = 200
RATIO_CHECKED_FROM = 1 * MIB  # tiny members can compress oddly well and cannot hurt
READ_PIECE_BYTES = 64 * 1024
UNPACKED_PER_BOOK_MB = 4  # everything unpacked together: at most 4x engine.max_book_mb

HOSTILE_ACTION = "the file may be hostile or damaged; get the book again from a trusted source"

# --- the archive -----------------------------------------------------------------------


class Archive:
    """A ZIP read only through size caps. Member names are keys here, never paths on disk."""

    def __init__(self, archive: zipfile.ZipFile, total_limit: int) -> None:
        self.zip = archive
        self.members = {info.filename: info for info in archive.infolist()}
        # Names as the package writes them may differ from the archive's in Unicode form (NFC
        # against NFD, as macOS writes them), in letter case, or in encoding (an old ZIP
        # without the UTF-8 flag is decoded as cp437): each is also found by its plain form.
        self.folded: dict[str, str] = {}
        for info in archive.infolist():
            for form in (info.filename, utf8_name(info)):
                self.folded.setdefault(plain_name(form), info.filename)
        self.total_limit = total_limit
        self.total_read = 0

    @classmethod
    def open(cls, path: Path, settings: EngineSettings) -> Archive:
        check_directory(path)
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error) as error:
            raise BookError(
                "corrupt",
                f"is not a readable ZIP archive, as every EPUB is ({printable(str(error))})",
                "copy the book again from its source",
            ) from None
        try:
            total_limit = settings.max_book_mb * MIB * UNPACKED_PER_BOOK_MB
            check_members(archive.infolist(), total_limit)
        except BookError:
            archive.close()
            raise
        return cls(archive, total_limit)

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def find(self, name: str) -> str | None:
        """The member called ``name``, matched exactly or, for sloppy books, ignoring case and Unicode form."""
        if name in self.members:
            return name
        return self.folded.get(plain_name(name))

    def size(self, name: str) -> int:
        return self.members[name].file_size

    def read(self, name: str, cap: int, what: str) -> bytes:
        info = self.members[name]
        if info.file_size > cap:
            raise BookError(
                "too_large",
                f"has a {what} of {info.file_size / MIB:.0f} MB, more than a book ever needs",
                HOSTILE_ACTION,
            )
        # Read in small pieces: zipfile stops at the declared size, but decompresses a whole
        # read() request first, so one big read() could still unpack that much.
        limit, pieces, got = min(cap, info.file_size), [], 0
        try:
            with self.zip.open(info) as handle:
                while piece := handle.read(READ_PIECE_BYTES):
                    got += len(piece)
                    if got > limit:
                        raise BookError(
                            "corrupt", f"has a {what} that unpacks to more than its archive says", HOSTILE_ACTION
                        )
                    pieces.append(piece)
        except RuntimeError:  # zipfile's word for a password-protected member
            raise BookError(
                "encrypted",
                "is a password-protected ZIP, not a readable EPUB",
                "export or download an unprotected (DRM-free) copy of the book",
            ) from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as error:
            raise BookError(
                "corrupt", f"has a damaged {what} {shown(name)} ({printable(str(error))})", HOSTILE_ACTION
            ) from None
        data = b"".join(pieces)
        self.total_read += len(data)
        if self.total_read > self.total_limit:
            raise BookError("too_large", "unpacks to more data than its archive declares", HOSTILE_ACTION)
        return data


def plain_name(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def utf8_name(info: zipfile.ZipInfo) -> str:
    """A member name stored as UTF-8 without the ZIP's UTF-8 flag, which zipfile decoded as cp437."""
    if info.flag_bits & 0x800 or info.filename.isascii():
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except UnicodeError:
        return info.filename


def check_directory(path: Path) -> None:
    """Refuse a ZIP whose file list is huge before zipfile builds an object per entry."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - (22 + 65535)))  # end record plus the longest comment
            tail = handle.read()
    except OSError as error:
        raise BookError(
            "not_a_book", f"cannot be read ({error.strerror})", "check the file exists and is readable"
        ) from None
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return  # no end record: zipfile will call it what it is
    entries, directory_bytes = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:
        raise BookError(
            "too_large", "is a ZIP64 archive (over 65,535 files or 4 GB), far beyond any book", HOSTILE_ACTION
        )
    if entries > MAX_MEMBERS or directory_bytes > MAX_DIRECTORY_BYTES:
        raise BookError(
            "too_large", f"holds {entries:,} files, more than the {MAX_MEMBERS:,} a book may have", HOSTILE_ACTION
        )


def check_members(infos: list[zipfile.ZipInfo], total_limit: int) -> None:
    """Refuse zip bombs by what the archive declares; ``Archive.read`` catches the liars."""
    if len(infos) > MAX_MEMBERS:
        raise BookError(
            "too_large", f"holds {len(infos):,} files, more than the {MAX_MEMBERS:,} a book may have", HOSTILE_ACTION
        )
    total = sum(info.file_size for info in infos)
    if total > total_limit:
        raise BookError(
            "too_large",
            f"would unpack to {total / MIB:,.0f} MB, above the {total_limit // MIB:,} MB allowed",
            "raise engine.max_book_mb in config.yaml if the book is genuine",
        )
    for info in infos:
        if info.file_size > RATIO_CHECKED_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise BookError(
                "corrupt",
                f"looks like a zip bomb: one file unpacks {info.file_size // max(info.compress_size, 1):,} times larger",
                HOSTILE_ACTION,
            )


def resolve(base: str, href: str, what: str) -> tuple[str, str] | None:
    """Archive name and fragment that ``href`` (relative to member ``base``) points at.

    None for links outside the book (http:, mailto:). A path that climbs out of
    the archive root is refused: no real book has one.
    """
    parts = urlsplit(href.strip())
    if parts.scheme or parts.netloc:
        return None
    relative = unquote(parts.path)
    if not relative:
        return base, unquote(parts.fragment)
    name = posixpath.normpath(posixpath.join(posixpath.dirname(base), relative))
    if name.startswith("/") or name == ".." or name.startswith("../"):
        raise BookError("corrupt", f"has a {what} that points outside the book ({shown(href)})", HOSTILE_ACTION)
    return name, unquote(parts.fragment)


def shown(text: str, limit: int = 60) -> str:
    """A name from the book, quoted and shortened, safe to put in the user's one line."""
    clean = printable(text)
    return repr(clean if len(clean) <= limit else clean[: limit - 1] + "…")


def printable(text: str) -> str:
    """No control characters (terminal escapes, newlines) from a book reach the user's screen."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)
