"""Phase 3 helper: rewrite English book text as the words a voice should say.

Piper hands text to espeak-ng, which reads "$5" as "dollar five", "Henry VIII"
as "Henry roman eight", "AD 55" as "ad fifty-five", stops a sentence at every
"Dr." and initial, and makes no pause at a dash. So numbers, money, years,
roman numerals, abbreviations and symbols become words here, before
synthesis. Every rule is a plain regular expression with a small function, so
the same text always gives the same words (phase 4 caches audio by text).

Public: ``normalize_text`` (a paragraph), ``normalize_heading`` (a chapter
title as announced) with ``numbering_words``, ``clean_characters``, ``is_speakable``,
``SENTENCE_STARTERS``, and the number readers ``cardinal``, ``ordinal``,
``year_words``, ``number_words``, ``digit_words``, ``roman_to_int``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

from .links import speak_links

# ---------------------------------------------------------------- numbers

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**15, "quadrillion"), (10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_IRREGULAR_ORDINALS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest:
        words.append(_below_hundred(rest))
    return " ".join(words)


def digit_words(digits: str) -> str:
    """'007' -> 'zero zero seven': for numbers read one digit at a time."""
    return " ".join(_ONES[int(d)] for d in digits if d.isdigit())


def cardinal(n: int) -> str:
    """42 -> 'forty-two'; US style, without 'and' (the voice is American)."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n == 0:
        return "zero"
    if n >= 1000 * _SCALES[0][0]:
        return digit_words(str(n))  # beyond any scale word a listener knows
    words = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            words.append(f"{_below_thousand(count)} {name}")
    if n:
        words.append(_below_thousand(n))
    return " ".join(words)


