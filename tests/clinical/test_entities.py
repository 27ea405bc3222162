"""Target spans become doc.ents in one assignment, overlaps resolved as medspaCy does."""

from __future__ import annotations

import spacy
from spacy.tokens import Span

from cds_service.clinical.entities import TARGETS, targets_as_entities


def doc_with_targets(*spans: tuple[int, int, str]):  # type: ignore[no-untyped-def]
    doc = spacy.blank("en")("No double line sign in the left femoral head.")
    doc.spans[TARGETS] = [Span(doc, a, b, label=label) for a, b, label in spans]
    return doc


def test_targets_become_entities() -> None:
    doc = targets_as_entities(doc_with_targets((1, 4, "AVN"), (7, 9, "SITE")))
    assert [(e.text, e.label_) for e in doc.ents] == [("double line sign", "AVN"),
                                                     ("femoral head", "SITE")]


def test_an_overlap_keeps_the_earlier_span() -> None:
    doc = targets_as_entities(doc_with_targets((1, 4, "AVN"), (3, 5, "OTHER"), (7, 9, "SITE")))
    assert [e.text for e in doc.ents] == ["double line sign", "femoral head"]


def test_no_targets_no_entities() -> None:
    assert targets_as_entities(spacy.blank("en")("Normal study.")).ents == ()
