"""Batch audiobook workflow: books (PDF, EPUB) in, mastered audiobooks out.

Phases: 1 validate, 2 extract, 3 chunk, 4 speak, 5 master; 6 the
orchestrator that runs them for one book; 7 the Snakemake batch.
"""

__version__ = "0.1.0"
