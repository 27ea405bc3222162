"""The command line as a newcomer meets it: one line, never a traceback, when nothing
answers or the config is wrong; --json prints only JSON; every option's help has its
default; serve's public_base_url follows --host/--port unless set."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from cds_service import cli
from cds_service.app import create_app
from cds_service.config import Settings, default_store_url, ensure_store_dir
from tests.clock import fixed_clock
from tests.conftest import make_settings

CLI = [sys.executable, "-m", "cds_service.cli"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          check=False, env=env, cwd=cwd)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield sock.getsockname()[1]


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The CLI writes CDS_CONFIG and CDS_SERVICE__PUBLIC_BASE_URL for its workers: undo."""
    for name in [n for n in os.environ if n.startswith("CDS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CDS_CONFIG", "")
    monkeypatch.delenv("CDS_CONFIG")
    monkeypatch.setenv("CDS_SERVICE__PUBLIC_BASE_URL", "")
    monkeypatch.delenv("CDS_SERVICE__PUBLIC_BASE_URL")
    return monkeypatch


# invoke --------------------------------------------------------------------------------

def test_invoke_without_a_service_says_so_in_one_line(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = run_cli("invoke", "--url", url, "--fixture", "seed1-tmo-hip")
    assert result.returncode == 1
    assert result.stderr == (f"cds-service: no service answers at {url}; start it with "
                             "./scripts/serve (or pass --url)\n")
    assert result.stdout == ""


def test_invoke_unknown_fixture_is_one_line() -> None:
    result = run_cli("invoke", "--fixture", "no-such-patient")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("cds-service: no fixture 'no-such-patient'")
    assert len(result.stderr.splitlines()) == 1


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The app on a real loopback HTTP server (werkzeug, one thread)."""
    server = make_server("127.0.0.1", 0, create_app(make_settings(tmp_path), clock=fixed_clock))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_invoke_json_prints_only_json(served: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["invoke", "--url", served, "--fixture", "seed1-tmo-hip", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    body = json.loads(out)  # the whole of stdout is one JSON document
    assert isinstance(body["cards"], list)


def test_invoke_json_on_an_error_is_json_and_fails(served: str, capsys) -> None:  # type: ignore[no-untyped-def]
    code = cli.main(["invoke", "--url", served + "/nowhere", "--fixture", "seed1-tmo-hip",
                     "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["resourceType"] == "OperationOutcome"


# help ----------------------------------------------------------------------------------

def _parsers(parser: argparse.ArgumentParser, name: str = "cds-service"):  # type: ignore[no-untyped-def]
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_option_has_help_and_shows_its_default() -> None:
    missing, no_default = [], []
    for name, parser in _parsers(cli.build_parser()):
        text = parser.format_help()
        assert parser.description, f"{name} has no description"
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                missing.append(f"{name} {action.dest}")
            shown = action.default not in (None, False, argparse.SUPPRESS)
            if shown and f"(default: {action.default})" not in " ".join(text.split()):
                no_default.append(f"{name} {action.dest}")
    assert missing == [] and no_default == []


def test_serve_help_names_its_defaults() -> None:
    result = run_cli("serve", "--help")
    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    for default in ("(default: 127.0.0.1)", "(default: 8080)", "(default: 2)"):
        assert default in text


# configuration problems ----------------------------------------------------------------

def test_bad_config_gives_one_line_per_problem(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[service]\npublic_base_ur = "http://x"\nmax_body_bytes = "big"\n'
                      '[fhir]\npage_siz = 3\n[servic]\n', encoding="utf-8")
    result = run_cli("--config", str(config), "serve")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = sorted(result.stderr.splitlines())
    assert lines == sorted([
        f"cds-service: {config}: service.public_base_ur: unknown key; did you mean "
        "public_base_url?",
        f"cds-service: {config}: service.max_body_bytes: Input should be a valid integer, "
        "unable to parse string as an integer",
        f"cds-service: {config}: fhir.page_siz: unknown key; did you mean page_size?",
        f"cds-service: {config}: servic: unknown section; did you mean service?",
    ])


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("[service\nprofile = 1\n", encoding="utf-8")
    result = run_cli("feedback-report", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith(f"cds-service: {config}: not valid TOML: ")
    assert "line 1" in result.stderr and len(result.stderr.splitlines()) == 1


def test_missing_config_file_is_one_line(tmp_path: Path) -> None:
    result = run_cli("--config", str(tmp_path / "nope.toml"), "feedback-report")
    assert (result.returncode, result.stderr) == (
        2, f"cds-service: {tmp_path / 'nope.toml'}: config file not found\n")


def test_an_environment_value_is_named_by_its_variable(isolated_env, capsys) -> None:  # type: ignore[no-untyped-def]
    isolated_env.setenv("CDS_FHIR__PAGE_SIZE", "many")
    assert cli.main(["feedback-report"]) == 2
    assert capsys.readouterr().err == (
        "cds-service: environment CDS_FHIR__PAGE_SIZE: fhir.page_size: Input should be a "
        "valid integer, unable to parse string as an integer\n")


# serve: public_base_url and the data directory -----------------------------------------

@pytest.fixture
def serve_calls(isolated_env, tmp_path: Path) -> list[Settings]:  # type: ignore[no-untyped-def]
    """cmd_serve up to gunicorn: the settings it would serve with."""
    import cds_service.serve

    calls: list[Settings] = []
    isolated_env.setattr(cds_service.serve, "serve",
                         lambda settings, host, port, workers: calls.append(settings) or 0)
    isolated_env.setenv("CDS_STORE__URL", f"sqlite:///{tmp_path / 'store.sqlite3'}")
    return calls


def test_public_base_url_follows_host_and_port(serve_calls: list[Settings]) -> None:
    assert cli.main(["serve", "--host", "127.0.0.1", "--port", "9123"]) == 0
    assert serve_calls[0].service.public_base_url == "http://127.0.0.1:9123"
    # the workers build their settings from the environment: they must agree
    assert os.environ["CDS_SERVICE__PUBLIC_BASE_URL"] == "http://127.0.0.1:9123"
    assert cli.local_base_url("::1", 8080) == "http://[::1]:8080"
    assert cli.local_base_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"


def test_a_set_public_base_url_is_kept(serve_calls: list[Settings], tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[service]\npublic_base_url = "https://cds.example.org"\n', "utf-8")
    assert cli.main(["serve", "--config", str(config), "--port", "9123"]) == 0
    assert serve_calls[0].service.public_base_url == "https://cds.example.org"


def test_production_must_set_public_base_url(serve_calls, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "prod.toml"
    config.write_text('[service]\nprofile = "production"\n', "utf-8")
    assert cli.main(["serve", "--config", str(config)]) == 2
    assert serve_calls == []
    assert "requires service.public_base_url" in capsys.readouterr().err


def test_default_store_is_in_the_data_directory(isolated_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert default_store_url() == "sqlite:///var/cds_service.sqlite3"
    isolated_env.setenv("CDS_DATA_DIR", str(tmp_path / "data"))
    url = Settings().store.url
    assert url == f"sqlite:///{tmp_path / 'data' / 'cds_service.sqlite3'}"
    ensure_store_dir(url)
    assert (tmp_path / "data").is_dir()
