"""Library layout: place each finished audiobook where audiobook players look for it.

    python -m audiobook.export --record results/ID/book.json --work-dir results/ID/work \\
        --library library --manifest results/ID/export.json

With ``export_layout: audiobookshelf`` a book becomes ``LIBRARY/Author/Title/Title.m4b``
with its cover, its subtitles (``Title.vtt``, ``Title.srt``: players pick up a
sidecar of the same name) and its read-along EPUB beside it, the folder layout Audiobookshelf (and Plex-style
players) scan. Names come from the book's own metadata, so they are made safe
for any file system first. Files are hard-linked when the library is on the
same file system (no second copy of the audio) and copied otherwise, always
through a temporary name, so a player never sees half a file.

Two books with the same author and title (a PDF and an EPUB of one book) must
not overwrite each other: the first to arrive claims the folder with a small
hidden file holding its id; the other one gets ``Title (book-id)``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .fileio import read_json, write_json
from .record import title_and_author

LAYOUTS = ("none", "audiobookshelf")
UNKNOWN_AUTHOR = "Unknown Author"
MAX_NAME_BYTES = 120  # well under the 255-byte limit of most file systems, with room for suffixes
CLAIM_FILE = ".audiobook-book-id"  # hidden: players skip dot files
COVER_NAMES = ("cover.jpg", "cover.jpeg", "cover.png")
AUDIO_SUFFIXES = (".m4b", ".mp3", ".m4a")
SUBTITLE_SUFFIXES = (".vtt", ".srt")
READALONG_SUFFIX = ".readalong.epub"
# Characters that are path separators or forbidden on common file systems (NTFS, SMB shares).
_REPLACEMENTS = {"/": "-", "\\": "-", ":": " -", "|": "-", '"': "'", "*": "", "?": "", "<": "", ">": ""}
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


class ExportError(Exception):
    """The book cannot be exported; the message says why and what to do."""


@dataclass
class ExportManifest:
    book: str
    layout: str
    folder: str
    files: list[str] = field(default_factory=list)
    cover: str | None = None
    linked: bool = False  # hard links (True) or copies (False)


def safe_name(text: str | None, fallback: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """One path component from free text: no separators, no control characters, no leading dot."""
    name = unicodedata.normalize("NFC", text or "")
    name = "".join(
        " " if ch.isspace() else _REPLACEMENTS.get(ch, ch)
        for ch in name
        if ch.isspace() or unicodedata.category(ch)[0] != "C"  # control and format characters go
    )
    name = " ".join(name.split())  # tabs, newlines and runs of spaces become one space
    name = name.lstrip(". ").rstrip(". ")  # leading dots hide files; trailing ones vanish on Windows
    encoded = name.encode("utf-8")
    if len(encoded) > max_bytes:
        name = encoded[:max_bytes].decode("utf-8", "ignore").rstrip(". ")
    if name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = f"{name}_"
    return name or fallback


def book_names(record: dict[str, Any]) -> tuple[str, str]:
    """(author, title) for the folders, from the book's metadata (phase 2, else phase 1), else its file name."""
    title, author = title_and_author(record)
    stem = Path(record.get("file_name") or record.get("file_id") or "book").stem
    return safe_name(author, UNKNOWN_AUTHOR), safe_name(title, safe_name(stem, "Untitled"))


def find_cover(record: dict[str, Any], work_dir: Path) -> Path | None:
    """The cover phase 2 saved: the one its result names, else a cover.* file in the work folder."""
    checkpoint = (record.get("phases", {}).get("2") or {}).get("output")
    if checkpoint:
        with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
            named = (read_json(Path(checkpoint)).get("result") or {}).get("cover_path")
            if named:
                cover = Path(named) if Path(named).is_absolute() else work_dir / named
                if cover.is_file() and cover.suffix.lower() in (".jpg", ".jpeg", ".png"):
                    return cover
    return saved_cover(work_dir)


def saved_cover(work_dir: Path) -> Path | None:
    """The cover.* file phase 2 keeps in a book's work folder, if there is one."""
    return next((work_dir / name for name in COVER_NAMES if (work_dir / name).is_file()), None)


