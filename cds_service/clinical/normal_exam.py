"""A report that calls its exam normal ("Normal MRI of the left knee", "marrow signal is
normal"): a follow-up MRI that shows a joint's edema has resolved, even when it does not
say "resolved" (issue 12: resolution read from a normal follow-up MRI; episodes.py).

Only plain statements count: "normal"/"unremarkable" naming the exam or the marrow
signal, "no (significant) abnormality", "within normal limits". A report that also
describes edema of that joint is never normal for it (episodes.py checks the findings).
"""

from __future__ import annotations

import re

_EXAM = r"(?:mri?|mr\s+imaging|magnetic\s+resonance(?:\s+imaging)?|study|examination|exam|scan)"
_NORMAL = re.compile(
    r"\b(?:normal|unremarkable)\s+(?:appearances?\s+(?:on|of)\s+)?(?:\w+\s+){0,2}?" + _EXAM
    + r"\b"
    r"|\b" + _EXAM + r"\b[^.;:]{0,60}?\b(?:is|was|are|appears?)\s+(?:entirely\s+|completely\s+|"
    r"otherwise\s+)?(?:normal|unremarkable|within\s+normal\s+limits)\b"
    r"|\bno\s+(?:significant\s+|focal\s+|acute\s+|other\s+)?abnormalit(?:y|ies)\b"
    r"|\bnormal\s+(?:bone\s+)?marrow\s+signal\b"
    r"|\b(?:bone\s+)?marrow\s+signal\s+(?:is\s+|has\s+)?(?:now\s+)?(?:normal|normali[sz]ed|"
    r"returned\s+to\s+normal|within\s+normal\s+limits)\b",
    re.IGNORECASE,
)
# "compared with the normal MRI of 2020": another exam's result, not this one's
_OTHER_EXAM = re.compile(r"\b(?:compar\w*|prior|previous|earlier|outside|since)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.\n;]+[.;]?")


def normal_statement(text: str) -> str | None:
    """The first sentence that calls the exam (or its marrow) normal, or None."""
    for m in _SENTENCE.finditer(text or ""):
        sentence = m.group(0).strip()
        if sentence and _NORMAL.search(sentence) and not _OTHER_EXAM.search(sentence):
            return sentence
    return None
