"""Web addresses and e-mail addresses as a narrator says them.

A listener cannot type what they hear, so an address is said shortly: its site
("owasp dot org", without the scheme or "www") and, when the page's name is made
of words, those words ("Testing for Data Validation"). The rest of the path, file
extensions, query strings and segments that are ids, numbers or hashes are not read.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'”“]+", re.IGNORECASE)
_NEXT_URL = re.compile(r"\s+(?:https?://|www\.)", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOP_LEVEL_DOMAIN = re.compile(r"\.(?:com|org|net|edu|gov|io|uk)\b")
_BARE_DOMAIN = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|co\.uk|uk)\b(?:/[^\s<>\"'”“]*)?")
_TRAILING_PUNCTUATION = ".,;:!?)]'\"”’"
# A page's name is split into words at these: "Testing_for_Data_Validation", "the-time-machine",
# "Category:Denial_of_Service", "Data%20Validation" (decoded first), "doSomething".
_WORD_BREAK = re.compile(r"[_\-+:.\s]+|(?<=[a-z])(?=[A-Z])")
_FILE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")
# Names a site gives its default page: they name nothing a listener could look for.
_DEFAULT_PAGES = frozenset("index default home main welcome".split())
# More words than this in one segment is a slug of a whole sentence: the site is enough.
_MAX_PAGE_WORDS = 10


def _spoken_host(host: str) -> str:
    return " dot ".join(part for part in host.lower().split(".") if part)


def _is_word(piece: str) -> bool:
    """Letters with a vowel: 'Validation', 'of', 'a'; not 'x7f3', '35' or 'bcdfg'."""
    return piece.isalpha() and (len(piece) == 1 or re.search(r"[aeiouyAEIOUY]", piece) is not None)


def page_words(path: str) -> str:
    """The words of an address's last path segment ('index.php/Testing_for_Data_Validation' ->
    'Testing for Data Validation'); '' when that segment is an id, a number, a hash or a default page."""
    path = path.split("?")[0].split("#")[0]
    segments = [segment for segment in path.split("/") if segment]
    if not segments:
        return ""
    name = _FILE_EXTENSION.sub("", unquote(segments[-1]))
    pieces = [piece for piece in _WORD_BREAK.split(name) if piece]
    if not pieces or len(pieces) > _MAX_PAGE_WORDS or not all(_is_word(piece) for piece in pieces):
        return ""
    if len(pieces) == 1 and pieces[0].lower() in _DEFAULT_PAGES:
        return ""
    return " ".join(pieces)


def _speak_url(match: re.Match[str]) -> str:
    url = match.group()
    stripped = url.rstrip(_TRAILING_PUNCTUATION)
    address = re.sub(r"^(?:https?://)?(?:www\.)?", "", stripped, flags=re.IGNORECASE)
    host, _, path = address.partition("/")
    spoken = _spoken_host(host.split(":")[0])
    words = page_words(path)
    trailing = url[len(stripped) :]
    if not trailing and _NEXT_URL.match(match.string, match.end()):
        trailing = ","  # addresses listed one after another: a narrator pauses between them
    return (f"{spoken}, {words}" if words else spoken) + trailing


def _speak_email(match: re.Match[str]) -> str:
    user, _, host = match.group().partition("@")
    return f"{_spoken_host(user)} at {_spoken_host(host)}"


def link_spans(text: str) -> list[tuple[int, int]]:
    """Where the web and e-mail addresses in a line of code type are, so an extractor keeps their dots and
    slashes for speak_links. Not a bare 'name.io': in code that is as often a package ('java.io')."""
    return [match.span() for pattern in (_URL, _EMAIL) for match in pattern.finditer(text)]


# An address cut at the end of a line (LaTeX breaks a long one after a dot or slash), and what carries it on
# at the next line's start: a host or path piece ("github.io/styleguide/guide.html"), not a new sentence
# or a section's number ("1.6.1 Command-line interface").
_CUT_LINK = re.compile(r"(?:https?://|www\.)[^\s<>\"'”“]*[./_-]$", re.IGNORECASE)
_LINK_REST = re.compile(r"(?=\S*[A-Za-z])[\w-]+(?:[./][\w-]+)+/?(?=[\s.,;:!?)\"'”’]|$)")


def link_rest(before: str, line: str) -> int:
    """How many characters at the start of ``line`` carry on an address cut at the end of ``before``; 0 if none."""
    if not _CUT_LINK.search(before[-300:].rstrip()):
        return 0
    rest = _LINK_REST.match(line)
    return rest.end() if rest else 0


def speak_links(text: str) -> str:
    """Every e-mail and web address in a paragraph, as said aloud."""
    if "@" in text:
        text = _EMAIL.sub(_speak_email, text)
    if "www" in text or "http" in text.lower():
        text = _URL.sub(_speak_url, text)
    if _TOP_LEVEL_DOMAIN.search(text):
        text = _BARE_DOMAIN.sub(_speak_url, text)
    return text