def claim_folder(parent: Path, title: str, book_id: str) -> Path:
    """``parent/title``, or ``parent/title (book_id)`` when another book (or a person) already owns it.

    The claim file is created with O_EXCL, so two books exporting at the same
    moment cannot both believe they own one folder. A folder with files but no
    claim was filled by someone else: it is left alone.
    """
    shortened = safe_name(title, "book", max(20, MAX_NAME_BYTES - len(book_id) - 3))
    for name in (title, f"{shortened} ({book_id})"):
        folder = parent / name
        claim = folder / CLAIM_FILE
        if folder.is_dir() and not claim.exists() and any(folder.iterdir()):
            continue
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(claim, "x", encoding="utf-8") as handle:
                handle.write(book_id + "\n")
            return folder
        except FileExistsError:
            if claim.read_text(encoding="utf-8").strip() == book_id:
                return folder
    raise ExportError(f"{parent / title}: both the folder and its '({book_id})' variant belong to other books")


def place(source: Path, destination: Path) -> bool:
    """Put ``source`` at ``destination`` atomically; True when hard-linked, False when copied."""
    if destination.exists() and os.path.samefile(source, destination):
        return True
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    temporary.unlink(missing_ok=True)
    try:
        try:
            os.link(source, temporary)
            linked = True
        except OSError:  # another file system, or links not allowed: copy instead
            shutil.copy2(source, temporary)
            linked = False
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return linked


def export_book(
    record: dict[str, Any], work_dir: Path, library: Path, layout: str = "audiobookshelf"
) -> ExportManifest:
    """Place one finished book in the library; return what was placed where."""
    if layout not in LAYOUTS or layout == "none":
        raise ExportError(f"export_layout {layout!r} places nothing; use one of: {', '.join(LAYOUTS[1:])}")
    book_id = record.get("file_id") or "book"
    made = [Path(path) for path in record.get("outputs") or []]
    audio = [path for path in made if path.suffix.lower() in AUDIO_SUFFIXES]
    if record.get("status") != "success" or not audio:
        raise ExportError(f"{book_id}: has no finished audiobook to export; run phase 5 (master) first")
    missing = [str(path) for path in audio if not path.is_file()]
    if missing:
        raise ExportError(f"{book_id}: audiobook file missing ({', '.join(missing)}); run the batch again to remake it")
    author, title = book_names(record)
    folder = claim_folder(library / author, title, book_id)
    manifest = ExportManifest(book=book_id, layout=layout, folder=str(folder))
    linked = []
    if len(audio) == 1:
        names = [safe_name(title, "book") + audio[0].suffix.lower()]
    else:  # one file per chapter: keep their (already safe, ordered) names
        names = [safe_name(path.name, f"part{n:03d}{path.suffix}") for n, path in enumerate(audio, 1)]
    for source, name in zip(audio, names):
        linked.append(place(source, folder / name))
        manifest.files.append(str(folder / name))
        for suffix in SUBTITLE_SUFFIXES:  # each audio file's subtitles, under its name
            subtitles = source.with_suffix(suffix)
            if subtitles in made and subtitles.is_file():
                target = (folder / name).with_suffix(suffix)
                linked.append(place(subtitles, target))
                manifest.files.append(str(target))
    for source in made:
        if source.name.endswith(READALONG_SUFFIX) and source.is_file():
            target = folder / (safe_name(title, "book") + READALONG_SUFFIX)
            linked.append(place(source, target))
            manifest.files.append(str(target))
    cover = find_cover(record, work_dir)
    if cover is not None:
        target = folder / f"cover{'.png' if cover.suffix.lower() == '.png' else '.jpg'}"
        linked.append(place(cover, target))
        manifest.cover = str(target)
    manifest.linked = all(linked)
    return manifest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m audiobook.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", type=Path, required=True, help="the book's record (results/ID/book.json)")
    parser.add_argument("--work-dir", type=Path, required=True, help="the book's work folder (for its cover)")
    parser.add_argument("--library", type=Path, required=True, help="the library folder (export_dir)")
    parser.add_argument("--layout", default="audiobookshelf", choices=LAYOUTS[1:], help="folder layout")
    parser.add_argument("--manifest", type=Path, required=True, help="where to write what was placed (JSON)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        record = read_json(args.record)
        manifest = export_book(record, args.work_dir, args.library, args.layout)
    except (OSError, ValueError, ExportError) as error:
        print(f"export: {args.record}: {error}", file=sys.stderr)
        return 1
    write_json(args.manifest, asdict(manifest))
    print(json.dumps(asdict(manifest), ensure_ascii=False), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
