"""English heteronyms said in the sense the sentence gives them.

espeak-ng says "read", "wound", "lead", "close"... one way whatever the
sentence. Here each sentence holding one of them is tagged with gruut's
part-of-speech tagger (a CRF model shipped in ``gruut-lang-en``), the tag is
checked against the neighbouring words where that tagger is known to slip
("the road wound along" tagged a noun; a word after "to" or "could" is a
verb), and the sense's phonemes come from ``heteronyms.tsv``. Only sentences
holding a heteronym are tagged, and the tagger is loaded only for them, so a
book without one pays nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

TABLE = "heteronyms.tsv"
WINDOW = 2
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+|[^\w\s]")
_TAG_CLASSES = {
    "past": ("VBD", "VBN"),
    "verb": ("VB",),
    "noun": ("NN",),
    "adj": ("JJ", "RB"),
}
# The tagger's own slips, corrected from the words around (a reading of the sentence, not a guess at the word).
_INFINITIVE_BEFORE = frozenset({"to", "will", "would", "shall", "should", "can", "could", "may", "might", "must",
                                "do", "does", "did", "don't", "didn't", "doesn't", "let", "please"})  # fmt: skip
_DETERMINERS = frozenset({"a", "an", "the", "this", "his", "my", "your", "their", "our", "its", "every", "each",
                          "no", "whose", "that's"})  # fmt: skip
_INTENSIFIERS = frozenset({"so", "very", "too", "most", "quite", "rather", "extremely", "more", "less"})
_PERFECT = frozenset({"had", "has", "have", "having", "'d", "'ve"})
_LINKING = frozenset({"seem", "seems", "seemed", "look", "looks", "looked", "feel", "felt", "remain", "remained",
                      "become", "became", "appear", "appeared", "was", "were", "is", "are", "be", "been"})  # fmt: skip
_SUBJECT_TAGS = frozenset({"PRP", "NN", "NNS", "NNP", "NNPS"})
_AFTER_A_VERB_TAGS = frozenset({"DT", "IN", "RB", "RP", "TO", "PRP$", "PRP", "CC", "."})


@dataclass(frozen=True)
class Rule:
    """One line of the table: when its conditions hold, the word is said ``phonemes``."""

    tags: tuple[str, ...]  # tag prefixes, any of which must match; () for any
    cues: tuple[tuple[str, frozenset[str]], ...]  # ("prev" | "prev2" | "next", words)
    upper: bool  # written with a capital
    cap: bool  # a capital not at the start of the sentence
    phonemes: str


@lru_cache(maxsize=1)
def table() -> dict[str, list[Rule]]:
    """word -> its rules, in order, read from heteronyms.tsv."""
    rules: dict[str, list[Rule]] = {}
    text = resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, when, phonemes = line.split("\t")
        tags: list[str] = []
        cues: list[tuple[str, frozenset[str]]] = []
        conditions = when.split()
        for condition in conditions:
            if condition in _TAG_CLASSES:
                tags += _TAG_CLASSES[condition]
            elif "=" in condition:
                where, words = condition.split("=", 1)
                cues.append((where, frozenset(words.split("|"))))
        rules.setdefault(word, []).append(
            Rule(tuple(tags), tuple(cues), "upper" in conditions, "cap" in conditions, phonemes)
        )
    return rules


def table_fingerprint() -> str:
    """The table's text, for checkpoint keys: editing it re-runs phase 3."""
    return resources.files(__package__).joinpath(TABLE).read_text(encoding="utf-8")


_LETTERS = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    return frozenset(table())


def has_heteronym(sentence: str) -> bool:
    """Cheap test first (a set lookup per word, three times faster than one pattern): only these are tagged."""
    return not _words().isdisjoint(_LETTERS.findall(sentence.lower()))


