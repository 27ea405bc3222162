"""`cds-service` command line: serve, invoke, feedback-report, fixtures load, read.

Each subcommand is one `add_<name>(commands)` function that registers its parser (a
description, and help with the default for every option) and one `cmd_<name>(args)`
that runs it; `build_parser` calls the adders in order. Problems are printed as one
line each (`cds-service: ...`) with a non-zero exit, never as a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from cds_service.config import Settings, ensure_store_dir
from cds_service.config_check import ConfigProblem, checked_settings

log = logging.getLogger("cds_service.cli")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless it has none (None or False)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _command(commands: argparse._SubParsersAction, name: str, summary: str,
             description: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=description,
                               formatter_class=HelpFormatter)


def _config_option(parser: argparse.ArgumentParser) -> None:
    """--config after the subcommand too (``cds-service serve --config FILE``)."""
    parser.add_argument("--config", dest="config", default=argparse.SUPPRESS,
                        help="TOML configuration file (or set CDS_CONFIG)")


def _settings(args: argparse.Namespace) -> Settings:
    """The checked settings; the SQLite store's folder (the data directory) is created."""
    if args.config:
        os.environ["CDS_CONFIG"] = os.path.abspath(args.config)  # workers inherit it
    settings = checked_settings()
    ensure_store_dir(settings.store.url)
    return settings


# serve ---------------------------------------------------------------------------------

def local_base_url(host: str, port: int) -> str:
    """The URL of a service listening on host:port, as a client on this machine calls it."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def add_serve(commands: argparse._SubParsersAction) -> None:
    serve = _command(
        commands, "serve", "run the service under gunicorn",
        "Run the service under gunicorn. Listening beyond loopback needs [auth] with "
        "issuers. Without [service] public_base_url, the URL EHRs call (JWT aud) is taken "
        "from --host and --port; the production profile must set it.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    _config_option(serve)
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from cds_service.logs import configure_logging
    from cds_service.preload import defer_quickumls
    from cds_service.serve import serve

    defer_quickumls()  # before the catalog check below imports medspaCy
    from cds_service.services.definitions import DefinitionError, load_catalog

    settings = _settings(args)
    if "public_base_url" not in settings.service.model_fields_set:
        # development: a token's aud must match where this service really listens
        os.environ["CDS_SERVICE__PUBLIC_BASE_URL"] = local_base_url(args.host, args.port)
        settings = _settings(args)
        configure_logging(settings.log.level)
        log.info("public_base_url not set; using %s (set [service] public_base_url to the "
                 "URL EHRs call)", settings.service.public_base_url)
    try:
        # a bad hooks file: one line here, not a crash of every worker
        load_catalog(settings.service.hooks_dir, extra_triggers=settings.service.extra_triggers)
    except DefinitionError as exc:
        raise ConfigProblem([str(exc)]) from None
    return serve(settings, args.host, args.port, args.workers)


# feedback-report -----------------------------------------------------------------------

def add_feedback_report(commands: argparse._SubParsersAction) -> None:
    report = _command(
        commands, "feedback-report", "acceptance and override rates per card topic",
        "Print, per card topic, the cards issued, accepted and overridden, and the "
        "override reasons chosen, from the store in [store] url.")
    _config_option(report)
    report.set_defaults(func=cmd_feedback_report)


def cmd_feedback_report(args: argparse.Namespace) -> int:
    from cds_service.report import print_feedback_report

    return print_feedback_report(_settings(args), sys.stdout)


# invoke --------------------------------------------------------------------------------

def add_invoke(commands: argparse._SubParsersAction) -> None:
    invoke = _command(
        commands, "invoke", "send a hook request the way an EHR would",
        "Build a hook request from a fixture patient (dates moved so that its index date "
        "is today) or from a patient on a FHIR server, send it to the service and print "
        "the cards.")
    invoke.add_argument("--url", default="http://127.0.0.1:8080", help="the service's base URL")
    invoke.add_argument("--service", default="toh-core-decompression-sign", help="service id")
    source = invoke.add_mutually_exclusive_group(required=True)
    source.add_argument("--fixture",
                        help="fixture patient name (fixtures/manifest.toml) or bundle path")
    source.add_argument("--patient", help="patient id on --fhir-server")
    invoke.add_argument("--fhir-server",
                        help="FHIR base URL: data source, and fhirServer in the request")
    invoke.add_argument("--token", help="bearer token for the FHIR server (or CDS_FHIR_TOKEN)")
    invoke.add_argument("--no-prefetch", action="store_true",
                        help="send no prefetch: the service fetches from --fhir-server")
    invoke.add_argument("--json", action="store_true",
                        help="print only the response body, as JSON")
    invoke.add_argument("--print-request", action="store_true",
                        help="print the hook request instead of sending it (for curl -d @-)")
    _config_option(invoke)
    invoke.set_defaults(func=cmd_invoke)


def cmd_invoke(args: argparse.Namespace) -> int:
    from cds_service.devtools.invoke import run_invoke

    return run_invoke(args, sys.stdout)


# fixtures load -------------------------------------------------------------------------

def add_fixtures(commands: argparse._SubParsersAction) -> None:
    fixtures = _command(commands, "fixtures", "fixture tools",
                        "Tools for the fixture patients in fixtures/.")
    fixtures_cmds = fixtures.add_subparsers(dest="fixtures_command", required=True)
    load = _command(
        fixtures_cmds, "load", "load fixture bundles into a FHIR R4 server",
        "PUT the fixture bundles into a FHIR R4 server (idempotent), dates moved so that "
        "each patient's index date is today; prints each patient id.")
    load.add_argument("--fhir-server", required=True, help="FHIR R4 base URL")
    load.add_argument("--token", help="bearer token (or CDS_FHIR_TOKEN)")
    load.add_argument("paths", nargs="*", default=[],
                      help="bundle files (none: every fixture patient)")
    load.set_defaults(func=cmd_fixtures_load)


def cmd_fixtures_load(args: argparse.Namespace) -> int:
    from cds_service.devtools.invoke import run_fixtures_load

    return run_fixtures_load(args, sys.stdout)


# the parser ----------------------------------------------------------------------------

COMMANDS = (add_serve, add_feedback_report, add_invoke, add_fixtures)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cds-service", description=__doc__.split("\n")[0],
                                     formatter_class=HelpFormatter)
    parser.add_argument("--config", help="TOML configuration file (or set CDS_CONFIG)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)

    from cds_service.read_cli import add_read_command

    add_read_command(commands)

    from cds_service.migrate_cli import add_migrate_command

    add_migrate_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not hasattr(args, "config"):
        args.config = None
    try:
        return int(args.func(args))
    except ConfigProblem as exc:
        for line in exc.lines:
            print(f"cds-service: {line}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"cds-service: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # python -m cds_service.cli
    raise SystemExit(main())
