"""Target matches as entities, set in one assignment (spaCy component).

medspaCy's target matcher adds its spans to doc.ents one by one, and spaCy rebuilds the
entity list on every addition: 10% of a typical request's profile. The reader's pipeline
has the matcher put its spans in a span group instead, and this sets them at once.
"""

from __future__ import annotations

from spacy.language import Language
from spacy.tokens import Doc

TARGETS = "cds_targets"  # the span group the target matcher fills


@Language.component("targets_as_entities")
def targets_as_entities(doc: Doc) -> Doc:
    """The target matcher's spans (pruned by it, so never overlapping) as doc.ents."""
    spans = list(doc.spans.get(TARGETS, ()))
    try:
        doc.ents = spans
    except ValueError:  # an overlap after all: keep the earlier span, as medspaCy does
        for span in spans:
            try:
                doc.ents = (*doc.ents, span)
            except ValueError:
                continue
    return doc
