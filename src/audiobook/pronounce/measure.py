"""How often heteronyms are said in their intended sense: espeak-ng alone against this engine.

    python -m audiobook.pronounce.measure SENTENCES.tsv

Each line of the file: word, a tab, its intended phonemes (as ``batch-audiobook say
--phonemes`` prints them; stress marks are ignored), a tab, a sentence; ``#`` starts a
comment. A sentence counts as right when the intended phonemes are one of the words of
what the voice is given for it, exactly as ``say --phonemes`` computes it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..settings import EngineSettings
from ..voices import read_voice_config, voice_for
from .audition import sentence_phonemes, voice_sentences, word_phonemes
from .book import pronouncer_for
from .espeak import phonemizing_voice
from .speech import Pronouncer


@dataclass
class Score:
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # the sentences said in the other sense

    @property
    def rate(self) -> float:
        return self.right / max(1, self.right + len(self.wrong))


def read_sentences(path: Path) -> list[tuple[str, str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("\t")[:3]) for line in lines if line.strip() and not line.startswith("#")]  # type: ignore[misc]


def score(rows: list[tuple[str, str, str]], pronouncer: Pronouncer | None, phonemizer: object) -> Score:
    """``pronouncer`` None: the text as it went to the voice before this engine chose senses."""
    result = Score()
    for _, intended, sentence in rows:
        said = sentence_phonemes(phonemizer, " ".join(voice_sentences(sentence, pronouncer)))  # type: ignore[arg-type]
        if word_phonemes(intended)[0] in word_phonemes(said):
            result.right += 1
        else:
            result.wrong.append(sentence)
    return result


def measure(path: Path) -> tuple[Score, Score]:
    """(espeak-ng alone, this engine) on the sentences of ``path``."""
    settings = EngineSettings()
    phonemizer = phonemizing_voice(read_voice_config(voice_for("en", settings).config_path))
    rows = read_sentences(path)
    return score(rows, None, phonemizer), score(rows, pronouncer_for(settings, "en", None), phonemizer)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    before, after = measure(Path(args[0]))
    total = before.right + len(before.wrong)
    print(f"espeak-ng alone: {before.right}/{total} ({before.rate:.1%}); with heteronyms by context: "
          f"{after.right}/{total} ({after.rate:.1%})")
    for sentence in after.wrong:
        print(f"  still wrong: {sentence}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
