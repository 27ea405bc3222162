"""Every card names the service that issued it, and links the page that explains its rules.

Why a wrapper around the service logic: a card's `source.label` is the title of the
service the EHR called (hooks/services/*.toml, where an informaticist may rename it) and
`source.url` is this deployment's rules page (`public_base_url`), neither of which the
pure clinical core knows. Here too `[cards] informational = false` leaves out the cards
that change nothing about the order (card_topics.INFORMATIONAL: no warning, no suggestion).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cds_service.fhir.raw import RawResource
from cds_service.fhir.record import PatientRecord
from cds_service.services.card_topics import INFORMATIONAL
from cds_service.services.definitions import Catalog
from cds_service.services.logic import Invocation, IssuedCard, ServiceLogic

RULES_PATH = "/rules"


class IssuedBy:
    """A ServiceLogic whose cards carry their issuing service as `source`."""

    def __init__(self, inner: ServiceLogic, titles: Mapping[str, str], rules_url: str,
                 informational: bool = True) -> None:
        self.inner = inner
        self.titles = dict(titles)
        self.rules_url = rules_url
        self.informational = informational

    def keep(self, raw: RawResource) -> bool:
        return self.inner.keep(raw)

    def decide(self, invocation: Invocation, record: PatientRecord) -> list[IssuedCard]:
        out = []
        for item in self.inner.decide(invocation, record):
            topic = item.card.topic_code
            if not self.informational and topic in INFORMATIONAL:
                continue
            label = self.titles.get(invocation.service_id, item.card.source.label)
            url = f"{self.rules_url}#{topic}" if topic else self.rules_url
            source = item.card.source.model_copy(update={"label": label, "url": url})
            out.append(replace(item, card=item.card.model_copy(update={"source": source})))
        return out


def issued_by(logics: Mapping[str, ServiceLogic], catalog: Catalog, public_base_url: str,
              informational: bool = True) -> dict[str, ServiceLogic]:
    """Every handler's logic, wrapped (app.py calls this once)."""
    titles = {sid: service.title for sid, service in catalog.services.items()}
    url = public_base_url.rstrip("/") + RULES_PATH
    return {name: IssuedBy(logic, titles, url, informational) for name, logic in logics.items()}
