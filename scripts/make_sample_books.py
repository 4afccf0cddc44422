"""Write the sample books in input/: short public-domain fables, one EPUB and one PDF.

    .venv/bin/python scripts/make_sample_books.py [OUTPUT_DIR]

The texts are Aesop's fables in the wording of George Fyler Townsend's 1867
translation (public domain), lightly abridged. Each book is a few hundred
words, so the whole sample batch becomes audiobooks in a minute or two.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from audiobook.bookmaker import DraftBook, DraftChapter, make_epub, make_pdf

FABLES_EPUB = DraftBook(
    title="Three Fables of Aesop",
    author="Aesop",
    language="en",
    year="1867",
    chapters=[
        DraftChapter(
            "The Fox and the Grapes",
            [
                "A famished Fox saw some clusters of ripe black grapes hanging from a trellised vine. "
                "She resorted to all her tricks to get at them, but wearied herself in vain, for she "
                "could not reach them.",
                "At last she turned away, hiding her disappointment and saying: \u201cThe Grapes are "
                "sour, and not ripe as I thought.\u201d",
            ],
        ),
        DraftChapter(
            "The Hare and the Tortoise",
            [
                "A Hare one day ridiculed the short feet and slow pace of the Tortoise, who replied, "
                "laughing: \u201cThough you be swift as the wind, I will beat you in a race.\u201d The "
                "Hare, believing her assertion to be simply impossible, assented to the proposal.",
                "On the day appointed for the race the two started together. The Tortoise never for a "
                "moment stopped, but went on with a slow but steady pace straight to the end of the "
                "course. The Hare, lying down by the wayside, fell fast asleep.",
                "At last waking up, and moving as fast as he could, he saw the Tortoise had reached the "
                "goal, and was comfortably dozing after her fatigue. Slow but steady wins the race.",
            ],
        ),
        DraftChapter(
            "The Lion and the Mouse",
            [
                "A Lion was awakened from sleep by a Mouse running over his face. Rising up angrily, he "
                "caught him and was about to kill him, when the Mouse piteously entreated, saying: "
                "\u201cIf you would only spare my life, I would be sure to repay your kindness.\u201d "
                "The Lion laughed and let him go.",
                "It happened shortly after this that the Lion was caught by some hunters, who bound him "
                "by strong ropes to the ground. The Mouse, recognizing his roar, came and gnawed the rope "
                "with his teeth, and set him free.",
            ],
        ),
    ],
)

FABLES_PDF = DraftBook(
    title="Two Fables of Aesop",
    author="Aesop",
    language="en",
    year="1867",
    chapters=[
        DraftChapter(
            "Chapter I. The Boy Who Cried Wolf",
            [
                "A Shepherd-boy, who watched a flock of sheep near a village, brought out the villagers "
                "three or four times by crying out, \u201cWolf! Wolf!\u201d and when his neighbors came "
                "to help him, laughed at them for their pains.",
                "The Wolf, however, did truly come at last. The Shepherd-boy, now really alarmed, shouted "
                "in an agony of terror, but no one paid any heed to his cries. A liar will not be "
                "believed, even when he speaks the truth.",
            ],
        ),
        DraftChapter(
            "Chapter II. The Ant and the Grasshopper",
            [
                "In a field one summer's day a Grasshopper was hopping about, chirping and singing to its "
                "heart's content. An Ant passed by, bearing along with great toil an ear of corn he was "
                "taking to the nest.",
                "When the winter came the Grasshopper had no food, and found itself dying of hunger, "
                "while it saw the ants distributing every day corn and grain from the stores they had "
                "collected in the summer. It is best to prepare for the days of necessity.",
            ],
        ),
    ],
)


def cover_png(title: str, author: str) -> bytes:
    """A plain cover: the title and author on a coloured square."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 600), (38, 70, 83))
    draw = ImageDraw.Draw(image)
    draw.rectangle((30, 30, 570, 570), outline=(233, 196, 106), width=6)
    draw.text((60, 260), title, fill=(255, 255, 255))
    draw.text((60, 300), f"by {author}", fill=(233, 196, 106))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "input"
    FABLES_EPUB.cover_png = cover_png(FABLES_EPUB.title, FABLES_EPUB.author)
    written = [
        make_epub(FABLES_EPUB, out / "aesop-three-fables.epub"),
        make_pdf(FABLES_PDF, out / "aesop-two-fables.pdf"),
    ]
    for path in written:
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
