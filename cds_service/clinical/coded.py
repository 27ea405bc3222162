"""Map codes (SNOMED, ICD-10) on findings and diagnoses to the reader's concepts.

clinical.md found no SNOMED concept for transient osteoporosis or bone marrow edema:
those are matched by text; ICD-10 M81.6 (localized osteoporosis) is the closest code.
"""

from __future__ import annotations

from collections.abc import Iterable

from cds_service.clinical import codes as c
from cds_service.clinical import text_rules as tr
from cds_service.clinical.fhir_values import Coding3

FEVER = "FEVER"

_SNOMED = {
    **{code: tr.AVN for code in c.AVN_SNOMED},
    **{code: tr.INFECTION for code in c.INFECTION_SNOMED},
    **{code: tr.STRESS_FRACTURE for code in c.STRESS_FRACTURE_SNOMED},
    **{code: tr.SIF for code in c.INSUFFICIENCY_FRACTURE_SNOMED},
    **{code: FEVER for code in c.FEVER_SNOMED},
}
_ICD_PREFIXES = (
    (c.AVN_ICD, tr.AVN),
    (c.INFECTION_ICD, tr.INFECTION),
    (c.STRESS_FRACTURE_ICD, tr.STRESS_FRACTURE),
    (c.TOH_ICD, tr.TOH),
)


def coded_concepts(codings: Iterable[Coding3]) -> list[tuple[str, str]]:
    """(concept, display) for each recognised code; display falls back to system|code."""
    found: list[tuple[str, str]] = []
    for system, code, display in codings:
        if not code:
            continue
        label = display or f"{system}|{code}"
        if system == c.SNOMED and code in _SNOMED:
            found.append((_SNOMED[code], label))
        elif system in (c.ICD10, c.ICD10_WHO):
            for prefixes, concept in _ICD_PREFIXES:
                if code.upper().startswith(prefixes):
                    found.append((concept, label))
                    break
    return found
