"""The PDF reader: phase 1 ``inspect`` and phase 2 ``extract``, both with pypdfium2.

A behaviour is found by its module's name:

- opening.py: open the file (with a configured password), the one-line refusals;
- inspection.py, quality.py, damage.py: phase 1 facts (the title page's title
  when the metadata has none), the text-layer judgement (script-aware: Japanese
  is text), compressed streams PDFium reads around;
- layout.py: pages into lines with positions, fonts (code, maths, runs of
  typefaces and italics), pictures,
  two-column pages in column order, margin numbers and note marks apart; inline
  code's punctuation silent, web addresses kept whole (``audiobook.inline_code``);
- furniture.py: running heads and footers, the Gutenberg frame, text outside
  the text block, contents/index/imprint pages, matter under a skipped heading
  (bounded by what it holds);
- marks.py: a printer's marks, slugs and rulers (outside the trimmed page, or
  at one spot with the same words on most pages);
- linklists.py: lists of links under their own small heading (a bibliography);
- notes.py: footnotes at the foot of the page, by size, or by position and numbers;
- displays.py: code listings (a cue), display equations, figures, tables,
  labels of vector drawings, rules typed in characters;
- plays.py: speaker labels by their setting ("Lane. Yes, sir."), italic stage
  directions as paragraphs of their own;
- ocr.py, ocr_layout.py: pages whose text layer fails (none, glyph codes, letters
  drawn as curves) read by Tesseract, cached per page, built into the same pages
  and lines (pictures' marks, captions and ornaments left out);
- chapters.py: outline (parts descended into), headings by label, size or a run
  of numbers 1, 2, 3 ..., runs of pages;
- paragraphs.py, text.py: lines into clean paragraphs;
- reader.py: phase 2, and the sections left out (``ExtractedBook.skipped``);
- sample.py: ``sample_text``, body text for phase 1's language detection.
"""

from .chapters import PAGES_PER_PART
from .damage import find_stream_damage
from .displays import CODE_CUE
from .inspection import inspect
from .ocr import check_language_data, read_by_ocr
from .quality import TextQuality, text_quality
from .reader import COVER_HEIGHT_PX, extract, render_cover
from .sample import sample_text
from .text import clean_text

__all__ = ["CODE_CUE", "COVER_HEIGHT_PX", "PAGES_PER_PART", "TextQuality", "clean_text", "extract", "find_stream_damage", "check_language_data", "inspect", "read_by_ocr", "render_cover", "sample_text", "text_quality"]
