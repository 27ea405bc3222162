"""Hostile text: the reader's work stays bounded (sizes, not times: tests do not time)."""

from __future__ import annotations

from cds_service.clinical import text_reader
from cds_service.clinical.text_reader import TextReader, default_reader, reading_cache
from cds_service.clinical.sentences import MAX_SENTENCE_TOKENS

READER = default_reader()


def test_an_80000_character_run_on_sentence_is_read_in_bounded_sentences() -> None:
    text = "CONCLUSION: " + "diffuse bone marrow edema and no avascular necrosis " * 1600
    assert len(text) > 80_000
    doc = READER.nlp(text[:text_reader.MAX_TEXT_CHARS])
    assert max(len(s) for s in doc.sents) <= MAX_SENTENCE_TOKENS
    reading = READER.read(text)
    assert reading.of("BME") and reading.of("AVN")


def test_repeated_headings_are_read_linearly_as_sections() -> None:
    text = "History: " * 4000 + "\nFINDINGS: Diffuse bone marrow edema of the left femoral head."
    found = READER.read(text).of("BME")
    assert [(m.section, m.in_indication) for m in found] == [("findings", False)]


def test_text_past_the_cap_is_cut_and_says_so() -> None:
    text = "Diffuse bone marrow edema of the left femoral head. " * 3000
    assert len(text) > text_reader.MAX_TEXT_CHARS
    reading = READER.read(text)
    assert reading.truncated and reading.of("BME")
    assert not READER.read("Diffuse bone marrow edema.").truncated


def test_text_over_spacys_own_limit_is_read_up_to_the_cap() -> None:
    reading = READER.read("x" * 1_100_000)
    assert reading.truncated and reading.mentions == ()


def test_a_long_report_reads_the_same_in_pieces_as_whole(monkeypatch) -> None:
    """Pieces are cut at line breaks; a section that goes on past a cut keeps its kind."""
    report = ("CLINICAL HISTORY:\n" + "Left hip pain, ?AVN.\n" * 120 + "FINDINGS:\n"
              + "Diffuse bone marrow edema of the left femoral head. No collapse.\n" * 60
              + "IMPRESSION: transient osteoporosis of the left hip.")
    assert len(text_reader.chunks(report)) > 1
    pieces = READER.read(report)
    READER.cache.clear()
    monkeypatch.setattr(text_reader, "CHUNK_CHARS", len(report) + 1)
    monkeypatch.setattr(text_reader.chunks, "__defaults__", (len(report) + 1,))
    whole = READER.read(report)
    assert len(text_reader.chunks(report)) == 1
    assert pieces.mentions == whole.mentions
    assert {m.in_indication for m in pieces.of("AVN") if "?AVN" in m.sentence} == {True}


def test_pieces_are_cut_at_line_breaks_and_never_exceed_the_size() -> None:
    text = ("word " * 30 + "\n") * 200
    parts = text_reader.chunks(text, size=1000)
    assert "".join(parts) == text
    assert all(len(p) <= 1000 for p in parts)
    assert all(p.endswith(" ") or p.endswith("\n") or p is parts[-1] for p in parts)


def test_no_more_than_max_mentions_are_read_from_one_text() -> None:
    reading = READER.read("no AVN, " * 6000)
    assert len(reading.mentions) == text_reader.MAX_MENTIONS and reading.truncated


def test_runs_without_spaces_are_broken_before_the_tokenizer() -> None:
    """spaCy splits punctuation off a token piece by piece: "a:a:..." was quadratic."""
    broken = text_reader._break_runs("([{" * 1000)
    assert max(len(w) for w in broken.split()) <= text_reader.MAX_RUN
    assert text_reader._break_runs("bone marrow edema") == "bone marrow edema"
    assert READER.read("([{" * 16000).mentions == ()


def test_per_sentence_context_reads_as_the_whole_document_did() -> None:
    """ConText run sentence by sentence (targeted_context.py) gives medspaCy's answer."""
    from medspacy.context import ConText

    from cds_service.clinical.targeted_context import TargetedConText

    text = ("No AVN, fracture or collapse. Diffuse edema of the left femoral head; no "
            "effusion. AVN cannot be excluded. Previous core decompression. Edema has "
            "resolved in the right hip. ?infection. The joint space is preserved.")
    nlp = READER.nlp
    context = nlp.get_pipe("medspacy_context")
    assert isinstance(context, TargetedConText)
    targeted = READER.mentions_in(READER.process(text))
    context.__class__ = ConText
    try:
        plain = READER.mentions_in(READER.process(text))
    finally:
        context.__class__ = TargetedConText
    assert targeted == plain and len(targeted) >= 8


def test_the_reading_cache_is_bounded_by_findings_held(monkeypatch) -> None:
    reader = TextReader(READER.vocabulary, cache=reading_cache(max_mentions=500))
    for i in range(5):
        reader.read(f"cache bound {i}: " + "no AVN, " * 300)
    held = sum(len(r.mentions) for r in reader.cache.values())
    assert held <= 500 and reader.cache.weight == held


def test_a_checkpoint_ends_reading_when_the_request_is_out_of_time() -> None:
    class OutOfTime(Exception):
        pass

    def check(stage: str) -> None:
        raise OutOfTime(stage)

    reader = TextReader(READER.vocabulary, checkpoint=check)
    try:
        reader.read("checkpoint probe: diffuse bone marrow edema.")
    except OutOfTime as exc:
        assert str(exc) == "reading report text"
    else:
        raise AssertionError("the checkpoint was not called")
    assert READER.read("checkpoint probe: diffuse bone marrow edema.").of("BME")
