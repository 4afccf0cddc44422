"""Word frequency lists, per language: wordfreq's "small" lists, read from the files the package ships.

A small list holds exactly the words heard at least once a million words; it loads in a twentieth of the
time of the full list, and a dict lookup a word costs a fortieth of ``zipf_frequency``'s normalising one.
The file is read in the "cBpack" format wordfreq's ``read_cBpack`` documents (gzipped msgpack: a header,
then one list of words per centibel of frequency): importing ``wordfreq`` itself compiles its tokenisers'
patterns and language tables, a quarter of a second that every book would pay for one list. Any other
header falls back to the package.
"""

from __future__ import annotations

import gzip
import importlib.util
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=8)
def frequencies(language: str) -> dict[str, float] | None:
    """Each word's frequency (0-1) in ``language`` (ISO 639-1, "en"), or None when wordfreq ships no
    small list for it."""
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
