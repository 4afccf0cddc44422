"""Web addresses and e-mail addresses as a narrator says them.

An address is read as a careful narrator reads one aloud, so a listener could find it: the scheme
("http://") is left out, the host is said in full ("www dot owasp dot org"), then the path's words in
order, a file's name with its ending ("index dot php"), the slashes, underscores and hyphens silent and
a short pause between the path's parts; a query string's names and values are read as words
("username admin, passwd admin"). A long opaque token (a hash, a session id, a long number) is not
spelled out: nobody follows it by ear.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'”“]+", re.IGNORECASE)
_NEXT_URL = re.compile(r"\s+(?:https?://|www\.)", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TOP_LEVEL_DOMAIN = re.compile(r"\.(?:com|org|net|edu|gov|io|uk)\b")
_BARE_DOMAIN = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|edu|gov|io|co\.uk|uk)\b(?:[/?#][^\s<>\"'”“]*)?")
_TRAILING_PUNCTUATION = ".,;:!?)]'\"”’"
_SCHEME = re.compile(r"^https?://", re.IGNORECASE)
_HOST = re.compile(r"[^/?#]*")  # up to the path, the query ("example.com?q=1") or the fragment
# A run of letters and digits; every other character of an address's part ("_", "-", "+", "~", "%20"
# once decoded) only separates its words: "Testing_for_Data_Validation", "the-time-machine".
_RUN = re.compile(r"[^\W_]+")
# Words run together in a name: "doSomething", "XMLHttpRequest".
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Letters then digits or digits then letters, as names are made ("html5", "mp3", "windows10", "2007a").
_NAME_WITH_NUMBER = re.compile(r"[A-Za-z]{1,8}\d{1,3}|\d{1,4}[A-Za-z]{1,2}")
_SHORT = 4  # "php", "ctl", "api", "v2", "2007": the voice says a run this short as it is written


def _spoken_host(host: str) -> str:
    return " dot ".join(part for part in host.lower().split(".") if part)


def _is_word(piece: str) -> bool:
    """Letters with a vowel ('Validation', 'of'), short ('php', 'XML') or of another script ('Москва');
    not 'bcdfgh'."""
    if not piece.isalpha():
        return False
    return len(piece) <= _SHORT or not piece.isascii() or re.search(r"[aeiouyAEIOUY]", piece) is not None


def _sayable(run: str) -> list[str]:
    """The words a run of letters and digits is said as: 'doSomething' -> ['do', 'Something'], '35' -> ['35'];
    none for an opaque token ('3f2a9c1d7e', '20070514', 'aXkQeRtYu'), which nobody follows by ear."""
    if len(run) <= _SHORT and (run.isalpha() or run.isdigit()):
        return [run]
    if run.isalpha():
        pieces = _CAMEL.split(run)
        # A name's words are a few letters long at least; a token's case flips every letter or two.
        return pieces if all(map(_is_word, pieces)) and len(pieces) <= len(run) / 3 else []
    return [run] if _NAME_WITH_NUMBER.fullmatch(run) else []


def _words(part: str) -> str:
    """One part of an address as words: 'Testing_for_Data_Validation' -> 'Testing for Data Validation',
    'index.php' -> 'index dot php'; '' when nothing in it can be said."""
    names = (" ".join(word for run in _RUN.findall(name) for word in _sayable(run)) for name in part.split("."))
    return " dot ".join(name for name in names if name)


def _address_words(address: str) -> list[str]:
    """What is said of an address after its host, part by part: its path's segments, then its query string's
    names and values, then its fragment ('/index.php/Category:Denial_of_Service?x=1' ->
    ['index dot php', 'Category Denial of Service', 'x 1'])."""
    path, _, fragment = address.partition("#")
    path, _, query = path.partition("?")
    parts = [unquote(segment) for segment in path.split("/")]
    parts += [" ".join(unquote(piece) for piece in pair.split("=")) for pair in query.split("&")]
    parts.append(unquote(fragment))
    return [words for words in map(_words, parts) if words]


def _speak_url(match: re.Match[str]) -> str:
    url = match.group()
    stripped = url.rstrip(_TRAILING_PUNCTUATION)
    address = _SCHEME.sub("", stripped)
    host = _HOST.match(address).group()
    site = _spoken_host(host.split(":")[0])  # a port is left out
    spoken = ", ".join([site, *_address_words(address[len(host) :])])
    trailing = url[len(stripped) :]
    if not trailing and _NEXT_URL.match(match.string, match.end()):
        trailing = ","  # addresses listed one after another: a narrator pauses between them
    return spoken + trailing


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
