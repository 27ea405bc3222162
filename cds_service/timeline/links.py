"""Every card links to the evidence timeline (CDS Hooks 2.0 Link, type "smart").

Why a wrapper around the service logic rather than in the card builders: the link's URL
is the deployment's public_base_url, a setting the pure clinical core does not know. The
EHR launches the link with `iss` and `launch`; `appContext` carries the ordered side when
the call names one, so the app assesses the same hip the card did.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace

from cds_service.fhir.raw import RawResource
from cds_service.fhir.record import PatientRecord
from cds_service.services.core_decompression import order_side
from cds_service.services.logic import Invocation, IssuedCard, ServiceLogic
from cds_service.wire.cards import Link

LAUNCH_PATH = "/smart/launch"
LABEL = "Evidence timeline (joints, labs, steroids, pregnancy)"


def app_context(invocation: Invocation) -> str | None:
    """`{"side": ...}` when every triggered order names the same side, else None."""
    sides = {order_side(o.resource) for o in invocation.orders}
    if len(sides) != 1 or None in sides:
        return None
    return json.dumps({"side": sides.pop()}, separators=(",", ":"))


class WithAppLink:
    """A ServiceLogic whose cards also carry the smart link to the timeline app."""

    def __init__(self, inner: ServiceLogic, public_base_url: str) -> None:
        self.inner = inner
        self.url = public_base_url.rstrip("/") + LAUNCH_PATH

    def keep(self, raw: RawResource) -> bool:
        return self.inner.keep(raw)

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        issued = self.inner.decide(invocation, record)
        if not issued:
            return issued
        link = Link(label=LABEL, url=self.url, type="smart", appContext=app_context(invocation))
        return [replace(item, card=item.card.model_copy(
                    update={"links": [*(item.card.links or ()), link]})) for item in issued]


def with_app_links(logics: Mapping[str, ServiceLogic], public_base_url: str
                   ) -> dict[str, ServiceLogic]:
    """Every handler's logic, wrapped (app.py calls this once)."""
    return {name: WithAppLink(logic, public_base_url) for name, logic in logics.items()}
