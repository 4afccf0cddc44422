"""How words are said: what the voice is given for each sentence, beside phase 3's normalisation.

The book's printed words never change here. A sentence's *voice text* is its
spoken (normalised) text with some words replaced by raw phonemes in Piper's
``[[ ... ]]`` form: the words of a pronunciation lexicon (lexicon.py) and the
common English heteronyms, whose sense comes from a part-of-speech tagger
(heteronyms.py). words_to_check.py lists the words a listener should check.
"""
