"""Settings for the command line: every problem as one line naming where it is (the TOML
file or the environment variable), the key and what is wrong, never a traceback.

    config.toml: service.public_base_ur: unknown key; did you mean public_base_url?
    config.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 5)
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import SettingsError

from cds_service.config import Settings, load_settings


class ConfigProblem(Exception):
    """The settings cannot be loaded; ``lines`` says why, one problem per line."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def config_path(given: str | os.PathLike[str] | None) -> Path | None:
    """The TOML file in use: ``--config``, else CDS_CONFIG, else none."""
    name = given or os.environ.get("CDS_CONFIG")
    return Path(name) if name else None


def checked_settings(given: str | os.PathLike[str] | None = None) -> Settings:
    """load_settings() for the file in use; ConfigProblem with one line per problem."""
    path = config_path(given)
    data: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigProblem([f"{path}: config file not found"])
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigProblem([f"{path}: cannot read: {type(exc).__name__}"]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigProblem([f"{path}: not valid TOML: {exc}"]) from None
    try:
        return load_settings(path)
    except ValidationError as exc:
        raise ConfigProblem([_line(error, path, data) for error in exc.errors()]) from None
    except SettingsError as exc:  # e.g. an environment list that is not JSON
        raise ConfigProblem([f"environment: {exc}"]) from None


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(error: Any, path: Path | None, data: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    where = _source(loc, path, data)
    key = _dotted(loc)
    if error["type"] == "extra_forbidden":
        kind = "section" if len(loc) == 1 else "key"
        what = f"unknown {kind}"
        close = difflib.get_close_matches(str(loc[-1]), _known_keys(loc[:-1]), n=1)
        if close:
            what += f"; did you mean {close[0]}?"
    else:
        what = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {key}: {what}" if key else f"{where}: {what}"


def _source(loc: tuple[int | str, ...], path: Path | None, data: dict[str, Any]) -> str:
    """The file when the key is written there, else the environment variable that set it."""
    node: Any = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    else:
        if path is not None:
            return str(path)
    if len(loc) >= 2:
        env = f"CDS_{str(loc[0]).upper()}__{str(loc[1]).upper()}"
        if env in os.environ:
            return f"environment {env}"
    if len(loc) == 1 and any(name.startswith(f"CDS_{str(loc[0]).upper()}__")
                             for name in os.environ):
        return "environment"
    return str(path) if path is not None else "settings"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X``, ``X | None``, ``list[X]``, ``tuple[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple):
        for arg in typing.get_args(annotation):
            found = _model_of(arg)
            if found is not None:
                return found
    return None


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys the model accepts at ``loc`` (for "did you mean")."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_of(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []
