"""The read-along EPUB 3: the book's text with Media Overlays that follow the audiobook.

For an EPUB 3 input the original book is kept, markup and all; every spoken
sentence found in its XHTML is wrapped in a ``<span id>``. Any other input (a
PDF, an EPUB 2) becomes a clean reflowable EPUB 3 made from the extracted
chapters (title, author, cover, nav) and gets the same wrapping. Then one SMIL
document per spine item lists a ``<par>`` per sentence: the span and the
stretch of the mastered audio (inside the package) where it is heard.

Sentences are found by their letters and digits only (punctuation, case and
spacing differ between the book's markup and the printed text phase 3
kept), in reading order, never looking far back; one that cannot be found is
counted and left without a highlight. XML is parsed without DTDs, entity
expansion or network access.
"""

from __future__ import annotations

import hashlib
import html
from array import array
import posixpath
import unicodedata
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from .fileio import atomic_writer
from .normalize import clean_characters
from .subtitles import TimedSentence

if TYPE_CHECKING:
    from .model import ExtractedBook, PhaseContext

XHTML = "http://www.w3.org/1999/xhtml"
OPF = "http://www.idpf.org/2007/opf"
DC = "http://purl.org/dc/elements/1.1/"
OPS = "http://www.idpf.org/2007/ops"
CONTAINER = "urn:oasis:names:tc:opendocument:xmlns:container"
ACTIVE_CLASS = "readalong-active"
SPAN_PREFIX = "ra-s"
_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, dtd_validation=False)
# Elements whose text is read as one unit; the innermost one holding a sentence is used.
_BLOCKS = frozenset("p h1 h2 h3 h4 h5 h6 li dt dd td th blockquote figcaption caption div pre section".split())
# A sentence found further ahead than this (in letters and digits) is taken for another one.
_LOOKAHEAD = 200_000
_SHORT_KEY = 12
_SHORT_LOOKAHEAD = 3_000
# Long sentences may differ inside (a footnote mark, a dropped word): match their two ends.
_END_KEY = 24
_AUDIO_TYPES = {".m4b": ("m4a", "audio/mp4"), ".m4a": ("m4a", "audio/mp4"), ".mp3": ("mp3", "audio/mpeg")}
# An EPUB that unpacks to more than this is rebuilt from the chapters instead of kept in memory.
MAX_UNPACKED_BYTES = 1 << 30
_CSS = f".{ACTIVE_CLASS} {{ background-color: #ffe58a; color: #000; }}\n"


@dataclass
class Summary:
    sentences: int = 0  # sentences with a highlight
    unmatched: int = 0  # sentences found nowhere in the text


@dataclass
class _Document:
    """One spine XHTML document of the package being built."""

    name: str  # path inside the package
    tree: etree._ElementTree
    item_id: str
    pars: list[tuple[str, str, float, float]] = field(default_factory=list)  # (span id, audio name, start, end)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**_PARSER_OPTIONS)


def _key_chars(text: str) -> list[tuple[str, int]]:
    """(letter or digit, lower case, its index in ``text``) for every letter and digit of ``text``."""
    found = []
    for index, ch in enumerate(text):
        for folded in unicodedata.normalize("NFKC", ch).lower():
            if folded.isalnum():
                found.append((folded, index))
    return found


def _key(text: str) -> str:
    return "".join(ch for ch, _ in _key_chars(text))


# --- finding sentences in the markup -----------------------------------------


@dataclass
class _Segment:
    owner: etree._Element
    kind: str  # "text" (owner.text) or "tail" (owner.tail)
    start: int  # offset in the block's text

    @property
    def container(self) -> etree._Element:
        return self.owner if self.kind == "text" else self.owner.getparent()

    @property
    def value(self) -> str:
        return (self.owner.text if self.kind == "text" else self.owner.tail) or ""


def _segments(block: etree._Element) -> tuple[list[_Segment], str]:
    """The text pieces of a block in reading order, and its whole text."""
    segments: list[_Segment] = []
    offset = 0

    def walk(element: etree._Element) -> None:
        nonlocal offset
        if element.text:
            segments.append(_Segment(element, "text", offset))
            offset += len(element.text)
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                if child.tail:
                    segments.append(_Segment(child, "tail", offset))
                    offset += len(child.tail)
                continue
            walk(child)
            if child.tail:
                segments.append(_Segment(child, "tail", offset))
                offset += len(child.tail)

    walk(block)
    return segments, "".join(s.value for s in segments)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _blocks(tree: etree._ElementTree) -> list[etree._Element]:
    """The innermost block elements of the body, in document order."""
    body = tree.getroot().find(f"{{{XHTML}}}body")
    if body is None:
        return []
    found = []
    for element in body.iter(f"{{{XHTML}}}*"):
        if _local(element) in _BLOCKS and not any(
            _local(inner) in _BLOCKS for inner in element.iterdescendants(f"{{{XHTML}}}*")
        ):
            found.append(element)
    return found


@dataclass
class _TextIndex:
    """Every block's letters and digits, end to end, with the way back to each block and character."""

    key: str
    # Per key character: its block's number and its index in the block's text (compact: a novel has millions).
    block_of: array
    index_of: array
    blocks: list[tuple[_Document, etree._Element]]


def _index(documents: Sequence[_Document]) -> _TextIndex:
    key: list[str] = []
    block_of, index_of = array("l"), array("l")
    blocks: list[tuple[_Document, etree._Element]] = []
    for document in documents:
        for block in _blocks(document.tree):
            _, text = _segments(block)
            for ch, index in _key_chars(text):
                key.append(ch)
                block_of.append(len(blocks))
                index_of.append(index)
            blocks.append((document, block))
    return _TextIndex("".join(key), block_of, index_of, blocks)


def _find(index: _TextIndex, sentence_key: str, position: int) -> tuple[int, int] | None:
    """Key range [start, end) of a sentence at or after ``position``, or None."""
    reach = _SHORT_LOOKAHEAD if len(sentence_key) < _SHORT_KEY else _LOOKAHEAD
    limit = position + reach + len(sentence_key)
    start = index.key.find(sentence_key, position, limit)
    if start >= 0:
        return start, start + len(sentence_key)
    if len(sentence_key) < 3 * _END_KEY:
        return None
    head, tail = sentence_key[:_END_KEY], sentence_key[-_END_KEY:]
    start = index.key.find(head, position, limit)
    if start < 0:
        return None
    end = index.key.find(tail, start + len(head), start + 2 * len(sentence_key))
    if end < 0:
        return None
    return start, end + len(tail)


def _with_punctuation(text: str, first: int, last: int) -> tuple[int, int]:
    """Widen a sentence's letters to the quotes before it and the stops and quotes after it."""
    while first > 0 and not text[first - 1].isspace() and not text[first - 1].isalnum():
        first -= 1
    while last + 1 < len(text) and not text[last + 1].isspace() and not text[last + 1].isalnum():
        last += 1
    return first, last


def _contains_sentence(element: etree._Element) -> bool:
    return any((e.get("id") or "").startswith(SPAN_PREFIX) for e in element.iter(f"{{{XHTML}}}span"))


def _wrap(block: etree._Element, first: int, last: int, span_id: str) -> bool:
    """Wrap characters [first, last] of the block's text in ``<span id=span_id>``; False when it cannot."""
    segments, _ = _segments(block)
    at_start = next((s for s in segments if s.start <= first < s.start + len(s.value)), None)
    at_end = next((s for s in segments if s.start <= last < s.start + len(s.value)), None)
    if at_start is None or at_end is None:
        return False
    ancestors = [at_start.container, *at_start.container.iterancestors()]
    end_line = {id(e) for e in [at_end.container, *at_end.container.iterancestors()]}
    container = next((e for e in ancestors if id(e) in end_line), None)
    if container is None or etree.QName(container).namespace != XHTML:
        return False
    children = list(container)
    # A slot is where text lies directly in the container: -1 is container.text, i is children[i].tail.

    def slot_of(segment: _Segment) -> int:
        return -1 if segment.kind == "text" else children.index(segment.owner)

    def top_child(segment: _Segment) -> etree._Element:
        element = segment.container
        while element.getparent() is not container:
            element = element.getparent()
        return element

    def slot_text(slot: int) -> str:
        return (container.text if slot < 0 else children[slot].tail) or ""

    if at_start.container is container:
        start_slot, start_offset = slot_of(at_start), first - at_start.start
    else:  # the sentence starts inside an inline element: take the whole element
        child = top_child(at_start)
        position = children.index(child)
        if _contains_sentence(child):  # it holds the end of the sentence before: start after it
            start_slot, start_offset = position, 0
        else:
            start_slot = position - 1
            start_offset = len(slot_text(start_slot))
    if at_end.container is container:
        end_slot, end_offset = slot_of(at_end), last + 1 - at_end.start
    else:
        end_slot, end_offset = children.index(top_child(at_end)), 0
    if (end_slot, end_offset) <= (start_slot, start_offset):
        return False
    span = etree.Element(f"{{{XHTML}}}span")
    span.set("id", span_id)
    before = slot_text(start_slot)
    if start_slot == end_slot:
        span.text, span.tail = before[start_offset:end_offset], before[end_offset:]
    else:
        span.text = before[start_offset:]
        moved = children[start_slot + 1 : end_slot + 1]
        closing = moved[-1].tail or ""
        for child in moved:
            span.append(child)  # lxml moves the element with its tail
        moved[-1].tail = closing[:end_offset]
        span.tail = closing[end_offset:]
    kept = before[:start_offset] or None
    if start_slot < 0:
        container.text = kept
        container.insert(0, span)
    else:
        children[start_slot].tail = kept
        container.insert(container.index(children[start_slot]) + 1, span)
    return True


def _place_sentences(
    documents: Sequence[_Document], timed: Sequence[tuple[str, Sequence[TimedSentence]]], summary: Summary
) -> None:
    """Wrap every sentence found and note its audio in its document's overlay."""
    index = _index(documents)
    position = 0
    number = 0
    taken = {id_ for document in documents for id_ in document.tree.getroot().xpath("//@id")}
    for audio_name, sentences in timed:
        for sentence in sentences:
            sentence_key = _key(sentence.text)
            found = _find(index, sentence_key, position) if sentence_key else None
            if found is None:
                summary.unmatched += 1
                continue
            start, end = found
            block_number, first = index.block_of[start], index.index_of[start]
            end_block, last = index.block_of[end - 1], index.index_of[end - 1]
            document, block = index.blocks[block_number]
            _, text = _segments(block)
            if end_block != block_number:  # runs on past its block (verse lines): highlight its first part
                last = len(text) - 1
            first, last = _with_punctuation(text, first, last)
            number += 1
            span_id = f"{SPAN_PREFIX}{number}"
            while span_id in taken:
                span_id += "x"
            if not _wrap(block, first, last, span_id):
                summary.unmatched += 1
                continue
            taken.add(span_id)
            position = end
            document.pars.append((span_id, audio_name, sentence.start_s, sentence.end_s))
            summary.sentences += 1


# --- the package --------------------------------------------------------------


def clock(seconds: float) -> str:
    """A SMIL clock value, h:mm:ss.fff."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _smil(document: _Document, smil_name: str) -> tuple[bytes, int]:
    """The overlay of one document and its duration in milliseconds (the sum of its clips)."""
    directory = posixpath.dirname(smil_name)
    text_ref = posixpath.relpath(document.name, directory or ".")
    pars, total = [], 0
    for number, (span_id, audio, start, end) in enumerate(document.pars, start=1):
        begin, finish = round(start * 1000), round(end * 1000)
        total += finish - begin
        audio_ref = posixpath.relpath(audio, directory or ".")
        pars.append(
            f'<par id="par{number}"><text src="{html.escape(text_ref)}#{span_id}"/>'
            f'<audio src="{html.escape(audio_ref)}" clipBegin="{clock(begin / 1000)}" clipEnd="{clock(finish / 1000)}"/>'
            "</par>"
        )
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<smil xmlns="http://www.w3.org/ns/SMIL" xmlns:epub="{OPS}" version="3.0"><body>'
        f'<seq id="seq1" epub:textref="{html.escape(text_ref)}">' + "\n".join(pars) + "</seq></body></smil>\n"
    )
    return body.encode("utf-8"), total


def _link_css(document: _Document, css_name: str) -> None:
    head = document.tree.getroot().find(f"{{{XHTML}}}head")
    if head is None:
        return
    link = etree.SubElement(head, f"{{{XHTML}}}link")
    link.set("href", posixpath.relpath(css_name, posixpath.dirname(document.name) or "."))
    link.set("rel", "stylesheet")
    link.set("type", "text/css")


def _serialise(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def _write_package(
    target: Path,
    files: dict[str, bytes],
    audio: dict[str, Path],
    opf_name: str,
) -> None:
    """Zip the package: mimetype first and stored, audio stored (already compressed), the rest deflated."""
    container = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<container xmlns="{CONTAINER}" version="1.0"><rootfiles>'
        f'<rootfile full-path="{html.escape(opf_name)}" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>\n"
    )
    files = {"META-INF/container.xml": container.encode(), **files}
    with atomic_writer(target, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        for name, data in files.items():
            if name != "mimetype":
                archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        for name, path in audio.items():
            archive.write(path, name, compress_type=zipfile.ZIP_STORED)


def _overlay_parts(
    documents: Sequence[_Document], base: str
) -> tuple[dict[str, bytes], list[str], list[str], dict[str, str]]:
    """SMIL files, their manifest items and duration metas, and each document's overlay id."""
    files, items, metas, overlay_of = {}, [], [], {}
    total = 0
    for number, document in enumerate(documents, start=1):
        if not document.pars:
            continue
        smil_name = posixpath.join(posixpath.dirname(base), f"readalong/overlay-{number}.smil")
        data, millis = _smil(document, smil_name)
        files[smil_name] = data
        smil_id = f"readalong-overlay-{number}"
        items.append(
            f'<item id="{smil_id}" href="{html.escape(posixpath.relpath(smil_name, posixpath.dirname(base) or "."))}"'
            ' media-type="application/smil+xml"/>'
        )
        metas.append(f'<meta property="media:duration" refines="#{smil_id}">{clock(millis / 1000)}</meta>')
        overlay_of[document.item_id] = smil_id
        total += millis
    metas.append(f'<meta property="media:duration">{clock(total / 1000)}</meta>')
    metas.append(f'<meta property="media:active-class">{ACTIVE_CLASS}</meta>')
    return files, items, metas, overlay_of


def _audio_entries(timed: Sequence[tuple[Path, Sequence[TimedSentence]]], base_dir: str) -> dict[str, Path]:
    audio = {}
    for number, (path, _) in enumerate(timed, start=1):
        extension = _AUDIO_TYPES.get(path.suffix.lower(), ("m4a", "audio/mp4"))[0]
        audio[posixpath.join(base_dir, f"audio/part-{number:03d}.{extension}")] = path
    return audio


def _audio_items(audio: dict[str, Path], base_dir: str) -> list[str]:
    items = []
    for number, (name, path) in enumerate(audio.items(), start=1):
        media_type = _AUDIO_TYPES.get(path.suffix.lower(), ("m4a", "audio/mp4"))[1]
        href = posixpath.relpath(name, base_dir or ".")
        items.append(f'<item id="readalong-audio-{number}" href="{html.escape(href)}" media-type="{media_type}"/>')
    return items


# --- an EPUB 3 input, kept ----------------------------------------------------


def _read_epub3(source: Path) -> tuple[dict[str, bytes], str, etree._ElementTree] | None:
    """The files of an EPUB 3, its OPF path and parsed OPF; None when it is not an EPUB 3 we can keep."""
    try:
        with zipfile.ZipFile(source) as archive:
            entries = [info for info in archive.infolist() if not info.is_dir()]
            if sum(info.file_size for info in entries) > MAX_UNPACKED_BYTES:  # a zip bomb: build a clean one
                return None
            files = {info.filename: archive.read(info) for info in entries}
        container = etree.fromstring(files["META-INF/container.xml"], _parser())
        rootfile = container.find(f".//{{{CONTAINER}}}rootfile")
        opf_name = rootfile.get("full-path") if rootfile is not None else None
        opf = etree.ElementTree(etree.fromstring(files[opf_name], _parser()))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError, TypeError):
        return None
    root = opf.getroot()
    encrypted = "META-INF/encryption.xml" in files
    if not (root.get("version") or "").startswith("3") or encrypted:
        return None
    return files, opf_name, opf


def _kept_epub(
    source: Path, timed: Sequence[tuple[Path, Sequence[TimedSentence]]], target: Path, summary: Summary
) -> bool:
    read = _read_epub3(source)
    if read is None:
        return False
    files, opf_name, opf = read
    base_dir = posixpath.dirname(opf_name)
    root = opf.getroot()
    manifest = root.find(f"{{{OPF}}}manifest")
    metadata = root.find(f"{{{OPF}}}metadata")
    spine = root.find(f"{{{OPF}}}spine")
    if manifest is None or metadata is None or spine is None:
        return False
    items = {item.get("id"): item for item in manifest.findall(f"{{{OPF}}}item")}
    documents: list[_Document] = []
    for itemref in spine.findall(f"{{{OPF}}}itemref"):
        item = items.get(itemref.get("idref"))
        if item is None or item.get("media-type") != "application/xhtml+xml" or item.get("media-overlay"):
            continue
        name = posixpath.normpath(posixpath.join(base_dir, item.get("href") or ""))
        try:
            tree = etree.ElementTree(etree.fromstring(files[name], _parser()))
        except (KeyError, etree.XMLSyntaxError, ValueError):
            continue
        documents.append(_Document(name, tree, item.get("id") or ""))
    audio = _audio_entries(timed, base_dir)
    names = list(audio)
    _place_sentences(documents, [(names[n], s) for n, (_, s) in enumerate(timed)], summary)
    css_name = posixpath.join(base_dir, "readalong/readalong.css")
    for document in documents:
        if document.pars:
            _link_css(document, css_name)
            files[document.name] = _serialise(document.tree)
    smil_files, smil_items, metas, overlay_of = _overlay_parts(documents, opf_name)
    files.update(smil_files)
    for item_id, smil_id in overlay_of.items():
        items[item_id].set("media-overlay", smil_id)
    new_items = [
        *smil_items,
        *_audio_items(audio, base_dir),
        f'<item id="readalong-css" href="{posixpath.relpath(css_name, base_dir or ".")}" media-type="text/css"/>',
    ]
    for markup in new_items:
        manifest.append(etree.fromstring(markup.replace("<item ", f'<item xmlns="{OPF}" ', 1), _parser()))
    for markup in metas:
        metadata.append(etree.fromstring(markup.replace("<meta ", f'<meta xmlns="{OPF}" ', 1), _parser()))
    # "media:" is a reserved prefix in EPUB 3: the metas need no prefix declaration.
    files[opf_name] = _serialise(opf)
    files[css_name] = _CSS.encode()
    files.pop("mimetype", None)
    _write_package(target, files, audio, opf_name)
    return True


# --- any other input: a clean EPUB 3 from the extracted chapters --------------


def _xhtml(title: str, body: str, language: str, css: str = "style.css") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        f'<html xmlns="{XHTML}" xmlns:epub="{OPS}" xml:lang="{html.escape(language)}" lang="{html.escape(language)}">'
        f'<head><meta charset="utf-8"/><title>{html.escape(title)}</title>'
        f'<link rel="stylesheet" type="text/css" href="{css}"/></head><body>{body}</body></html>\n'
    ).encode("utf-8")


def _cover(ctx: PhaseContext, book: ExtractedBook) -> tuple[bytes, str, str] | None:
    """The cover image's bytes, extension and media type, when it is a JPEG or PNG."""
    if not book.cover_path:
        return None
    path = Path(book.cover_path)
    path = path if path.is_absolute() else ctx.work_dir / path
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data.startswith(b"\xff\xd8\xff"):
        return data, "jpg", "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data, "png", "image/png"
    return None


def _made_epub(
    ctx: PhaseContext,
    book: ExtractedBook,
    timed: Sequence[tuple[Path, Sequence[TimedSentence]]],
    target: Path,
    summary: Summary,
) -> None:
    language = (book.language or "en").strip() or "en"
    title = clean_characters(book.title or "") or "Untitled"
    author = clean_characters(book.author or "")
    esc = html.escape
    documents: list[_Document] = []
    nav_links = []
    for number, chapter in enumerate(book.chapters, start=1):
        name = f"EPUB/chapter-{number}.xhtml"
        chapter_title = clean_characters(chapter.title) or f"Chapter {number}"
        body = f'<section epub:type="chapter"><h2>{esc(chapter_title)}</h2>' + "".join(
            f"<p>{esc(clean_characters(p))}</p>" for p in chapter.paragraphs if clean_characters(p)
        )
        tree = etree.ElementTree(
            etree.fromstring(_xhtml(chapter_title, body + "</section>", language), _parser())
        )
        documents.append(_Document(name, tree, f"chapter-{number}"))
        nav_links.append(f'<li><a href="chapter-{number}.xhtml">{esc(chapter_title)}</a></li>')
    audio = _audio_entries(timed, "EPUB")
    names = list(audio)
    _place_sentences(documents, [(names[n], s) for n, (_, s) in enumerate(timed)], summary)
    files: dict[str, bytes] = {d.name: _serialise(d.tree) for d in documents}
    files["EPUB/style.css"] = ("body { line-height: 1.5; } h2 { text-align: center; }\n" + _CSS).encode()
    cover = _cover(ctx, book)
    items = [
        f'<item id="{d.item_id}" href="{posixpath.basename(d.name)}" media-type="application/xhtml+xml"/>'
        for d in documents
    ]
    spine = [f'<itemref idref="{d.item_id}"/>' for d in documents]
    if cover is not None:
        data, extension, media_type = cover
        files[f"EPUB/cover.{extension}"] = data
        files["EPUB/cover.xhtml"] = _xhtml(
            title, f'<section epub:type="cover"><img src="cover.{extension}" alt="{esc(title)}"/></section>', language
        )
        items += [
            f'<item id="cover-image" href="cover.{extension}" media-type="{media_type}" properties="cover-image"/>',
            '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>',
        ]
        spine.insert(0, '<itemref idref="cover"/>')
    files["EPUB/nav.xhtml"] = _xhtml(
        "Contents", f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>{"".join(nav_links)}</ol></nav>', language
    )
    items.append('<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>')
    items.append('<item id="style" href="style.css" media-type="text/css"/>')
    smil_files, smil_items, metas, overlay_of = _overlay_parts(documents, "EPUB/package.opf")
    files.update(smil_files)
    items = [
        item.replace(' media-type="application/xhtml+xml"/>', f' media-type="application/xhtml+xml" media-overlay="{overlay_of[i]}"/>')
        if (i := item.split('"')[1]) in overlay_of
        else item
        for item in items
    ]
    items += smil_items + _audio_items(audio, "EPUB")
    identity = hashlib.sha256(f"{title}|{author}|{ctx.source.name}".encode()).hexdigest()
    book_uuid = uuid.UUID(identity[:32])
    creator = f"<dc:creator>{esc(author)}</dc:creator>" if author else ""
    files["EPUB/package.opf"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<package xmlns="{OPF}" version="3.0" unique-identifier="uid" xml:lang="{esc(language)}">'
        f'<metadata xmlns:dc="{DC}">'
        f'<dc:identifier id="uid">urn:uuid:{book_uuid}</dc:identifier><dc:title>{esc(title)}</dc:title>'
        f"{creator}<dc:language>{esc(language)}</dc:language>"
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>'
        f"{''.join(metas)}</metadata>"
        f"<manifest>{''.join(items)}</manifest><spine>{''.join(spine)}</spine></package>\n"
    ).encode("utf-8")
    _write_package(target, files, audio, "EPUB/package.opf")


def make_readalong(
    ctx: PhaseContext,
    book: ExtractedBook,
    timed: Sequence[tuple[Path, Sequence[TimedSentence]]],
    target: Path,
) -> Summary:
    """Write the read-along EPUB 3 for ``timed`` (each audio file with its sentences) at ``target``."""
    summary = Summary()
    if not _kept_epub(ctx.source, timed, target, summary):
        summary = Summary()
        _made_epub(ctx, book, timed, target, summary)
    ctx.log.info(
        "read-along %s: %d sentences highlighted, %d not found in the text",
        target.name,
        summary.sentences,
        summary.unmatched,
    )
    return summary
