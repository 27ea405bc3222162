"""One error hierarchy, one handler: every refusal is an HTTP status plus a FHIR
OperationOutcome saying what was wrong (CDS Hooks 3.0 ballot: non-2xx responses
SHOULD carry an OperationOutcome).

    CdsError (status, issue code)
    ├── BadRequest            400  malformed JSON, wrong fields, hook mismatch
    ├── Unauthorized          401  any JWT failure (no detail in the body)
    ├── Forbidden             403  fhirServer not on the allowlist
    ├── NotFound              404  unknown service
    ├── MethodNotAllowed      405
    ├── RequestTimeout        408  the request body did not arrive in time
    ├── PreconditionFailed    412  data the decision needs could not be obtained
    ├── PayloadTooLarge       413  body, or resources in it, over a limit
    ├── TooCostly             422  the work the input asks for is over a limit
    └── ServiceBusy           503  no capacity within the request's deadline
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: FHIR issue-type code, text and FHIRPath-ish location."""

    code: str
    diagnostics: str
    expression: str | None = None
    severity: str = "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.diagnostics,
        }
        if self.expression:
            out["expression"] = [self.expression]
        return out


class CdsError(Exception):
    """A client-visible failure. Subclasses fix the status and the default issue code."""

    status = 500
    issue_code = "exception"

    def __init__(self, diagnostics: str, issues: Sequence[Issue] | None = None) -> None:
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.issues = list(issues) if issues else [Issue(self.issue_code, diagnostics)]

    def operation_outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


class BadRequest(CdsError):
    status, issue_code = 400, "invalid"


class Unauthorized(CdsError):
    status, issue_code = 401, "login"


class Forbidden(CdsError):
    status, issue_code = 403, "forbidden"


class NotFound(CdsError):
    status, issue_code = 404, "not-found"


class MethodNotAllowed(CdsError):
    status, issue_code = 405, "not-supported"


class PreconditionFailed(CdsError):
    status, issue_code = 412, "incomplete"


class RequestTimeout(CdsError):
    status, issue_code = 408, "timeout"


class PayloadTooLarge(CdsError):
    status, issue_code = 413, "too-costly"


class TooCostly(CdsError):
    status, issue_code = 422, "too-costly"


class ServiceBusy(CdsError):
    status, issue_code = 503, "transient"


def operation_outcome(issues: Sequence[Issue]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [i.to_json() for i in issues]}
