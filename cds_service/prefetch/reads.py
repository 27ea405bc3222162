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


@dataclass(frozen=True)
class Narrowing:
    """Which resources of one type are read: a coding in `codes`, a category code in
    `categories`, or a `derivedFrom`/`partOf` reference starting with one of `links`.

    Run on every raw resource before parsing, so written for speed: JSON objects are
    dicts and lists, and a value of the wrong shape simply does not match."""

    codes: frozenset[Coding] = frozenset()
    categories: frozenset[str] = frozenset()
    links: tuple[str, ...] = ()

    def __or__(self, other: Narrowing) -> Narrowing:
        return Narrowing(self.codes | other.codes, self.categories | other.categories,
                         self.links + tuple(x for x in other.links if x not in self.links))

    def matches(self, raw: Mapping[str, Any]) -> bool:
        if self.codes:
            code = raw.get("code")
            if isinstance(code, dict):
                for coding in _list(code.get("coding")):
                    if isinstance(coding, dict) and _member(
                            (coding.get("system"), coding.get("code")), self.codes):
                        return True
        if self.categories:
            for concept in _list(raw.get("category")):
                if isinstance(concept, dict):
                    for coding in _list(concept.get("coding")):
                        if isinstance(coding, dict) and _member(coding.get("code"),
                                                                self.categories):
                            return True
        if self.links:
            for link in _list(raw.get("derivedFrom")) + _list(raw.get("partOf")):
                if isinstance(link, dict) and str(link.get("reference", "")).startswith(self.links):
                    return True
        return False


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _member(value: Any, members: frozenset[Any]) -> bool:
    try:
        return value in members
    except TypeError:  # a list or object where a code belongs: not one that is read
        return False


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

    def __post_init__(self) -> None:
        if not PREFETCH_KEY.match(self.key):
            raise ValueError(f"prefetch key {self.key!r} must be an identifier")
        if not RESOURCE_TYPE.match(self.resource_type):
            raise ValueError(f"{self.key}: {self.resource_type!r} is not a FHIR resource type")
        if self.by_id and (self.codes or self.category):
            raise ValueError(f"{self.key}: a read by id takes no codes or category")
        if self.linked_types and self.category is None:
            raise ValueError(f"{self.key}: linked_types widen a category; give the category")

    @property
    def narrowed(self) -> bool:
        """Only some resources of the type are read (by code or category)."""
        return bool(self.codes) or self.category is not None

    @property
    def narrowing(self) -> Narrowing:
        """The resources of the type this key reads (meaningful when `narrowed`)."""
        categories = frozenset({self.category}) if self.category is not None else frozenset()
        return Narrowing(frozenset(self.codes), categories,
                         tuple(f"{t}/" for t in self.linked_types))

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
        return not self.narrowed or self.narrowing.matches(raw)


@dataclass(frozen=True)
class HandlerReads:
    """Every prefetch key of a handler, and the types it reads when they arrive without a
    key of their own (`also_reads`: a Medication a request references)."""

    queries: tuple[Query, ...]
    also_reads: tuple[str, ...] = ()
    _whole: frozenset[str] = field(init=False, repr=False, compare=False)
    _narrowed: Mapping[str, Narrowing] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = [q.key for q in self.queries]
        if len(set(keys)) != len(keys):
            raise ValueError(f"duplicate prefetch keys in {keys}")
        whole = {q.resource_type for q in self.queries if not q.narrowed} | set(self.also_reads)
        narrowed: dict[str, Narrowing] = {}  # one per type: the union of its keys' reads
        for query in self.queries:
            if query.narrowed and query.resource_type not in whole:
                kind = query.resource_type
                narrowed[kind] = narrowed.get(kind, Narrowing()) | query.narrowing
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
        narrowing = self._narrowed.get(kind)
        return narrowing is not None and narrowing.matches(raw)
