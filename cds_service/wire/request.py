"""Hook request models (CDS Hooks 2.0 §HTTP Request; hook contexts from
HL7/cds-hooks-library for patient-view, order-select and order-sign, R4)."""

from __future__ import annotations

import re
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

REFERENCE = re.compile(r"^[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}$")
USER_TYPES = ("Practitioner", "PractitionerRole", "Patient", "RelatedPerson")
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class _Lenient(BaseModel):
    # Extensions and newer spec fields are allowed; what we read is strictly typed.
    model_config = ConfigDict(extra="allow", frozen=True)


class FhirAuthorization(_Lenient):
    """OAuth 2.0 access token for fhirServer (CDS Hooks 2.0 §FHIR Resource Access)."""

    access_token: StrictStr = Field(min_length=1, repr=False)
    token_type: Literal["Bearer"]
    expires_in: int = Field(ge=0)
    scope: StrictStr
    subject: StrictStr
    patient: StrictStr | None = None


class PatientViewContext(_Lenient):
    userId: StrictStr
    patientId: StrictStr
    encounterId: StrictStr | None = None

    @field_validator("userId")
    @classmethod
    def _user(cls, value: str) -> str:
        if not REFERENCE.match(value) or value.split("/")[0] not in USER_TYPES:
            raise ValueError(f"must be a reference to one of {', '.join(USER_TYPES)} (Type/id)")
        return value

    @field_validator("patientId", "encounterId")
    @classmethod
    def _fhir_id(cls, value: str | None) -> str | None:
        if value is not None and not FHIR_ID.match(value):
            raise ValueError("must be a FHIR id (1-64 of A-Z a-z 0-9 - .)")
        return value


class DraftOrders(_Lenient):
    """A Bundle of unsigned orders; real clients omit `type` and resource ids."""

    resourceType: Literal["Bundle"]
    entry: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("entry")
    @classmethod
    def _entries(cls, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, entry in enumerate(entries):
            resource = entry.get("resource")
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                raise ValueError(f"entry[{index}].resource must be a FHIR resource")
        return entries


class OrderSignContext(PatientViewContext):
    draftOrders: DraftOrders


class OrderSelectContext(OrderSignContext):
    selections: list[StrictStr] = Field(min_length=1)

    @field_validator("selections")
    @classmethod
    def _references(cls, selections: list[str]) -> list[str]:
        for item in selections:
            if not REFERENCE.match(item):
                raise ValueError(f"selection {item!r} must be Type/id")
        return selections


CONTEXT_MODELS: dict[str, type[PatientViewContext]] = {
    "patient-view": PatientViewContext,
    "order-sign": OrderSignContext,
    "order-select": OrderSelectContext,
}


class HookRequest(_Lenient):
    """The envelope; `context` is validated against the service's hook separately."""

    hook: StrictStr = Field(min_length=1)
    hookInstance: StrictStr
    fhirServer: StrictStr | None = None
    fhirAuthorization: FhirAuthorization | None = None
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None

    @field_validator("hookInstance")
    @classmethod
    def _uuid(cls, value: str) -> str:
        try:
            uuid.UUID(value)
        except ValueError as exc:
            raise ValueError("must be a UUID") from exc
        return value

    @field_validator("fhirServer")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _server_with_token(self) -> HookRequest:
        if self.fhirAuthorization is not None and self.fhirServer is None:
            raise ValueError("fhirServer is required when fhirAuthorization is present")
        return self
