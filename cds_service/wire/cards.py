"""Card response models. Every spec constraint is a validator, so an invalid card
cannot be built (CDS Hooks 2.0 §Card Attributes; Da Vinci CRD test kit checks)."""

from __future__ import annotations

import uuid as uuid_lib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SUMMARY_MAX = 139  # "<140 characters": test kits fail a 140-character summary


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict without unset optional fields (clients dislike nulls)."""
        return self.model_dump(mode="json", exclude_none=True)


class Coding(_Wire):
    """FHIR Coding as used by `source.topic` and `overrideReasons`."""

    system: str | None = None
    code: str
    display: str | None = None


class OverrideReason(Coding):
    """An override reason; the spec requires `display` so the EHR can show it."""

    display: str = Field(min_length=1)


class Source(_Wire):
    label: str = Field(min_length=1)
    url: str | None = None
    icon: str | None = None
    topic: Coding | None = None

    @field_validator("url", "icon")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute URL")
        return value


class Action(_Wire):
    type: Literal["create", "update", "delete"]
    description: str = Field(min_length=1)
    resource: dict[str, Any] | None = None
    resourceId: str | list[str] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Action:
        if self.type in ("create", "update"):
            if not self.resource or "resourceType" not in self.resource:
                raise ValueError(f"{self.type} action needs a FHIR resource")
        elif not self.resourceId:
            raise ValueError("delete action needs resourceId (Type/id)")
        else:
            ids = [self.resourceId] if isinstance(self.resourceId, str) else self.resourceId
            if not all("/" in i for i in ids):
                raise ValueError("delete resourceId must be Type/id")
        return self


class Suggestion(_Wire):
    label: str = Field(min_length=1)
    uuid: str = Field(default_factory=lambda: str(uuid_lib.uuid4()))
    isRecommended: bool | None = None
    actions: list[Action] = Field(default_factory=list)


class Link(_Wire):
    label: str = Field(min_length=1)
    url: str
    type: Literal["absolute", "smart"]
    appContext: str | None = None
    autolaunchable: bool | None = None

    @model_validator(mode="after")
    def _shape(self) -> Link:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("link url must be absolute")
        if self.appContext is not None and self.type != "smart":
            raise ValueError("appContext is only allowed on smart links")
        return self


class Card(_Wire):
    uuid: str = Field(default_factory=lambda: str(uuid_lib.uuid4()))
    summary: str = Field(min_length=1, max_length=SUMMARY_MAX)
    detail: str | None = None
    indicator: Literal["info", "warning", "critical"]
    source: Source
    suggestions: list[Suggestion] | None = None
    selectionBehavior: Literal["at-most-one", "any"] | None = None
    overrideReasons: list[OverrideReason] | None = None
    links: list[Link] | None = None

    @model_validator(mode="after")
    def _selection_behavior(self) -> Card:
        if self.suggestions and self.selectionBehavior is None:
            raise ValueError("selectionBehavior is required when suggestions are present")
        return self

    @property
    def topic_code(self) -> str | None:
        return self.source.topic.code if self.source.topic else None


class CardsResponse(_Wire):
    cards: list[Card] = Field(default_factory=list)
    systemActions: list[Action] = Field(default_factory=list)
