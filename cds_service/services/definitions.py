"""Load and validate the declarative service definitions in `hooks/`.

The shipped folder is `cds_service/hooks/` (cds_service.resources.hooks_dir); `[service]
hooks_dir` names another. One TOML file per service (`hooks/services/*.toml`) names the
hook, the wording and the handler; the handler's descriptor (services/descriptors.py)
gives the prefetch, so the services of one handler share one prefetch block. Trigger
code lists live in `hooks/triggers/*.toml` so the informaticist edits one list used by
both order hooks. A bad file fails loading with its path and the offending field, never
a half-loaded registry.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cds_service.prefetch.reads import PREFETCH_KEY
from cds_service.resources import vocabulary_dir
from cds_service.services.descriptors import DESCRIPTORS

HookName = Literal["patient-view", "order-select", "order-sign"]
SERVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# A relative FHIR read or search: `Type/{{...}}` or `Type?param=...`.
PREFETCH_QUERY = re.compile(r"^[A-Z][A-Za-z]+[/?]\S+$")


class DefinitionError(Exception):
    """A file in hooks/ is malformed; the message names the file and the field."""


class TriggerCode(BaseModel):
    """One order code that means the procedure; `requires_text` narrows generic codes
    (CPT 27299 is "unlisted procedure, pelvis or hip": only with the order text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    system: str = Field(min_length=1)
    code: str = Field(min_length=1)
    display: str | None = None
    requires_text: tuple[str, ...] = ()


class TriggerList(BaseModel):
    """Codes and text patterns (case-insensitive regexes) that identify an order.

    A list with ``adds_to`` (given in ``[service] extra_triggers``, never in hooks/)
    adds its codes and patterns to the list of that name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    description: str = ""
    adds_to: str | None = None
    resource_types: tuple[str, ...] = ("ServiceRequest",)
    codes: tuple[TriggerCode, ...] = ()
    text_patterns: tuple[str, ...] = ()

    @field_validator("text_patterns")
    @classmethod
    def _compilable(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        return patterns


class ServiceDefinition(BaseModel):
    """One CDS service. `handler` names the logic in cds_service.services.handlers;
    `prefetch` and `optional_prefetch` are that handler's descriptor's, never the file's."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    hook: HookName
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    handler: str = Field(min_length=1)
    prefetch: dict[str, str] = Field(default_factory=dict)
    # Keys the decision can do without: a failed fetch of these does not give 412.
    optional_prefetch: tuple[str, ...] = ()
    triggers: str | None = None
    usageRequirements: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not SERVICE_ID.match(value):
            raise ValueError("service id must be 1-64 of letters, digits, '.', '_' or '-'")
        return value

    @field_validator("prefetch")
    @classmethod
    def _keys(cls, prefetch: dict[str, str]) -> dict[str, str]:
        for key, template in prefetch.items():
            if not PREFETCH_KEY.match(key):
                raise ValueError(f"prefetch key {key!r} must be an identifier")
            if not PREFETCH_QUERY.match(template):
                raise ValueError(f"prefetch {key!r} must be a relative FHIR query (Type/id or Type?...)")
        return prefetch

    @model_validator(mode="after")
    def _optional_known(self) -> ServiceDefinition:
        unknown = set(self.optional_prefetch) - set(self.prefetch)
        if unknown:
            raise ValueError(f"optional_prefetch names unknown keys {sorted(unknown)}")
        if self.hook in ("order-select", "order-sign") and not self.triggers:
            raise ValueError("order hooks need a `triggers` list")
        return self

    def discovery(self) -> dict[str, object]:
        """This service's entry in `GET /cds-services`."""
        entry: dict[str, object] = {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
        }
        if self.prefetch:
            entry["prefetch"] = dict(self.prefetch)
        if self.usageRequirements:
            entry["usageRequirements"] = self.usageRequirements
        return entry


class Catalog(BaseModel):
    """Every service and trigger list, loaded together and cross-checked."""

    model_config = ConfigDict(frozen=True)
    services: dict[str, ServiceDefinition]
    triggers: dict[str, TriggerList]

    def trigger_list(self, service: ServiceDefinition) -> TriggerList | None:
        return self.triggers.get(service.triggers) if service.triggers else None


def _toml(path: Path) -> dict[str, object]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DefinitionError(f"{path}: cannot read TOML: {exc}") from exc


def _read(path: Path, model: type[BaseModel], data: dict[str, object] | None = None
          ) -> BaseModel:
    data = _toml(path) if data is None else data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise DefinitionError(f"{path}: {problems}") from exc


def load_catalog(
    hooks_dir: Path, known_handlers: set[str] | None = None,
    extra_triggers: Sequence[Path] = (),
) -> Catalog:
    """Load hooks_dir/services/*.toml and hooks_dir/triggers/*.toml, then add each of
    ``extra_triggers`` to the list it names; or raise DefinitionError."""
    if not hooks_dir.is_dir():
        raise DefinitionError(f"{hooks_dir}: hooks directory not found")
    triggers: dict[str, TriggerList] = {}
    for path in sorted((hooks_dir / "triggers").glob("*.toml")):
        trigger_list = _read(path, TriggerList)
        assert isinstance(trigger_list, TriggerList)
        if trigger_list.name in triggers:
            raise DefinitionError(f"{path}: duplicate trigger list name {trigger_list.name!r}")
        if trigger_list.adds_to is not None:
            raise DefinitionError(f"{path}: adds_to: only for [service] extra_triggers files")
        triggers[trigger_list.name] = trigger_list
    for path in extra_triggers:
        _add_triggers(triggers, path)
    services: dict[str, ServiceDefinition] = {}
    for path in sorted((hooks_dir / "services").glob("*.toml")):
        service = _read(path, ServiceDefinition, _with_descriptor(path, _toml(path)))
        assert isinstance(service, ServiceDefinition)
        if service.id in services:
            raise DefinitionError(f"{path}: duplicate service id {service.id!r}")
        if service.triggers and service.triggers not in triggers:
            raise DefinitionError(f"{path}: triggers: unknown trigger list {service.triggers!r}")
        known = set(DESCRIPTORS) if known_handlers is None else known_handlers & set(DESCRIPTORS)
        if service.handler not in known:
            raise DefinitionError(
                f"{path}: handler: unknown handler {service.handler!r}; known: {sorted(known)}"
            )
        services[service.id] = service
    _check_vocabulary(vocabulary_dir(hooks_dir))
    return Catalog(services=services, triggers=triggers)


def _with_descriptor(path: Path, data: dict[str, object]) -> dict[str, object]:
    """The file's fields plus its handler's prefetch, from the handler's descriptor."""
    given = sorted({"prefetch", "optional_prefetch"} & set(data))
    if given:
        raise DefinitionError(f"{path}: {', '.join(given)}: not set here; a service's "
                              "prefetch comes from its handler (services/descriptors.py)")
    handler = data.get("handler")
    reads = DESCRIPTORS.get(handler) if isinstance(handler, str) else None
    if reads is None:
        return data  # validation names the missing or unknown handler
    return {**data, "prefetch": reads.prefetch, "optional_prefetch": reads.optional_keys}


def _add_triggers(triggers: dict[str, TriggerList], path: Path) -> None:
    """Add an ``adds_to`` list's codes and patterns to the list it names (in place)."""
    if not path.is_file():
        raise DefinitionError(f"{path}: extra trigger list not found")
    extra = _read(path, TriggerList)
    assert isinstance(extra, TriggerList)
    target = triggers.get(extra.adds_to or "")
    if target is None:
        raise DefinitionError(f"{path}: adds_to: names no trigger list of hooks/triggers "
                              f"(known: {', '.join(sorted(triggers))})")
    triggers[target.name] = target.model_copy(update={
        "codes": target.codes + extra.codes,
        "text_patterns": target.text_patterns + extra.text_patterns,
    })


def _check_vocabulary(folder: Path) -> None:
    """The reader's vocabulary is part of the hooks: a broken file stops start-up too."""
    from cds_service.clinical.vocabulary import VocabularyError, load

    try:
        load(folder)
    except VocabularyError as exc:
        raise DefinitionError(str(exc)) from None
