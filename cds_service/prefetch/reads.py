"""What a handler reads, declared once: its prefetch templates and its cheap pre-parse
filter are both made from the same declaration (HAPI FHIR's one descriptor per service).

A `Query` is one prefetch key: the patient's resources of one type, optionally narrowed
to codes or a category. The template asks the FHIR server for exactly those, and the
filter keeps exactly those (plus any type the handler reads whole) before parsing, so
the two can never drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Coding = tuple[str, str]  # (system, code)

PREFETCH_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")
PATIENT_TOKEN = "{{context.patientId}}"


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def has_coding(raw: Mapping[str, Any], codings: frozenset[Coding]) -> bool:
    """`code.coding` holds one of these (system, code) pairs."""
    code = raw.get("code")
    if not isinstance(code, Mapping):
        return False
    return any(isinstance(coding, Mapping)
               and (coding.get("system"), coding.get("code")) in codings
               for coding in _items(code.get("coding")))


def in_category(raw: Mapping[str, Any], category: str) -> bool:
    """A `category` coding has this code (any system, as the `category=` search token)."""
    return any(isinstance(concept, Mapping) and any(
        isinstance(coding, Mapping) and coding.get("code") == category
        for coding in _items(concept.get("coding")))
        for concept in _items(raw.get("category")))


def linked_to(raw: Mapping[str, Any], prefixes: tuple[str, ...]) -> bool:
    """`derivedFrom` or `partOf` references a resource of one of these types."""
    return any(isinstance(link, Mapping)
               and str(link.get("reference", "")).startswith(prefixes)
               for link in _items(raw.get("derivedFrom")) + _items(raw.get("partOf")))


@dataclass(frozen=True)
class Query:
    """One prefetch key: the patient's `resource_type` resources the handler reads.

    `codes` narrows to those codings (`code=system|code,...`), `category` to one
    category code; a resource `derivedFrom`/`partOf` one of `linked_types` counts as in
    the category (findings of a study that carry no category). `by_id` reads the
    patient resource itself. `optional`: a failed fetch does not give 412."""

    key: str
    resource_type: str
    codes: tuple[Coding, ...] = ()
    category: str | None = None
    linked_types: tuple[str, ...] = ()
    by_id: bool = False
    optional: bool = False
    _codes: frozenset[Coding] = field(init=False, repr=False, compare=False)
    _links: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not PREFETCH_KEY.match(self.key):
            raise ValueError(f"prefetch key {self.key!r} must be an identifier")
        if not RESOURCE_TYPE.match(self.resource_type):
            raise ValueError(f"{self.key}: {self.resource_type!r} is not a FHIR resource type")
        if self.by_id and (self.codes or self.category):
            raise ValueError(f"{self.key}: a read by id takes no codes or category")
        if self.linked_types and self.category is None:
            raise ValueError(f"{self.key}: linked_types widen a category; give the category")
        object.__setattr__(self, "_codes", frozenset(self.codes))
        object.__setattr__(self, "_links", tuple(f"{t}/" for t in self.linked_types))

    @property
    def narrowed(self) -> bool:
        """Only some resources of the type are read (by code or category)."""
        return bool(self.codes) or self.category is not None

    def template(self) -> str:
        """The CDS Hooks prefetch template for this key."""
        if self.by_id:
            return f"{self.resource_type}/{PATIENT_TOKEN}"
        params = [f"patient={PATIENT_TOKEN}"]
        if self.codes:
            params.append("code=" + ",".join(f"{system}|{code}" for system, code in self.codes))
        if self.category is not None:
            params.append(f"category={self.category}")
        return f"{self.resource_type}?{'&'.join(params)}"

    def matches(self, raw: Mapping[str, Any]) -> bool:
        """This resource is one the key reads (same type, and its codes or category)."""
        if raw.get("resourceType") != self.resource_type:
            return False
        if not self.narrowed:
            return True
        if self._codes and has_coding(raw, self._codes):
            return True
        return self.category is not None and (
            in_category(raw, self.category) or bool(self._links) and linked_to(raw, self._links))


@dataclass(frozen=True)
class HandlerReads:
    """Every prefetch key of a handler, and the types it reads when they arrive without a
    key of their own (`also_reads`: a Medication a request references)."""

    queries: tuple[Query, ...]
    also_reads: tuple[str, ...] = ()
    _whole: frozenset[str] = field(init=False, repr=False, compare=False)
    _narrowed: Mapping[str, tuple[Query, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [q.key for q in self.queries]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate prefetch keys in {keys}")
        whole = {q.resource_type for q in self.queries if not q.narrowed} | set(self.also_reads)
        narrowed: dict[str, tuple[Query, ...]] = {}
        for query in self.queries:
            if query.narrowed and query.resource_type not in whole:
                narrowed[query.resource_type] = narrowed.get(query.resource_type, ()) + (query,)
        object.__setattr__(self, "_whole", frozenset(whole))
        object.__setattr__(self, "_narrowed", narrowed)

    @property
    def prefetch(self) -> dict[str, str]:
        """Key -> template, in declaration order (the discovery `prefetch` object)."""
        return {q.key: q.template() for q in self.queries}

    @property
    def optional_keys(self) -> tuple[str, ...]:
        return tuple(q.key for q in self.queries if q.optional)

    @property
    def kept_types(self) -> frozenset[str]:
        """Resource types kept whole (every resource of the type is read)."""
        return self._whole

    def keep(self, raw: Mapping[str, Any]) -> bool:
        """Cheap filter on raw JSON: does the handler read this resource at all?"""
        kind = raw.get("resourceType")
        if not isinstance(kind, str):
            return False
        if kind in self._whole:
            return True
        return any(q.matches(raw) for q in self._narrowed.get(kind, ()))
