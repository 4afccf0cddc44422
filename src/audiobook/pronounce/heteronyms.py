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

import importlib.util
import re
from collections.abc import Iterator
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
# A tag for each way the table's conditions can read a tag: each prefix they test, and none of them.
_EVERY_TAG = (*sorted({tag for tags in _TAG_CLASSES.values() for tag in tags}), "")
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


@lru_cache(maxsize=1)
def _words() -> frozenset[str]:
    return frozenset(table())


@lru_cache(maxsize=1)
def _any_heteronym() -> re.Pattern[str]:
    """A word of the table as a whole run of letters in lower-case text. Grouped by first letter, the words let
    the engine pass most places at one character: a quarter faster than a set lookup of every word, which is
    faster than a flat alternation."""
    by_letter: dict[str, list[str]] = {}
    for word in sorted(_words()):
        by_letter.setdefault(word[0], []).append(re.escape(word[1:]))
    groups = "|".join(f"{re.escape(letter)}(?:{'|'.join(rests)})" for letter, rests in sorted(by_letter.items()))
    return re.compile(f"(?<![a-z])(?:{groups})(?![a-z])")


@lru_cache(maxsize=1)
def _cued() -> frozenset[str]:
    """Words a line of the table settles by the words around whatever their tag: only these may need no tagger."""
    cued = (word for word, rules in table().items() if any(rule.cues or rule.upper or rule.cap for rule in rules))
    return frozenset(cued)


# Where a neighbour's features go in gruut's model: its offset, and the prefix of their names.
_NEIGHBOURS = ((-2, "-2:"), (-1, "-1:"), (1, "+1:"), (2, "+2:"))


class WindowTagger:
    """gruut's CRF tagger with its English model, for the few words around a heteronym.

    The model weighs, for each word, its own spelling features (gruut's
    ``local_features``: the word, its length, its first and last letters...) and
    those of up to two words each side, named "-2:" to "+2:" before them (gruut's
    ``word2features``). Building them was half a window's cost, the same words'
    over and over: here each word's are built once a book and named for a
    neighbour's place when used. A false feature is left out: the CRF weighs a
    feature by its value, so a zero adds nothing but a lookup. The tags are
    gruut's own (``test_the_window_tagger_tags_as_gruut_does``).
    """

    def __init__(self, local_features: Any, model: Path) -> None:
        import pycrfsuite

        self._local_features = local_features
        # word -> its own features as one flat tuple (name, value, name, value...). Not dicts nor pairs: each
        # object kept here counts towards the garbage collector's next pass over the whole book, which a
        # thousand kept dicts brought on in the middle of tagging; a flat tuple of strings and numbers is one
        # object, which the collector soon stops tracking, and one a word, not one for each place it holds.
        self._known: dict[str, tuple[Any, ...]] = {}
        self._crf = pycrfsuite.Tagger()
        self._crf.open(str(model))

    def _word(self, word: str) -> tuple[Any, ...]:
        features = self._known.get(word)
        if features is None:
            features = self._known[word] = tuple(_named(self._local_features(word)))
        return features

    def features(self, words: list[str]) -> list[dict[str, Any]]:
        """Each word's features and its neighbours', as the model was trained."""
        last = len(words) - 1
        known = [self._word(word) for word in words]
        items = []
        for position, own in enumerate(known):
            item = dict(zip(own[::2], own[1::2]))
            if position == 0:
                item["BOS"] = True
            if position == last:
                item["EOS"] = True
            for offset, place in _NEIGHBOURS:
                if 0 <= position + offset <= last:
                    # gruut names a neighbour's features as the word's own, with its place before them
                    features = known[position + offset]
                    item.update(zip([place + name for name in features[::2]], features[1::2]))
            items.append(item)
        return items

    def __call__(self, words: list[str]) -> list[str]:
        return list(self._crf.tag(self.features(words)))


def _named(features: dict[str, Any]) -> Iterator[Any]:
    """A word's features flat, as the CRF names them: a text feature as "name:text" of weight 1 (pycrfsuite
    would join them at every window), a false one left out."""
    for name, value in features.items():
        if isinstance(value, str):
            yield f"{name}:{value}"
            yield 1.0
        elif value is not False:
            yield name
            yield value


@lru_cache(maxsize=1)
def _tagger() -> WindowTagger:
    """The tagger, loaded at the first sentence that needs it."""
    return WindowTagger(gruut_pos().PartOfSpeechTagger.local_features, model_path())