@lru_cache(maxsize=1)
def _tagger() -> Any:
    """gruut's CRF tagger with its English model.

    Its module is loaded on its own: ``import gruut`` also loads its text
    processor (dateparser, networkx, num2words: 0.4 s a book), which the tagger
    does not use; ``gruut/pos.py`` needs only pycrfsuite and jsonlines.
    """
    import importlib.util

    import gruut_lang_en

    spec = importlib.util.find_spec("gruut")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("gruut is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pos.py"
    module_spec = importlib.util.spec_from_file_location("audiobook_gruut_pos", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.PartOfSpeechTagger(Path(gruut_lang_en.__file__).parent / "pos" / "model.crf")


def _has_past(word: str) -> bool:
    return any("VBD" in rule.tags for rule in table().get(word, []))


def choices(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, phonemes) of every heteronym of ``sentence``, in the sense the sentence gives it."""
    if not has_heteronym(sentence):
        return []
    tokens = list(_TOKEN.finditer(sentence))
    words = [token.group() for token in tokens]
    rules = table()
    found = []
    for position, token in enumerate(tokens):
        word_rules = rules.get(token.group().lower())
        if word_rules is None:
            continue
        said = _settled_by_words(word_rules, words, position)
        if said is None:
            # The tagger sees two words each side of a word; a window of WINDOW each side tags it as the
            # whole sentence would, at a fraction of the cost in a long sentence.
            first = max(0, position - WINDOW)
            tags = [""] * first + list(_tagger()(words[first : position + WINDOW + 1]))
            tags += ["."] * (len(words) - len(tags))
            tag = checked_tag(words, tags, position, _has_past(token.group().lower()))
            said = _said(word_rules, words, tag, position)
        found.append((token.start(), token.end(), said))
    return found


def _said(word_rules: list[Rule], words: list[str], tag: str, position: int) -> str:
    return next(rule.phonemes for rule in word_rules if _holds(rule, words, tag, position))


def _settled_by_words(word_rules: list[Rule], words: list[str], position: int) -> str | None:
    """The sense when the word before settles it whatever the tagger says (half the words in a long book):
    after "to" or "could" a verb, after "the" or "his" a noun or an adjective said alike."""
    previous = words[position - 1].lower() if position > 0 else ""
    if _before_a_verb(words, position) and not words[position].lower().endswith("s"):
        candidates = ("VB",)
    elif previous in _DETERMINERS:
        candidates = ("NN", "JJ")
    else:
        return None
    said = {_said(word_rules, words, tag, position) for tag in candidates}
    return said.pop() if len(said) == 1 else None


def _before_a_verb(words: list[str], position: int) -> bool:
    """After "to", a modal or "do"; after "not" only when one of those precedes it ("did not object",
    not "is not present")."""
    previous = words[position - 1].lower() if position > 0 else ""
    if previous == "not":
        return position > 1 and words[position - 2].lower() in _INFINITIVE_BEFORE
    return previous in _INFINITIVE_BEFORE


def checked_tag(words: list[str], tags: list[str], position: int, has_past: bool) -> str:
    """The tagger's tag for ``words[position]``, corrected where the neighbouring words settle it."""
    tag = tags[position]
    previous = words[position - 1].lower() if position > 0 else ""
    before = words[position - 2].lower() if position > 1 else ""
    previous_tag = tags[position - 1] if position > 0 else ""
    following_tag = tags[position + 1] if position + 1 < len(tags) else "."
    if _before_a_verb(words, position) and not tag.endswith("S") and previous_tag != "DT":
        return "VB"
    if previous_tag == "PRP" and before in _INFINITIVE_BEFORE and before not in ("to", "not"):
        return "VB"  # "could you read", "did they object"
    if previous in _PERFECT and has_past:
        return "VBN"  # "she had wound"
    if previous in _DETERMINERS or previous_tag == "POS":
        return "NN" if tag.startswith("VB") else tag
    if previous_tag == "CD" and tag.startswith("VB"):
        return "NNS"  # "two does"
    if previous in _INTENSIFIERS and tag.startswith("NN"):
        return "JJ"
    if previous in _LINKING and tag.startswith("NN") and previous_tag.startswith("VB"):
        return "JJ"  # "he seemed content"
    if (
        has_past
        and tag in ("NN", "JJ")
        and previous_tag in _SUBJECT_TAGS
        and following_tag in _AFTER_A_VERB_TAGS
        and following_tag != "."
    ):
        return "VBD"  # "the road wound along", "she dove into": a subject, then a verb
    return tag


def _holds(rule: Rule, words: list[str], tag: str, position: int) -> bool:
    word = words[position]
    if rule.tags and not tag.startswith(rule.tags):
        return False
    if rule.upper and not word[:1].isupper():
        return False
    if rule.cap and not (word[:1].isupper() and position > 0 and words[position - 1] not in ".!?\"“'‘"):
        return False
    for where, cue_words in rule.cues:
        offset = {"prev": -1, "prev2": -2, "next": 1}[where]
        neighbour = position + offset
        if not (0 <= neighbour < len(words) and words[neighbour].lower() in cue_words):
            return False
    return True
