"""The PDF reader: phase 1 ``inspect`` and phase 2 ``extract``, both with pypdfium2.

``inspect`` (inspection.py) opens the file (opening.py), reads the metadata and
samples pages to refuse what cannot become an audiobook: a damaged file
(damage.py), a scan without a text layer, or text that comes out as glyph codes
(quality.py). ``extract`` (reader.py) reads every page into lines with their
positions and fonts (layout.py), removes page furniture (furniture.py), cuts the
book into chapters (chapters.py), leaves out what a narrator does not read
(sections of ../sections.py kinds), and reflows the lines into paragraphs
(paragraphs.py, text.py). ``sample_text`` gives phase 1 some body text to tell
the book's language from.
"""

from .chapters import PAGES_PER_PART
from .damage import find_stream_damage
from .displays import CODE_CUE
from .inspection import inspect
from .quality import TextQuality, text_quality
from .reader import COVER_HEIGHT_PX, extract, render_cover
from .sample import sample_text
from .text import clean_text

__all__ = ["CODE_CUE", "COVER_HEIGHT_PX", "PAGES_PER_PART", "TextQuality", "clean_text", "extract", "find_stream_damage", "inspect", "render_cover", "sample_text", "text_quality"]
