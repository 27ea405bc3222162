"""What every card of this service carries besides its words: topic, indicator, source, links.

Why here, shared by both handlers: the topic codes, the issuing service's default label
and the literature links are CDS Hooks presentation (a `Source`, a `Link`), which the
clinical core's outcomes know nothing of; the rules page and the evidence timeline read
the same table, so a topic is named once.
"""

from __future__ import annotations

from typing import Literal

from cds_service.clinical.assessment import AVN, IMAGING, INFECTION, OTHER, TOH
from cds_service.wire.cards import Coding, Link, Source

TOPIC_SYSTEM = "https://cds.toh-service.example/CodeSystem/card-topic"
OVERRIDE_SYSTEM = "https://cds.toh-service.example/CodeSystem/override-reason"
# The issuing service's title (hooks/services/*.toml); services/card_source.py puts the
# title of the service actually called, as edited there, and the rules page URL.
SOURCE_LABEL = "Hip core decompression: transient osteoporosis check"
MIGRATION_SOURCE_LABEL = "Migratory bone marrow edema (transient migratory osteoporosis)"
MIGRATION = "tmo-migration"
Indicator = Literal["info", "warning", "critical"]
TOPICS: dict[str, tuple[str, Indicator]] = {  # code -> (display, indicator)
    TOH: ("Transient osteoporosis of the hip suspected", "warning"),
    INFECTION: ("Infection not excluded", "critical"),
    IMAGING: ("Recent hip MRI needed", "warning"),
    AVN: ("AVN features or risk factors", "info"),
    OTHER: ("Other structural lesion", "info"),
    MIGRATION: ("Migratory bone marrow edema", "info"),
}
# Cards that change nothing about the order (no warning, no suggestion): `[cards]
# informational = false` leaves them out (services/card_source.py).
INFORMATIONAL = (AVN, OTHER)
LITERATURE = {
    TOH: ("PubMed: transient osteoporosis of the hip",
          "https://pubmed.ncbi.nlm.nih.gov/?term=transient+osteoporosis+of+the+hip"),
    MIGRATION: ("PubMed: transient migratory osteoporosis",
                "https://pubmed.ncbi.nlm.nih.gov/?term=transient+migratory+osteoporosis"),
}


def source(code: str, label: str = SOURCE_LABEL) -> Source:
    """The card's source: the issuing service's label and the card's topic."""
    return Source(label=label, topic=Coding(system=TOPIC_SYSTEM, code=code,
                                            display=TOPICS[code][0]))


def links(code: str) -> list[Link] | None:
    """The literature link of this topic, if it has one."""
    if code not in LITERATURE:
        return None
    label, url = LITERATURE[code]
    return [Link(label=label, url=url, type="absolute")]
