"""Which Observations a handler reads, judged on raw JSON before any model is built.

Why in the service layer: this is the cheap `keep` filter of a handler (what the decision
reads at all), a property of the hook service, not a clinical rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cds_service.clinical import codes as c
from cds_service.fhir.record import items

_LAB_CODES = frozenset(c.LAB_CODES)
_SNOMED_CODES = frozenset(c.ALCOHOL_INTAKE_SNOMED)  # Observations coded in SNOMED only


def is_imaging_observation(raw: Mapping[str, Any]) -> bool:
    """Observation with category `imaging`, or derived from / part of an ImagingStudy."""
    for category in items(raw.get("category")):
        if isinstance(category, Mapping):
            for coding in items(category.get("coding")):
                if isinstance(coding, Mapping) and coding.get("code") == "imaging":
                    return True
    for link in items(raw.get("derivedFrom")) + items(raw.get("partOf")):
        if isinstance(link, Mapping) and str(link.get("reference", "")).startswith(
                ("ImagingStudy/", "DiagnosticReport/")):
            return True
    return False


def has_lab_code(raw: Mapping[str, Any]) -> bool:
    """Observation coded with one of the labs (LOINC) or intake scores (SNOMED) read."""
    code = raw.get("code")
    if not isinstance(code, Mapping):
        return False
    return any(isinstance(coding, Mapping) and (
        (coding.get("system") == c.LOINC and coding.get("code") in _LAB_CODES)
        or (coding.get("system") == c.SNOMED and coding.get("code") in _SNOMED_CODES))
        for coding in items(code.get("coding")))
