"""Render prefetch templates (pure).

CDS Hooks 2.0 tokens: `{{context.X}}` for root primitive context fields and
`{{userPractitionerId}}`-style user tokens. 3.0 ballot "simpler FHIRPath" tokens
(`{{context.draftOrders.entry.resource.ofType(ServiceRequest).id}}`,
`{{today() - 90 days}}`, `%priorKey`) are evaluated with fhirpathpy; several results are
joined with commas. Da Vinci CRD's `{{context.draftOrders.ServiceRequest.id}}` is read as
the `ofType()` form it abbreviates.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import fhirpathpy

TOKEN = re.compile(r"\{\{\s*(.+?)\s*\}\}")
SIMPLE_CONTEXT = re.compile(r"^context\.([A-Za-z]+)$")
USER_TOKENS = {
    "userPractitionerId": "Practitioner",
    "userPractitionerRoleId": "PractitionerRole",
    "userPatientId": "Patient",
    "userRelatedPersonId": "RelatedPerson",
}
CRD_TYPE_SHORTHAND = re.compile(r"context\.draftOrders\.([A-Z][A-Za-z]+)\b")
# Characters left as they are in query values: FHIR search syntax (`,` `|` `:`).
SAFE = ",|:-._~"


class TemplateError(ValueError):
    """The template cannot be rendered for this context (e.g. a token with no value)."""


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    expanded = CRD_TYPE_SHORTHAND.sub(r"context.draftOrders.entry.resource.ofType(\1)", expression)
    return fhirpathpy.compile(expanded)


def _token_values(
    expression: str, context: Mapping[str, Any], prior: Mapping[str, Any]
) -> list[str]:
    simple = SIMPLE_CONTEXT.match(expression)
    if simple:
        value = context.get(simple.group(1))
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return [str(value)]
        return []
    if expression in USER_TOKENS:
        user = context.get("userId")
        if isinstance(user, str) and user.startswith(USER_TOKENS[expression] + "/"):
            return [user.split("/", 1)[1]]
        return []
    try:
        results = _compiled(expression)({"context": dict(context)}, dict(prior))
    except Exception as exc:  # fhirpathpy raises assorted errors on bad expressions
        raise TemplateError(f"cannot evaluate {{{{{expression}}}}}: {type(exc).__name__}") from exc
    values: list[str] = []
    for item in results:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            values.append(str(item))
        elif hasattr(item, "isoformat"):
            values.append(item.isoformat())
        else:
            values.append(str(item))
    return values


def render(
    template: str,
    context: Mapping[str, Any],
    prior: Mapping[str, Any] | None = None,
) -> str:
    """The query with every token replaced; TemplateError when a token has no value."""

    def replace(match: re.Match[str]) -> str:
        values = _token_values(match.group(1), context, prior or {})
        if not values:
            raise TemplateError(f"no value for {{{{{match.group(1)}}}}} in this context")
        return quote(",".join(values), safe=SAFE)

    return TOKEN.sub(replace, template)
