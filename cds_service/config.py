"""One settings object: defaults, then an optional TOML file (`--config` or
CDS_CONFIG), then environment variables `CDS_<SECTION>__<KEY>` (highest priority)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from sqlalchemy.engine import make_url

from cds_service import resources
from cds_service.clinical.thresholds import Thresholds
from cds_service.fhir.client import ClientLimits
from cds_service.security.config import AuthConfig, CacheConfig, CorsConfig, check_cors_with_auth


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceSection(_Section):
    # The URL EHRs call; JWT `aud` is checked against {public_base_url}/cds-services/{id}.
    public_base_url: str = "http://127.0.0.1:8080"
    # development: permissive defaults for a laptop; production: auth and https required.
    profile: Literal["development", "production"] = "development"
    # The hooks shipped in the package (cds_service/hooks/), or an informaticist's own folder.
    hooks_dir: Path = Field(default_factory=resources.hooks_dir)
    # Trigger-list files with `adds_to`, added to hooks/ lists (examples/hl7-sandbox.toml).
    extra_triggers: tuple[Path, ...] = ()
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    # Bounds on one request's work (README "Limits", docs/limits.md).
    max_json_depth: int = Field(default=64, ge=8, le=200)
    max_bundle_entries: int = Field(default=5000, ge=1)
    max_resources: int = Field(default=10000, ge=1)
    max_draft_orders: int = Field(default=200, ge=1)
    request_deadline_seconds: float = Field(default=10.0, gt=0)
    concurrent_hook_calls: int = Field(default=2, ge=1, le=64)  # per worker
    threads: int = Field(default=32, ge=1, le=256)  # gunicorn gthread threads per worker
    # Incoming requests: seconds for one request's headers and body in all (the worker's
    # read deadline; not [fhir] read_timeout, which bounds calls to the FHIR server).
    read_timeout: float = Field(default=10.0, gt=0)
    cache_mb: int = Field(default=192, ge=8)  # parsed FHIR data kept per worker
    # A worker is replaced after this many requests (0: never; docs/limits.md "Memory"):
    # spaCy 3.7 keeps every new word it meets for the life of the process.
    worker_max_requests: int = Field(default=20_000, ge=0)

    @field_validator("public_base_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.rstrip("/")


def data_dir() -> Path:
    """Where the default SQLite store lives: $CDS_DATA_DIR, else ./var (relative to the
    directory the service starts in; scripts/serve starts in the checkout)."""
    return Path(os.environ.get("CDS_DATA_DIR") or "var")


def default_store_url() -> str:
    return f"sqlite:///{data_dir() / 'cds_service.sqlite3'}"


def ensure_store_dir(url: str) -> None:
    """Create the folder of a SQLite file store (the data directory, on first start)."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


class StoreSection(_Section):
    # Any SQLAlchemy URL; SQLite by default so the service works straight after install.
    url: str = Field(default_factory=default_store_url)
    # false: `serve` only checks the schema; `cds-service migrate` runs once (docs/deploy.md)
    migrate_on_start: bool = True


# The FHIR client's limits are defined once, in ClientLimits; this section only lets the
# configuration change them.
_CLIENT = ClientLimits()


class FhirSection(_Section):
    # Base URLs the service may call; a request naming any other fhirServer is refused.
    allowed_servers: tuple[str, ...] = ()
    # Outgoing calls to the FHIR server: seconds to connect, and between bytes read (not
    # [service] read_timeout, which bounds how long a client may take to send a request).
    connect_timeout: float = Field(default=_CLIENT.connect_timeout, gt=0)
    read_timeout: float = Field(default=_CLIENT.read_timeout, gt=0)
    # Wall-clock budget for all FHIR fetching of one hook call (EHRs drop late answers).
    budget_seconds: float = Field(default=4.0, gt=0)
    page_cap: int = Field(default=_CLIENT.page_cap, ge=1)  # `next` links followed per query
    page_size: int = Field(default=200, ge=1)
    max_response_bytes: int = Field(default=_CLIENT.max_response_bytes, gt=0)
    retries: int = Field(default=_CLIENT.retries, ge=0, le=5)
    backoff_seconds: float = Field(default=_CLIENT.backoff_seconds, ge=0)
    parallel_queries: int = Field(default=8, ge=1, le=32)

    @field_validator("allowed_servers")
    @classmethod
    def _normalise(cls, servers: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s.rstrip("/") for s in servers)


class LogSection(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SmartSection(_Section):
    # The evidence timeline app (docs/smart-app.md): the client_id the EHR registered it
    # under (a public client: no secret, PKCE), and the scopes it asks for.
    client_id: str = Field(default="cds-evidence-timeline", min_length=1)
    scope: str = Field(default="launch launch/patient openid fhirUser patient/*.rs",
                       min_length=1)


class CardsSection(_Section):
    # Informational cards that change nothing (AVN features found, another lesion: no
    # warning, no suggestion). On by default: they say why no warning was given; an
    # informaticist turns them off against alert fatigue (README, docs/data-contract.md).
    informational: bool = True


class Settings(BaseSettings):
    """Everything configurable. See the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="CDS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    service: ServiceSection = ServiceSection()
    store: StoreSection = Field(default_factory=StoreSection)  # reads CDS_DATA_DIR when made
    fhir: FhirSection = FhirSection()
    log: LogSection = LogSection()
    smart: SmartSection = SmartSection()
    cards: CardsSection = CardsSection()
    clinical: Thresholds = Thresholds()
    auth: AuthConfig = AuthConfig()
    cors: CorsConfig = CorsConfig()
    cache: CacheConfig = CacheConfig()

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        check_cors_with_auth(self.cors, self.auth)
        if self.service.profile == "production":
            if "public_base_url" not in self.service.model_fields_set:
                raise ValueError("the production profile requires service.public_base_url "
                                 "(the URL EHRs call; a token's aud is checked against it)")
            if not self.auth.required:
                raise ValueError("the production profile requires auth.required = true with issuers")
            plain = [s for s in self.fhir.allowed_servers if not s.startswith("https://")]
            if plain:
                raise ValueError(f"the production profile requires https FHIR servers: {plain}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = settings_cls.model_config.get("toml_file") or os.environ.get("CDS_CONFIG")
        if config_file and isinstance(config_file, (str, Path)):  # load_settings or CDS_CONFIG
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config_file)))
        return tuple(sources)


def load_settings(config_file: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from defaults, the TOML file, the environment and explicit overrides."""
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")

        class FileSettings(Settings):
            model_config = SettingsConfigDict(toml_file=path)

        return FileSettings(**overrides)
    env_file = os.environ.get("CDS_CONFIG")
    if env_file and not Path(env_file).is_file():
        raise FileNotFoundError(f"CDS_CONFIG names a missing file: {env_file}")
    return Settings(**overrides)