def _ordinal_of_words(words: str) -> str:
    head, sep, last = words.rpartition(" ")
    stem, hyphen, unit = last.rpartition("-")
    if unit in _IRREGULAR_ORDINALS:
        unit = _IRREGULAR_ORDINALS[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return f"{head}{sep}{stem}{hyphen}{unit}"


def ordinal(n: int) -> str:
    """22 -> 'twenty-second'."""
    return _ordinal_of_words(cardinal(n))


def year_words(n: int) -> str:
    """1984 -> 'nineteen eighty-four', 1900 -> 'nineteen hundred', 2005 -> 'two thousand five'."""
    if n < 1000 or 2000 <= n < 2010 or n % 1000 < 10 or n >= 10000:
        return cardinal(n)  # 476, 2005, 1005: said as plain numbers
    century, rest = divmod(n, 100)
    if rest == 0:
        return f"{cardinal(century)} hundred"
    if rest < 10:
        return f"{cardinal(century)} oh {cardinal(rest)}"
    return f"{cardinal(century)} {cardinal(rest)}"


def number_words(token: str) -> str:
    """A written number as words: '1,234' '3.5' '-2' '007' '0.25'."""
    sign = ""
    if token[:1] in "-−":
        sign, token = "minus ", token[1:]
    whole, _, fraction = token.partition(".")
    whole = whole.replace(",", "")
    if len(whole) > 1 and whole.startswith("0"):
        spoken = digit_words(whole)  # codes and serials keep their zeros
    else:
        spoken = cardinal(int(whole)) if whole else "zero"
    if fraction:
        spoken += " point " + digit_words(fraction)
    return sign + spoken


def _plural(words: str) -> str:
    """'nineteen twenty' -> 'nineteen twenties' (decades)."""
    if words.endswith("y"):
        return words[:-1] + "ies"
    if words.endswith("x"):
        return words + "es"
    return words + "s"


def _capitalize_words(words: str) -> str:
    """'twenty-one' -> 'Twenty-One', for headings."""
    return " ".join("-".join(part[:1].upper() + part[1:] for part in word.split("-")) for word in words.split(" "))


# ---------------------------------------------------------- roman numerals

_ROMAN_VALID = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(numeral: str) -> int | None:
    """'XIV' -> 14; None when it is not a well-formed numeral (so 'DID' stays a word)."""
    upper = numeral.upper()
    if not upper or not _ROMAN_VALID.fullmatch(upper):
        return None
    total = 0
    for position, letter in enumerate(upper):
        value = _ROMAN_VALUES[letter]
        following = _ROMAN_VALUES[upper[position + 1]] if position + 1 < len(upper) else 0
        total += -value if value < following else value
    return total


# ------------------------------------------------------------- characters

# Characters that carry no sound: soft hyphen, zero-width space/joiners, word
# joiner (Standard Ebooks puts one before every em dash), BOM, and U+FFFE that
# pdfium leaves where a word was hyphenated across lines.
_SILENT = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe"), None)
_FRACTION_CHARS = {
    "½": "1/2", "⅓": "1/3", "⅔": "2/3", "¼": "1/4", "¾": "3/4", "⅕": "1/5", "⅖": "2/5", "⅗": "3/5",
    "⅘": "4/5", "⅙": "1/6", "⅚": "5/6", "⅛": "1/8", "⅜": "3/8", "⅝": "5/8", "⅞": "7/8",
}  # fmt: skip
_CHARACTER_MAP = str.maketrans(
    {
        **{ch: f" {text}" for ch, text in _FRACTION_CHARS.items()},  # before NFKC, which glues "2½" into "21⁄2"
        "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
        "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
        "…": "...", "⁄": "/", "−": "-", "‐": "-", "‑": "-",
        "™": "", "®": "", "©": "", "¹": "", "²": "", "³": "",  # superscript digits are footnote marks in books
    }
)  # fmt: skip
_READ_SYMBOLS = frozenset("£€¥₹°±×÷§№⸺⸻")
_SPACES = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_SPACED_ELLIPSIS = re.compile(r"\.(?:\s*\.){2,}")  # ". . ." and "...." are one pause


def _is_noise(ch: str) -> bool:
    """Symbols with no words of their own (arrows, dingbats, private use), kept when a rule reads them."""
    return unicodedata.category(ch)[0] in "SC" and ch not in _READ_SYMBOLS


def clean_characters(text: str) -> str:
    """Plain characters and single spaces: quotes, ellipses, ligatures, fractions."""
    text = unicodedata.normalize("NFKC", text.translate(_SILENT).translate(_CHARACTER_MAP))
    if not text.isascii():
        text = "".join(" " if not ch.isascii() and _is_noise(ch) else ch for ch in text)
    text = _SPACED_ELLIPSIS.sub("...", text)
    return _SPACES.sub(" ", text).strip()


def is_speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


# -------------------------------------------------------------- word lists

_MONTHS = "January February March April May June July August September October November December".split()
_MONTH = "(?:" + "|".join(_MONTHS) + ")"
_MONTH_ABBREVIATIONS = {m[:3]: m for m in _MONTHS if len(m) > 4} | {"Sept": "September"}
# Words that begin sentences: after "Baker St." or an initial they mean the
# period ended a sentence ("... Baker St. The house was ..."). Phase 3's
# sentence splitter uses them the same way.
SENTENCE_STARTERS = frozenset(
    "The A An He She It They We I You This That These Those There Then Thus But And So Or Nor In On At "
    "His Her Its Their My Our Your When While If As After Before Now Yet For What Who Whom Why How Where "
    "One No Not All Some Is Was Were Do Did Does Here Once Still Soon Meanwhile However".split()
)
# After these a 4-digit number is a year ("in 1820", "since 1900", "March 1820").
_STRONG_YEAR_CUES = frozenset(
    "in since year years until till during circa ca c summer winter spring autumn fall early late mid "
    "christmas easter born died anno".split()
) | {m.lower() for m in _MONTHS}
# After these it is a count ("page 1820", "more than 1500").
_COUNT_CUES = frozenset("page pages number numbers no than exactly nearly some over under total all".split())
# Words that may follow a year without making it a count ("in 1820 there were").
_FUNCTION_WORDS = frozenset(
    "the a an and or but nor so yet then there he she it they we i you his her its their our my your this "
    "that these those was were is are had has have did do does will would could should might must may can "
    "when while as if until till after before since in on at to of for by with from into onto upon "
    "during through against among about which who whom whose where what why how not no".split()
)

# ----------------------------------------------------- roman numerals in text

# Words after which a numeral counts a part of the text: "Chapter IV", "Act iii".
_STRONG_NUMBERED = "chapter|chap\\.|volume|vol\\.|act|scene|canto|stave|appendix|psalm|fitte|fytte|section|sect\\."
# Not "letter": "shaped like the letter X" is no number.
_WEAK_NUMBERED = "book|part|lesson|lecture|article|art\\.|epistle"  # "the book I read": careful with "I"


def _any_case(words: str) -> str:
    """'chapter|vol\\.' -> 'chapter|Chapter|CHAPTER|vol\\.|...': spelled out, so re can skip ahead fast."""
    return "|".join(f"{w}|{w[0].upper()}{w[1:]}|{w.upper()}" for w in words.split("|"))


_NUMBERED_PART = re.compile(
    rf"\b(?P<word>{_any_case(_STRONG_NUMBERED)}|{_any_case(_WEAK_NUMBERED)})\s+(?P<num>[IVXLCDM]+|[ivxlcdm]+)\b(?!['-])"
)
_KEYWORD_SPELLING = {"chap.": "Chapter", "vol.": "Volume", "sect.": "Section", "art.": "Article"}
_STRONG_NUMBERED_WORDS = frozenset(w.replace("\\", "") for w in _STRONG_NUMBERED.split("|"))

_REGNAL_NAMES = (
    "Henry Edward George William Richard James Charles John Louis Philip Frederick Elizabeth Mary Anne "
    "Victoria Alexander Nicholas Peter Ivan Catherine Pius Leo Gregory Benedict Innocent Clement Boniface "
    "Urban Paul Francis Ferdinand Alfonso Carlos Pedro Gustav Gustavus Christian Otto Wilhelm Ludwig Rudolf "
    "Napoleon Constantine Justinian Ramesses Rameses Amenhotep Thutmose Ptolemy Antiochus Darius Xerxes "
    "Artaxerxes Robert David Malcolm Duncan Kenneth Stephen Harold Edmund Olaf Haakon Magnus Eric Sigismund "
    "Casimir Sixtus Julius Adrian Hadrian Celestine Martin Felix Sergius Alexius Manuel Michael Basil Leopold "
    "Maximilian Joseph Albert Umberto Vittorio Sancho Juan Isabella Jaime Manfred Conrad Baldwin Amadeus"
).split()
_REGNAL = re.compile(
    r"\b(?P<name>(?:(?:King|Queen|Pope|Emperor|Empress|Tsar|Czar|Tsarina|Pharaoh|Kaiser|Sultan|Prince|Princess|Duke)"
    rf"\s+[A-Z][a-z]+)|(?:{'|'.join(_REGNAL_NAMES)}))\s+(?P<num>[IVXL]+)\b(?P<after>\S*)"
)
# A numeral that opens a paragraph as its number: "I. Introduction", "IV.", "XII".
_LEADING_NUMERAL = re.compile(r"^(?P<num>[IVXLC]+)(?:\.(?=\s+[A-Z\"'(])(?!\s+[A-Z]\.)|\.?$)")


def _numbered_part(match: re.Match[str]) -> str:
    word, numeral = match.group("word"), match.group("num")
    value = roman_to_int(numeral)
    if value is None or (len(numeral) == 1 and numeral.upper() not in "IVX") or (numeral.islower() and value > 50):
        return match.group()  # "Appendix C" is a label, "the book mix" a word
    if numeral in ("I", "i"):
        # "the book I read", "the chapter I wrote": only a capitalised word
        # makes "I" a number, and for the weak words only before punctuation.
        follows = match.string[match.end() : match.end() + 1]
        strong = word.lower() in _STRONG_NUMBERED_WORDS
        if not word[0].isupper() or (not strong and follows not in ("", ".", ",", ":", ";", ")")):
            return match.group()
    spelled = _KEYWORD_SPELLING.get(word.lower(), word)
    number = cardinal(value)
    if word[0].isupper():
        number = _capitalize_words(number)
    return f"{spelled} {number}"


def _regnal(match: re.Match[str]) -> str:
    value = roman_to_int(match.group("num"))
    after = match.group("after")
    if value is None or not 1 <= value <= 40:
        return match.group()
    # "... told Henry I said" is the pronoun: "I" is a numeral only before punctuation or "'s".
    at_end = match.end() == len(match.string)
    if value == 1 and not (at_end or after.startswith("'s") or after[:1] in tuple(".,;:!?)")):
        return match.group()
    return f"{match.group('name')} the {_capitalize_words(ordinal(value))}{after}"


def _leading_numeral(match: re.Match[str]) -> str:
    numeral = match.group("num")
    value = roman_to_int(numeral)
    # Single letters other than I, V, X are more likely initials ("C. Smith").
    if value is None or value > 50 or (len(numeral) == 1 and numeral not in "IVX"):
        return match.group()
    return _capitalize_words(cardinal(value)) + "."


_WORLD_WAR = re.compile(r"\b(?i:(world)\s+(war))\s+(I{1,2})\b")
# A capital numeral other than the pronoun: "II", "V", "XIV", or "I" before punctuation.
_CAPITAL_NUMERAL = re.compile(r" (?:I[IVXL]+|[VXL][IVXL]*)\b| I(?:[.,;:!?)]|'s|$)")


def _speak_roman_numerals(text: str) -> str:
    text = _NUMBERED_PART.sub(_numbered_part, text)
    if "War I" in text or "WAR I" in text:
        text = _WORLD_WAR.sub(lambda m: f"{m.group(1)} {m.group(2)} {'One' if m.group(3) == 'I' else 'Two'}", text)
    if _CAPITAL_NUMERAL.search(text):  # rare, and the name patterns are slow
        text = _REGNAL.sub(_regnal, text)
    return _LEADING_NUMERAL.sub(_leading_numeral, text, count=1)


# ---------------------------------------------------------------- shouting

_UPPER_WORD = re.compile(r"\b[A-Z][A-Z']+\b")


def _uncap(text: str) -> str:
    """'THE END' -> 'The End': espeak spells short capitalised words ('IT' -> 'eye tee')."""
    if text.upper() != text or sum(ch.isalpha() for ch in text) < 2:
        return text
    return _UPPER_WORD.sub(lambda m: m.group().capitalize(), text)


# ------------------------------------------------------------ abbreviations


def _ends_sentence(text: str, position: int) -> bool:
    """Whether the period of an abbreviation ending at ``position`` also ends its sentence."""
    rest = text[position : position + 40]
    if not rest.strip() or rest[0] in "\"')]":
        return True
    return re.match(r"\s+[\"'(]*[A-Z]", rest) is not None


def _previous_word(text: str, position: int) -> tuple[str, bool]:
    """The word before ``position`` and whether it opens its sentence (so its capital says nothing)."""
    before = text[max(0, position - 60) : position]
    match = re.search(r"([\"'(]*)([\w']+)([^\w\s]*)\s*$", before)
    if not match:
        return "", True
    head = before[: match.start()].rstrip()
    opens_sentence = not head or head[-1] in ".!?" or bool(match.group(1))
    return match.group(2), opens_sentence or bool(match.group(3))


# Titles before a name; the period never ends a sentence.
_ALWAYS_TITLES = {
    "Mr": "Mister",
    "Mrs": "Missus",
    "Ms": "Miz",
    "Messrs": "Messieurs",
    "Mme": "Madame",
    "Mlle": "Mademoiselle",
}
_NAME_TITLES = {
    "Prof": "Professor", "Capt": "Captain", "Col": "Colonel", "Gen": "General", "Lt": "Lieutenant",
    "Sgt": "Sergeant", "Cpl": "Corporal", "Maj": "Major", "Adm": "Admiral", "Cmdr": "Commander",
    "Rev": "Reverend", "Revd": "Reverend", "Hon": "Honourable", "Gov": "Governor", "Pres": "President",
    "Sen": "Senator", "Rep": "Representative", "Supt": "Superintendent", "Insp": "Inspector",
    "Fr": "Father", "Mt": "Mount", "Ft": "Fort", "Pt": "Point",
}  # fmt: skip
# Words that may end a sentence: the period stays only when it does.
_FINAL_ABBREVIATIONS = {
    "etc": "et cetera", "&c": "et cetera", "Jr": "Junior", "Sr": "Senior", "Esq": "Esquire",
    "Co": "Company", "Inc": "Incorporated", "Ltd": "Limited", "Bros": "Brothers", "Corp": "Corporation",
    "Ave": "Avenue", "Rd": "Road", "Blvd": "Boulevard", "Sq": "Square", "approx": "approximately",
    "viz": "namely", "cf": "compare", "vs": "versus", "e.g": "for example", "i.e": "that is",
    "E.g": "For example", "I.e": "That is", "a.k.a": "also known as",
}  # fmt: skip
_MID_SENTENCE_ABBREVIATIONS = frozenset({"vs", "e.g", "i.e", "viz", "cf", "a.k.a"})
_BARE_ABBREVIATIONS = frozenset({"etc", "vs", "Jr", "Sr", "Esq", "Ltd", "Inc", "e.g", "i.e", "viz", "cf"})
# Words that only abbreviate before a number ("No. 5", "p. 12").
_NUMBER_ABBREVIATIONS = {
    "no": "number", "nos": "numbers", "p": "page", "pp": "pages", "vol": "volume", "vols": "volumes",
    "ch": "chapter", "chap": "chapter", "fig": "figure", "figs": "figures", "para": "paragraph",
    "art": "article", "sec": "section", "c": "circa", "ca": "circa",
}  # fmt: skip


def _alternatives(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[arg-type]


_ALWAYS_TITLE_RE = re.compile(rf"\b({_alternatives(_ALWAYS_TITLES)})\.?(?=\s+[\w\"'])")
_NAME_TITLE_RE = re.compile(rf"\b({_alternatives(_NAME_TITLES)})\.(?=\s+[A-Z])")
_SAINT_OR_STREET_RE = re.compile(r"\b(St|Dr)(?:\.|(?=\s+[A-Z]))")
_FINAL_RE = re.compile(rf"(?<![\w.])({_alternatives(_FINAL_ABBREVIATIONS)})(?:\.|\b(?=\s|,|$))")
_NUMBER_ABBREVIATION_RE = re.compile(rf"\b({_alternatives(_NUMBER_ABBREVIATIONS)})\.\s?(?=[-#]?\d)", re.IGNORECASE)
_MONTH_ABBREVIATION_RE = re.compile(rf"\b({_alternatives(_MONTH_ABBREVIATIONS)})\.\s?(?=\d)")


def _match_case(word: str, expansion: str) -> str:
    return expansion[:1].upper() + expansion[1:] if word[:1].isupper() else expansion


def _saint_or_street(match: re.Match[str]) -> str:
    """'St. Paul' -> 'Saint Paul' but 'Baker St.' -> 'Baker Street'; 'Dr.' likewise Doctor/Drive."""
    person, place = ("Saint", "Street") if match.group(1) == "St" else ("Doctor", "Drive")
    text, end = match.string, match.end()
    previous, detached = _previous_word(text, match.start())
    after_name = previous[:1].isupper() and not detached and previous not in SENTENCE_STARTERS
    next_word = re.match(r"\s+[\"'(]?([\w']+)", text[end : end + 40])
    before_name = bool(next_word) and next_word.group(1)[:1].isupper()
    if before_name and not (after_name and next_word.group(1) in SENTENCE_STARTERS):
        return person  # "St. Paul", "Dr. Jekyll", "to Dr. Lanyon"
    if after_name or person == "Saint":
        # "Baker St.", "Baker St. The house ...", "Mulholland Dr. was"
        return place + ("." if match.group().endswith(".") and _ends_sentence(text, end) else "")
    return person


def _final_abbreviation(match: re.Match[str]) -> str:
    short = match.group(1)
    has_period = match.group().endswith(".")
    if not has_period and short not in _BARE_ABBREVIATIONS:
        return match.group()  # "Co" or "Ave" without a period may be a word
    expansion = _FINAL_ABBREVIATIONS[short]
    if short.lower() in _MID_SENTENCE_ABBREVIATIONS:
        return expansion  # "Smith vs. Jones", "e.g. London": never the end of a sentence
    return expansion + ("." if has_period and _ends_sentence(match.string, match.end()) else "")


def _expand_abbreviations(text: str) -> str:
    text = _ALWAYS_TITLE_RE.sub(lambda m: _ALWAYS_TITLES[m.group(1)], text)
    text = _NAME_TITLE_RE.sub(lambda m: _NAME_TITLES[m.group(1)], text)
    text = _SAINT_OR_STREET_RE.sub(_saint_or_street, text)
    text = _FINAL_RE.sub(_final_abbreviation, text)
    if not _DIGIT.search(text):
        return text
    text = _NUMBER_ABBREVIATION_RE.sub(
        lambda m: _match_case(m.group(1), _NUMBER_ABBREVIATIONS[m.group(1).lower()]) + " ", text
    )
    return _MONTH_ABBREVIATION_RE.sub(lambda m: _MONTH_ABBREVIATIONS[m.group(1)] + " ", text)


# ---------------------------------------------------------------- initials

# "J. R. R. Tolkien" -> "J.R.R Tolkien" and "E. Smith" -> "E Smith": espeak
# ends a sentence at every "X. " before a capital, which chops names apart.
_INITIAL_RUN = re.compile(r"\b(?:[A-Z]\.\s?){2,}(?=\s*[A-Z][a-z])")
_SINGLE_INITIAL = re.compile(r"(?<![\w.])([B-HJ-Z])\.\s+(?=([A-Z][a-z']+))")


def _initial_run(match: re.Match[str]) -> str:
    following = re.match(r"\s*([\w']+)", match.string[match.end() :])
    if following and following.group(1) in SENTENCE_STARTERS:
        return match.group()
    letters = re.findall(r"[A-Z]", match.group())
    return ".".join(letters) + " "


def _single_initial(match: re.Match[str]) -> str:
    if match.group(2) in SENTENCE_STARTERS:
        return match.group()  # "Plan B. Then ..." ends a sentence
    return match.group(1) + " "


def _join_initials(text: str) -> str:
    text = _INITIAL_RUN.sub(_initial_run, text)
    text = _SINGLE_INITIAL.sub(_single_initial, text)
    return re.sub(r"  +", " ", text)


# ----------------------------------------------------------------- amounts

# At most 18 digits: longer runs (serials, garbage) are left for espeak to read digit by digit.
_NUM = r"\d{1,3}(?:,\d{3}){1,5}(?:\.\d{1,18})?|\d{1,18}(?:\.\d{1,18})?"
_SCALE_WORDS = "thousand|million|billion|trillion"
_CURRENCIES = {  # symbol: (one, many, one minor, many minor)
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_CURRENCY_RE = re.compile(
    rf"(?<![\w$£€¥₹])(?:US|A|C|NZ|HK)?([$£€¥₹])\s?(?P<amount>{_NUM})(?!\d)(?:\s+(?P<scale>{_SCALE_WORDS})\b)?"
)
_PERCENT_RE = re.compile(rf"(?<![\w.,])(?P<amount>-?(?:{_NUM}))\s?%")
_DEGREES_RE = re.compile(rf"(?<![\w.,])(?P<amount>-?(?:{_NUM}))\s?°(?:\s?(?P<scale>[CF])\b)?")
_UNITS = {  # written unit: (one, many)
    "km": ("kilometer", "kilometers"), "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"), "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"), "ft": ("foot", "feet"), "yd": ("yard", "yards"),
    "yds": ("yard", "yards"), "mi": ("mile", "miles"), "mph": ("mile per hour", "miles per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"), "kph": ("kilometer per hour", "kilometers per hour"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "ml": ("milliliter", "milliliters"), "kW": ("kilowatt", "kilowatts"), "MHz": ("megahertz", "megahertz"),
}  # fmt: skip
_UNIT_RE = re.compile(
    rf"(?<![\w.,])(?P<amount>-?(?:{_NUM}))\s?(?P<unit>{_alternatives(_UNITS)})(?P<period>\.?)(?![\w/])"
)
_HALF_DAY = r"(?P<half>[aApP])(?:\.[mM]\.|[mM]\b\.?)"
_TIME_RE = re.compile(rf"(?<![\w:.,])(?P<hour>[01]?\d|2[0-4]):(?P<minute>[0-5]\d)(?![\d:])(?:\s?{_HALF_DAY})?")
_CLOCK_RE = re.compile(rf"(?<![\w.,:])(?P<hour>1[0-2]|[1-9])\s?{_HALF_DAY}(?P<minute>)(?=[\s,;:!?)\"']|$)")
_RANGE_RE = re.compile(r"(?<![\w.,$£€¥-])(?P<low>\d{1,4})\s?[–—-]\s?(?P<high>\d{1,4})(?!\w|[.,]\d|%)")
_DECADE_RE = re.compile(r"(?<![\w.,'])(?:(?P<century>1\d|20)|'?)(?P<decade>[1-9]0)(?:'?s)\b")
_ORDINAL_RE = re.compile(r"(?<![\w.,])(?P<n>\d{1,3}(?:,\d{3}){1,5}|\d{1,18})(?:st|nd|rd|th|ST|ND|RD|TH)\b")
_MONTH_DAY_RE = re.compile(rf"\b(?P<month>{_MONTH})\s+(?P<day>[1-9]|[12]\d|3[01])\b(?![,.:]\d|\w)")
_DAY_MONTH_RE = re.compile(rf"(?<![\w.,])(?P<day>[1-9]|[12]\d|3[01])\s+(?P<month>{_MONTH})\b")
# Eras only next to a number: "AD 55", "55 B.C.", "1066 AD" (espeak says "ad" for AD).
_ERA = r"(?:A\.\s?D\.?|B\.\s?C\.(?:\s?E\.)?|C\.\s?E\.|AD\b|BCE?\b|CE\b)"
_ERA_AFTER_RE = re.compile(rf"(?<=\d)\s{_ERA}")
_ERA_BEFORE_RE = re.compile(rf"\b(?:A\.\s?D\.?|AD)(?=\s\d)")
_SPOKEN_ERA = re.compile(r"\s(?:A\.D|B\.C|C\.E)\b")
_FRACTION_RE = re.compile(
    r"(?<![\w/.,])(?:(?P<whole>\d{1,18})\s+)?(?P<top>\d{1,3})/(?P<bottom>\d{1,3})(?![\w/]|[.,]\d)"
)
_NUMBER_RE = re.compile(rf"(?<![\w.,])(?P<amount>-?(?:{_NUM}))(?!\w|[.,]\w)")  # not "1.E.1" or "3.5.1"
_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}
_FRACTION_BOTTOMS = frozenset(range(2, 11)) | {12, 16, 32, 64, 100}


def _unit_name(amount: str, one: str, many: str) -> str:
    return one if amount.lstrip("-") == "1" else many


def _currency(match: re.Match[str]) -> str:
    one, many, minor_one, minor_many = _CURRENCIES[match.group(1)]
    amount, scale = match.group("amount"), match.group("scale")
    if scale:
        return f"{number_words(amount)} {scale} {many}"  # "$2.5 million" -> "two point five million dollars"
    whole, _, cents = amount.partition(".")
    if len(cents) == 2 and minor_one:
        major, minor = int(whole.replace(",", "") or 0), int(cents)
        parts = []
        if major:
            parts.append(f"{cardinal(major)} {one if major == 1 else many}")
        if minor:
            parts.append(f"{cardinal(minor)} {minor_one if minor == 1 else minor_many}")
        return " and ".join(parts) or f"zero {many}"
    return f"{number_words(amount)} {_unit_name(amount, one, many)}"


def _percent(match: re.Match[str]) -> str:
    return number_words(match.group("amount")) + " percent"


def _degrees(match: re.Match[str]) -> str:
    amount = match.group("amount")
    scale = {"C": " Celsius", "F": " Fahrenheit"}.get(match.group("scale") or "", "")
    return f"{number_words(amount)} {_unit_name(amount, 'degree', 'degrees')}{scale}"


def _unit(match: re.Match[str]) -> str:
    amount = match.group("amount")
    spoken = f"{number_words(amount)} {_unit_name(amount, *_UNITS[match.group('unit')])}"
    if match.group("period") and _ends_sentence(match.string, match.end()):
        spoken += "."
    return spoken


def _clock_time(match: re.Match[str]) -> str:
    """'3:30' -> 'three thirty', '3:05 pm' -> 'three oh five PM', '3:00' -> "three o'clock"."""
    hour, minute, half = int(match.group("hour")), int(match.group("minute") or 0), match.group("half")
    if minute == 0:
        spoken = cardinal(hour) + ("" if half else " o'clock")
    elif minute < 10:
        spoken = f"{cardinal(hour)} oh {cardinal(minute)}"
    else:
        spoken = f"{cardinal(hour)} {cardinal(minute)}"
    if half:
        # espeak says "AM" right; "a.m." would end a sentence in the middle of one.
        spoken += " AM" if half.lower() == "a" else " PM"
        if match.group().endswith(".") and _ends_sentence(match.string, match.end()):
            spoken += "."
    return spoken


def _looks_like_years(low: int, high_text: str, before: str) -> bool:
    words = re.findall(r"[a-z]+", before[-20:].lower())
    if words and words[-1] in _COUNT_CUES:
        return False
    return 1000 <= low <= 2099 and (len(high_text) == 2 or 1000 <= int(high_text) <= 2099)


def _range(match: re.Match[str]) -> str:
    low, high_text = int(match.group("low")), match.group("high")
    high = int(high_text)
    before = match.string[max(0, match.start() - 30) : match.start()]
    if _looks_like_years(low, high_text, before):
        tail = year_words(high) if len(high_text) == 4 else ("oh " + cardinal(high) if high < 10 else cardinal(high))
        return f"{year_words(low)} to {tail}"  # "1914–18" -> "nineteen fourteen to eighteen"
    if len(match.group("low")) == 3 and len(high_text) == 4 and "-" in match.group():
        return f"{digit_words(match.group('low'))}, {digit_words(high_text)}"  # a telephone number
    if high <= low or high_text.startswith("0"):
        return match.group()  # a score or a code, not a range: leave it to the number rule
    return f"{cardinal(low)} to {cardinal(high)}"


def _decade(match: re.Match[str]) -> str:
    decade = int(match.group("decade"))
    if match.group("century") is None:
        return _plural(cardinal(decade))  # "the '60s"
    return _plural(year_words(int(match.group("century")) * 100 + decade))


def _ordinal(match: re.Match[str]) -> str:
    return ordinal(int(match.group("n").replace(",", "")))


def _fraction_words(top: int, bottom: int, after_whole: bool) -> str:
    one, many = _FRACTION_NAMES.get(bottom, (ordinal(bottom), _plural(ordinal(bottom))))
    if top == 1:
        return ("a " if after_whole else "one ") + one
    return f"{cardinal(top)} {many}"


def _fraction(match: re.Match[str]) -> str:
    whole, top, bottom = match.group("whole"), int(match.group("top")), int(match.group("bottom"))
    if bottom not in _FRACTION_BOTTOMS or not 0 < top < bottom:
        # Not a fraction one says ("9/11", "12/25"): read the numbers.
        prefix = f"{cardinal(int(whole))} " if whole else ""
        return f"{prefix}{cardinal(top)} {cardinal(bottom)}"
    if whole:
        return f"{number_words(whole)} and {_fraction_words(top, bottom, True)}"
    return _fraction_words(top, bottom, False)


def _is_year(value: int, text: str, start: int, end: int) -> bool:
    """Decide by context whether a bare 4-digit number is a year."""
    after = text[end : end + 24]
    if _SPOKEN_ERA.match(after):
        return True
    if not 1000 <= value <= 2099:
        return False
    before = text[max(0, start - 40) : start]
    previous = re.findall(r"[A-Za-z]+", before[-16:])
    last = previous[-1].lower() if previous else ""
    if re.search(r"[.,;:!?]\s*$", before):
        last = ""  # a cue across punctuation does not count
    if last in _STRONG_YEAR_CUES or before.endswith("A.D ") or re.search(rf"\b{_MONTH}\b[^.!?;]{{0,24}}$", before):
        return True
    if value < 1100 or last in _COUNT_CUES:
        return False
    following = re.match(r"\s+([A-Za-z']+)", after)
    if following:
        word = following.group(1)
        # "1820 sheep" counts sheep; "1820 there were", "1820 The" do not.
        return word[0].isupper() or word.lower() in _FUNCTION_WORDS
    return True  # on its own or before punctuation: "in the winter of 1820."


def _number(match: re.Match[str]) -> str:
    amount = match.group("amount")
    if re.fullmatch(r"\d{4}", amount) and _is_year(int(amount), match.string, match.start(), match.end()):
        return year_words(int(amount))
    return number_words(amount)


def _era(match: re.Match[str]) -> str:
    letters = re.sub(r"[^A-Z]", "", match.group())
    spoken = ".".join(letters)
    ends = match.group().endswith(".") and _ends_sentence(match.string, match.end())
    return (" " if match.group()[:1].isspace() else "") + spoken + ("." if ends else "")


def _day_month(match: re.Match[str]) -> str:
    """'4 July' -> 'the fourth of July' (no second 'the' after 'on the 4 July')."""
    article = "" if match.string[: match.start()].endswith(("the ", "The ")) else "the "
    return f"{article}{ordinal(int(match.group('day')))} of {match.group('month')}"


def _speak_numbers(text: str) -> str:
    if not _DIGIT.search(text):
        return text
    # Symbols that are part of an amount go first, ranges before plain numbers,
    # years last of all because they look at the words around them.
    text = re.sub(r"[#№]\s?(?=\d)", "number ", text)
    text = re.sub(r"(?<![\w])~\s?(?=\d)", "about ", text)
    text = _CURRENCY_RE.sub(_currency, text)
    text = _PERCENT_RE.sub(_percent, text)
    text = _DEGREES_RE.sub(_degrees, text)
    text = _ERA_AFTER_RE.sub(_era, text)
    text = _ERA_BEFORE_RE.sub(_era, text)
    text = _TIME_RE.sub(_clock_time, text)
    text = _CLOCK_RE.sub(_clock_time, text)
    text = _FRACTION_RE.sub(_fraction, text)
    text = _RANGE_RE.sub(_range, text)
    text = _DECADE_RE.sub(_decade, text)
    text = _ORDINAL_RE.sub(_ordinal, text)
    text = _MONTH_DAY_RE.sub(lambda m: f"{m.group('month')} {ordinal(int(m.group('day')))}", text)
    text = _DAY_MONTH_RE.sub(_day_month, text)
    text = _UNIT_RE.sub(_unit, text)
    return _NUMBER_RE.sub(_number, text)


# ----------------------------------------------------------------- symbols

_SYMBOL_WORDS = {
    "&": " and ", "+": " plus ", "=": " equals ", "±": " plus or minus ", "×": " times ", "÷": " divided by ",
    "@": " at ", "%": " percent ", "°": " degrees ", "§": " section ", "№": " number ",
    "[": "(", "{": "(", "]": ")", "}": ")",
}  # fmt: skip
_SYMBOL = re.compile(r"[&+=±×÷@%°§№\[\]{}]|(?P<mute>[*†‡¶|^~\\_<>•·¦/#]+)")
_WORD_OR_WORD = re.compile(r"\b([A-Za-z]{2,})/([A-Za-z]{2,})\b")  # "he/she"; "and/or" -> "and or"
_EMPTY_BRACKETS = re.compile(r"\(\s*\)")


# "[12]", "[Illustration: ...]", and a note number glued to the end of a sentence: "at all.1 Then".
_NOTE_MARKS = re.compile(r"\[(?:\d+|[a-z]|\*+|†|Illustration[^\]]*)\]|\{\d+\}|(?<=[a-z][.,;:!?\"'])\d{1,3}(?=\s|$)")


_TAG = re.compile(r"<(?P<close>/?)(?P<name>[A-Za-z][\w:.-]*)(?P<rest>[^<>]{0,200})>")
# HTML's own formatting: such a tag closed around words in the same paragraph ("<em>she</em>"),
# or one that holds nothing ("<br/>"), slipped through extraction and is not words.
_FORMATTING_TAGS = frozenset(
    "a abbr b big br cite code del dfn div em font hr i img ins kbd mark p q s samp small span strike strong "
    "sub sup tt u var wbr".split()
)
_EMPTY_TAGS = frozenset("br hr img wbr".split())
# Inside a tag the book shows, its punctuation is not said: "<bean:write>" is "bean write".
_TAG_PUNCTUATION = re.compile(r"[<>/=:.\"'“”‘’…]+")
# A long run of hex digits mixing digits and letters is a hash or an id: nobody reads it out.
_HEX_ID = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{16,}\b", re.IGNORECASE)


def _leaked_tag(match: re.Match[str]) -> bool:
    name = match.group("name").lower()
    if name not in _FORMATTING_TAGS:
        return False
    if name in _EMPTY_TAGS or match.group("rest").rstrip().endswith("/"):
        return True
    text = match.string
    if match.group("close"):
        return re.search(rf"<{re.escape(name)}\b[^<>]*>", text[: match.start()], re.IGNORECASE) is not None
    return re.search(rf"</{re.escape(name)}\s*>", text[match.end() :], re.IGNORECASE) is not None


def _read_tag(match: re.Match[str]) -> str:
    """A tag the book shows (inline code: "<c:out>", '<option value="English">') is read as its words;
    HTML formatting that slipped through extraction is dropped."""
    if _leaked_tag(match):
        return " "
    text, start, end = match.string, match.start(), match.end()
    before = " " if start and text[start - 1].isalnum() else ""
    after = " " if end < len(text) and text[end].isalnum() else ""
    return before + " ".join(_TAG_PUNCTUATION.sub(" ", match.group()).split()) + after


def _drop_marks(text: str) -> str:
    if "<" in text:
        text = _TAG.sub(_read_tag, text)
    if _DIGIT.search(text):
        text = _HEX_ID.sub("", text)
    return _NOTE_MARKS.sub("", text)


def _speak_symbols(text: str) -> str:
    if "/" in text:
        text = _WORD_OR_WORD.sub(lambda m: f"{m[1]} {'' if m[1] == 'and' and m[2] == 'or' else 'or '}{m[2]}", text)
    text = _SYMBOL.sub(lambda m: " " if m.group("mute") else _SYMBOL_WORDS[m.group()], text)
    return _EMPTY_BRACKETS.sub("", text) if "(" in text else text


# ------------------------------------------------------------- punctuation

_DASH = re.compile(r"[—―–⸺⸻]+|-(?:-+|(?<= -)(?= )|(?<=^-)(?= ))")  # a dash between words is a comma's pause
_PUNCTUATION_FIXES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\s+([,.;:!?)])"), r"\1"),
    (re.compile(r"\(\s+"), "("),
    (re.compile(r",\s*(\.\.\.|[.;:!?])"), r"\1"),  # "word—." -> "word."
    (re.compile(r"(\.\.\.|[;:!?]),"), r"\1"),  # but "M.D., F.R.S." keeps its commas
    (re.compile(r",(?:\s*,)+"), ","),
    (re.compile(r"^[\s,;:.!?]+"), ""),  # a dash or comma at the start says nothing
    (re.compile(r"(?:(?<=\s)|^)([\"'(])\s*,\s*"), r"\1"),  # '"—Yes"' -> '"Yes"'
    (re.compile(r"([,.;:!?])\s+(['\"])(?=\s|$|[.,;:!?)])"), r"\1\2"),  # '"But—" he said' -> '"But," he said'
    (re.compile(r"\.\.\.(?=[A-Za-z])"), "... "),
    (re.compile(r"(?<=[a-z])([.!?;:,])(?=[A-Z][a-z])"), r"\1 "),  # "end.Then" from joined lines
]


