"""Subtitles without speech: cue building, the writers (read back by a real WebVTT parser),
sentence times from the timeline, printed text beside spoken text, and the library export."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import webvtt

from audiobook.chunk import chunk_book, printed_sentences, split_sentences
from audiobook.export import export_book
from audiobook.master import Output, Piece, Timeline, timed_sentences
from audiobook.model import Chapter, ChunkAudio, ExtractedBook, PhaseContext
from audiobook.normalize import normalize_text
from audiobook.settings import EngineSettings
from audiobook.subtitles import (
    LINE_CHARS,
    MAX_LINES,
    TimedSentence,
    build_cues,
    split_for_cues,
    spoken_positions,
    wrap,
    write_subtitles,
)

LONG = (
    "Mr. Utterson the lawyer was a man of a rugged countenance that was never lighted by a smile; cold, scanty "
    "and embarrassed in discourse; backward in sentiment; lean, long, dusty, dreary and yet somehow lovable."
)


def test_a_cue_is_at_most_two_lines_of_about_42_characters_cut_at_clause_marks():
    pieces = split_for_cues(LONG)
    assert len(pieces) > 1
    assert " ".join(pieces) == LONG
    for piece in pieces:
        lines = wrap(piece)
        assert 1 <= len(lines) <= MAX_LINES and all(len(line) <= LINE_CHARS for line in lines), lines
    # Cut after a clause mark wherever one is in reach (the first two lines hold none: cut between words).
    assert pieces[0].endswith("lighted") and all(piece.endswith((";", ",", ".")) for piece in pieces[1:]), pieces
    assert wrap("Short.") == ["Short."]


def test_cue_times_are_shared_by_length_rise_and_never_overlap():
    sentences = [
        TimedSentence("Chapter I.", 1.0, 2.0, heading=True),
        TimedSentence(LONG, 2.5, 14.5),
        TimedSentence("Yes.", 14.5, 15.0),
    ]
    cues = build_cues(sentences)
    assert cues[0].lines == ("Chapter I.",) and (cues[0].start_s, cues[0].end_s) == (1.0, 2.0)
    assert cues[1].start_s == 2.5 and cues[-2].end_s == 14.5 and cues[-1].start_s == 14.5
    for before, after in zip(cues, cues[1:]):
        assert before.start_s < before.end_s <= after.start_s
    long_cues = cues[1:-1]
    lengths = [sum(len(line) for line in cue.lines) for cue in long_cues]
    spans = [cue.end_s - cue.start_s for cue in long_cues]
    # Time follows length: the longest piece is heard longest.
    assert spans.index(max(spans)) == lengths.index(max(lengths))


def test_webvtt_and_srt_files_parse_with_a_real_parser_and_escape_markup(tmp_path):
    sentences = [
        TimedSentence("Dr. Jekyll & <Mr. Hyde>, 1886 --> then.", 1.0, 3.25),
        TimedSentence(LONG, 3.6, 15.0),
        TimedSentence("An hour later.", 3661.5, 3663.0),
    ]
    vtt, srt = write_subtitles(sentences, tmp_path / "book")
    assert (vtt.name, srt.name) == ("book.vtt", "book.srt")
    parsed = webvtt.read(str(vtt))
    assert parsed.captions[0].start == "00:00:01.000" and parsed.captions[0].end == "00:00:03.250"
    assert "&amp;" in vtt.read_text() and "&lt;Mr. Hyde&gt;" in vtt.read_text()
    assert parsed.captions[-1].start == "01:01:01.500"
    starts = [caption.start for caption in parsed.captions]
    assert starts == sorted(starts)  # zero-padded stamps sort as times
    from_srt = webvtt.from_srt(str(srt))
    assert [c.start for c in from_srt.captions] == [c.start for c in parsed.captions]
    assert "Dr. Jekyll & <Mr. Hyde>, 1886 -> then." in srt.read_text()  # SRT is plain text


def test_printed_text_is_the_books_own_not_the_spoken_form():
    paragraph = 'Dr. Jekyll was born in 1886. He paid $3.50 at No. 5 Baker St. on the 3rd of May. "Stop!" he said.'
    spoken = split_sentences(normalize_text(paragraph))
    assert spoken[0] == "Doctor Jekyll was born in eighteen eighty-six."
    assert printed_sentences(paragraph, spoken) == [
        "Dr. Jekyll was born in 1886.",
        "He paid $3.50 at No. 5 Baker St. on the 3rd of May.",
        '"Stop!" he said.',
    ]


def test_chunks_carry_their_sentences_printed_and_spoken(tmp_path):
    ctx = PhaseContext(source=tmp_path / "b.epub", work_dir=tmp_path, threads=1, log=logging.getLogger("test"))
    long_paragraph = " ".join(["Dr. Jekyll, 1886, walked on, and on, and on through the town."] * 12)
    book = ExtractedBook(
        title="T",
        author=None,
        language="en",
        year=None,
        chapters=[Chapter(0, "Chapter IV", ["Dr. Jekyll, 1886.", long_paragraph])],
    )
    chunks = chunk_book(ctx, book, EngineSettings(chunk_max_chars=120))
    heading = chunks[0].sentences
    assert heading == [{"spoken": "Chapter Four.", "printed": "Chapter IV", "heading": True}]
    for chunk in chunks:
        assert chunk.text == " ".join(s["spoken"] for s in chunk.sentences)
    assert chunks[1].sentences == [{"spoken": "Doctor Jekyll, eighteen eighty-six.", "printed": "Dr. Jekyll, 1886."}]
    printed = " ".join(s["printed"] for chunk in chunks[2:] for s in chunk.sentences)
    assert printed == long_paragraph


def test_sentence_times_follow_the_timeline_room_tone_and_pauses():
    rate = 1000
    chunks = [
        ChunkAudio(0, 0, "a.wav", 500, 0.8, spans=[[0, 500]], printed=["Chapter 1"], headings=[True]),
        ChunkAudio(1, 0, "b.wav", 2000, 2.0, spans=[[10, 900], [1250, 1990]], printed=["One.", "Two."],
                   headings=[False, False]),
        ChunkAudio(2, 1, "c.wav", 700, 0.0, spans=[[0, 700]], printed=["Chapter 2"], headings=[True]),
    ]  # fmt: skip
    pieces = [Piece(Path(c.path), c.samples, round(c.pause_after_s * rate)) for c in chunks]
    pieces[-1] = Piece(pieces[-1].path, pieces[-1].frames, 0)
    output = Output(Path("x.m4b"), Path(".x.part"), Timeline(rate, 1000, pieces, 1000), [], {}, None, chunks)
    timed = timed_sentences(output)
    assert [(t.text, t.start_s, t.end_s, t.heading, t.chapter) for t in timed] == [
        ("Chapter 1", 1.0, 1.5, True, 0),
        ("One.", 2.31, 3.2, False, 0),  # head 1 s + 0.5 s + pause 0.8 s + 10 samples
        ("Two.", 3.55, 4.29, False, 0),
        ("Chapter 2", 6.3, 7.0, True, 1),  # after the chunk and its 2 s chapter pause
    ]


def test_export_puts_subtitles_and_the_read_along_beside_the_audiobook(tmp_path):
    results = tmp_path / "results" / "river-pdf"
    results.mkdir(parents=True)
    made = {}
    for name in ("river-pdf.m4b", "river-pdf.vtt", "river-pdf.srt", "river-pdf.readalong.epub"):
        made[name] = results / name
        made[name].write_bytes(name.encode())
    record = {
        "file_id": "river-pdf",
        "status": "success",
        "outputs": [str(path) for path in made.values()],
        "phases": {"2": {"metrics": {"title": "River", "author": "Test Author"}}},
    }
    manifest = export_book(record, tmp_path / "none", tmp_path / "library")
    folder = tmp_path / "library" / "Test Author" / "River"
    assert manifest.files == [str(folder / n) for n in ("River.m4b", "River.vtt", "River.srt", "River.readalong.epub")]
    assert os.path.samefile(folder / "River.vtt", made["river-pdf.vtt"])
    assert not list(folder.rglob("*.part"))


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_gives_no_cue(text):
    assert build_cues([TimedSentence(text, 0.0, 1.0)]) == []


def test_a_long_sentence_is_cut_at_the_voices_own_pause_nearest_the_clause_mark():
    text = "He was austere with himself; drank gin when he was alone, to mortify a taste for vintages."
    pieces = split_for_cues(text)
    assert len(pieces) == 2 and pieces[0].endswith(",")
    by_length = round(1.0 + 9.0 * len(pieces[0]) / len(" ".join(pieces)), 3)
    # The voice paused a little after where length alone would cut; another pause is far away.
    pause = (round(by_length + 0.2, 3), round(by_length + 0.45, 3))
    cues = build_cues([TimedSentence(text, 1.0, 10.0, pauses=((1.5, 1.6), pause))])
    assert [(c.start_s, c.end_s) for c in cues] == [(1.0, pause[0]), (pause[1], 10.0)]
    # No pause near the cut: by length.
    alone = build_cues([TimedSentence(text, 1.0, 10.0, pauses=((1.5, 1.6),))])
    assert alone[0].end_s == alone[1].start_s == by_length


def test_a_cut_with_no_pause_near_follows_spoken_length_not_printed_length():
    # Each piece fills two cue lines; the first is mostly letters said by name, the second plain words.
    text = (
        "He was made M.D., D.C.L., LL.D., F.R.S., K.C.B. and A.R.A. in 1886 and 1887 and, "
        "in the years that came after, a lawyer of the old school with a long, slow walk."
    )
    pieces = split_for_cues(text)
    assert len(pieces) == 2, pieces
    cues = build_cues([TimedSentence(text, 0.0, 10.0)])
    by_print = 10.0 * len(pieces[0]) / len(" ".join(pieces))
    # Printed, the two are much the same length; spoken, the letters and numbers take far longer.
    assert 4.0 < by_print < 6.0 and cues[0].end_s > by_print + 1.5, (by_print, cues)
    assert spoken_positions("Mr. Utterson and Dr. Jekyll")[-1] == len("Mr. Utterson and Dr. Jekyll")


def test_inner_pauses_are_the_quiet_stretches_inside_speech_not_its_lead_in():
    import numpy as np

    from audiobook.speak import inner_pauses

    rate = 1000
    rng = np.random.default_rng(1)
    speech = lambda seconds: rng.uniform(-0.3, 0.3, round(seconds * rate))  # noqa: E731
    quiet = lambda seconds: np.zeros(round(seconds * rate))  # noqa: E731
    audio = np.concatenate([quiet(0.2), speech(1.0), quiet(0.3), speech(0.5), quiet(0.05), speech(0.5)])
    assert inner_pauses(audio, rate, offset=5000) == [[5000 + 1200, 5000 + 1500]]


def test_the_benchmark_row_is_the_extras_share_of_the_rest_of_phase_5():
    from audiobook.bench import QUICK, Report, readalong_share

    report = Report(QUICK)
    records = [{"phases": {"5": {"duration": d, "metrics": {"readalong_seconds": e}}}} for d, e in ((10.2, 0.2), (5.1, 0.1))]
    readalong_share(report, records)
    (row,) = report.rows
    assert row.item == "12" and row.ours == pytest.approx(2.0) and row.met
