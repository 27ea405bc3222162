"""The card model refuses every card the spec forbids, so none can be sent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cds_service.wire.cards import Action, Card, Link, OverrideReason, Source, Suggestion
from tests.card_checks import check_card

SOURCE = Source(label="Hip check", topic={"system": "urn:x", "code": "toh-suspected"})


def test_valid_card_passes_independent_checks() -> None:
    card = Card(
        summary="x" * 139, indicator="warning", source=SOURCE, selectionBehavior="at-most-one",
        suggestions=[Suggestion(label="Remove", actions=[Action(type="delete", description="d", resourceId="ServiceRequest/1")])],
        overrideReasons=[OverrideReason(code="c", display="Surgeon reviewed imaging")],
        links=[Link(label="Lit", url="https://pubmed.ncbi.nlm.nih.gov/", type="absolute")],
    )
    check_card(card.to_json())


@pytest.mark.parametrize(
    "make",
    [
        lambda: Card(summary="x" * 140, indicator="info", source=SOURCE),
        lambda: Card(summary="", indicator="info", source=SOURCE),
        lambda: Card(summary="s", indicator="urgent", source=SOURCE),
        lambda: Card(summary="s", indicator="info", source=SOURCE, suggestions=[Suggestion(label="a")]),
        lambda: OverrideReason(code="c"),
        lambda: Link(label="l", url="https://x", type="relative"),
        lambda: Link(label="l", url="https://x", type="absolute", appContext="ctx"),
        lambda: Link(label="l", url="/relative", type="absolute"),
        lambda: Action(type="delete", description="d"),
        lambda: Action(type="delete", description="d", resourceId="no-type"),
        lambda: Action(type="create", description="d", resource={"id": "x"}),
        lambda: Action(type="create", description=""),
        lambda: Source(label=""),
        lambda: Source(label="l", icon="icon.png"),
    ],
)
def test_invalid_cards_cannot_be_built(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError):
        make()
