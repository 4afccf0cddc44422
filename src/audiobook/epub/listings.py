"""Code listings: a short spoken cue instead of symbols spelled out (unless engine.read_code).

A listing is a ``<pre>`` that looks like code (it holds ``<code>``, has a
code class or language, or is dense with code punctuation), or a block of
class "listing"/"sourceCode"/... A ``<pre>`` of verse or a plain-text
header is not code and is read as before. Inline ``<code>`` is read as its
words, its punctuation silent (audiobook.inline_code).
"""

from __future__ import annotations

import re

from lxml import etree

from ..inline_code import code_words
from .markup import class_names, local

LISTING_CLASSES = {
    "code", "listing", "programlisting", "program-listing", "sourcecode", "source-code", "source", "highlight",
    "codelisting", "code-listing", "literal-block", "screen", "src", "codeblock", "code-block",
}  # fmt: skip
CODE_TAGS = {"code", "kbd", "samp"}
# No "*": it makes section dividers ("* * *") and Project Gutenberg's "*** START" lines.
CODE_PUNCTUATION = set("{}[]()<>=;#/+|&$%\\^~`")
# Share of code punctuation among the visible characters above which a <pre> is code, not verse.
CODE_DENSITY = 0.05
BRACE_LINE_END = re.compile(r"[{}]\s*$")


def is_listing(node: etree._Element, name: str) -> bool:
    """Whether a block is a code listing."""
    classes = class_names(node)
    coded = bool(classes & LISTING_CLASSES) or any(c.startswith(("language-", "lang-")) for c in classes)
    if name == "pre":
        if coded or node.get("data-lang") or any(local(inner) in CODE_TAGS for inner in node.iterdescendants()):
            return True
        return looks_like_code("".join(node.itertext()))
    if name == "code":
        text = "".join(node.itertext())
        return "\n" in text.strip() and looks_like_code(text)
    return coded and name in ("div", "figure", "table", "ol")


def looks_like_code(text: str) -> bool:
    """Dense with code punctuation, or with a line ending in a brace: verse and prose are neither
    (a stanza's semicolons and colons stay well under the density)."""
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return False
    if sum(ch in CODE_PUNCTUATION for ch in visible) / len(visible) >= CODE_DENSITY:
        return True
    return any(BRACE_LINE_END.search(line) for line in text.splitlines())


def inline_code_words(node: etree._Element) -> str:
    """What is said for inline code: its words, its punctuation silent ("os path", "c out value x"),
    as a PDF's inline code in a typewriter face is read."""
    return code_words("".join(node.itertext()))
