"""Which kind of imaging an exam is (MRI, radiograph, CT, bone scan, PET, ultrasound).

Why: only an MRI shows the bone marrow edema that separates transient osteoporosis from
AVN, so "a recent hip MRI" must mean an MRI. The modality is taken from codes first
(DICOM modality of the study, the report's LOINC radiology code or its display words,
its diagnostic-service category) and from the report's text only where the report
describes its own technique: a title line ("MRI of the left hip:") or a technique line
("Sequences: T1, STIR"). A recommendation ("MRI recommended") or a comparison ("compared
with MRI of ...") names another exam, never this one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cds_service.clinical import codes as c

# Word patterns for titles and code texts, most specific first: a PET-CT is a PET, a
# SPECT/CT bone scan a nuclear-medicine scan.
_TITLE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (modality, re.compile(pattern, re.IGNORECASE)) for modality, pattern in (
        ("PT", r"\b(pet|fdg|positron)\b"),
        ("NM", (r"\b(nm|spect|bone[- ]scan\w*|scintigra\w*|nuclear medicine|tc[- ]?99m?|"
                r"99m?[- ]?tc|radionuclide|(wbc|leu[ck]ocyte|marrow) scan\w*)\b")),
        ("MR", r"\b(mri?|mra|magnetic resonance)\b"),
        ("CT", r"\b(ct|cta|computed tomography|cat scan)\b"),
        ("US", r"\b(usg|ultrasound|ultrasonograph\w*|sonograph\w*|doppler)\b"),
        ("DX", r"\b(xr|x-?rays?|radiograph\w*|plain films?)\b"),
        ("BMD", r"\b(dxa|dexa|densitometry|bone density)\b"),
    ))
_US_ABBREVIATION = re.compile(r"\bUS\b")  # upper case only: "us" is also a word

# What a technique line names: sequences, tracers, views.
_TECHNIQUE_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (modality, re.compile(pattern, re.IGNORECASE)) for modality, pattern in (
        ("PT", r"\b(pet|fdg|positron|suv\w*)\b"),
        ("NM", (r"\b(radiotracer|radionuclide|tc[- ]?99m?|99m?[- ]?tc|mdp|hdp|technetium|"
                r"scintigra\w*|gamma camera|spect|in-?111|indium)\b")),
        ("MR", (r"\b(mri?|magnetic resonance|stir|t1\w*|t2\w*|pd(\s?fs)?|proton density|"
                r"fat[- ]?(sat\w*|suppress\w*)|dwi|diffusion|gradient echo|flair|gadolinium)\b")),
        ("CT", r"\b(ct|computed tomography|hounsfield|helical|multidetector|mdct)\b"),
        ("US", r"\b(ultrasound|transducer|probe|sonograph\w*|doppler)\b"),
        ("DX", r"\b(views?|radiographs?|x-?rays?|frog[- ]leg|plain films?)\b"),
    ))

_TECHNIQUE_LABEL = re.compile(r"^\s*(technique|sequences?|protocol|method)\s*:\s*",
                              re.IGNORECASE)
_TITLE_LABEL = re.compile(r"^\s*(exam(ination)?|study|procedure|title|modality)\s*:\s*",
                          re.IGNORECASE)
# Words that make a line speak of another exam: advice, comparison, history.
_OTHER_EXAM = re.compile(
    r"\b(recommend\w*|advis\w*|suggest\w*|consider\w*|should|would|could|may|choice|"
    r"compar\w*|prior|previous\w*|earlier|outside|elsewhere|further|if|warrant\w*|needed|"
    r"request\w*|indicated|correlat\w*|vs|versus)\b", re.IGNORECASE)
# A title is a name, not a sentence: a line with a verb reports something else.
_VERB = re.compile(r"\b(is|are|was|were|has|have|had|showed|shows?|revealed|reveals?|"
                   r"demonstrat\w*|done|performed|confirm\w*)\b", re.IGNORECASE)
_TITLE_MAX = 80


def first_modality(modalities: Iterable[str | None]) -> str | None:
    """The one modality of a set (a PET-CT study carries PT and CT: it is a PET)."""
    present = {m for m in modalities if m}
    for m in c.MODALITY_PRIORITY:
        if m in present:
            return m
    return next(iter(sorted(present)), None)


def same_kind(a: str | None, b: str | None) -> bool:
    """Could these be one exam? Unknown matches anything; CR and DX are both radiographs."""
    if a is None or b is None:
        return True
    return c.MODALITY_LABELS.get(a, a) == c.MODALITY_LABELS.get(b, b)


def of_words(text: str) -> str | None:
    """Modality named by a title or code text ("MR Hip WO contrast", "XR PELVIS")."""
    for modality, pattern in _TITLE_WORDS:
        if pattern.search(text):
            return modality
    return "US" if _US_ABBREVIATION.search(text) else None


def of_codes(code_concepts: list[tuple[str | None, str | None, str | None]],
             categories: list[tuple[str | None, str | None, str | None]]) -> str | None:
    """Modality from DiagnosticReport.code (LOINC table, then display/text words) and
    category (HL7 v2 diagnostic service sections that name one)."""
    for system, code, _ in code_concepts:
        if system == c.LOINC and code in c.RADIOLOGY_LOINC:
            return c.RADIOLOGY_LOINC[code]
    for _, _, words in code_concepts:
        found = of_words(words) if words else None
        if found:
            return found
    for _, code, _ in categories:
        if code in c.CATEGORY_MODALITY:
            return c.CATEGORY_MODALITY[code]
    return None


def _own(line: str) -> str:
    """The part of a line before it turns to another exam ("..., compared with MRI")."""
    match = _OTHER_EXAM.search(line)
    return line[: match.start()] if match else line


def _is_title(line: str, first: bool) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > _TITLE_MAX or _VERB.search(stripped):
        return False
    letters = [ch for ch in stripped if ch.isalpha()]
    shouting = bool(letters) and all(ch.isupper() for ch in letters)
    return first or stripped.endswith(":") or shouting


def of_text(parts: Iterable[str]) -> str | None:
    """Modality a report states for itself: a technique line or a title line. `parts`
    are its texts (conclusion, attached reports); a title is the first line of one of
    them, a line ending in ":", an upper-case line, or an "Exam:" line."""
    for text in parts:
        lines = text.splitlines()
        first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        for i, line in enumerate(lines):
            technique = _TECHNIQUE_LABEL.match(line)
            if technique:
                own = _own(line[technique.end():])
                for modality, pattern in _TECHNIQUE_WORDS:
                    if pattern.search(own):
                        return modality
                continue
            label = _TITLE_LABEL.match(line)
            body = line[label.end():] if label else line
            if _OTHER_EXAM.search(body) or not (label or _is_title(body, i == first)):
                continue
            head = body.strip()
            found = of_words(head)
            if found and (label or _starts_with_modality(head)):
                return found
    return None


def _starts_with_modality(title: str) -> bool:
    """A title names its exam first ("MRI OF LEFT HIP", "Bone scan:"), not in passing."""
    words = title.split()
    return bool(words) and of_words(" ".join(words[:3])) is not None


def label(modality: str | None) -> str:
    """What a clinician calls it, for cards."""
    return c.MODALITY_LABELS.get(modality or "", "imaging of unknown modality")
