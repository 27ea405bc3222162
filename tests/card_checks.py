"""Independent checks of every CDS Hooks card constraint (CDS Hooks 2.0 §Card
Attributes and what the Da Vinci CRD test kit checks), on the JSON as sent.

Deliberately not using cds_service.wire.cards: a bug in the model must not hide here.
"""

from __future__ import annotations

import uuid
from typing import Any

TOPICS = {
    "toh-suspected": "warning",
    "infection-not-excluded": "critical",
    "imaging-needed": "warning",
    "avn-features": "info",
    "other-lesion": "info",
    "tmo-migration": "info",
}


def check_action(action: dict[str, Any], where: str) -> None:
    assert action.get("type") in ("create", "update", "delete"), f"{where}: action type"
    assert isinstance(action.get("description"), str) and action["description"], f"{where}: description"
    if action["type"] in ("create", "update"):
        resource = action.get("resource")
        assert isinstance(resource, dict) and resource.get("resourceType"), f"{where}: resource"
    else:
        ids = action.get("resourceId")
        ids = [ids] if isinstance(ids, str) else ids
        assert ids and all(isinstance(i, str) and "/" in i for i in ids), f"{where}: resourceId"


def check_card(card: dict[str, Any]) -> None:
    """Raise AssertionError naming the first constraint the card breaks."""
    summary = card.get("summary")
    assert isinstance(summary, str) and 0 < len(summary) < 140, "summary must be under 140 characters"
    assert card.get("indicator") in ("info", "warning", "critical"), "indicator"
    uuid.UUID(card["uuid"])
    source = card.get("source")
    assert isinstance(source, dict) and isinstance(source.get("label"), str) and source["label"], "source.label"
    topic = source.get("topic")
    assert isinstance(topic, dict) and topic.get("code") in TOPICS, "source.topic code"
    assert card["indicator"] == TOPICS[topic["code"]], f"indicator for {topic['code']}"
    if card.get("detail") is not None:
        assert isinstance(card["detail"], str) and card["detail"].strip(), "detail"
    suggestions = card.get("suggestions") or []
    if suggestions:
        assert card.get("selectionBehavior") in ("at-most-one", "any"), "selectionBehavior"
    for i, suggestion in enumerate(suggestions):
        assert isinstance(suggestion.get("label"), str) and suggestion["label"], f"suggestion[{i}].label"
        for j, action in enumerate(suggestion.get("actions") or []):
            check_action(action, f"suggestion[{i}].action[{j}]")
    for reason in card.get("overrideReasons") or []:
        assert isinstance(reason.get("display"), str) and reason["display"], "overrideReason display"
        assert reason.get("code"), "overrideReason code"
    for link in card.get("links") or []:
        assert link.get("label") and link.get("url", "").startswith(("http://", "https://")), "link"
        assert link.get("type") in ("absolute", "smart"), "link type"
        if link["type"] != "smart":
            assert "appContext" not in link, "appContext only on smart links"
    assert not any(v is None for v in card.values()), "no null fields"


def check_cards_response(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert isinstance(body.get("cards"), list), "cards is required"
    for card in body["cards"]:
        check_card(card)
    for j, action in enumerate(body.get("systemActions") or []):
        check_action(action, f"systemActions[{j}]")
    return body["cards"]