def _tidy_punctuation(text: str) -> str:
    text = _DASH.sub(", ", text)
    text = _SPACES.sub(" ", text)
    for pattern, replacement in _PUNCTUATION_FIXES:
        text = pattern.sub(replacement, text)
    return text.strip(" ,;:")


# ------------------------------------------------------------------ public

_STEPS: tuple[Callable[[str], str], ...] = (
    _drop_marks,
    speak_links,
    _speak_roman_numerals,  # before _uncap, which would turn "CHAPTER IV" into "Chapter Iv"
    _uncap,
    _expand_abbreviations,
    _join_initials,
    _speak_numbers,
    _speak_symbols,
    _tidy_punctuation,
)


def normalize_text(text: str) -> str:
    """One paragraph of book text as words to say; '' when nothing in it can be said."""
    text = clean_characters(text)
    if not is_speakable(text):
        return ""
    for step in _STEPS:
        text = step(text)
    return text if is_speakable(text) else ""


_HEADING_NUMBER = re.compile(
    rf"^(?:(?P<word>(?i:{_STRONG_NUMBERED}|{_WEAK_NUMBERED}))\s+)?"
    r"(?P<num>[IVXLCDM]+|[ivxlcdm]+|\d{1,3})(?P<sep>\s*[.:)]\s*|\s*[-–—]+\s*|\s+|$)(?P<rest>.*)$"
)
_HEADING_SEPARATOR = re.compile(r"\s*(?::\s+|[—–]+|\s-\s)\s*")


