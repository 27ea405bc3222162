"""FHIR client failures. One base class; the pipeline turns any of them into 412
(or a card built without the optional data), never a 500.

    FhirError
    ├── FhirUnavailable      connection refused, timeouts, 5xx after retries
    ├── FhirBudgetExceeded   the hook call's time budget ran out
    ├── FhirAccessDenied     401 / 403 from the FHIR server
    ├── FhirNotFound         404 / 410
    └── FhirBadResponse      malformed JSON, too large, OperationOutcome body,
                             redirect or paging link outside the server's base
"""

from __future__ import annotations


class FhirError(Exception):
    """A FHIR call failed; the message is safe to log and return (no token, no PHI)."""


class FhirUnavailable(FhirError):
    pass


class FhirBudgetExceeded(FhirError):
    pass


class FhirAccessDenied(FhirError):
    pass


class FhirNotFound(FhirError):
    pass


class FhirBadResponse(FhirError):
    pass
