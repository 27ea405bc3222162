"""Which draft orders are the procedure a service watches (pure, no I/O).

`order-select` reacts only to the newly selected orders (`context.selections`);
`order-sign` to every order in `draftOrders` (CDS Hooks order-select / order-sign).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cds_service.fhir.raw import items, iter_raw_resources
from cds_service.services.definitions import TriggerList

# Order text read for matching. The trigger patterns ("core decompress ... hip") take time
# quadratic in repeated words (each occurrence restarts a `.*` scan): 128,000 characters
# of "core decompress " took 19 s. An order's code text, displays and instructions are a
# few hundred characters; past this many they are not read (README "Limits").
MAX_ORDER_TEXT = 500


@dataclass(frozen=True)
class TriggeredOrder:
    """A draft order that matched a trigger list, with why it matched."""

    resource: Mapping[str, Any]
    reference: str | None  # "ServiceRequest/id", None when the client sent no id
    matched_by: str  # "system|code" or "text"

    @property
    def text(self) -> str:
        return order_text(self.resource)


def order_text(resource: Mapping[str, Any]) -> str:
    """code.text, coding displays and the note/instruction text of an order, lowercased,
    at most MAX_ORDER_TEXT characters."""
    parts: list[str] = []
    code = resource.get("code")
    if isinstance(code, Mapping):
        if isinstance(code.get("text"), str):
            parts.append(code["text"])
        for coding in items(code.get("coding")):
            if isinstance(coding, Mapping) and isinstance(coding.get("display"), str):
                parts.append(coding["display"])
    if isinstance(resource.get("patientInstruction"), str):
        parts.append(resource["patientInstruction"])
    for note in items(resource.get("note")):
        if isinstance(note, Mapping) and isinstance(note.get("text"), str):
            parts.append(note["text"])
    return " ".join(parts)[:MAX_ORDER_TEXT].lower()


def _codings(resource: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    code = resource.get("code")
    if not isinstance(code, Mapping):
        return
    for coding in items(code.get("coding")):
        if isinstance(coding, Mapping):
            system, value = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(value, str):
                yield system, value


def match_order(resource: Mapping[str, Any], triggers: TriggerList) -> str | None:
    """Why this order is the procedure ("system|code" or "text"), or None."""
    if resource.get("resourceType") not in triggers.resource_types:
        return None
    text = order_text(resource)
    for system, value in _codings(resource):
        for trigger in triggers.codes:
            if trigger.system == system and trigger.code == value and (
                not trigger.requires_text
                or any(re.search(p, text, re.IGNORECASE) for p in trigger.requires_text)
            ):
                return f"{system}|{value}"
    if any(re.search(p, text, re.IGNORECASE) for p in triggers.text_patterns):
        return "text"
    return None


def triggered_orders(
    hook: str, context: Mapping[str, Any], triggers: TriggerList
) -> list[TriggeredOrder]:
    """The draft orders of this hook call that match the trigger list."""
    selections = set(items(context.get("selections"))) if hook == "order-select" else None
    found: list[TriggeredOrder] = []
    for resource in iter_raw_resources(context.get("draftOrders")):
        rid = resource.get("id")
        reference = f"{resource['resourceType']}/{rid}" if isinstance(rid, str) else None
        if selections is not None and reference not in selections:
            continue
        why = match_order(resource, triggers)
        if why:
            found.append(TriggeredOrder(resource=resource, reference=reference, matched_by=why))
    return found