def gruut_pos() -> Any:
    """gruut's tagger module, loaded on its own.

    ``import gruut`` also loads its text processor (dateparser, networkx,
    num2words: 0.4 s a book), which the tagger does not use; ``gruut/pos.py``
    needs only pycrfsuite and jsonlines. The model's package is found, not
    imported: only its file is read.
    """
    path = _folder("gruut") / "pos.py"
    module_spec = importlib.util.spec_from_file_location("audiobook_gruut_pos", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{package} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def model_path() -> Path:
    """gruut's English tagging model."""
    return _folder("gruut_lang_en") / "pos" / "model.crf"


def _has_past(word: str) -> bool:
    return any("VBD" in rule.tags for rule in table().get(word, []))


def choices(sentence: str) -> list[tuple[int, int, str]]:
    """(start, end, phonemes) of every heteronym of ``sentence``, in the sense the sentence gives it."""
    lowered = sentence.lower()
    hits = [(hit.start(), hit.end()) for hit in _any_heteronym().finditer(lowered)]
    if not hits:
        return []
    rules = table()
    found = []
    for start, end in hits if len(lowered) == len(sentence) else _whole_words(sentence):
        local = _words_around(sentence, start, end)
        if local is None:  # inside a longer word ("read’s")
            continue
        words, position = local
        word_rules = rules[words[position].lower()]
        said = _settled_by_words(word_rules, words, position)
        if said is None:
            # The tagger sees two words each side of a word; a window of WINDOW each side tags it as the
            # whole sentence would, at a fraction of the cost in a long sentence.
            first = max(0, position - WINDOW)
            tags = [""] * first + _tagger()(words[first : position + WINDOW + 1])
            tags += ["."] * (len(words) - len(tags))
            tag = checked_tag(words, tags, position, _has_past(words[position].lower()))
            said = _said(word_rules, words, tag, position)
        found.append((start, end, said))
    return found


def _whole_words(sentence: str) -> list[tuple[int, int]]:
    """Where the table's words are when lower-casing moves the letters (a rare letter lower-cases to two)."""
    rules = table()
    return [token.span() for token in _TOKEN.finditer(sentence) if token.group().lower() in rules]


def _words_around(sentence: str, start: int, end: int) -> tuple[list[str], int] | None:
    """The words within WINDOW of the word at [start, end), and its place among them; None when no word is
    there. A long line has a hundred words and one heteronym: only the text around it is split into words,
    from a space to a space (no word holds one, so they are the words the whole line would give)."""
    margin = 40
    while True:
        left = max(0, start - margin)
        while left > 0 and not sentence[left - 1].isspace():
            left -= 1
        right = min(len(sentence), end + margin)
        while right < len(sentence) and not sentence[right].isspace():
            right += 1
        tokens = list(_TOKEN.finditer(sentence, left, right))
        position = next((index for index, token in enumerate(tokens) if token.start() == start), None)
        if position is None or tokens[position].end() != end:
            return None
        before, after = position, len(tokens) - position - 1
        if (before >= WINDOW or left == 0) and (after >= WINDOW or right == len(sentence)):
            first = max(0, position - WINDOW)
            words = [token.group() for token in tokens[first : position + WINDOW + 1]]
            return words, position - first
        margin *= 4


def _said(word_rules: list[Rule], words: list[str], tag: str, position: int) -> str:
    for rule in word_rules:
        if _holds(rule, words, tag, position):
            return rule.phonemes
    raise ValueError(f"{TABLE}: no line for {words[position]!r} holds; each word must end with '*'")


def _settled_by_words(word_rules: list[Rule], words: list[str], position: int) -> str | None:
    """The sense when the word before settles it whatever the tagger says (half the words in a long book):
    after "to" or "could" a verb, after "the" or "his" a noun or an adjective said alike; or when every
    tag gives the same sense ("bow of the ship", "spoke Polish")."""
    previous = words[position - 1].lower() if position > 0 else ""
    if _before_a_verb(words, position) and not words[position].lower().endswith("s"):
        candidates: tuple[str, ...] = ("VB",)
    elif previous in _DETERMINERS:
        candidates = ("NN", "JJ")
    elif words[position].lower() in _cued():
        candidates = _EVERY_TAG
    else:
        return None
    said = _said(word_rules, words, candidates[0], position)
    if any(_said(word_rules, words, tag, position) != said for tag in candidates[1:]):
        return None
    return said


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