# Any word before a numeral that ends the heading or a part of it: "Letter II", "Stave III: The Spirits".
_WORD_NUMBER = re.compile(
    r"^(?P<word>[A-Z][a-z\u00e0-\u00ff]+|[A-Z\u00c0-\u00de]{2,})\s+(?P<num>[IVXLCDM]+)"
    r"(?P<sep>\s*[.:)]\s*|\s*[-–—]+\s*|$)(?P<rest>.*)$"
)


def numbering_words(titles: Iterable[str]) -> frozenset[str]:
    """The words that number a book's headings: each opens two or more of its titles before a numeral.

    "Letter I", "Letter II" ... make "letter" a numbering word of that book, so
    its "Letter V" is Letter Five, while "Malcolm X" in another book stays a name.
    """
    counts = Counter(
        match.group("word").lower()
        for title in titles
        if (match := _WORD_NUMBER.match(clean_characters(title).strip())) and roman_to_int(match.group("num"))
    )
    return frozenset(word for word, count in counts.items() if count >= 2)


def _numbers_heading(word: str, numeral: str, numbering: frozenset[str]) -> bool:
    """Whether ``word numeral`` opening a heading is a numbered part ("Canto IV"), not a name ("Henry V")."""
    if word.lower() in numbering:
        return True
    return len(numeral) >= 2 and numeral.isupper() and word.capitalize() not in _REGNAL_NAMES


def _heading_number(title: str, numbering: frozenset[str] = frozenset()) -> tuple[str, str] | None:
    """('Chapter Four', 'The Return') from 'CHAPTER IV. THE RETURN' or 'IV. The Return'."""
    match = _HEADING_NUMBER.match(title)
    if match is None or match.group("word") is None:
        other = _WORD_NUMBER.match(title)
        if other and _numbers_heading(other.group("word"), other.group("num"), numbering):
            match = other
    if not match:
        return None
    word, numeral, sep, rest = match.group("word", "num", "sep", "rest")
    value = int(numeral) if numeral.isdigit() else roman_to_int(numeral)
    if value is None or (len(numeral) == 1 and numeral.upper() in "LCDM"):
        return None  # "Appendix C", "C. Smith", "D-Day" are letters
    if word is None:
        # A bare number opens the heading: "IV", "IV. The Return", "12 The Return".
        has_mark = sep.strip() != "" or not rest
        if not numeral.isdigit():
            if value > 399 or (not numeral.isupper() and not has_mark):
                return None  # "MIX Tape", "mild" stay words
            if numeral == "I" and not has_mark:
                return None  # "I Saw Her Standing There"
        if not has_mark and rest[:1].islower():
            return None  # "V for Vendetta"
        word = "Chapter"
    else:
        word = _KEYWORD_SPELLING.get(word.lower(), word.capitalize())
    return f"{word} {_capitalize_words(cardinal(value))}", rest


def _sentence(text: str) -> str:
    text = text.strip(" ,;:-")
    if not text:
        return ""
    return text if text[-1] in ".!?" else text + "."


def normalize_heading(title: str, numbering: frozenset[str] = frozenset()) -> str:
    """A chapter title as announced: 'CHAPTER IV. THE RETURN' -> 'Chapter Four. The Return.'

    ``numbering`` holds the words that number this book's headings (``numbering_words``).
    """
    title = clean_characters(title)
    if not is_speakable(title):
        return ""
    numbered = _heading_number(title, numbering)
    head, rest = numbered if numbered else ("", title)
    if rest and not any(ch.islower() for ch in rest):
        rest = _speak_roman_numerals(rest)
        rest = _UPPER_WORD.sub(lambda m: m.group().capitalize(), rest)
    rest = _HEADING_SEPARATOR.sub(". ", rest)
    spoken_rest = normalize_text(rest)
    if spoken_rest and not head and spoken_rest[0].islower():
        spoken_rest = spoken_rest[0].upper() + spoken_rest[1:]
    parts = [_sentence(part) for part in (head, spoken_rest)]
    return " ".join(part for part in parts if part)
